"""The bot's event logger cog: the guide's section 1 ``on_message``, as written.

``on_reaction_add`` is this project's: the same non-blocking push for reactions.
"""
from core.cpp_integration import processor


class EventLogger:
    """A discord.py cog (``commands.Cog`` there; a plain class here: discord.py is not needed)."""

    def __init__(self, bot=None):
        self.bot = bot

    # --- guide: section 1, "Fast event ingestion" ------------------------------------------------
    # Fast event ingestion
    async def on_message(self, message):
        if message.author.bot:
            return
        
        # Non-blocking push to ring buffer - <100ns
        timestamp = int(message.created_at.timestamp())
        processor.push_event(
            event_type="message",
            user_id=str(message.author.id),
            channel_id=str(message.channel.id),
            timestamp=timestamp
        )
        
        # Optional: Query real-time stats
        unique_users = processor.get_unique_users_last_hour()
        top_channels = processor.get_top_channels(5)
    # --- end of the guide's code -------------------------------------------------------------------

    async def on_reaction_add(self, reaction, user):
        if user.bot:
            return
        return processor.push_event(
            event_type="reaction",
            user_id=str(user.id),
            channel_id=str(reaction.message.channel.id),
            timestamp=0,  # <= 0: the processor's clock ("now")
        )
