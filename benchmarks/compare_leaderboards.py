"""Leaderboard side by side: ours (cpp_leaderboard on the Java core) vs sortedcontainers vs
Redis sorted sets vs the guide's SQL "before" (SQLite and PostgreSQL), at several user counts.

Used by run.py (``measure(...)`` returns plain dicts); not meant to be run alone.

Method: every contender holds the same users; each repeat takes one sample of every
(contender, operation) in turn, so slow phases of this shared machine hit all contenders alike.
* update: mean seconds per call over a loop ending with every update applied (ours stages
  updates and applies them in batches, possibly in the background: a final ``size()`` makes the
  loop pay for all of it);
* top-10, rank, page of 50: median single-call latency of a batch of calls;
each sample is sized to ~``budget_s``; the figure is the median of the repeats' samples,
spread = min..max of them.
"""
from __future__ import annotations

import gc
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _common import Stat, calibrate, sample_mean, sample_median  # noqa: E402

OPS = ("update", "top10", "rank", "page50")
DECAY = 0.95
DAY = 86400


def make_rows(n: int, now: int, seed: int = 42):
    """n users with 18-digit Discord-like ids, integer points, last activity within 30 days."""
    rnd = random.Random(seed)
    base = 100_000_000_000_000_000
    return [(str(base + i * 7919), float(rnd.randint(1, 1_000_000)), now - rnd.randint(0, 30 * DAY))
            for i in range(n)]


class OursBoard:
    """cpp_leaderboard.Leaderboard (the Java core through JPype)."""
    name = "streamrank (ours)"

    def __init__(self) -> None:
        import cpp_leaderboard
        self.lb = cpp_leaderboard.Leaderboard(decay_factor=DECAY, max_users=0)

    def populate(self, rows) -> None:
        bulk = getattr(self.lb, "update_users", None)
        if bulk is not None:
            bulk(rows)
        else:
            up = self.lb.update_user
            for u, p, t in rows:
                up(u, p, t)

    def update(self, user_id, points, ts):
        self.lb.update_user(user_id, points, ts)

    def top(self, k):
        return self.lb.get_top_users(k)

    def rank(self, user_id):
        return self.lb.get_user_rank(user_id)

    def page(self, start):
        return self.lb.get_rank_range(start, start + 49)  # both ends inclusive, as ZREVRANGE

    def sync(self):
        """Staged updates applied (the facade may batch them or apply them in the background)."""
        self.lb.size()

    def memory_bytes(self):
        return None  # measured around populate() with jvm_heap_used()

    def close(self):
        self.lb = None


def warm_up_ours(seconds: float = 3.0) -> None:
    """Run every operation of ours on a 20K-user board for about ``seconds``, so the JIT has
    compiled the hot paths before the first measurement (a long-running server is warm)."""
    now = int(time.time())
    rows = make_rows(20_000, now, seed=7)
    board = OursBoard()
    board.populate(rows)
    rnd = random.Random(7)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(200):
            u = rows[rnd.randrange(len(rows))][0]
            board.update(u, 1.0, now)
            board.rank(u)
        board.top(10)
        board.page(rnd.randrange(len(rows) - 50))
    board.close()


def jvm_heap_used() -> int:
    """Bytes of live JVM heap after full collections (the JVM must be running)."""
    import jpype
    from streamrank import _jvm
    _jvm.start()
    System = jpype.JClass("java.lang.System")
    mx = jpype.JClass("java.lang.management.ManagementFactory").getMemoryMXBean()
    for _ in range(3):
        System.gc()
        time.sleep(0.05)
    return int(mx.getHeapMemoryUsage().getUsed())


