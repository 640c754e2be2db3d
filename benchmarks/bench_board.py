"""Leaderboard rows: top-10, rank of a user, a page of 50 and amortised update_user, at each
board size, warm (in this process, after warm-up) and cold (the first calls of a fresh
process, one child process per value); plus JVM heap bytes/user and each child's RSS.

Contenders (``baselines/boards.py``): ours, the sortedcontainers board, Redis sorted sets
(a throwaway redis-server) and, when ``STREAMRANK_ORIGINAL_PATH`` is set, the original C++
extension. Child mode: ``bench_board.py --cold WHO N CALLS [REDIS_SOCKET]`` prints one JSON line.
"""
from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _timing import from_values, interleave, progress, time_calls  # noqa: E402
from baselines import boards, original  # noqa: E402

DAY = 86400
OPS = ("top10", "rank", "page50", "update")
NOW = int(time.time())
REF = NOW - 31 * DAY


def make_rows(n: int, seed: int = 42):
    """n users with 18-digit ids, integer points, last activity within 30 days."""
    rnd = random.Random(seed)
    base = 100_000_000_000_000_000
    return [(str(base + i * 7919), float(rnd.randint(1, 1_000_000)), NOW - rnd.randint(0, 30 * DAY))
            for i in range(n)]


def workload(n: int, rows):
    """The arguments every contender is called with: users to rank, page starts, updates."""
    rnd = random.Random(n)
    uids = [rows[rnd.randrange(n)][0] for _ in range(1000)]
    starts = [rnd.randrange(max(1, n - 50)) for _ in range(1000)]
    upd = [(u, float(rnd.randint(1, 100)), NOW) for u in uids]
    return uids, starts, upd


def make(who: str, redis_socket: str | None):
    if who == "ours":
        return boards.Ours()
    if who == "original":
        return boards.Original()
    if who == "sortedcontainers":
        return boards.Sorted()
    if who == "redis":
        return boards.Redis({"unix_socket_path": redis_socket}, ref=REF)
    raise ValueError(who)


def op_funcs(board, uids, starts, upd) -> dict:
    """{op: time function}; update's loop ends with every staged update applied."""
    update, sync = board.update, board.sync
    each = time_calls(lambda a: update(*a), upd)

    def updates(loops: int) -> float:
        t0 = time.perf_counter()
        each(loops)
        sync()
        return time.perf_counter() - t0
    return {"top10": time_calls(lambda _a: board.top(10), [None]), "rank": time_calls(board.rank, uids),
            "page50": time_calls(board.page, starts), "update": updates}


def who_runs(redis_socket) -> list:
    out = ["ours", "sortedcontainers"]
    if original.available():
        out.append("original")
    if redis_socket:
        out.append("redis")
    return out


def warm(n: int, cfg, redis_socket) -> list:
    rows = make_rows(n)
    args = workload(n, rows)
    built, skipped = {}, {}
    for who in who_runs(redis_socket):
        progress(f"board {n:,} warm: load {who}")
        try:
            board = make(who, redis_socket)
            board.populate(rows)
            built[who] = board
        except Exception as exc:
            skipped[who] = f"{type(exc).__name__}: {exc}"
    funcs = {who: op_funcs(b, *args) for who, b in built.items()}
    for who, fns in funcs.items():  # warm-up (the JIT compiles ours' hot paths)
        for fn in fns.values():
            deadline = time.monotonic() + cfg["warmup_s"]
            while time.monotonic() < deadline:  # one call at a time: the original's page at
                fn(1)                           # 1M users takes a second
    out = []
    for op in OPS:
        progress(f"board {n:,} warm: {op}")
        res = interleave(f"board/{n}/warm/{op}", {w: f[op] for w, f in funcs.items()}, cfg["values"],
                         min_time=cfg["min_time"], metadata={"users": n})
        res.setdefault("skipped", {}).update(skipped)
        out.append((f"{op}, {n:,} users, warm", res))
    for b in built.values():
        getattr(b, "close", lambda: None)()
    return out


