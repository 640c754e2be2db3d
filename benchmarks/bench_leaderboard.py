"""cpp_leaderboard (Java skip list through JPype) against a pure-Python baseline with the same
semantics (sortedcontainers.SortedList + dict, normalised scores), side by side in one run.

    .venv/bin/python benchmarks/bench_leaderboard.py                 # 10K, 100K, 1M users
    .venv/bin/python benchmarks/bench_leaderboard.py --sizes 10000 --batches 15

Every figure is a median over ``--batches`` batches; a batch times a run of calls and divides,
so the ~100 ns cost of reading the clock is not in the result. Workloads:

- ``get_top_users(10)`` and ``get_user_rank(random user)``: the board holds N users, nothing staged.
- ``update_user, uniform``: random existing users, +1..5 points, timestamp now; a batch is 2048
  updates followed by ``size()``, so the time includes applying them in Java (the staged
  updates are not "free"). Uniform over N users is the worst case for caches.
- ``update_user, hot 1%``: the same, but updates go to 1% of the users (a Discord server where
  a few are active).
- ``bytes/user``: JVM heap used after a full GC, board minus empty board, divided by N (the
  baseline: Python heap via tracemalloc, with ``--baseline-memory``).

The machine is shared: read the ratios, and re-run when numbers look noisy.
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import sys
import time
import tracemalloc

from sortedcontainers import SortedList

import cpp_leaderboard

T_NOW = 1_700_000_000
DAY = 86_400


class SortedListLeaderboard:
    """The baseline: the same API and semantics in pure Python.

    Scores are normalised to a reference time (as the Java core does), so the order never
    changes as time passes; the SortedList holds ``(-normalised, user_id)`` (highest first, ties
    by id). It skips the Java core's rare re-normalisation (not exercised here) and its argument
    checks beyond the type tests the hot path needs."""

    def __init__(self, decay_factor=0.95, max_users=100000):
        self.decay = decay_factor
        self.max_users = max_users
        self.reference = None
        self.users = {}  # user_id -> [normalised, last_update]
        self.order = SortedList()
        self.now = lambda: int(time.time())

    def set_time_source(self, source):
        self.now = source

    def update_user(self, user_id, points, timestamp):
        if type(user_id) is not str or not math.isfinite(points):
            raise TypeError("bad arguments")
        if timestamp <= 0:
            timestamp = self.now()
        entry = self.users.get(user_id)
        if entry is None:
            if points == 0:
                return
            if not self.users:
                self.reference = timestamp
            norm = points * self.decay ** ((self.reference - timestamp) / DAY)
            self.users[user_id] = [norm, timestamp]
            self.order.add((-norm, user_id))
            if self.max_users and len(self.users) > self.max_users:
                _, evicted = self.order.pop()
                del self.users[evicted]
            return
        self.order.remove((-entry[0], user_id))
        entry[0] += points * self.decay ** ((self.reference - timestamp) / DAY)
        if timestamp > entry[1]:
            entry[1] = timestamp
        self.order.add((-entry[0], user_id))

    def update_users(self, updates):
        for user_id, points, timestamp in updates:
            self.update_user(user_id, points, timestamp)

    def _factor(self):
        return self.decay ** ((self.now() - self.reference) / DAY) if self.reference is not None else 1.0

    def get_top_users(self, k):
        factor = self._factor()
        users = self.users
        return [{"rank": i + 1, "user_id": uid, "score": -neg * factor, "last_update": users[uid][1]}
                for i, (neg, uid) in enumerate(self.order.islice(0, max(k, 0)))]

    def get_user_rank(self, user_id):
        entry = self.users.get(user_id)
        if entry is None:
            return None
        rank = self.order.index((-entry[0], user_id)) + 1
        return {"rank": rank, "user_id": user_id, "score": entry[0] * self._factor(), "last_update": entry[1]}

    def size(self):
        return len(self.users)


def make_ids(n, rng):
    # Discord snowflakes: 18-digit decimal strings.
    return [str(100_000_000_000_000_000 + rng.randrange(900_000_000_000_000_000)) for _ in range(n)]


def populate(board, ids, rng):
    board.update_users((uid, float(rng.randint(1, 1000)), T_NOW - rng.randrange(30 * DAY)) for uid in ids)


def interleaved_medians(batch_a, batch_b, calls_per_batch, batches, warmup_seconds=0.3):
    """Median over batches of (batch time / calls) in microseconds, for two boards whose batches
    alternate, so load from other processes hits both alike. batch_b may be None."""
    deadline = time.perf_counter() + warmup_seconds  # let the JIT compile the Java side
    while time.perf_counter() < deadline:
        batch_a()
        if batch_b is not None:
            batch_b()
    times_a, times_b = [], []
    for _ in range(batches):
        for batch, times in ((batch_a, times_a), (batch_b, times_b)):
            if batch is None:
                continue
            t0 = time.perf_counter_ns()
            batch()
            times.append((time.perf_counter_ns() - t0) / calls_per_batch / 1000.0)
    return statistics.median(times_a), (statistics.median(times_b) if times_b else None)


def workloads(board, ids, seed):
    """name -> (batch function, calls per batch) for one board."""
    rng = random.Random(seed)
    n = len(ids)
    top = board.get_top_users
    rank = board.get_user_rank
    update = board.update_user
    size = board.size
    picks = [ids[rng.randrange(n)] for _ in range(2048)]
    hot = ids[: max(1, n // 100)]
    hot_picks = [hot[rng.randrange(len(hot))] for _ in range(2048)]
    points = [float(rng.randint(1, 5)) for _ in range(2048)]

    def top_batch():
        for _ in range(200):
            top(10)

    def rank_batch():
        for uid in picks[:500]:
            rank(uid)

    def update_batch(chosen):
        def run():
            for uid, p in zip(chosen, points):
                update(uid, p, T_NOW)
            size()  # the staged updates are applied before this returns
        return run

    return {
        "get_top_users(10)": (top_batch, 200),
        "get_user_rank": (rank_batch, 500),
        "update_user, uniform": (update_batch(picks), 2048),
        "update_user, hot 1%": (update_batch(hot_picks), 2048),
    }


def jvm_used_bytes():
    import jpype
    system = jpype.JClass("java.lang.System")
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    for _ in range(3):
        system.gc()
    return int(runtime.totalMemory()) - int(runtime.freeMemory())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated user counts")
    parser.add_argument("--batches", type=int, default=25, help="batches per median (default 25)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the sortedcontainers baseline")
    parser.add_argument("--baseline-memory", action="store_true",
                        help="also measure the baseline's Python heap per user (tracemalloc; slow)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(7)

    rows = []  # (size, workload, ours, baseline)
    memory = []
    for n in sizes:
        ids = make_ids(n, rng)
        # Ours, with the heap measured around the build.
        empty = cpp_leaderboard.Leaderboard(decay_factor=0.95, max_users=0)
        empty.size()
        before = jvm_used_bytes()
        ours = cpp_leaderboard.Leaderboard(decay_factor=0.95, max_users=0)
        ours.set_time_source(lambda: T_NOW)
        t0 = time.perf_counter()
        populate(ours, ids, random.Random(n))
        ours.size()
        load_ours = time.perf_counter() - t0
        after = jvm_used_bytes()
        ours_bytes = (after - before) / n

        base = None
        base_bytes = None
        load_base = None
        if not args.no_baseline:
            base = SortedListLeaderboard(decay_factor=0.95, max_users=0)
            base.set_time_source(lambda: T_NOW)
            if args.baseline_memory:
                gc.collect()
                tracemalloc.start()
            t0 = time.perf_counter()
            populate(base, ids, random.Random(n))
            load_base = time.perf_counter() - t0
            if args.baseline_memory:
                base_bytes = tracemalloc.get_traced_memory()[0] / n
                tracemalloc.stop()
            for k in (10, 1000):
                assert [e["user_id"] for e in base.get_top_users(k)] == [e["user_id"] for e in ours.get_top_users(k)], \
                    "baseline and ours disagree"
        ours_work = workloads(ours, ids, seed=1)
        base_work = workloads(base, ids, seed=1) if base is not None else {}
        result_ours, result_base = {}, {}
        for name, (batch, calls) in ours_work.items():
            other = base_work.get(name, (None, calls))[0]
            result_ours[name], result_base[name] = interleaved_medians(batch, other, calls, args.batches)
        del base
        for workload, value in result_ours.items():
            rows.append((n, workload, value, result_base.get(workload)))
        rows.append((n, "bulk load (update_users), per user", load_ours / n * 1e6,
                     None if load_base is None else load_base / n * 1e6))
        memory.append((n, ours_bytes, base_bytes))
        del ours, empty
        gc.collect()
        print(f"... {n} users done", file=sys.stderr)

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load} at the end; "
          f"medians of {args.batches} interleaved batches, microseconds per call\n")
    print(f"| users | workload | cpp_leaderboard (Java) | sortedcontainers baseline | ratio |")
    print(f"| ---: | --- | ---: | ---: | ---: |")
    for n, workload, ours_us, base_us in rows:
        base_txt = "-" if base_us is None else f"{base_us:.2f}"
        ratio = "-" if base_us is None else f"{base_us / ours_us:.1f}x"
        print(f"| {n:,} | {workload} | {ours_us:.2f} | {base_txt} | {ratio} |")
    print()
    print("| users | JVM heap bytes/user (ours) | Python heap bytes/user (baseline) |")
    print("| ---: | ---: | ---: |")
    for n, ours_b, base_b in memory:
        print(f"| {n:,} | {ours_b:.0f} | {'-' if base_b is None else f'{base_b:.0f}'} |")


if __name__ == "__main__":
    main()
