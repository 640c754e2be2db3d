"""The guide's code path end to end on the configured database (SQLite here; PostgreSQL through
test_postgres.py): the cog's on_message -> processor -> flush_events_to_db (bulk_create on the
worker threads) -> DiscordEventLog rows; points -> database + leaderboard; backup/restore."""
import datetime as dt
import threading
import warnings
from collections import Counter

import pytest
from example_support import run
from django.utils import timezone

from cogs.event_logger import EventLogger
from cogs.points import update_user_points_in_backend
from core.models import DiscordEventLog, User
from discord_sim import Member, Message, Reaction, TextChannel

pytestmark = pytest.mark.django_db(transaction=True)

T0 = int(dt.datetime(2025, 3, 14, 15, 9, 26, tzinfo=dt.timezone.utc).timestamp())


def make_messages(n, users=37, channels=7, bots_every=0):
    """n messages spread over users/channels, one second apart; every ``bots_every``-th is a bot's."""
    members = [Member(id=100000 + u, name=f"user{u}") for u in range(users)]
    bot = Member(id=999, name="helper-bot", bot=True)
    chans = [TextChannel(id=5000 + c, name=f"chan{c}") for c in range(channels)]
    out = []
    for i in range(n):
        author = bot if bots_every and i % bots_every == 0 else members[(i * 7) % users]
        created = dt.datetime.fromtimestamp(T0 + i, tz=dt.timezone.utc)
        out.append(Message(author=author, channel=chans[i % channels], content=f"hello {i}", created_at=created))
    return out


def row_keys():
    return Counter(DiscordEventLog.objects.values_list("event_type", "user_id", "channel_id", "timestamp"))


def test_every_message_pushed_is_one_row(guide):
    calls, lock = [], threading.Lock()
    flush = guide.integration.flush_events_to_db

    def recording(events):  # the guide's callback, watched: which thread, how many events
        with lock:
            calls.append((threading.current_thread(), len(events)))
        flush(events)

    guide.processor.set_flush_callback(recording)
    cog = EventLogger()
    messages = make_messages(2345, bots_every=50)

    async def drive():
        for message in messages:
            await cog.on_message(message)

    run(drive())
    guide.processor.flush_now()

    human = [m for m in messages if not m.author.bot]
    assert len(human) == 2345 - 47
    assert guide.processor.total_events_processed() == len(human)
    assert guide.processor.events_dropped() == 0
    assert DiscordEventLog.objects.count() == len(human)
    expected = Counter(("message", str(m.author.id), str(m.channel.id), m.created_at) for m in human)
    assert row_keys() == expected  # same events, same instants (UTC), no duplicates
    assert sum(n for _, n in calls) == len(human)
    assert all(n <= 500 for _, n in calls)
    assert all(thread is not threading.main_thread() for thread, _ in calls)
    assert all(m == {"raw": True} for m in DiscordEventLog.objects.values_list("metadata", flat=True).distinct())


def test_reactions_and_messages_both_land(guide):
    cog = EventLogger()
    messages = make_messages(40)
    reactor = Member(id=4242, name="reactor")

    async def drive():
        for m in messages:
            await cog.on_message(m)
            await cog.on_reaction_add(Reaction(message=m), reactor)
            await cog.on_reaction_add(Reaction(message=m), Member(id=1, name="bot", bot=True))

    run(drive())
    guide.processor.flush_now()
    assert DiscordEventLog.objects.filter(event_type="message").count() == 40
    assert DiscordEventLog.objects.filter(event_type="reaction", user_id="4242").count() == 40
    assert DiscordEventLog.objects.count() == guide.processor.total_events_processed() == 80


