"""How fast is cpp_event_processor.EventStreamProcessor from a Python loop?

Measures, side by side in one run (medians of --repeat runs):

* ``loop floor``: the same loop calling a no-op function with the same four arguments: what a
  Python loop costs before push_event does anything.
* ``push_event``: amortised cost per event of pushing N events in bursts of 16,000 into the
  guide's 16K buffer with no callback set, including each burst's last hand-off to Java (a
  query at its end); between bursts (not timed) a callback drains the buffer. Bursts keep the
  JVM's live set realistic: a buffer holding all N events would time the garbage collector
  copying them, not push_event.
* ``push -> callback``: events per second from the first push until ``flush_now()`` returned,
  with a no-op callback receiving the batches as lists of dicts.
* ``guide pattern``: the guide's ``on_message``: push, then ``get_unique_users_last_hour()``
  and ``get_top_channels(5)`` after every event (each query is one Java call).
* the same first three for a pure-Python baseline (list + lock + worker thread + batching by
  size and interval, bounded buffer, dicts to the callback; no statistics).

Targets (issue 3): push_event <= 0.5 us/event; push -> callback >= 1M events/s.

Usage: .venv/bin/python benchmarks/bench_processor.py [--events N] [--repeat R]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from cpp_event_processor import EventStreamProcessor  # noqa: E402

TS = 1_700_000_000


def make_events(n: int):
    """Discord-like ids: 18-digit snowflakes, 5000 active users over 40 channels."""
    users = [str(300_000_000_000_000_000 + 7919 * i) for i in range(5000)]
    channels = [str(900_000_000_000_000_000 + 31 * i) for i in range(40)]
    return [(users[(i * 7) % 5000], channels[i % 40]) for i in range(n)]


# ---------------------------------------------------------------- pure-Python baseline

class PyProcessor:
    """The obvious pure-Python design with the same delivery semantics: a bounded buffer
    (buffer_size counts queued and in-callback events), batches of batch_size or after
    flush_interval_ms, dicts to the callback on a worker thread, drops counted."""

    def __init__(self, buffer_size, batch_size, flush_interval_ms):
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.interval = flush_interval_ms / 1000.0
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)
        self.settled = threading.Condition(self.lock)
        self.queue = []
        self.oldest = 0.0
        self.outstanding = 0
        self.dropped = 0
        self.flush_requested = False
        self.callback = None
        self.stop = False
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def push_event(self, event_type, user_id, channel_id, timestamp):
        if not (type(event_type) is str and type(user_id) is str and type(channel_id) is str
                and type(timestamp) is int):
            raise TypeError("bad event")
        with self.lock:
            if self.outstanding >= self.buffer_size:
                self.dropped += 1
                return False
            q = self.queue
            if not q:
                self.oldest = time.monotonic()
            q.append((event_type, user_id, channel_id, timestamp))
            self.outstanding += 1
            if len(q) == self.batch_size or len(q) == 1:
                self.ready.notify()
        return True

    def _work(self):
        while True:
            with self.lock:
                while True:
                    if self.stop:
                        return
                    q = self.queue
                    if q and (len(q) >= self.batch_size or self.flush_requested
                              or time.monotonic() - self.oldest >= self.interval):
                        break
                    wait = None if not q else max(0.0, self.oldest + self.interval - time.monotonic())
                    self.ready.wait(wait)
                batch = q[:self.batch_size]
                del q[:self.batch_size]
                if q:
                    self.oldest = time.monotonic()
            events = [{"type": t, "user_id": u, "channel_id": c, "timestamp": ts} for t, u, c, ts in batch]
            if self.callback is not None:
                self.callback(events)
            with self.lock:
                self.outstanding -= len(batch)
                if self.outstanding == 0:
                    self.flush_requested = False
                    self.settled.notify_all()

    def flush_now(self):
        with self.lock:
            self.flush_requested = True
            self.ready.notify()
            while self.outstanding:
                self.settled.wait()

    def close(self):
        with self.lock:
            self.stop = True
            self.ready.notify()
        self.thread.join()


# ---------------------------------------------------------------- measurements

def loop_floor(events):
    def push_event(event_type, user_id, channel_id, timestamp):
        return True
    c0 = time.thread_time()
    t0 = time.perf_counter()
    for u, c in events:
        push_event("message", u, c, TS)
    return (time.perf_counter() - t0) / len(events), (time.thread_time() - c0) / len(events)


def push_only(factory, events, burst: int = 16_000):
    p = factory(16_384)
    push = p.push_event
    elapsed = 0.0
    cpu = 0.0
    for start in range(0, len(events), burst):
        chunk = events[start:start + burst]
        c0 = time.thread_time()
        t0 = time.perf_counter()
        for u, c in chunk:
            push("message", u, c, TS)
        if isinstance(p, EventStreamProcessor):
            p.total_events_processed()  # the burst's last hand-off to Java counts too
        elapsed += time.perf_counter() - t0
        cpu += time.thread_time() - c0
        # Drain, untimed.
        if isinstance(p, EventStreamProcessor):
            p.set_flush_callback(lambda e: None)
            p.flush_now()
            p.set_flush_callback(None)
        else:
            p.callback = lambda e: None
            p.flush_now()
            p.callback = None
    if isinstance(p, EventStreamProcessor):
        assert p.events_dropped() == 0
        p.set_flush_callback(lambda e: None)
    else:
        assert p.dropped == 0
    p.close()
    return elapsed / len(events), cpu / len(events)


def push_to_callback(factory, events) -> float:
    p = factory(1 << 16)
    seen = [0]

    def callback(batch):
        seen[0] += len(batch)

    if isinstance(p, EventStreamProcessor):
        p.set_flush_callback(callback)
    else:
        p.callback = callback
    push = p.push_event
    c0 = time.process_time()
    t0 = time.perf_counter()
    for u, c in events:
        while not push("message", u, c, TS):  # lossless for the benchmark: retry when full
            time.sleep(0)
    p.flush_now()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert seen[0] == len(events), (seen[0], len(events))
    p.close()
    return len(events) / elapsed, cpu / len(events)


def guide_pattern(events) -> float:
    p = EventStreamProcessor(len(events) + 1024, 4, 500, 1000)
    p.set_flush_callback(lambda e: None)
    push = p.push_event
    t0 = time.perf_counter()
    for u, c in events:
        push("message", u, c, TS)
        p.get_unique_users_last_hour()
        p.get_top_channels(5)
    elapsed = time.perf_counter() - t0
    p.close()
    return elapsed / len(events)


def ours(buffer_size):
    return EventStreamProcessor(buffer_size=buffer_size, num_threads=4, batch_size=500, flush_interval_ms=1000)


def baseline(buffer_size):
    return PyProcessor(buffer_size, 500, 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--guide-events", type=int, default=20_000)
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    events = make_events(args.events)
    guide_events = events[:args.guide_events]

    # Warm up the JVM's JIT and both paths once.
    push_to_callback(ours, events[:100_000])
    push_only(ours, events[:100_000])
    guide_pattern(events[:20_000])
    push_to_callback(baseline, events[:50_000])

    rows = {name: [] for name in ("floor", "floor_cpu", "push", "push_cpu", "push_py", "push_py_cpu",
                                  "cb", "cb_cpu", "cb_py", "cb_py_cpu", "guide")}
    for _ in range(args.repeat):
        for key, value in (("floor", loop_floor(events)), ("push", push_only(ours, events)),
                           ("push_py", push_only(baseline, events)), ("cb", push_to_callback(ours, events)),
                           ("cb_py", push_to_callback(baseline, events))):
            rows[key].append(value[0])
            rows[key + "_cpu"].append(value[1])
        rows["guide"].append(guide_pattern(guide_events))
    med = {k: statistics.median(v) for k, v in rows.items()}
    ns = lambda k: f"{med[k] * 1e9:.0f}"  # noqa: E731

    print(f"{args.events} events, median of {args.repeat} runs, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (before the run: {load_before:.2f})")
    print()
    print("| measure | streamrank | pure Python | target |")
    print("| --- | --- | --- | --- |")
    print(f"| loop floor (no-op call), ns/event (wall / thread CPU) | {ns('floor')} / {ns('floor_cpu')} | | |")
    print(f"| push_event amortised, ns/event (wall) | {ns('push')} | {ns('push_py')} | <= 500 |")
    print(f"| push_event amortised, ns/event (pushing thread's CPU) | {ns('push_cpu')} | {ns('push_py_cpu')} | |")
    print(f"| push -> callback (dicts, no-op), events/s (wall) | {med['cb'] / 1e6:.2f} M | {med['cb_py'] / 1e6:.2f} M | >= 1 M |")
    print(f"| push -> callback, CPU ns/event (all threads, Python + Java) | {ns('cb_cpu')} | {ns('cb_py_cpu')} | |")
    print(f"| guide on_message: push + 2 queries, us/event (wall) | {med['guide'] * 1e6:.1f} | | |")
    print()
    print("all runs:", {k: [round(x * 1e9) if k not in ("cb", "cb_py") else round(x) for x in v]
                        for k, v in rows.items()})


if __name__ == "__main__":
    main()
