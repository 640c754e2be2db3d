"""Pure-Python reference models and checkers for the reliability tests (issue 7).

The models are deliberately naive (recompute everything from the raw history on every query):
they are the specification the Java-backed facades are compared with, so they must be easy to
read rather than fast.

Leaderboard ranking and floating point
--------------------------------------
A user's score at time ``T`` is ``sum(p_i * d ** ((T - t_i) / 86400))``. The implementation
keeps the score normalised to a reference time and may re-normalise, the model sums the raw
contributions; the two round differently. So:

* scores are compared with an absolute tolerance scaled by ``sum(|p_i| * d ** ...)`` (the
  natural error bound of a floating-point sum; a relative tolerance on the score itself breaks
  on cancellation such as +5 then -5);
* ranks are compared exactly, except inside a *near-tie block*: users whose intervals
  ``score +- tolerance`` overlap (transitively) may come back in any order among themselves,
  but as a block they must occupy exactly the same ranks;
* users whose whole history is one identical ``(points, timestamp)`` contribution are tied
  *exactly* in any sane implementation (same value times the same factors), so within such a
  class the spec's tie-break (``user_id`` ascending, by code point as Python compares ``str``)
  is checked strictly.
"""
from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field

DAY = 86400.0
REL_TOL = 1e-9
ABS_FLOOR = 1e-290  # below this, differences are denormal noise
SUBNORMAL_ULP = 5e-324


@dataclass
class UserState:
    contributions: list = field(default_factory=list)  # [(points, timestamp)]
    last_update: int = 0  # the latest contribution timestamp

    def single_key(self):
        """The exact-tie class key, or None when the history has more than one entry."""
        if len(self.contributions) == 1:
            return self.contributions[0]
        return None


class LeaderboardModel:
    """What ``cpp_leaderboard.Leaderboard`` must do, computed the slow obvious way."""

    def __init__(self, decay_factor: float, max_users: int, now: int):
        self.decay = decay_factor
        self.max_users = max_users
        self.now = now
        self.users: dict[str, UserState] = {}
        self.max_stamp = now  # the latest timestamp the board has seen (bounds its reference)

    # -- the maths -------------------------------------------------------------------------
    def _factor(self, t_from, t_to) -> float:
        if self.decay == 1.0:
            return 1.0
        try:
            return self.decay ** ((t_to - t_from) / DAY)
        except OverflowError:
            return math.inf

    def score(self, user: str, at: int | None = None) -> float:
        at = self.now if at is None else at
        return math.fsum(p * self._factor(t, at) for p, t in self.users[user].contributions)

    def tolerance(self, user: str, at: int | None = None) -> float:
        """The error bound of a score: relative to the sum of the magnitudes, plus the
        subnormal rounding of the normalised score. The board stores scores as of a reference
        time R (at most the latest time it has seen); a score below 2.2e-308 there keeps only a
        subnormal's absolute precision (5e-324), which scaling from R to ``at`` multiplies by
        ``d ** ((at - R) / 86400)`` (large when ``at`` lies far before R, e.g. a snapshot entry
        as of an old ``last_update``)."""
        at = self.now if at is None else at
        contributions = self.users[user].contributions
        bound = math.fsum(abs(p) * self._factor(t, at) for p, t in contributions)
        tol = REL_TOL * bound + ABS_FLOOR
        latest = max(self.max_stamp, self.now)
        # Only a score that is subnormal at R can be affected, and then its bound at the
        # latest time (<= its bound at R) is subnormal too; otherwise REL_TOL covers it.
        if math.fsum(abs(p) * self._factor(t, latest) for p, t in contributions) < 2.3e-308:
            tol += 4 * SUBNORMAL_ULP * self._factor(latest, at)
        return tol

    def ranking(self) -> list[str]:
        """Users by score descending, ``user_id`` ascending on ties (code point order)."""
        return sorted(self.users, key=lambda u: (-self.score(u), u))

    def blocks(self) -> list[list[str]]:
        """The ranking cut into near-tie blocks: the connected groups of the intervals
        ``score +- tolerance`` (a user with a wide interval, such as a large cancelled sum, ties
        with everyone it covers, not only with its neighbours)."""
        stack: list[list] = []  # [members, highest upper bound, lowest lower bound]
        for user in self.ranking():
            s, tol = self.score(user), self.tolerance(user)
            block = [[user], s + tol, s - tol]
            while stack and block[1] >= stack[-1][2]:
                above = stack.pop()
                block = [above[0] + block[0], max(above[1], block[1]), min(above[2], block[2])]
            stack.append(block)
        return [b[0] for b in stack]

    # -- the operations --------------------------------------------------------------------
    def resolve_ts(self, timestamp: int) -> int:
        return self.now if timestamp <= 0 else timestamp

    def update(self, user: str, points: float, timestamp: int) -> list[str] | None:
        """Apply one update. Returns the eviction candidates (the bottom near-tie block) when
        the board is now over ``max_users``, else None; the caller resolves which one the
        implementation evicted with :meth:`evict`."""
        ts = self.resolve_ts(timestamp)
        self.max_stamp = max(self.max_stamp, ts, self.now)
        state = self.users.get(user)
        if state is None:
            if points == 0:
                return None  # zero points for an unknown user adds nobody
            state = self.users[user] = UserState()
        state.contributions.append((points, ts))
        # last_update is the latest contribution time (an older, late-arriving update does
        # not move it back).
        state.last_update = max(state.last_update, ts) if len(state.contributions) > 1 else ts
        if self.max_users and len(self.users) > self.max_users:
            return self.blocks()[-1]
        return None

    def evict(self, user: str) -> None:
        del self.users[user]

    def remove(self, user: str) -> bool:
        return self.users.pop(user, None) is not None

    def load_entries(self, decay_factor, max_users, entries) -> None:
        """Replace the board with a snapshot's content: one contribution per user, its score as
        of its ``last_update``."""
        self.decay = decay_factor
        self.max_users = max_users
        self.users = {}
        self.max_stamp = max([self.max_stamp, self.now] + [e["last_update"] for e in entries])
        for e in entries:
            self.users[e["user_id"]] = UserState([(e["score"], e["last_update"])], e["last_update"])


