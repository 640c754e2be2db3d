"""A simulated, bursty Discord community driving the bot through the guide's code path.

Every tick (50 ms) it draws how many messages arrive from a rate that drifts between a quiet
and a busy level, plus bursts: a channel suddenly busy for a few seconds ("exam results are
out!"), hundreds of messages a second from a crowd of members. Members are picked with a
heavy-tailed activity (a few regulars write most messages). Messages reach the cogs through
``bot.dispatch`` (EventLogger.on_message: the guide's push), reactions follow, and points are
awarded through the guide's ``update_user_points_in_backend`` (database + leaderboard).
"""
from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field

from cogs.points import Points
from core.models import User
from dashboard.models import Channel
from discord_sim import Member, Message, Reaction, TextChannel

TICK_S = 0.05
LINES = ["anyone done the problem set?", "the lecture notes are up", "segfault again :(",
         "can someone review my PR?", "exam room changed to B12", "thanks, that fixed it!",
         "what's the deadline?", "pushed a fix", "lol", "study session at 6?", "the TA said yes"]


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation: fast and close enough for traffic
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class TrafficStats:
    messages: int = 0
    bot_messages: int = 0
    reactions: int = 0
    awards: int = 0
    bursts: int = 0
    started: float = field(default_factory=time.time)


class Community:
    """Members and channels from the database, with activity weights."""

    def __init__(self, rng: random.Random):
        rows = list(User.objects.values_list("discord_id", "display_name"))
        self.members = [Member(id=int(d), name=n) for d, n in rows]
        rng.shuffle(self.members)
        # Zipf-like activity: member i writes about 1 / (i + 10) of the messages.
        weights = [1.0 / (i + 10) for i in range(len(self.members))]
        total, acc, self.cum = sum(weights), 0.0, []
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.channels = [TextChannel(id=int(c), name=n) for c, n in Channel.objects.values_list("channel_id", "name")]
        self.channel_weights = [8 if c.name in ("general", "off-topic", "memes") else
                                5 if c.name.startswith("help-") else 2 for c in self.channels]
        self.help = [c for c in self.channels if c.name.startswith("help-") or c.name == "exams"]
        self.bot = Member(id=1, name="StudyBot", bot=True)

    def member(self, rng: random.Random) -> Member:
        import bisect

        return self.members[min(bisect.bisect_left(self.cum, rng.random()), len(self.members) - 1)]


class BurstyTraffic:
    def __init__(self, bot, sampler=None, seed: int = 7, base_rate: float = 60.0):
        self.bot = bot
        self.sampler = sampler
        self.rng = random.Random(seed)
        self.base_rate = base_rate
        self.stats = TrafficStats()
        self.points: Points = bot.cogs["Points"]
        self._awards: set[asyncio.Task] = set()
        self._burst_until = 0.0
        self._burst_channel: TextChannel | None = None
        self._burst_rate = 0.0
        self._burst_crowd: list[Member] = []
        self._next_burst = time.monotonic() + 4.0
        self._recent: list[Message] = []

    async def run(self, stop: asyncio.Event) -> TrafficStats:
        community = await asyncio.to_thread(Community, self.rng)
        next_tick = time.monotonic()
        while not stop.is_set():
            await self._tick(community, time.monotonic())
            next_tick += TICK_S
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
        if self._awards:
            await asyncio.gather(*self._awards, return_exceptions=True)
        return self.stats

    async def _tick(self, community: Community, now: float) -> None:
        rng = self.rng
        elapsed = time.time() - self.stats.started
        # Quiet/busy drift over ~90 s, never below a third of the base rate.
        rate = self.base_rate * (1.0 + 0.65 * math.sin(elapsed * 2 * math.pi / 90.0))
        if now >= self._next_burst and now >= self._burst_until:
            self._burst_until = now + rng.uniform(2.5, 7.0)
            self._burst_channel = rng.choice(community.help + [rng.choice(community.channels)])
            self._burst_rate = rng.uniform(150, 600)
            self._burst_crowd = [community.member(rng) for _ in range(rng.randint(80, 400))]
            self._next_burst = self._burst_until + rng.expovariate(1 / 10.0)
            self.stats.bursts += 1
        created = time.time()
        for _ in range(poisson(rng, rate * TICK_S)):
            channel = rng.choices(community.channels, weights=community.channel_weights)[0]
            await self._message(community, community.member(rng), channel, created)
        if now < self._burst_until:
            for _ in range(poisson(rng, self._burst_rate * TICK_S)):
                await self._message(community, rng.choice(self._burst_crowd), self._burst_channel, created)
        if rng.random() < 0.02:  # the server's own bot posts now and then: the cog ignores it
            await self._message(community, community.bot, rng.choice(community.channels), created)

    async def _message(self, community, author, channel, created) -> None:
        rng = self.rng
        import datetime as dt

        message = Message(author=author, channel=channel, content=rng.choice(LINES),
                          created_at=dt.datetime.fromtimestamp(created, tz=dt.timezone.utc))
        await self.bot.dispatch("message", message)
        if author.bot:
            self.stats.bot_messages += 1
            return
        self.stats.messages += 1
        self._recent.append(message)
        if len(self._recent) > 500:
            del self._recent[:250]
        for _ in range(poisson(rng, 0.5)):  # reactions to a recent message
            target = rng.choice(self._recent)
            await self.bot.dispatch("reaction_add", Reaction(message=target), community.member(rng))
            self.stats.reactions += 1
            if rng.random() < 0.03:
                self._award(str(target.author.id), 1, "reaction_received")
        if channel in community.help and rng.random() < 0.04:
            self._award(str(author.id), rng.choice([5, 10, 15, 25, 50]), "helpful_answer")
        elif rng.random() < 0.004:
            self._award(str(author.id), rng.randint(1, 5), "activity_streak")

    def _award(self, discord_id: str, points: int, action: str) -> None:
        if len(self._awards) > 64:  # the database is behind: skip this one rather than queue forever
            return
        task = asyncio.ensure_future(self.points.award(discord_id, points, action))
        self._awards.add(task)
        task.add_done_callback(self._awards.discard)
        self.stats.awards += 1
        if self.sampler is not None:
            self.sampler.awards += 1
