"""The guide's DRF endpoints, wired under /api/: exact JSON for a known state."""
import datetime as dt

import pytest
from example_support import run
from django.contrib.auth import get_user_model

from cogs.event_logger import EventLogger
from core.models import User
from discord_sim import Member, Message, TextChannel

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_750_000_000  # a fixed "now" for both objects: scores are then exact (no decay)


@pytest.fixture
def state(guide):
    """Five students (one missing from the database), a mentor, and 12 messages in 3 channels."""
    guide.leaderboard.set_time_source(lambda: T0)
    guide.processor.set_time_source(lambda: T0)
    User.objects.bulk_create([
        User(discord_id="111", display_name="Ada", university="ETH", role="student", total_points=0),
        User(discord_id="222", display_name="Grace", university="MIT", role="student", total_points=0),
        User(discord_id="333", display_name="Linus", university="Helsinki", role="student", total_points=0),
        User(discord_id="444", display_name="Mentor Max", university="MIT", role="mentor", total_points=0),
    ])
    for user_id, points in [("111", 120.0), ("222", 340.5), ("333", 120.0), ("999", 50.0)]:
        guide.leaderboard.update_user(user_id=user_id, points=points, timestamp=T0)
    cog = EventLogger()
    chans = {"900": 6, "901": 4, "902": 2}
    authors = ["111", "222", "333", "111", "222", "111"]

    async def drive():
        k = 0
        for channel, count in chans.items():
            for _ in range(count):
                author = Member(id=int(authors[k % len(authors)]), name="x")
                created = dt.datetime.fromtimestamp(T0 - 60 * k, tz=dt.timezone.utc)
                await cog.on_message(Message(author=author, channel=TextChannel(id=int(channel), name=channel),
                                             created_at=created))
                k += 1

    run(drive())
    guide.processor.flush_now()
    return guide


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def test_leaderboard_view(client, state):
    assert get_json(client, "/api/leaderboard/") == [
        {"rank": 1, "discord_id": "222", "score": 340.5, "display_name": "Grace", "university": "MIT"},
        {"rank": 2, "discord_id": "111", "score": 120.0, "display_name": "Ada", "university": "ETH"},
        {"rank": 3, "discord_id": "333", "score": 120.0, "display_name": "Linus", "university": "Helsinki"},
        {"rank": 4, "discord_id": "999", "score": 50.0, "display_name": "Unknown", "university": ""},
    ]
    assert [r["discord_id"] for r in get_json(client, "/api/leaderboard/?limit=2")] == ["222", "111"]
    assert get_json(client, "/api/leaderboard/?limit=0") == []


def test_user_rank(client, state):
    assert get_json(client, "/api/users/333/rank/") == {"rank": 3, "user_id": "333", "score": 120.0, "last_update": T0}
    assert get_json(client, "/api/users/nobody/rank/", status=404) == {"error": "User not found"}


def test_dashboard_stats(client, state):
    assert get_json(client, "/api/dashboard/stats/") == {
        "unique_active_users_last_hour": 3,
        "top_channels": [
            {"channel_id": "900", "message_count": 6},
            {"channel_id": "901", "message_count": 4},
            {"channel_id": "902", "message_count": 2},
        ],
        "total_events_processed": 12,
        "top_contributors": [
            {"rank": 1, "user_id": "222", "score": 340.5, "last_update": T0},
            {"rank": 2, "user_id": "111", "score": 120.0, "last_update": T0},
            {"rank": 3, "user_id": "333", "score": 120.0, "last_update": T0},
            {"rank": 4, "user_id": "999", "score": 50.0, "last_update": T0},
        ],
        "total_ranked_users": 4,
    }


def test_cpp_stats_is_admin_only(client, state):
    assert client.get("/api/cpp-stats/").status_code == 403  # anonymous
    staff_model = get_user_model()  # no passwords: hashing them costs seconds, force_login none
    client.force_login(staff_model.objects.create_user("member"))
    assert client.get("/api/cpp-stats/").status_code == 403  # logged in, not staff
    client.force_login(staff_model.objects.create_user("admin", is_staff=True))
    assert get_json(client, "/api/cpp-stats/") == {
        "event_processor": {"total_processed": 12, "dropped": 0, "drop_rate": 0.0},
        "leaderboard": {"size": 4, "decay_factor": 0.95},
    }