def assert_entry_shape(entry, *, where=""):
    assert type(entry) is dict, f"{where}: entry is {type(entry).__name__}, not dict"
    assert set(entry) == {"rank", "user_id", "score", "last_update"}, f"{where}: keys {sorted(entry)}"
    assert type(entry["rank"]) is int, where
    assert type(entry["user_id"]) is str, where
    assert type(entry["score"]) is float, f"{where}: score is {type(entry['score']).__name__}"
    assert type(entry["last_update"]) is int, where


def check_ranking(got: list, model: LeaderboardModel, *, check_last_update=True, where=""):
    """``got`` is the implementation's full ranking (``get_top_users(size)``)."""
    for i, e in enumerate(got):
        assert_entry_shape(e, where=where)
        assert e["rank"] == i + 1, f"{where}: rank {e['rank']} at position {i}"
    ids = [e["user_id"] for e in got]
    assert len(ids) == len(set(ids)), f"{where}: duplicate users {Counter(ids).most_common(3)}"
    assert set(ids) == set(model.users), (
        f"{where}: users differ: only in implementation {sorted(set(ids) - set(model.users))!r}, "
        f"only in model {sorted(set(model.users) - set(ids))!r}")
    for e in got:
        u = e["user_id"]
        want, tol = model.score(u), model.tolerance(u)
        assert abs(e["score"] - want) <= tol, f"{where}: score of {u!r} is {e['score']!r}, model {want!r} (tol {tol:.3g})"
        if check_last_update:
            assert e["last_update"] == model.users[u].last_update, (
                f"{where}: last_update of {u!r} is {e['last_update']}, model {model.users[u].last_update}")
    scores = [e["score"] for e in got]
    for i in range(1, len(scores)):
        assert scores[i - 1] >= scores[i], f"{where}: scores not descending at rank {i}: {scores[i - 1]!r} < {scores[i]!r}"
    # Ranks, block by block.
    pos = 0
    for block in model.blocks():
        chunk = ids[pos:pos + len(block)]
        assert set(chunk) == set(block), (
            f"{where}: ranks {pos + 1}..{pos + len(block)} hold {chunk!r}, model {block!r} "
            f"(scores {[model.score(u) for u in block]!r})")
        # Exact ties (identical single contribution): user_id ascending.
        classes = defaultdict(list)
        for u in chunk:
            key = model.users[u].single_key()
            if key is not None:
                classes[key].append(u)
        for members in classes.values():
            assert members == sorted(members), f"{where}: exact tie not broken by user_id: {members!r}"
        pos += len(block)


