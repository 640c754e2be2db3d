"""Per-process memory of the JVM under a churn workload (issue 11, item 12).

One fresh process: 500K pushes through a processor (16K buffer, 4 workers), 5 bulk loads of
100K leaderboard updates, 10K top-10 queries; then prints RSS, peak RSS (VmHWM), the heap
ceiling and committed heap, and the OS thread count. JVM flags from STREAMRANK_JVM_HEAP /
STREAMRANK_JVM_OPTS as usual::

    .venv/bin/python benchmarks/jvm_rss.py
    STREAMRANK_JVM_OPTS=-Xmx6g .venv/bin/python benchmarks/jvm_rss.py   # ~ the JVM's own default here
"""
from __future__ import annotations

import os
import time

import cpp_event_processor
import cpp_leaderboard


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(f.read().split(field + ":")[1].split()[0]) // 1024


def main() -> None:
    import jpype

    board = cpp_leaderboard.Leaderboard(max_users=100000)
    proc = cpp_event_processor.EventStreamProcessor(16384, 4, 500, 1000)
    proc.set_flush_callback(lambda events: None)
    start = time.perf_counter()
    for r in range(5):
        for i in range(100000):
            proc.push_event("m", f"u{i % 5000}", f"c{i % 20}", 0)
        board.update_users([(f"u{i}", 1.0, 0) for i in range(r * 20000, r * 20000 + 100000)])
        for _ in range(2000):
            board.get_top_users(10)
    proc.flush_now()
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    print(f"rss {_status('VmRSS')} MB, peak {_status('VmHWM')} MB, max heap {runtime.maxMemory() // 2**20} MB, "
          f"committed {runtime.totalMemory() // 2**20} MB, OS threads {len(os.listdir('/proc/self/task'))}, "
          f"{time.perf_counter() - start:.1f} s")
    proc.close()


if __name__ == "__main__":
    main()
