"""Cold start of a fresh process: JVM start + first Leaderboard() + first query (issue 13).

Runs ``--runs`` fresh interpreters and prints the median (and min/max) of the in-process time
from before ``import cpp_leaderboard`` to the first ``get_top_users`` answer, and of the whole
process (interpreter start to exit). Extra JVM flags come from STREAMRANK_JVM_OPTS as usual::

    .venv/bin/python benchmarks/startup.py --runs 9
    STREAMRANK_JVM_OPTS="-XX:TieredStopAtLevel=1" .venv/bin/python benchmarks/startup.py --runs 9
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CHILD = ("import time\n"
         "t0 = time.perf_counter()\n"
         "import cpp_leaderboard\n"
         "board = cpp_leaderboard.Leaderboard()\n"
         "board.update_user('alice', 1.0, 0)\n"
         "board.get_top_users(10)\n"
         "print(time.perf_counter() - t0)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    inner, outer = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
        outer.append(time.perf_counter() - start)
        inner.append(float(done.stdout.split()[-1]))
    for name, values in (("first query (in process)", inner), ("whole process", outer)):
        print(f"{name:26s} median {statistics.median(values) * 1000:7.1f} ms  "
              f"min {min(values) * 1000:7.1f}  max {max(values) * 1000:7.1f}  (n={len(values)})")


if __name__ == "__main__":
    main()
