"""Side-by-side timing on pyperf's data model.

pyperf's own ``Runner`` measures one benchmark at a time, each in its own worker processes. On
this shared 2-core machine the load changes within seconds, so a comparison is only fair when
the contenders take turns: ``interleave`` calibrates each contender's loop count, then runs
rounds in which every contender gives one value, the order rotating each round. Each
contender's values become a ``pyperf.Run`` (with pyperf's metadata: load average, CPU, Python),
so the results are ordinary pyperf benchmarks: medians and percentiles come from pyperf, and
``python -m pyperf stats|hist|compare_to docs/benchmarks.json`` works on the saved suite.

A *time function* follows pyperf's ``bench_time_func`` protocol: ``time_func(loops)`` runs the
operation ``loops`` times and returns the elapsed seconds (so set-up stays outside the timing).
"""
from __future__ import annotations

import sys
import time

import pyperf


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def calibrate(time_func, min_time: float, max_loops: int = 1 << 22) -> int:
    """Loops for one value to take about ``min_time`` seconds (doubling, as pyperf does)."""
    loops = 1
    while loops < max_loops:
        dt = time_func(loops)
        if dt >= min_time:
            break
        loops = min(max_loops, max(loops * 2, int(loops * min_time / max(dt, 1e-9) * 1.2)))
    return loops


def interleave(name: str, time_funcs: dict, values: int, warmups: int = 1, min_time: float = 0.05,
               loops: dict | None = None, metadata: dict | None = None) -> dict:
    """``{contender: pyperf.Benchmark}`` named ``name/contender``, the contenders' values taken
    in alternating rounds. ``loops`` fixes a contender's loop count (no calibration); a value is
    seconds per loop. A contender whose time function raises is dropped from the rounds and
    reported in the result under ``"skipped"`` (a dict of reasons)."""
    loops = dict(loops or {})
    skipped = {}
    for who, fn in time_funcs.items():
        if who not in loops:
            try:
                loops[who] = calibrate(fn, min_time)
            except Exception as exc:  # a baseline that cannot run is reported, not fatal
                skipped[who] = f"{type(exc).__name__}: {exc}"
    names = [w for w in time_funcs if w not in skipped]
    samples = {w: [] for w in names}
    warm = {w: [] for w in names}
    for r in range(warmups + values):
        k = r % len(names) if names else 0
        for who in names[k:] + names[:k]:
            if who in skipped:
                continue
            try:
                dt = time_funcs[who](loops[who]) / loops[who]
            except Exception as exc:
                skipped[who] = f"{type(exc).__name__}: {exc}"
                continue
            (warm if r < warmups else samples)[who].append(dt)
    out = {}
    for who in names:
        if who in skipped or not samples[who]:
            continue
        meta = {"name": f"{name}/{who}", "loops": loops[who], "unit": "second", **(metadata or {})}
        run = pyperf.Run(samples[who], warmups=[(loops[who], v) for v in warm[who]], metadata=meta)
        out[who] = pyperf.Benchmark([run])
    if skipped:
        out["skipped"] = skipped
    return out


def from_values(name: str, values: list, unit: str = "second", metadata: dict | None = None):
    """A pyperf benchmark from values measured elsewhere (a child process, a byte count)."""
    meta = {"name": name, "unit": unit, **(metadata or {})}
    return pyperf.Benchmark([pyperf.Run(values, metadata=meta)])


def time_calls(fn, args: list):
    """A time function calling ``fn(arg)`` once per loop, taking ``args`` in turn; each call
    goes on where the previous one stopped, so small loop counts still cover every argument."""
    n = len(args)
    pc = time.perf_counter
    pos = [0]

    def time_func(loops: int) -> float:
        start = pos[0]
        t0 = pc()
        for i in range(start, start + loops):
            fn(args[i % n])
        dt = pc() - t0
        pos[0] = (start + loops) % n
        return dt
    return time_func
