"""Drop-in replacement for the ``cpp_event_processor`` extension (see DJANGO_INTEGRATION.md)."""
from .processor import EventStreamProcessor

__all__ = ["EventStreamProcessor"]
