"""The management commands' code. Django finds commands in installed apps, so the command
modules live in the apps the guide installs: ``cpp_leaderboard`` (leaderboard_backup,
leaderboard_restore) and ``cpp_event_processor`` (streamrank_stats); each just imports its class
from here.

A management command runs in its own process: it cannot reach the leaderboard inside a running
server. So ``leaderboard_backup`` builds the board from the source of truth (the database, through
``STREAMRANK['LEADERBOARD_LOADER']``) and writes the snapshot servers restore at start-up;
``leaderboard_restore`` checks a snapshot, shows what it holds, and installs it as that snapshot.
"""
from __future__ import annotations

import json
import os
import time

from django.core.management.base import BaseCommand, CommandError

from . import import_callable, streamrank_settings


def _board(conf):
    import cpp_leaderboard

    return cpp_leaderboard.Leaderboard(**conf["LEADERBOARD"])


def _target(conf, given):
    path = given or conf["LEADERBOARD_BACKUP_PATH"]
    if not path:
        raise CommandError("no snapshot path: pass --path or set settings.STREAMRANK['LEADERBOARD_BACKUP_PATH']")
    return str(path)


def _show_top(stdout, board, n):
    for entry in board.get_top_users(n):
        stdout.write(f"  #{entry['rank']:<4} {entry['user_id']:<24} {entry['score']:.2f}")


class BackupCommand(BaseCommand):
    help = ("Rebuild the leaderboard from the database (STREAMRANK['LEADERBOARD_LOADER']) and "
            "save it, atomically, as the snapshot servers restore at start-up.")

    def add_arguments(self, parser):
        parser.add_argument("--path", help="where to write (default: STREAMRANK['LEADERBOARD_BACKUP_PATH'])")
        parser.add_argument("--top", type=int, default=0, help="also print the top N users")

    def handle(self, *args, **options):
        conf = streamrank_settings()
        path = _target(conf, options["path"])
        loader = import_callable(conf["LEADERBOARD_LOADER"], "LEADERBOARD_LOADER")
        if loader is None:
            raise CommandError("settings.STREAMRANK['LEADERBOARD_LOADER'] is not set: nothing to build "
                               "the leaderboard from (a dotted path to fn(board))")
        board = _board(conf)
        started = time.perf_counter()
        loader(board)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise CommandError(f"folder {folder} does not exist")
        try:
            board.save_to_json(path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        self.stdout.write(f"Saved {board.size()} users to {path} "
                          f"in {time.perf_counter() - started:.2f} s")
        _show_top(self.stdout, board, options["top"])


class RestoreCommand(BaseCommand):
    help = ("Check a leaderboard snapshot and show what it holds; with --path, install it as "
            "STREAMRANK['LEADERBOARD_BACKUP_PATH'] (servers restore it at their next start).")

    def add_arguments(self, parser):
        parser.add_argument("--path", help="snapshot to restore (default: the configured one)")
        parser.add_argument("--top", type=int, default=10, help="print the top N users (default 10)")
        parser.add_argument("--dry-run", action="store_true", help="check and show only; install nothing")

    def handle(self, *args, **options):
        conf = streamrank_settings()
        configured = conf["LEADERBOARD_BACKUP_PATH"]
        source = _target(conf, options["path"])
        board = _board(conf)
        try:
            board.load_from_json(source)
        except FileNotFoundError:
            raise CommandError(f"no snapshot at {source}") from None
        except ValueError as exc:
            raise CommandError(f"invalid snapshot: {exc}") from None
        self.stdout.write(f"Restored {board.size()} users from {source}")
        _show_top(self.stdout, board, options["top"])
        if options["dry_run"] or not configured:
            return
        if os.path.abspath(source) != os.path.abspath(str(configured)):
            board.save_to_json(str(configured))
            self.stdout.write(f"Installed as {configured}")


class StatsCommand(BaseCommand):
    help = "streamrank's Java runtime, core jar, settings and snapshot, as text or --json."

    requires_system_checks: list = []  # it reports what the check would, with more detail

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        from streamrank import __version__, _jvm

        from . import _leaderboard, _processor

        conf = streamrank_settings()
        report: dict = {"streamrank": __version__, "pid": os.getpid()}
        try:
            report["jar"] = str(_jvm.jar_path())
            report["java_version"] = _jvm.java_version()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        report["settings"] = {k: (str(v) if k == "LEADERBOARD_BACKUP_PATH" and v else v)
                              for k, v in conf.items()}
        path = conf["LEADERBOARD_BACKUP_PATH"]
        snapshot = {"path": str(path) if path else None, "exists": bool(path and os.path.exists(path))}
        if snapshot["exists"]:
            board = _board(conf)
            board.load_from_json(str(path))
            snapshot.update(users=board.size(), age_s=round(time.time() - os.path.getmtime(path), 1),
                            top=board.get_top_users(5))
        report["snapshot"] = snapshot
        proc = _processor.peek()
        if proc is not None:  # only when this process made one (e.g. call_command from a server)
            report["processor"] = {
                "total_processed": proc.total_events_processed(), "dropped": proc.events_dropped(),
                "unique_users_last_hour": proc.get_unique_users_last_hour(),
                "top_channels": proc.get_top_channels(5),
            }
        board = _leaderboard.peek()
        if board is not None:
            report["leaderboard"] = {"size": board.size(), "top": board.get_top_users(5)}
        if options["json"]:
            self.stdout.write(json.dumps(report, default=str))
            return
        self.stdout.write(f"streamrank {report['streamrank']} (pid {report['pid']}), Java {report['java_version']}")
        self.stdout.write(f"core jar: {report['jar']}")
        self.stdout.write(f"processor: {conf['PROCESSOR']}, flush callback {conf['FLUSH_CALLBACK']}")
        self.stdout.write(f"leaderboard: {conf['LEADERBOARD']}")
        if snapshot["exists"]:
            self.stdout.write(f"snapshot: {snapshot['path']}: {snapshot['users']} users, "
                              f"saved {snapshot['age_s']:.0f} s ago")
            for entry in snapshot["top"]:
                self.stdout.write(f"  #{entry['rank']:<4} {entry['user_id']:<24} {entry['score']:.2f}")
        else:
            self.stdout.write(f"snapshot: none ({snapshot['path'] or 'LEADERBOARD_BACKUP_PATH not set'})")