def test_naive_timestamp_warns_but_stores_the_right_instant():
    """The guide's ``timezone.datetime.fromtimestamp(ts)`` is naive. With USE_TZ = True Django
    warns (RuntimeWarning) and reads it in settings.TIME_ZONE, which Django also made the process's
    local zone (it sets TZ on Unix), so the stored instant is right. See README.md."""
    from core.cpp_integration import flush_events_to_db

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flush_events_to_db([{"type": "message", "user_id": "u1", "channel_id": "c1", "timestamp": T0}])
    assert any(issubclass(w.category, RuntimeWarning) and "naive datetime" in str(w.message) for w in caught)
    stored = DiscordEventLog.objects.get(user_id="u1").timestamp
    assert stored == dt.datetime.fromtimestamp(T0, tz=dt.timezone.utc)


def seed_users(spec):
    """spec: [(discord_id, points, role, updated_at epoch)]."""
    User.objects.bulk_create([
        User(discord_id=d, display_name=f"Name {d}", university=f"Uni {len(d) % 3}", role=role,
             total_points=p, updated_at=dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc))
        for d, p, role, ts in spec
    ])


def db_order(now, decay=0.95):
    """The ranking the database says: students with points, by decayed score, then discord_id."""
    rows = User.objects.filter(role="student", total_points__gt=0).values_list("discord_id", "total_points", "updated_at")
    scored = [(d, p * decay ** ((now - int(u.timestamp())) / 86400)) for d, p, u in rows]
    return sorted(scored, key=lambda r: (-r[1], r[0]))


def test_ranks_equal_database_order_same_day(guide):
    seed_users([(f"{i:06d}", (i * 37) % 101, "mentor" if i % 10 == 0 else "student", T0) for i in range(400)])
    guide.leaderboard.set_time_source(lambda: T0)
    guide.integration.load_leaderboard_from_db()
    expected = list(User.objects.filter(role="student", total_points__gt=0)
                    .order_by("-total_points", "discord_id").values_list("discord_id", "total_points"))
    top = guide.leaderboard.get_top_users(1000)
    assert [(e["user_id"], e["score"]) for e in top] == [(d, float(p)) for d, p in expected]
    assert [e["rank"] for e in top] == list(range(1, len(expected) + 1))
    assert guide.leaderboard.size() == len(expected)
    some = expected[17][0]
    assert guide.leaderboard.get_user_rank(some)["rank"] == 18
    assert guide.leaderboard.get_user_rank("000010") is None  # a mentor: not loaded


def test_ranks_equal_database_order_with_decay(guide):
    seed_users([(f"u{i:04d}", 10 + (i * 53) % 997, "student", T0 - (i * 7919) % (30 * 86400)) for i in range(500)])
    guide.leaderboard.set_time_source(lambda: T0)
    guide.integration.load_leaderboard_from_db()
    expected = db_order(T0)
    top = guide.leaderboard.get_top_users(500)
    assert [e["user_id"] for e in top] == [d for d, _ in expected]
    for entry, (_, score) in zip(top, expected):
        assert entry["score"] == pytest.approx(score, rel=1e-9)


def test_points_update_database_and_leaderboard(guide):
    seed_users([("alice", 0, "student", T0), ("bob", 0, "student", T0), ("carol", 0, "student", T0)])

    async def award():
        await update_user_points_in_backend("alice", 30, "helpful_answer")
        await update_user_points_in_backend("bob", 50, "event_host")
        await update_user_points_in_backend("alice", 25, "message")
        await update_user_points_in_backend("ghost", 99, "message")  # not in the database

    run(award())
    assert dict(User.objects.values_list("discord_id", "total_points")) == {"alice": 55, "bob": 50, "carol": 0}
    assert User.objects.get(discord_id="alice").updated_at > dt.datetime.fromtimestamp(T0, tz=dt.timezone.utc)
    top = guide.leaderboard.get_top_users(10)
    assert [e["user_id"] for e in top] == ["alice", "bob"]
    assert top[0]["score"] == pytest.approx(55.0, rel=1e-6)
    assert guide.leaderboard.get_user_rank("ghost") is None


