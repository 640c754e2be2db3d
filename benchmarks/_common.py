"""Shared helpers for the benchmark scripts: timing with medians and spread, machine facts,
progress lines. No third-party imports here, so every script can use it."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Stat:
    """Per-operation times (seconds) of several repeats: median and spread (min..max, IQR)."""
    samples: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def iqr(self) -> tuple:
        if len(self.samples) < 4:
            return self.low, self.high
        q = statistics.quantiles(self.samples, n=4)
        return q[0], q[2]

    def us(self) -> str:
        """'median us (min-max)' for tables."""
        return f"{self.median * 1e6:.2f} ({self.low * 1e6:.2f}-{self.high * 1e6:.2f})"


def per_op(fn, ops: int, repeats: int = 5, warmup: int = 1) -> Stat:
    """Time ``fn()`` (which performs ``ops`` operations) ``repeats`` times; per-op seconds."""
    for _ in range(warmup):
        fn()
    stat = Stat()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        stat.samples.append((time.perf_counter() - t0) / ops)
    return stat


def latency(fn, calls: int, repeats: int = 5) -> Stat:
    """Median over repeats of the median single-call latency (robust to GC pauses)."""
    stat = Stat()
    pc = time.perf_counter
    for r in range(repeats + 1):
        times = []
        for _ in range(calls):
            t0 = pc()
            fn()
            times.append(pc() - t0)
        if r:  # the first round warms up
            stat.samples.append(statistics.median(times))
    return stat


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _cmd(args) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip() or \
            subprocess.run(args, capture_output=True, text=True, timeout=20).stderr.strip()
    except Exception:
        return "n/a"


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = "?"
    try:
        with open("/proc/meminfo") as f:
            mem_gib = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f}"
    except OSError:
        pass
    try:
        import jpype
        jpype_version = jpype.__version__
    except ImportError:
        jpype_version = "n/a"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _cmd(["java", "-version"]).splitlines()[0] if _cmd(["java", "-version"]) else "n/a",
        "jpype": jpype_version,
    }