def cold(n: int, cfg, redis_socket) -> tuple:
    """Per op, the mean of the first ``cold_calls`` calls in a fresh process (one child per
    value, contenders alternating); plus heap bytes/user (ours) and RSS per contender."""
    names = who_runs(redis_socket)
    values = {w: {op: [] for op in OPS} for w in names}
    rss, heap, skipped = {w: [] for w in names}, [], {}
    cut = {}  # (who, op) -> fewest calls a child managed within its time budget
    for r in range(cfg["cold_runs"]):
        k = r % len(names)
        for who in names[k:] + names[:k]:
            if who in skipped:
                continue
            progress(f"board {n:,} cold: {who} (fresh process {r + 1}/{cfg['cold_runs']})")
            cmd = [sys.executable, os.path.abspath(__file__), "--cold", who, str(n), str(cfg["cold_calls"]),
                   redis_socket or ""]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                skipped[who] = (proc.stderr.strip().splitlines() or ["failed"])[-1]
                continue
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            for op in OPS:
                values[who][op].append(got[op])
                done = got.get(op + "_calls", cfg["cold_calls"])
                if done < cfg["cold_calls"]:
                    cut[who, op] = min(done, cut.get((who, op), done))
            rss[who].append(got["rss_bytes"])
            if got.get("heap_bytes") is not None:
                heap.append(got["heap_bytes"] / n)
    out = []
    meta = {"users": n, "calls": cfg["cold_calls"]}
    for op in OPS:
        res = {w: from_values(f"board/{n}/cold/{op}/{w}", v[op], metadata=meta)
               for w, v in values.items() if v[op]}
        res["skipped"] = skipped
        res["notes"] = [f"{w}: the mean of its first {k} calls (cut off after 5 s)"
                        for (w, o), k in sorted(cut.items()) if o == op]
        out.append((f"{op}, {n:,} users, cold (first {cfg['cold_calls']:,} calls)", res))
    memory = {w: from_values(f"memory/{n}/rss/{w}", v, unit="byte", metadata={"users": n})
              for w, v in rss.items() if v}
    if heap:
        memory["ours heap bytes/user"] = from_values(f"memory/{n}/heap_per_user/ours", heap, unit="byte")
    return out, (f"memory, {n:,} users", memory)


def heap_used() -> int:
    """Live JVM heap bytes after full collections."""
    import jpype
    system = jpype.JClass("java.lang.System")
    mx = jpype.JClass("java.lang.management.ManagementFactory").getMemoryMXBean()
    for _ in range(3):
        system.gc()
    return int(mx.getHeapMemoryUsage().getUsed())


def cold_child(who: str, n: int, calls: int, redis_socket: str | None) -> dict:
    rows = make_rows(n)
    uids, starts, upd = workload(n, rows)
    board = make(who, redis_socket)
    heap0 = heap_used() if who == "ours" else None
    board.populate(rows)
    out = {"heap_bytes": heap_used() - heap0 if heap0 is not None else None}
    with open("/proc/self/status") as f:
        out["rss_bytes"] = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))
    pc = time.perf_counter
    budget = 5.0  # seconds per op: the original re-decays every user per query
    calls_of = {"top10": (lambda _a: board.top(10), [None]), "rank": (board.rank, uids),
                "page50": (board.page, starts)}
    for op in OPS:
        t0 = pc()
        if op == "update":
            for i in range(calls):
                board.update(*upd[i % 1000])
            board.sync()
            out[op] = (pc() - t0) / calls
            continue
        fn, args = calls_of[op]
        i = 0
        while i < calls:
            fn(args[i % len(args)])
            i += 1
            if (i < 50 or i % 50 == 0) and pc() - t0 > budget:  # the original at 1M: ~1 s a call
                break
        out[op] = (pc() - t0) / i
        out[op + "_calls"] = i
    out["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


if __name__ == "__main__" and len(sys.argv) >= 5 and sys.argv[1] == "--cold":
    print(json.dumps(cold_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                                sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None)))
