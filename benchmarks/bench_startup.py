"""Start-up row: a fresh process's import + first ``Leaderboard()`` (ours: the JVM starts here)
+ first query (``update_user`` then ``get_top_users(10)``), and the whole process from spawn to
exit; contenders alternate, one fresh process per value."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from _timing import from_values, progress
from baselines import original

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
{imports}
t1 = time.perf_counter()
lb = {construct}
if {alias}:
    lb.update_user, lb.get_top_users = lb.update, lb.top
t2 = time.perf_counter()
lb.update_user("u1", 5.0, 0) if {zero_ts} else lb.update_user("u1", 5.0, int(time.time()))
lb.get_top_users(10)
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "construct": t2 - t1, "first query": t3 - t2, "in process": t3 - t0}}))
"""
HERE = os.path.dirname(os.path.abspath(__file__))
CONTENDERS = {
    "ours": dict(imports="import cpp_leaderboard", construct="cpp_leaderboard.Leaderboard()", zero_ts=True),
    "original": dict(imports="from baselines import original; mod = original.load()[1]",
                     construct="mod.Leaderboard()", zero_ts=False),
    "sortedcontainers": dict(imports="from baselines.boards import Sorted", construct="Sorted()", zero_ts=False,
                             alias=True),
}


def run(cfg) -> list:
    names = [w for w in CONTENDERS if w != "original" or original.available()]
    parts = {w: {} for w in names}
    for r in range(cfg["startup_runs"]):
        progress(f"start-up: fresh processes, round {r + 1}/{cfg['startup_runs']}")
        k = r % len(names)
        for who in names[k:] + names[:k]:
            code = CHILD.format(here=HERE, **{"alias": False, **CONTENDERS[who]})
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                  env=dict(os.environ))
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"start-up child for {who} failed: {proc.stderr.strip()[-300:]}")
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            got["process, spawn to exit"] = wall
            for part, v in got.items():
                parts[who].setdefault(part, []).append(v)
    rows = []
    for part in ("process, spawn to exit", "in process", "import", "construct", "first query"):
        rows.append((f"start-up: {part}", {w: from_values(f"startup/{part}/{w}", parts[w][part]) for w in names}))
    return rows
