"""Just enough of discord.py's objects for the guide's cogs to run without Discord.

discord.py is not a dependency: the cogs only read ``message.author.bot``, ``message.author.id``,
``message.channel.id``, ``message.id``, ``message.created_at`` and ``message.content``, and the bot
only needs ``add_cog`` and ``close``. The ids are Discord-style snowflakes (ints).
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

DISCORD_EPOCH_MS = 1420070400000
_sequence = itertools.count()


def snowflake(when: dt.datetime | None = None) -> int:
    """A Discord-style id: milliseconds since 2015 in the high bits, a counter in the low ones."""
    when = when or dt.datetime.now(dt.timezone.utc)
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_sequence) & 0x3FFFFF)


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    bot: bool = False


@dataclass(frozen=True)
class TextChannel:
    id: int
    name: str


@dataclass
class Message:
    author: Member
    channel: TextChannel
    content: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    id: int = 0

    def __post_init__(self):
        if not self.id:
            self.id = snowflake(self.created_at)


@dataclass
class Reaction:
    message: Message
    emoji: str = "\N{THUMBS UP SIGN}"


class Bot:
    """Holds cogs and dispatches events to them, like ``discord.ext.commands.Bot``."""

    def __init__(self):
        self.cogs: dict[str, object] = {}
        self._closed = False

    def add_cog(self, cog) -> None:
        self.cogs[type(cog).__name__] = cog

    async def dispatch(self, event: str, *args) -> None:
        for cog in self.cogs.values():
            handler = getattr(cog, f"on_{event}", None)
            if handler is not None:
                await handler(*args)

    async def close(self) -> None:
        self._closed = True

    def is_closed(self) -> bool:
        return self._closed
