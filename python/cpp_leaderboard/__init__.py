"""Drop-in replacement for the ``cpp_leaderboard`` extension (see DJANGO_INTEGRATION.md)."""
from .leaderboard import Leaderboard

__all__ = ["Leaderboard"]