# ---------------------------------------------------------------------------------------------
# Processor
# ---------------------------------------------------------------------------------------------

class InjectedFailure(Exception):
    """Raised by :class:`RecordingCallback` to simulate a failing batch write."""


class RecordingCallback:
    """A flush callback that records successfully delivered batches and fails or stalls on a
    deterministic pseudo-random schedule (``decide(call_index) -> (fail, stall_s)``)."""

    def __init__(self, decide=None):
        self._lock = threading.Lock()
        self.batches: list[list[dict]] = []  # successful deliveries only
        self.attempts = 0
        self.failures = 0
        self._decide = decide or (lambda i: (False, 0.0))
        self.threads: set[int] = set()

    def __call__(self, events):
        import time
        with self._lock:
            i = self.attempts
            self.attempts += 1
            self.threads.add(threading.get_ident())
        fail, stall = self._decide(i)
        if stall:
            time.sleep(stall)  # a slow database write; part of the scenario, not a sync
        if fail:
            with self._lock:
                self.failures += 1
            raise InjectedFailure(f"injected failure of call {i}")
        copy = list(events)
        with self._lock:
            self.batches.append(copy)

    def delivered(self) -> list[dict]:
        with self._lock:
            return [e for b in self.batches for e in b]


def event_key(e: dict) -> tuple:
    return (e["type"], e["user_id"], e["channel_id"], e["timestamp"])


def check_delivery(accepted: list[tuple], batches: list[list[dict]], dead: list[list[dict]],
                   batch_size: int, *, where=""):
    """Nothing lost, nothing duplicated, batches bounded, per-producer order kept in a batch.

    ``accepted``: event keys ``(type, user_id, channel_id, timestamp)`` whose push returned
    True; user_ids look like ``"p<producer>-<seq>"`` so order can be checked."""
    for b in batches:
        assert type(b) is list or isinstance(b, list), f"{where}: batch is {type(b).__name__}"
        assert 1 <= len(b) <= batch_size, f"{where}: batch of {len(b)} (batch_size {batch_size})"
        for e in b:
            assert type(e) is dict and set(e) == {"type", "user_id", "channel_id", "timestamp"}, f"{where}: {e!r}"
            assert type(e["type"]) is str and type(e["user_id"]) is str and type(e["channel_id"]) is str
            assert type(e["timestamp"]) is int
        last_seq: dict[str, int] = {}
        for e in b:
            producer, _, seq = e["user_id"].rpartition("-")
            if not producer.startswith("p"):
                continue
            seq = int(seq)
            assert seq > last_seq.get(producer, -1), (
                f"{where}: producer {producer} out of order within a batch: {seq} after {last_seq[producer]}")
            last_seq[producer] = seq
    got = Counter(event_key(e) for b in batches for e in b)
    dead_c = Counter(event_key(e) for b in dead for e in b)
    want = Counter(accepted)
    both = got + dead_c
    lost = want - both
    extra = both - want
    assert not lost, f"{where}: {sum(lost.values())} accepted events never delivered, e.g. {list(lost)[:3]}"
    assert not extra, f"{where}: {sum(extra.values())} events delivered too often or never accepted, e.g. {list(extra)[:3]}"
    dup = [k for k, n in both.items() if n > 1]
    assert not dup, f"{where}: duplicates {dup[:3]}"


OUR_PACKAGES = ("cpp_event_processor", "cpp_leaderboard", "streamrank")


def is_python_builtin_exception(exc: BaseException) -> bool:
    """True for the builtin exception classes (ValueError, TypeError, OSError subclasses...)
    and for our packages' own subclasses of them (e.g. ``DeliveryError(RuntimeError)``); False
    for anything JPype or Java (``java.lang.*``, ``jpype.JException``)."""
    import builtins
    t = type(exc)
    if t.__module__ == "builtins":
        return getattr(builtins, t.__name__, None) is t
    try:
        import jpype
        if isinstance(exc, jpype.JException):
            return False
    except ImportError:  # pragma: no cover
        pass
    return t.__module__.split(".")[0] in OUR_PACKAGES and any(
        b.__module__ == "builtins" for b in t.__mro__[1:] if issubclass(b, BaseException))
