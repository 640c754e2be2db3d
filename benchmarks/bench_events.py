"""Event path rows: push through delivery (ns/event) in four shapes, and steady push_event cost.

Contenders: ours (``cpp_event_processor`` on the Java core), the plain-Python pipeline
(``baselines/pipeline.py``) and, when ``STREAMRANK_ORIGINAL_PATH`` points at a hand-built copy,
the original C++ extension. One value = every event of the shape pushed, from the first push
until ``flush_now()`` returned; a refused push is retried (``sleep(0)`` in between), so every
contender delivers every event, which the callback counts and the value checks.
"""
from __future__ import annotations

import threading
import time

from _timing import interleave, progress
from baselines import original
from baselines.pipeline import PyPipeline

GUIDE = (16384, 4, 500, 1000)  # buffer_size, num_threads, batch_size, flush_interval_ms
ORIGINAL_SHAPE = (16384, 4, 256, 200)  # the original project's benchmark_comparison.py
TS = 1_700_000_000


def discord_events(n: int):
    """18-digit snowflake ids: 5,000 active users over 40 channels."""
    users = [str(300_000_000_000_000_000 + 7919 * i) for i in range(5000)]
    channels = [str(900_000_000_000_000_000 + 31 * i) for i in range(40)]
    return [("message", users[(i * 7) % 5000], channels[i % 40], TS) for i in range(n)]


def original_shape_events(n: int):
    """As the original's own benchmark: 1,000 users x 20 channels, a timestamp per event."""
    return [("message", f"user-{i % 1000}", f"channel-{i % 20}", TS + i) for i in range(n)]


def contenders() -> dict:
    import cpp_event_processor
    out = {"ours": cpp_event_processor.EventStreamProcessor, "python": PyPipeline}
    if original.available():
        out["original"] = original.load()[0].EventStreamProcessor
    return out


# The original has no close(); its destructor stops its threads, and destroying one (like
# swapping its callback while its workers run) now and then kills the process with "GIL is
# released" (a py::function released without the GIL). Its processors are kept, idle, instead.
_KEPT = []


def _close(p) -> None:
    close = getattr(p, "close", None)
    if close is not None:
        close()
    else:
        _KEPT.append(p)


def _push_all(push, events) -> None:
    sleep = time.sleep
    for t, u, c, ts in events:
        while not push(t, u, c, ts):
            sleep(0)


def path(factory, config, events, producers: int, read: bool):
    """A time function: ``loops`` is ignored (always every event of ``events``)."""
    def time_func(loops: int) -> float:
        p = factory(*config)
        seen = []
        if read:
            def callback(batch):
                for e in batch:
                    e["type"], e["user_id"], e["channel_id"], e["timestamp"]
                seen.append(len(batch))
        else:
            def callback(batch):  # as good as no-op; the count is the oracle below
                seen.append(len(batch))
        p.set_flush_callback(callback)
        push = p.push_event
        if producers == 1:
            t0 = time.perf_counter()
            _push_all(push, events)
        else:
            go = threading.Barrier(producers + 1)
            share = len(events) // producers

            def producer(part):
                go.wait()
                _push_all(push, part)
            threads = [threading.Thread(target=producer, args=(events[i * share:(i + 1) * share],))
                       for i in range(producers)]
            for th in threads:
                th.start()
            go.wait()
            t0 = time.perf_counter()
            for th in threads:
                th.join()
        p.flush_now()
        dt = time.perf_counter() - t0
        _close(p)
        expected = len(events) if producers == 1 else share * producers
        if sum(seen) != expected:
            raise AssertionError(f"delivered {sum(seen)} of {expected} events")
        return dt * loops / expected  # seconds per event times loops, as interleave divides
    return time_func


def steady_push(factory, events, burst: int = 16_000):
    """Producer-side cost per push_event, in bursts that fit the guide's 16K buffer, a no-op
    callback set (delivery runs alongside, as in a live process); each burst ends with a call
    that makes ours hand its staged events to Java (timed); between bursts the buffer is
    drained with ``flush_now()`` (not timed). The callback is set once: swapping callbacks while
    the original's workers run crashed the original (a ``py::function`` freed without the GIL)."""
    def time_func(loops: int) -> float:
        p = factory(*GUIDE)
        p.set_flush_callback(lambda batch: None)
        hand_off = getattr(p, "total_events_processed", None)
        push = p.push_event
        elapsed = 0.0
        for start in range(0, len(events), burst):
            chunk = events[start:start + burst]
            t0 = time.perf_counter()
            for t, u, c, ts in chunk:
                push(t, u, c, ts)
            if hand_off is not None:
                hand_off()
            elapsed += time.perf_counter() - t0
            p.flush_now()
        _close(p)
        return elapsed * loops / len(events)
    return time_func


def loop_floor(events):
    """The same loop calling a no-op function with the same four arguments."""
    def push_event(event_type, user_id, channel_id, timestamp):
        return True

    def time_func(loops: int) -> float:
        t0 = time.perf_counter()
        for t, u, c, ts in events:
            push_event(t, u, c, ts)
        return (time.perf_counter() - t0) * loops / len(events)
    return time_func


SHAPES = {
    # name: (config, events maker, producers, callback reads the dicts)
    "one producer, no-op callback": (GUIDE, discord_events, 1, False),
    "one producer, callback reads every dict": (GUIDE, discord_events, 1, True),
    "original's benchmark shape": (ORIGINAL_SHAPE, original_shape_events, 1, False),
    "4 producer threads": (GUIDE, discord_events, 4, False),
}


def run(cfg) -> list:
    """[(row name, {contender: pyperf.Benchmark, "skipped": {...}})]"""
    n = cfg["events"]
    who = contenders()
    rows = []
    warm = discord_events(50_000)
    for factory in who.values():  # JIT and thread pools warm, once per contender
        path(factory, GUIDE, warm, 1, False)(1)
    for name, (config, make, producers, read) in SHAPES.items():
        progress(f"event path: {name}, {n:,} events x {cfg['values']} values, {', '.join(who)}")
        events = make(n)
        fns = {w: path(f, config, events, producers, read) for w, f in who.items()}
        rows.append((f"event path: {name}", interleave(
            f"events/{name}", fns, cfg["values"], warmups=1, loops={w: 1 for w in fns},
            metadata={"config": "buffer %d, %d workers, batch %d, flush %d ms" % config,
                      "events": n, "producers": producers})))
    progress("steady push_event")
    events = discord_events(n)
    fns = {w: steady_push(f, events) for w, f in who.items()}
    fns["no-op function (loop floor)"] = loop_floor(events)
    rows.append(("steady push_event", interleave(
        "events/steady push_event", fns, cfg["values"], warmups=1, loops={w: 1 for w in fns},
        metadata={"events": n})))
    return rows