def test_backup_then_restore(guide, monkeypatch, tmp_path):
    from cpp_leaderboard import Leaderboard

    path = tmp_path / "leaderboard_backup.json"
    monkeypatch.setattr(guide.integration, "LEADERBOARD_BACKUP_PATH", str(path))
    seed_users([(f"s{i}", i + 1, "student", T0) for i in range(50)])
    guide.leaderboard.set_time_source(lambda: T0)
    guide.integration.restore_leaderboard()  # no backup yet: loads from the database
    assert guide.leaderboard.size() == 50
    guide.integration.backup_leaderboard()
    assert path.is_file()
    before = guide.leaderboard.get_top_users(50)

    fresh = Leaderboard(decay_factor=0.95, max_users=100000)
    fresh.set_time_source(lambda: T0)
    monkeypatch.setattr(guide.integration, "leaderboard", fresh)
    User.objects.all().delete()  # the backup alone must be enough now
    guide.integration.restore_leaderboard()
    assert fresh.get_top_users(50) == before


def test_default_backup_path_is_under_base_dir():
    from django.conf import settings

    from core.cpp_integration import LEADERBOARD_BACKUP_PATH

    assert LEADERBOARD_BACKUP_PATH == str(settings.BASE_DIR / "data" / "leaderboard_backup.json")


def test_graceful_shutdown_flushes_everything(guide):
    import bot as bot_module

    cog = EventLogger()
    messages = make_messages(777)

    async def drive_then_shutdown():
        for m in messages:
            await cog.on_message(m)
        await bot_module.shutdown()

    run(drive_then_shutdown())
    assert bot_module.bot.is_closed()
    assert DiscordEventLog.objects.count() == 777  # flush_now() returned: everything is in


def test_timestamps_are_timezone_aware_in_the_database(guide):
    cog = EventLogger()
    run(cog.on_message(make_messages(1)[0]))
    guide.processor.flush_now()
    stored = DiscordEventLog.objects.get()
    assert timezone.is_aware(stored.timestamp)
    assert stored.timestamp == dt.datetime.fromtimestamp(T0, tz=dt.timezone.utc)


def test_database_error_in_a_batch_is_retried_without_loss_or_duplicates(guide, monkeypatch):
    """The first two bulk_create calls fail like a dropped connection would; the processor retries
    those batches (transaction.atomic rolled each failed attempt back): every event lands once."""
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    failures = {"left": 2}
    lock = threading.Lock()
    real_bulk_create = QuerySet.bulk_create

    def flaky(self, *args, **kwargs):
        with lock:
            fail = failures["left"] > 0
            failures["left"] -= fail
        if fail:
            raise OperationalError("server closed the connection unexpectedly (injected)")
        return real_bulk_create(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", flaky)
    cog = EventLogger()
    messages = make_messages(1500)

    async def drive():
        for m in messages:
            await cog.on_message(m)

    run(drive())
    guide.processor.flush_now()
    assert failures["left"] == 0
    assert DiscordEventLog.objects.count() == 1500
    assert row_keys() == Counter(("message", str(m.author.id), str(m.channel.id), m.created_at) for m in messages)


def test_connections_killed_by_the_server_are_replaced(guide, monkeypatch):
    """PostgreSQL drops the worker threads' persistent connections between batches (a restart,
    an idle timeout). The next batch fails once on the dead connection, the processor's
    close_old_connections() around the retry drops it, and the retry reconnects: nothing lost."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs a server that can terminate connections (runs in the PostgreSQL pass)")
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", None)  # keep them open
    cog = EventLogger()
    first, second = make_messages(600), make_messages(600)

    async def drive(batch):
        for m in batch:
            await cog.on_message(m)

    run(drive(first))
    guide.processor.flush_now()

    def kill_others():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            return len(cursor.fetchall())

    assert kill_others() >= 1
    run(drive(second))
    guide.processor.flush_now()
    assert DiscordEventLog.objects.count() == 1200
    kill_others()  # the persistent ones left behind, so the test database can be dropped
