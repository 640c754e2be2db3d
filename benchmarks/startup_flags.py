"""A/B of JVM flags for a fresh process's start (issue 13): interleaved runs, wall and CPU time.

Each round runs one fresh interpreter per configuration, in turn (so machine noise hits every
configuration alike), timing ``import cpp_leaderboard`` -> ``Leaderboard()`` -> first
``get_top_users`` (wall, in the child) and the child's whole user+sys CPU time. Configurations
are ``name=STREAMRANK_JVM_OPTS`` arguments::

    .venv/bin/python benchmarks/startup_flags.py --rounds 11 default= c1=-XX:TieredStopAtLevel=1
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys

from startup import CHILD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("configs", nargs="+", help="name=flags (flags may be empty)")
    args = parser.parse_args()
    configs = [c.split("=", 1) for c in args.configs]
    wall: dict = {name: [] for name, _ in configs}
    cpu: dict = {name: [] for name, _ in configs}
    for _ in range(args.rounds):
        for name, flags in configs:
            env = {**os.environ, "STREAMRANK_JVM_OPTS": flags}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall[name].append(float(done.stdout.split()[-1]) * 1000)
            cpu[name].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    print(f"{'config':12s} {'wall median':>12s} {'CPU median':>11s}   (ms, {args.rounds} rounds)")
    for name, _ in configs:
        print(f"{name:12s} {statistics.median(wall[name]):12.0f} {statistics.median(cpu[name]):11.0f}")


if __name__ == "__main__":
    main()
