"""The bot: cogs on a (simulated) Discord client, and the guide's section 1 graceful shutdown."""
import logging

from cogs.event_logger import EventLogger
from cogs.points import Points
from core.cpp_integration import processor
from discord_sim import Bot

logger = logging.getLogger("bot")

bot = Bot()
bot.add_cog(EventLogger(bot))
bot.add_cog(Points(bot))


# --- guide: section 1 "Graceful Shutdown" ------------------------------------------------------
async def shutdown():
    logger.info("🛑 Shutting down bot...")
    
    # Flush remaining events
    processor.flush_now()
    logger.info(f"Flushed {processor.total_events_processed()} events")
    
    await bot.close()
# --- end of the guide's code -------------------------------------------------------------------
