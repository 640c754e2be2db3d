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


# --- additions for benchmarks/run.py (the one-command report) ---------------------------------

def rate(fn, items: int, repeats: int = 5, warmup: int = 0) -> Stat:
    """Items per second of ``fn()`` (which handles ``items`` items), one sample per repeat."""
    for _ in range(warmup):
        fn()
    stat = Stat()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        stat.samples.append(items / (time.perf_counter() - t0))
    return stat


def fmt_num(x: float, digits: int = 3) -> str:
    """A number with ``digits`` significant figures and thousands separators: 1,234,000 / 0.0123."""
    if x != x:  # NaN
        return "n/a"
    if x == 0:
        return "0"
    mag = abs(x)
    if mag >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    import math
    decimals = digits - 1 - int(math.floor(math.log10(mag)))
    return f"{x:,.{max(decimals, 0)}f}"


def fmt_stat(stat: Stat, scale: float = 1.0, digits: int = 3) -> str:
    """'median (min-max)' of ``stat`` scaled by ``scale`` (1e6 for us, 1e3 for ms)."""
    return (f"{fmt_num(stat.median * scale, digits)} "
            f"({fmt_num(stat.low * scale, digits)}-{fmt_num(stat.high * scale, digits)})")


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps it readable: 85 ns, 3.2 us, 12 ms, 1.4 s."""
    if seconds != seconds:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e3), ("us", 1e6)):
        if seconds >= 1.0 / scale:
            return f"{fmt_num(seconds * scale)} {unit}"
    return f"{fmt_num(seconds * 1e9)} ns"


def fmt_time_stat(stat: Stat) -> str:
    """'median (min-max)' with a unit chosen from the median."""
    m = stat.median
    if m >= 1.0:
        unit, scale = "s", 1.0
    elif m >= 1e-3:
        unit, scale = "ms", 1e3
    elif m >= 1e-6:
        unit, scale = "us", 1e6
    else:
        unit, scale = "ns", 1e9
    return f"{fmt_stat(stat, scale)} {unit}"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"
    except OSError:
        return "n/a"


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Steps:
    """Progress for a run of known length: '[ 3/27  0:41] leaderboard 10K: redis'."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.t0 = time.monotonic()

    def __call__(self, msg: str) -> None:
        self.done += 1
        elapsed = int(time.monotonic() - self.t0)
        progress(f"[{min(self.done, self.total):>2}/{self.total} {elapsed // 60}:{elapsed % 60:02d}] {msg}")

    def note(self, msg: str) -> None:
        elapsed = int(time.monotonic() - self.t0)
        progress(f"[  .. {elapsed // 60}:{elapsed % 60:02d}]   {msg}")


def calibrate(fn, args: list, budget_s: float, min_calls: int = 5, max_calls: int = 1000) -> int:
    """How many calls of ``fn(arg)`` fit in about ``budget_s`` (after one warm-up call)."""
    fn(args[0])
    t0 = time.perf_counter()
    n = 0
    while n < min_calls or (time.perf_counter() - t0 < budget_s / 10 and n < max_calls):
        fn(args[n % len(args)])
        n += 1
    per_call = (time.perf_counter() - t0) / n
    return int(max(min_calls, min(max_calls, budget_s / max(per_call, 1e-9))))


def sample_median(fn, args: list, calls: int, offset: int = 0) -> float:
    """Median single-call latency of ``calls`` calls ``fn(arg)`` (args taken in turn)."""
    pc = time.perf_counter
    times = []
    n = len(args)
    for i in range(calls):
        a = args[(offset + i) % n]
        t0 = pc()
        fn(a)
        times.append(pc() - t0)
    return statistics.median(times)


def sample_mean(fn, args: list, calls: int, offset: int = 0) -> float:
    """Mean (amortised) seconds per call over ``calls`` calls ``fn(arg)`` in one loop."""
    n = len(args)
    batch = [args[(offset + i) % n] for i in range(calls)]
    t0 = time.perf_counter()
    for a in batch:
        fn(a)
    return (time.perf_counter() - t0) / calls
