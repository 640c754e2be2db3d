#!/usr/bin/env python
"""./build.sh demo: a live Discord-style engagement dashboard on the guide's code.

Migrates the example's SQLite database, seeds a community (thousands of members, a few
universities, tens of channels), restores the leaderboard (snapshot, else database), starts
Django's server on 127.0.0.1:8000 (--port or PORT), and runs a simulated, bursty bot through the
guide's code path: on_message -> processor -> flush_events_to_db (bulk_create on the worker
threads), points -> update_user_points_in_backend -> database + leaderboard.

Ctrl-C (or SIGTERM, or --duration) stops it: the guide's shutdown() (flush_now), a leaderboard
backup, and one summary line of what was persisted. Exit status 1 if any accepted event is
missing from the database.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: on Ctrl-C)")
    parser.add_argument("--users", type=int, default=4000, help="members to seed into an empty database")
    parser.add_argument("--rate", type=float, default=60.0, help="average messages per second outside bursts")
    parser.add_argument("--fresh", action="store_true", help="start from an empty database and no snapshot")
    return parser.parse_args()



def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django
    from django.conf import settings

    data = Path(settings.BASE_DIR) / "data"
    data.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "leaderboard_backup.json"):
            (data / name).unlink(missing_ok=True)
    django.setup()
    # The guide's flush_events_to_db stores naive datetimes; Django warns once per distinct
    # timestamp (every second here). The stored instants are right (see README.md).
    warnings.filterwarnings("ignore", message=r"DateTimeField .* received a naive datetime", category=RuntimeWarning)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    say = lambda text: print(text, flush=True)  # noqa: E731
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from dashboard.seed import seed_community

    community = seed_community(args.users)
    staff = get_user_model()
    if not staff.objects.filter(username="demo").exists():
        staff.objects.create_superuser("demo", "demo@example.invalid", "demo")
    from core.models import DiscordEventLog

    rows_before = DiscordEventLog.objects.count()
    snapshot = data / "leaderboard_backup.json"
    restored_from = f"snapshot {snapshot.name}" if snapshot.exists() else "the database"

    # The guide's start-up (section 4): wsgi.py imports the objects and calls restore_leaderboard().
    from backend.wsgi import application
    from core import cpp_integration as ci
    from dashboard.metrics import FlushMeter, Sampler, install

    logging.getLogger("django.server").setLevel(logging.WARNING)  # no line per poll (after setup)

    meter = FlushMeter()
    ci.processor.set_flush_callback(meter.wrap(ci.flush_events_to_db))  # timed, unchanged
    sampler = install(Sampler(meter).start())

    import bot as bot_module
    from traffic import BurstyTraffic

    traffic = BurstyTraffic(bot_module.bot, sampler=sampler, base_rate=args.rate)
    loop = asyncio.new_event_loop()
    stop_traffic = asyncio.Event()

    async def bot_main():
        try:
            return await traffic.run(stop_traffic)
        finally:
            await bot_module.shutdown()  # the guide's graceful shutdown: flush_now() + close
            from asgiref.sync import sync_to_async
            from django.db import connections

            await sync_to_async(connections.close_all)()

    bot_result: dict = {}

    def bot_thread():
        try:
            bot_result["stats"] = loop.run_until_complete(bot_main())
        except BaseException as exc:  # reported at shutdown
            bot_result["error"] = exc

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    try:
        httpd = ThreadedWSGIServer((args.host, args.port), WSGIRequestHandler)
    except OSError as exc:
        say(f"demo: cannot listen on {args.host}:{args.port}: {exc.strerror}. Use --port or PORT=...")
        return 2
    httpd.daemon_threads = True
    httpd.set_app(StaticFilesHandler(application))
    server = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True)
    bots = threading.Thread(target=bot_thread, name="bot", daemon=True)
    server.start()
    bots.start()

    url = f"http://{args.host}:{args.port}/"
    say(f"streamrank demo ready in {time.perf_counter() - started:.1f} s: {community.users} members, "
        f"{community.channels} channels in {settings.DATABASES['default']['NAME']}")
    say(f"  leaderboard restored from {restored_from}: {ci.leaderboard.size()} ranked users")
    say(f"  dashboard  {url}")
    say(f"  guide API  {url}api/dashboard/stats/  {url}api/leaderboard/?limit=10  "
        f"{url}api/users/<discord_id>/rank/  {url}api/cpp-stats/ (admin: log in at {url}admin/ as demo/demo)")
    say("  Ctrl-C stops: flush, leaderboard backup, summary")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    try:
        while bots.is_alive() and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the flush short
    say("\ndemo: stopping: bot shutdown (flush_now), leaderboard backup...")

    loop.call_soon_threadsafe(stop_traffic.set)
    bots.join(timeout=120)
    ci.processor.flush_now()
    httpd.shutdown()
    ci.backup_leaderboard()
    sampler.stop()

    stats = bot_result.get("stats")
    accepted = ci.processor.total_events_processed()
    dropped = ci.processor.events_dropped()
    persisted = DiscordEventLog.objects.count() - rows_before
    ok = persisted == accepted and "error" not in bot_result
    messages = stats.messages if stats else 0
    reactions = stats.reactions if stats else 0
    awards = stats.awards if stats else 0
    say(f"demo: persisted {persisted} of {accepted} accepted events ({messages} messages, {reactions} reactions; "
        f"{dropped} dropped) in {meter.batches} batches, {awards} points awards, leaderboard of "
        f"{ci.leaderboard.size()} users backed up to {snapshot}"
        + ("" if ok else f"  MISMATCH{': ' + repr(bot_result['error']) if 'error' in bot_result else ''}"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