def _python_bytes(populate) -> int:
    import tracemalloc
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        populate()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def measure(n: int, contenders: dict, repeats: int, budget_s: float, progress, snapshot: bool = False,
            memory: bool = True, now: int | None = None) -> dict:
    """One size: populate every contender (a factory per name), take ``repeats`` interleaved
    samples of each operation, memory per user, and (``snapshot``) save/load timings of ours.
    Returns {'n', 'ops': {name: {op: Stat samples}}, 'populate_s': {...}, 'memory': {...},
    'snapshot': {...}, 'skipped': {name: reason}}."""
    now = now or int(time.time())
    rows = make_rows(n, now)
    rnd = random.Random(n)
    uids = [rows[rnd.randrange(n)][0] for _ in range(1000)]
    starts = [rnd.randrange(max(1, n - 50)) for _ in range(1000)]
    upd = [(u, float(rnd.randint(1, 100)), now) for u in uids]
    out = {"n": n, "ops": {}, "populate_s": {}, "memory_bytes": {}, "skipped": {}, "snapshot": {}}

    boards = {}
    for name, factory in contenders.items():
        progress(f"{n:,} users: load {name}")
        try:
            heap0 = jvm_heap_used() if name == "ours" and memory else None
            board = factory()
            t0 = time.perf_counter()
            board.populate(rows)
            out["populate_s"][name] = time.perf_counter() - t0
            if heap0 is not None:
                out["memory_bytes"][name] = jvm_heap_used() - heap0
            elif memory:
                mem = board.memory_bytes()
                if mem is not None:
                    out["memory_bytes"][name] = mem
            boards[name] = board
        except Exception as exc:  # a baseline that cannot run is reported, not fatal
            out["skipped"][name] = f"{type(exc).__name__}: {exc}"
            progress(f"  skipped {name}: {exc}")
    if memory and "sortedcontainers" in boards and n <= 100_000:  # tracemalloc is slow
        held = []  # keeps the measured board alive until tracemalloc has counted it

        def build():
            board = contenders["sortedcontainers"]()
            board.populate(rows)
            held.append(board)

        out["memory_bytes"]["sortedcontainers"] = _python_bytes(build)
        held.clear()

    def ops_of(board):
        sync = getattr(board, "sync", None)

        def updates_then_sync(fn, args, calls, offset=0):
            # Mean per update over a loop that ends with every update applied: a facade that
            # stages updates pays for applying them inside the measurement.
            if sync is None:
                return sample_mean(fn, args, calls, offset)
            n = len(args)
            batch = [args[(offset + i) % n] for i in range(calls)]
            t0 = time.perf_counter()
            for a in batch:
                fn(a)
            sync()
            return (time.perf_counter() - t0) / calls

        return {
            "update": (lambda a: board.update(*a), upd, updates_then_sync),
            "top10": (lambda _a: board.top(10), [None], sample_median),
            "rank": (board.rank, uids, sample_median),
            "page50": (board.page, starts, sample_median),
        }

    plan = {}
    progress(f"{n:,} users: calibrate")
    for name, board in boards.items():
        plan[name] = {}
        for op, (fn, args, how) in ops_of(board).items():
            plan[name][op] = (fn, args, how, calibrate(fn, args, budget_s))
        out["ops"][name] = {op: [] for op in OPS}
    for r in range(repeats):
        progress(f"{n:,} users: repeat {r + 1}/{repeats}")
        names = list(boards)
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:  # rotate who goes first
            for op, (fn, args, how, calls) in plan[name].items():
                out["ops"][name][op].append(how(fn, args, calls, offset=r * calls))

    if snapshot and "ours" in boards:
        out["snapshot"] = _snapshots(boards["ours"], n, repeats, progress)
    for board in boards.values():
        try:
            board.close()
        except Exception:
            pass
    boards.clear()
    gc.collect()
    return out


def _snapshots(board, n, repeats, progress) -> dict:
    import cpp_leaderboard
    progress(f"{n:,} users: snapshot save/load")
    with tempfile.TemporaryDirectory(prefix="bench-snap-") as tmp:
        path = os.path.join(tmp, "leaderboard_backup.json")
        save, load = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            board.lb.save_to_json(path)
            save.append(time.perf_counter() - t0)
        size = os.path.getsize(path)
        for _ in range(repeats):
            fresh = cpp_leaderboard.Leaderboard(decay_factor=DECAY, max_users=0)
            t0 = time.perf_counter()
            fresh.load_from_json(path)
            load.append(time.perf_counter() - t0)
            assert fresh.size() == n, (fresh.size(), n)
            del fresh
    return {"save_s": save, "load_s": load, "file_bytes": size}


def stat(samples) -> Stat:
    return Stat(list(samples))
