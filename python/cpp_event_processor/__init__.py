"""Drop-in replacement for the ``cpp_event_processor`` extension (see DJANGO_INTEGRATION.md)."""
from .processor import DeliveryError, EventStreamProcessor

__all__ = ["EventStreamProcessor", "DeliveryError"]
