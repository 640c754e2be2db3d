"""Event ingestion from a Python loop into a Django database, side by side in one process:

* before (create):  the guide's "before", one ``DiscordEventLog.objects.create`` per event
                    (autocommit: one INSERT and one transaction per event);
* before (acreate): the guide's exact code, ``await DiscordEventLog.objects.acreate(...)``;
* streamrank:       ``EventStreamProcessor.push_event`` with the guide's ``flush_events_to_db``
                    (``transaction.atomic()`` + ``bulk_create``) as the flush callback, with the
                    guide's 4 worker threads and again with 1;
* pure Python:      the plain-Python pipeline of ``baselines/pipeline.py`` (SimpleQueue + one
                    worker thread) with the same callback.

The callback is the example project's ``flush_events_to_db``
(``examples/discord_django/core/cpp_integration.py``, the guide's code as written).

Figures: events/s *accepted* (the producer loop's rate: what the bot's event handler sees) and
events/s *persisted* (from the first push until every row is committed, checked by counting the
rows). Also INSERT statements and connections per 10,000 events (the guide's "database load").

    python benchmarks/bench_ingest.py --db sqlite [--events 200000 --before-events 2000 --repeats 5]
    python benchmarks/bench_ingest.py --db pg --pg-port 5432   # a server with user 'bench'
Prints progress to stderr and, with --json, one JSON object on stdout's last line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _timing import progress  # noqa: E402

CONFIG = dict(buffer_size=16384, num_threads=4, batch_size=500, flush_interval_ms=1000)  # the guide's


class Counters:
    """INSERT statements and new connections, on every thread (Django's execute_wrapper is per
    connection, so it is attached to each connection as it is created)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inserts = 0
        self.connections = 0

    def wrapper(self, execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() == "INSERT":
            with self.lock:
                self.inserts += 1
        return execute(sql, params, many, context)

    def on_connect(self, sender, connection, **kw):
        with self.lock:
            self.connections += 1
        if self.wrapper not in connection.execute_wrappers:  # the wrapper object outlives reconnects
            connection.execute_wrappers.append(self.wrapper)

    def snapshot(self):
        with self.lock:
            return self.inserts, self.connections


def guide_flush_callback():
    """The guide's ``flush_events_to_db``, as the example project ships it (importing the module
    also creates the guide's module-level processor and leaderboard; they stay idle)."""
    from core.cpp_integration import flush_events_to_db
    return flush_events_to_db


def make_events(n: int, now: int):
    """(user_id, channel_id, message_id) for n messages from 5,000 users in 40 channels."""
    base = 100_000_000_000_000_000
    return [(str(base + (i * 7919) % 5000), str(base + 77 + i % 40), str(base + 10**9 + i), now)
            for i in range(n)]


def run_before_create(Log, events) -> float:
    create = Log.objects.create
    t0 = time.perf_counter()
    for user_id, channel_id, message_id, _ in events:
        create(event_type='message', user_id=user_id, channel_id=channel_id,
               message_id=message_id, metadata={'content': 'hello world'})
    return time.perf_counter() - t0


def run_before_acreate(Log, events) -> float:
    async def on_messages():
        for user_id, channel_id, message_id, _ in events:
            await Log.objects.acreate(event_type='message', user_id=user_id, channel_id=channel_id,
                                      message_id=message_id, metadata={'content': 'hello world'})

    t0 = time.perf_counter()
    asyncio.run(on_messages())
    return time.perf_counter() - t0


def run_pipeline(make, callback, events):
    """Push every event from this thread, then wait until all are delivered.
    Returns (seconds to push, seconds until persisted, accepted)."""
    proc = make()
    try:
        proc.set_flush_callback(callback)
        push = proc.push_event
        accepted = 0
        t0 = time.perf_counter()
        for user_id, channel_id, _message_id, ts in events:
            if push("message", user_id, channel_id, ts):
                accepted += 1
        t1 = time.perf_counter()
        proc.flush_now()
        t2 = time.perf_counter()
    finally:
        proc.close()
    return t1 - t0, t2 - t0, accepted


def pipelines():
    """name -> factory of a processor with the guide's configuration (buffer sized by caller)."""
    out = {}
    try:
        import cpp_event_processor
        cpp_event_processor.EventStreamProcessor(**CONFIG).close()
        out["ours"] = cpp_event_processor.EventStreamProcessor

        def ours_one_thread(buffer_size, num_threads, batch_size, flush_interval_ms):
            # One callback thread, as the pure-Python pipeline has: fewer threads taking the GIL
            # from the pushing loop.
            return cpp_event_processor.EventStreamProcessor(buffer_size, 1, batch_size, flush_interval_ms)

        out["ours_1t"] = ours_one_thread
    except Exception as exc:  # placeholder facade before the processor lands
        progress(f"streamrank processor unavailable: {exc}")
    from baselines.pipeline import PyPipeline
    out["pure_python"] = PyPipeline  # one worker thread by design; num_threads does not apply
    return out


def measure(db: str, pg_port: int | None, events_n: int, before_n: int, repeats: int) -> dict:
    sys.path.insert(0, os.path.join(HERE, "baselines"))
    from baselines.django_env import configure, create_tables
    tmp = tempfile.mkdtemp(prefix="bench-ingest-")
    pg = None
    if db == "pg":
        pg = {"HOST": "127.0.0.1", "PORT": str(pg_port), "USER": "bench", "NAME": "postgres", "PASSWORD": ""}
    models = configure(os.path.join(tmp, "db.sqlite3"), pg, default=db)
    Log = models["DiscordEventLog"]
    from django.db import connection, connections
    from django.db.backends.signals import connection_created
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # naive datetimes, as in the guide

    create_tables("default", Log)
    counters = Counters()
    connection_created.connect(counters.on_connect)
    connection.close()

    def reset():
        Log.objects.all().delete()
        connections.close_all()

    def count_rows():
        return Log.objects.count()

    now = int(time.time())
    big = make_events(events_n, now)
    small = make_events(before_n, now)
    guide_callback = guide_flush_callback()
    batches = [0]
    batches_lock = threading.Lock()

    def callback(events):  # the guide's callback, counted: one transaction per call
        with batches_lock:
            batches[0] += 1
        guide_callback(events)
    factories = pipelines()
    buffer = 1 << max(14, (events_n - 1).bit_length())  # every event fits: a burst, not a drop test
    results = {"db": db, "events": events_n, "before_events": before_n, "buffer_size": buffer,
               "config": dict(CONFIG, buffer_size=buffer), "rows": {}}

    def record(name, push_s, persist_s, accepted, n, inserts, conns, transactions):
        row = results["rows"].setdefault(name, {"accepted_per_s": [], "persisted_per_s": [], "accepted": [],
                                                "inserts_per_10k": [], "transactions_per_10k": [],
                                                "connections": []})
        row["transactions_per_10k"].append(transactions * 10000 / n)
        row["accepted_per_s"].append(accepted / push_s)
        row["persisted_per_s"].append(accepted / persist_s)
        row["accepted"].append(accepted / n)
        row["inserts_per_10k"].append(inserts * 10000 / n)
        row["connections"].append(conns)

    for r in range(repeats):
        progress(f"ingestion {db}: repeat {r + 1}/{repeats}")
        # The guide's "before", both spellings.
        for name, fn in (("before_create", run_before_create), ("before_acreate", run_before_acreate)):
            reset()
            i0, c0 = counters.snapshot()
            seconds = fn(Log, small)
            i1, c1 = counters.snapshot()
            assert count_rows() == before_n
            record(name, seconds, seconds, before_n, before_n, i1 - i0, c1 - c0, before_n)  # autocommit
        names = list(factories)
        names = names[r % len(names):] + names[:r % len(names)] if names else names  # rotate the order
        for name in names:
            cls = factories[name]
            reset()
            i0, c0 = counters.snapshot()
            batches[0] = 0
            push_s, persist_s, accepted = run_pipeline(
                lambda: cls(buffer_size=buffer, num_threads=CONFIG["num_threads"],
                            batch_size=CONFIG["batch_size"], flush_interval_ms=CONFIG["flush_interval_ms"]),
                callback, big)
            i1, c1 = counters.snapshot()
            rows = count_rows()
            assert rows == accepted, (name, rows, accepted)
            record(name, push_s, persist_s, accepted, events_n, i1 - i0, c1 - c0, batches[0])
    reset()
    connections.close_all()
    shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file
    if db == "sqlite":
        results["sqlite_journal"] = "delete (Django default), synchronous=FULL"
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    ap.add_argument("--pg-port", type=int)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--before-events", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the results as JSON on the last line")
    args = ap.parse_args(argv)
    if args.db == "pg" and not args.pg_port:
        ap.error("--db pg needs --pg-port")
    res = measure(args.db, args.pg_port, args.events, args.before_events, args.repeats)
    if args.json:
        print(json.dumps(res))
    else:
        import statistics
        for name, row in res["rows"].items():
            print(f"{name:16} accepted {statistics.median(row['accepted_per_s']):>12,.0f}/s  "
                  f"persisted {statistics.median(row['persisted_per_s']):>12,.0f}/s  "
                  f"INSERTs per 10K events {statistics.median(row['inserts_per_10k']):,.0f}  "
                  f"transactions per 10K events {statistics.median(row['transactions_per_10k']):,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
