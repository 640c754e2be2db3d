"""Points: the guide's section 2 ``update_user_points_in_backend``, as written, plus the
``update_db_points`` it awaits (the guide leaves that one to the project: here it is)."""
import logging
import time

from django.db.models import F
from django.utils import timezone

from core.cpp_integration import leaderboard
from core.models import User

logger = logging.getLogger(__name__)


async def update_db_points(discord_id: str, points: int, action: str) -> bool:
    """Add ``points`` to the user's total in the database (the source of truth). Returns whether
    the user exists. One atomic UPDATE: concurrent awards never lose an increment."""
    updated = await User.objects.filter(discord_id=discord_id).aupdate(
        total_points=F("total_points") + points, updated_at=timezone.now()
    )
    if not updated:
        logger.warning("points for unknown user %s (%s) ignored", discord_id, action)
    return updated > 0


# --- guide: section 2 "Update Leaderboard on Points Change" -------------------------------------
# In cogs/points.py or wherever points are awarded
async def update_user_points_in_backend(discord_id: str, points: int, action: str):
    """Update both PostgreSQL AND C++ leaderboard"""
    
    # Update database (source of truth)
    success = await update_db_points(discord_id, points, action)
    
    if success:
        # Update C++ leaderboard
        timestamp = int(time.time())
        leaderboard.update_user(
            user_id=discord_id,
            points=float(points),
            timestamp=timestamp
        )
# --- end of the guide's code -------------------------------------------------------------------


class Points:
    """A cog awarding points (a message in a help channel, a reaction received, an answer marked
    helpful); every award goes through ``update_user_points_in_backend``."""

    def __init__(self, bot=None):
        self.bot = bot

    async def award(self, discord_id: str, points: int, action: str) -> None:
        await update_user_points_in_backend(discord_id, points, action)
