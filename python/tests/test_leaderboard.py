"""cpp_leaderboard.Leaderboard: the guide's API, its snippets as written, bad input, persistence,
threads and fork."""
import datetime as dt
import json
import math
import os
import pickle
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import run_python

import cpp_leaderboard
from cpp_leaderboard import Leaderboard
from cpp_leaderboard import leaderboard as lb_module

T0 = 1_700_000_000
DAY = 86_400


class Clock:
    """A settable time source."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def board(clock):
    lb = Leaderboard(decay_factor=0.5, max_users=0)
    lb.set_time_source(clock)
    return lb


def ids(entries):
    return [e["user_id"] for e in entries]


# ----------------------------------------------------------------------------- the guide


def test_guide_section_2_startup_views_updates_and_backup(tmp_path, clock):
    """Section 2 of DJANGO_INTEGRATION.md, with the ORM replaced by plain rows."""
    leaderboard = cpp_leaderboard.Leaderboard(
        decay_factor=0.95,  # 5% daily decay
        max_users=100000
    )
    leaderboard.set_time_source(clock)
    rows = [
        {"discord_id": "111111111111111111", "total_points": 120, "updated_at": dt.datetime.fromtimestamp(T0 - DAY, dt.timezone.utc)},
        {"discord_id": "222222222222222222", "total_points": 300, "updated_at": dt.datetime.fromtimestamp(T0, dt.timezone.utc)},
        {"discord_id": "333333333333333333", "total_points": 0, "updated_at": dt.datetime.fromtimestamp(T0, dt.timezone.utc)},
    ]
    profiles = {"111111111111111111": {"discord_id": "111111111111111111", "display_name": "Ada", "university": "ETH"}}

    def load_leaderboard_from_db():
        users = rows
        for user in users:
            timestamp = int(user['updated_at'].timestamp())
            leaderboard.update_user(
                user_id=user['discord_id'],
                points=float(user['total_points']),
                timestamp=timestamp
            )
        return f"Loaded {leaderboard.size()} users into leaderboard"

    assert load_leaderboard_from_db() == "Loaded 2 users into leaderboard"  # zero points adds nobody

    def leaderboard_view(request_get):
        limit = int(request_get.get('limit', 10))
        top_users = leaderboard.get_top_users(limit)
        discord_ids = [u['user_id'] for u in top_users]
        user_map = {u['discord_id']: u for u in profiles.values() if u['discord_id'] in discord_ids}
        results = []
        for entry in top_users:
            user_data = user_map.get(entry['user_id'], {})
            results.append({
                'rank': entry['rank'],
                'discord_id': entry['user_id'],
                'score': entry['score'],
                'display_name': user_data.get('display_name', 'Unknown'),
                'university': user_data.get('university', ''),
            })
        return results

    results = leaderboard_view({})
    assert results == [
        {"rank": 1, "discord_id": "222222222222222222", "score": 300.0, "display_name": "Unknown", "university": ""},
        {"rank": 2, "discord_id": "111111111111111111", "score": pytest.approx(114.0), "display_name": "Ada", "university": "ETH"},
    ]
    assert json.loads(json.dumps(results)) == results
    assert leaderboard_view({"limit": "1"})[0]["rank"] == 1

    def user_rank(discord_id):
        rank_info = leaderboard.get_user_rank(discord_id)
        if rank_info is None:
            return {'error': 'User not found'}, 404
        return rank_info, 200

    assert user_rank("999") == ({'error': 'User not found'}, 404)
    info, status = user_rank("111111111111111111")
    assert status == 200
    assert info == {"rank": 2, "user_id": "111111111111111111", "score": pytest.approx(114.0), "last_update": T0 - DAY}

    def update_user_points_in_backend(discord_id: str, points: int, action: str):
        success = True
        if success:
            timestamp = int(time.time())
            leaderboard.update_user(
                user_id=discord_id,
                points=float(points),
                timestamp=timestamp
            )

    clock.now = int(time.time())
    update_user_points_in_backend("444444444444444444", 5, "message")
    assert leaderboard.get_user_rank("444444444444444444")["score"] == pytest.approx(5.0, rel=1e-4)

    BASE_DIR = tmp_path
    (BASE_DIR / "data").mkdir()
    LEADERBOARD_BACKUP_PATH = os.path.join(BASE_DIR, 'data', 'leaderboard_backup.json')

    def backup_leaderboard():
        leaderboard.save_to_json(LEADERBOARD_BACKUP_PATH)

    loaded_from_db = []

    def restore_leaderboard():
        if os.path.exists(LEADERBOARD_BACKUP_PATH):
            leaderboard.load_from_json(LEADERBOARD_BACKUP_PATH)
        else:
            loaded_from_db.append(load_leaderboard_from_db())

    before = leaderboard.get_top_users(10)
    backup_leaderboard()
    leaderboard.update_user(user_id="555", points=1e6, timestamp=0)
    restore_leaderboard()
    assert loaded_from_db == []
    after = leaderboard.get_top_users(10)
    assert ids(after) == ids(before)
    assert [e["score"] for e in after] == pytest.approx([e["score"] for e in before], rel=1e-12)
    os.remove(LEADERBOARD_BACKUP_PATH)
    restore_leaderboard()
    assert loaded_from_db == ["Loaded 3 users into leaderboard"]


def test_guide_section_3_dashboard_is_json_serialisable(board):
    board.update_user("a", 10.0, T0)
    board.update_user("b", 20.0, T0)
    payload = {
        'top_contributors': board.get_top_users(10),
        'total_ranked_users': board.size(),
    }
    assert json.loads(json.dumps(payload)) == payload
    assert payload["total_ranked_users"] == 2


def test_results_are_plain_python_values(board):
    board.update_user("u1", 3, T0)
    for entry in board.get_top_users(5) + [board.get_user_rank("u1")] + board.get_rank_range(0, -1) \
            + board.get_users_around("u1", 2):
        assert type(entry) is dict
        assert list(entry) == ["rank", "user_id", "score", "last_update"]
        assert type(entry["rank"]) is int and type(entry["user_id"]) is str
        assert type(entry["score"]) is float and type(entry["last_update"]) is int
    assert type(board.size()) is int
    assert type(board.get_current_time()) is int
    assert type(board.remove_user("u1")) is bool


def test_module_exports_and_django_app():
    assert cpp_leaderboard.Leaderboard is Leaderboard
    from cpp_leaderboard.apps import CppLeaderboardConfig
    assert CppLeaderboardConfig.name == "cpp_leaderboard"


# ----------------------------------------------------------------------------- semantics


def test_defaults():
    lb = Leaderboard()
    assert lb.decay_factor == 0.95
    assert lb.max_users == 100000
    assert "0.95" in repr(lb)


def test_decay_follows_the_formula(board, clock):
    board.update_user("a", 8.0, T0)
    assert board.get_user_rank("a")["score"] == 8.0
    clock.now = T0 + DAY
    assert board.get_user_rank("a")["score"] == 4.0
    board.update_user("a", 4.0, 0)  # now: decays from T0 + DAY
    clock.now = T0 + 2 * DAY
    entry = board.get_user_rank("a")
    assert entry["score"] == 8 * 0.25 + 4 * 0.5
    assert entry["last_update"] == T0 + DAY
    board.update_user("a", 16.0, T0 - DAY)  # older contribution: last_update stays
    assert board.get_user_rank("a") == {"rank": 1, "user_id": "a", "score": 4.0 + 2.0, "last_update": T0 + DAY}


def test_ranking_ties_and_zero_points(board):
    board.update_user("b", 5, T0)
    board.update_user("a", 5, T0)
    board.update_user("c", 6, T0)
    board.update_user("nobody", 0.0, T0)
    board.update_user("neg", -1, T0)
    assert ids(board.get_top_users(10)) == ["c", "a", "b", "neg"]
    assert [e["rank"] for e in board.get_top_users(10)] == [1, 2, 3, 4]
    assert board.get_user_rank("nobody") is None
    assert board.size() == 4
    assert board.get_top_users(0) == [] and board.get_top_users(-5) == []
    assert len(board.get_top_users(10**15)) == 4


def test_timestamp_zero_or_negative_means_now_at_call_time(board, clock):
    clock.now = T0 + 123
    board.update_user("a", 1.0, 0)
    clock.now = T0 + 456
    board.update_user("b", 1.0, -7)
    clock.now = T0 + 10**6
    assert board.get_user_rank("a")["last_update"] == T0 + 123
    assert board.get_user_rank("b")["last_update"] == T0 + 456


def test_time_source(board, clock):
    assert board.get_current_time() == T0
    clock.now = T0 + 0.9
    assert board.get_current_time() == T0
    board.set_time_source(None)
    assert abs(board.get_current_time() - time.time()) < 5
    with pytest.raises(TypeError, match="time_source"):
        board.set_time_source(42)
    board.set_time_source(lambda: "soon")
    with pytest.raises(TypeError, match="time source"):
        board.get_current_time()
    board.set_time_source(lambda: math.nan)
    with pytest.raises(ValueError, match="time source"):
        board.get_top_users(1)


def test_eviction_of_the_lowest_ranked(clock):
    lb = Leaderboard(decay_factor=1.0, max_users=2)
    lb.set_time_source(clock)
    lb.update_user("a", 3, T0)
    lb.update_user("b", 2, T0)
    lb.update_user("c", 1, T0)  # lowest: evicted at once
    assert ids(lb.get_top_users(5)) == ["a", "b"]
    lb.update_user("d", 5, T0)  # b goes
    assert ids(lb.get_top_users(5)) == ["d", "a"]
    assert lb.size() == 2
    unlimited = Leaderboard(decay_factor=1.0, max_users=0)
    unlimited.update_users((f"u{i}", 1.0, T0) for i in range(3000))
    assert unlimited.size() == 3000


def test_rank_range_is_redis_zrevrange(board):
    board.update_users((f"u{i}", 100 - i, T0) for i in range(10))  # u0 best
    assert ids(board.get_rank_range(0, 2)) == ["u0", "u1", "u2"]
    assert board.get_rank_range(0, 9) == board.get_top_users(10)
    assert ids(board.get_rank_range(-2, -1)) == ["u8", "u9"]
    assert [e["rank"] for e in board.get_rank_range(-2, -1)] == [9, 10]
    assert len(board.get_rank_range(0, -1)) == 10
    assert board.get_rank_range(5, 4) == [] and board.get_rank_range(10, 20) == []
    assert ids(board.get_rank_range(-100, 0)) == ["u0"]
    assert len(board.get_rank_range(-(2**100), 2**100)) == 10
    with pytest.raises(TypeError, match="start"):
        board.get_rank_range("0", 1)
    with pytest.raises(TypeError, match="stop"):
        board.get_rank_range(0, 1.0)


def test_users_around(board):
    board.update_users((f"u{i}", 100 - i, T0) for i in range(10))
    around = board.get_users_around("u4", 2)
    assert ids(around) == ["u2", "u3", "u4", "u5", "u6"]
    assert [e["rank"] for e in around] == [3, 4, 5, 6, 7]
    assert ids(board.get_users_around("u0", 1)) == ["u0", "u1"]
    assert ids(board.get_users_around("u9", 3)) == ["u6", "u7", "u8", "u9"]
    assert ids(board.get_users_around("u5", 0)) == ["u5"]
    assert len(board.get_users_around("u5", 10**12)) == 10
    assert board.get_users_around("nobody", 3) == []
    with pytest.raises(ValueError, match="radius"):
        board.get_users_around("u1", -1)
    with pytest.raises(TypeError, match="radius"):
        board.get_users_around("u1", 1.5)


def test_remove_user(board):
    board.update_user("a", 2, T0)
    board.update_user("b", 1, T0)
    assert board.remove_user("a") is True
    assert board.remove_user("a") is False
    assert board.get_user_rank("b")["rank"] == 1
    board.update_user("a", 1, T0)  # comes back from zero
    assert board.get_user_rank("a")["score"] == 1.0


def test_update_users_accepts_tuples_and_dicts(board, clock):
    n = board.update_users([
        ("a", 1.0, T0),
        {"user_id": "b", "points": 2, "timestamp": T0},
        ["c", 3.5, T0],
        {"user_id": "d", "points": 4},   # timestamp defaults to now
        ("e", 5),
    ])
    assert n == 5
    assert ids(board.get_top_users(10)) == ["e", "d", "c", "b", "a"]
    assert board.get_user_rank("d")["last_update"] == T0
    assert board.update_users(iter([])) == 0


def test_update_users_validates_everything_before_applying_anything(board):
    with pytest.raises(TypeError, match=r"updates\[1\]: user_id must be str, not int"):
        board.update_users([("a", 1.0, T0), (7, 1.0, T0)])
    with pytest.raises(ValueError, match=r"updates\[2\]: points must be finite"):
        board.update_users([("a", 1.0, T0), ("b", 1.0, T0), ("c", math.inf, T0)])
    with pytest.raises(ValueError, match=r"updates\[0\]: missing key 'points'"):
        board.update_users([{"user_id": "a"}])
    with pytest.raises(ValueError, match=r"updates\[0\]: expected \(user_id, points, timestamp\)"):
        board.update_users([("a",)])
    with pytest.raises(TypeError, match=r"updates\[0\]: expected a"):
        board.update_users(["abc"])
    with pytest.raises(TypeError, match=r"updates\[0\]: timestamp must be int"):
        board.update_users([("a", 1.0, 1.5)])
    with pytest.raises(TypeError, match="updates must be an iterable"):
        board.update_users("abc")
    with pytest.raises(TypeError, match="updates must be an iterable"):
        board.update_users(5)
    assert board.size() == 0


def test_bulk_loads_larger_than_one_crossing(board, monkeypatch):
    monkeypatch.setattr(lb_module, "_BULK_CHUNK", 1000)
    n = board.update_users((f"user{i:05d}", float(i % 97), T0) for i in range(5000))
    assert n == 5000
    assert board.size() == 5000 - len(range(0, 5000, 97))  # zero points add nobody
    top = board.get_top_users(3)
    assert [e["score"] for e in top] == [96.0, 96.0, 96.0]
    assert ids(top) == ["user00096", "user00193", "user00290"]


def test_staged_updates_are_seen_by_every_query(board):
    for i in range(lb_module._STAGE_LIMIT * 2 + 7):  # crosses the flush threshold twice
        board.update_user(f"u{i}", 1.0 + i, T0)
    assert board.size() == lb_module._STAGE_LIMIT * 2 + 7
    board.update_user("late", 1e9, T0)
    assert board.get_top_users(1)[0]["user_id"] == "late"
    board.update_user("late2", 2e9, T0)
    assert board.get_user_rank("late2")["rank"] == 1
    board.update_user("late3", 3e9, T0)
    assert ids(board.get_rank_range(0, 0)) == ["late3"]
    board.update_user("late4", 4e9, T0)
    assert ids(board.get_users_around("late4", 0)) == ["late4"]
    board.update_user("late5", 5e9, T0)
    assert board.remove_user("late5") is True


def test_unicode_ids_round_trip(board, tmp_path):
    odd = ["caf\u00e9", "\u4e2d\u6587", "\U0001F600", "", "a\x1fb", "\x1e", "\x1d\x1c", "tab\tnew\nline", "\uffff"]
    for i, uid in enumerate(odd):
        board.update_user(uid, float(i + 1), T0)
    assert sorted(ids(board.get_top_users(100))) == sorted(odd)
    for uid in odd:
        assert board.get_user_rank(uid)["user_id"] == uid
        assert ids(board.get_users_around(uid, 0)) == [uid]
    assert board.get_top_users(1)[0]["user_id"] == "\uffff"  # a single reply string holding a separator
    path = tmp_path / "unicode.json"
    board.save_to_json(path)
    other = Leaderboard()
    other.load_from_json(path)
    assert sorted(ids(other.get_top_users(100))) == sorted(odd)


def test_ties_order_by_code_point_like_python(board):
    names = ["\U0001F600", "\uE000", "b", "a", "\u00e9"]
    board.update_users((n, 1.0, T0) for n in names)
    assert ids(board.get_top_users(10)) == sorted(names)


def test_long_ids_and_big_replies(board):
    long_id = "x" * 200_000  # larger than the io buffer
    board.update_user(long_id, 5.0, T0)
    assert board.get_user_rank(long_id)["rank"] == 1
    board.update_users((f"user-{i:06d}-padding-padding", 1.0, T0) for i in range(5000))
    everyone = board.get_top_users(10**6)  # far larger than the io buffer: kept aside in Java
    assert len(everyone) == 5001
    assert everyone[0]["user_id"] == long_id
    assert everyone[-1] == {"rank": 5001, "user_id": "user-004999-padding-padding", "score": 1.0, "last_update": T0}


def test_ids_using_every_bmp_character_come_back(board):
    # The reply cannot use a separator: Java falls back to explicit lengths.
    everything = "".join(chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF)
    board.update_user(everything, 2.0, T0)
    board.update_user("plain", 1.0, T0)
    assert ids(board.get_top_users(5)) == [everything, "plain"]
    assert board.get_user_rank(everything)["rank"] == 1


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"decay_factor": 0}, ValueError, "decay_factor"),
    ({"decay_factor": 1.5}, ValueError, "decay_factor"),
    ({"decay_factor": -0.1}, ValueError, "decay_factor"),
    ({"decay_factor": math.nan}, ValueError, "decay_factor"),
    ({"decay_factor": math.inf}, ValueError, "decay_factor"),
    ({"decay_factor": "0.9"}, TypeError, "decay_factor"),
    ({"decay_factor": True}, TypeError, "decay_factor"),
    ({"max_users": -1}, ValueError, "max_users"),
    ({"max_users": 2**64}, ValueError, "max_users"),
    ({"max_users": 1.5}, TypeError, "max_users"),
    ({"max_users": True}, TypeError, "max_users"),
    ({"max_users": None}, TypeError, "max_users"),
])
def test_constructor_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Leaderboard(**kwargs)


@pytest.mark.parametrize("args, exc, match", [
    ((123, 1.0, T0), TypeError, "user_id must be str, not int"),
    ((None, 1.0, T0), TypeError, "user_id must be str, not NoneType"),
    ((b"id", 1.0, T0), TypeError, "user_id must be str, not bytes"),
    (("\ud800", 1.0, T0), ValueError, "user_id must be valid Unicode"),
    (("a", "1", T0), TypeError, "points must be a number"),
    (("a", True, T0), TypeError, "points must be a number"),
    (("a", None, T0), TypeError, "points must be a number"),
    (("a", math.nan, T0), ValueError, "points must be finite"),
    (("a", math.inf, T0), ValueError, "points must be finite"),
    (("a", -math.inf, T0), ValueError, "points must be finite"),
    (("a", 10**400, T0), ValueError, "points must be finite"),
    (("a", 1.0, 1.5), TypeError, "timestamp must be int"),
    (("a", 1.0, "1700000000"), TypeError, "timestamp must be int"),
    (("a", 1.0, True), TypeError, "timestamp must be int"),
    (("a", 1.0, 2**63), ValueError, "timestamp must fit in 64 bits"),
])
def test_update_user_rejects_bad_arguments_and_keeps_working(board, args, exc, match):
    board.update_user("ok", 1.0, T0)
    with pytest.raises(exc, match=match):
        board.update_user(*args)
    assert board.size() == 1
    assert board.get_top_users(5) == [{"rank": 1, "user_id": "ok", "score": 1.0, "last_update": T0}]


def test_numeric_types_beyond_int_and_float(board):
    from decimal import Decimal
    from fractions import Fraction
    board.update_user("a", Decimal("2.5"), T0)
    board.update_user("b", Fraction(1, 2), T0)
    board.update_user("c", 3, T0)

    class MyStr(str):
        pass

    board.update_user(MyStr("d"), 4.0, T0)
    assert type(board.get_top_users(1)[0]["user_id"]) is str
    assert {e["user_id"]: e["score"] for e in board.get_top_users(10)} == {"a": 2.5, "b": 0.5, "c": 3.0, "d": 4.0}


def test_query_arguments_are_checked(board):
    with pytest.raises(TypeError, match="k must be int"):
        board.get_top_users("10")
    with pytest.raises(TypeError, match="k must be int"):
        board.get_top_users(True)
    with pytest.raises(TypeError, match="k must be int"):
        board.get_top_users(2.0)
    with pytest.raises(TypeError, match="user_id must be str"):
        board.get_user_rank(1)
    with pytest.raises(TypeError, match="user_id must be str"):
        board.remove_user(None)
    with pytest.raises(TypeError, match="user_id must be str"):
        board.get_users_around(5, 1)
    with pytest.raises(TypeError, match="path must be str or os.PathLike"):
        board.save_to_json(5)
    with pytest.raises(TypeError, match="path must be str or os.PathLike"):
        board.load_from_json(None)
    with pytest.raises(ValueError, match="path must not be empty"):
        board.save_to_json("")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(board)


# ----------------------------------------------------------------------------- persistence


def test_save_and_load_round_trip_with_pathlike(board, clock, tmp_path):
    board.update_user("alice", 100.0, T0 - DAY)
    board.update_user("bob", 30.0, T0)
    path = tmp_path / "board.json"
    board.save_to_json(path)
    data = json.loads(path.read_text())
    assert data == {"decay_factor": 0.5, "max_users": 0, "entries": [
        {"user_id": "alice", "score": 100.0, "last_update": T0 - DAY},
        {"user_id": "bob", "score": 30.0, "last_update": T0},
    ]}
    other = Leaderboard(decay_factor=0.9, max_users=7)
    other.set_time_source(clock)
    other.load_from_json(path)
    assert other.decay_factor == 0.5 and other.max_users == 0
    assert other.get_top_users(10) == board.get_top_users(10)
    assert [p.name for p in tmp_path.iterdir()] == ["board.json"]


def test_relative_paths_follow_pythons_working_directory(board, tmp_path, monkeypatch):
    board.update_user("a", 1.0, T0)
    monkeypatch.chdir(tmp_path)
    board.save_to_json("relative.json")
    assert (tmp_path / "relative.json").is_file()
    board.load_from_json(os.fsencode("relative.json"))


def test_loads_a_file_in_the_original_layout(tmp_path, clock):
    path = tmp_path / "original.json"
    path.write_text(textwrap.dedent("""\
        {
            "decay_factor": 0.95,
            "entries": [
                {
                    "last_update": 1700000000,
                    "score": 150,
                    "user_id": "123456789012345678"
                },
                {
                    "last_update": 1699913600,
                    "score": 1.5e+02,
                    "user_id": "876543210987654321"
                }
            ],
            "max_users": 100000
        }
    """))
    lb = Leaderboard(decay_factor=0.5, max_users=1)
    lb.set_time_source(clock)
    lb.load_from_json(str(path))
    assert lb.decay_factor == 0.95 and lb.max_users == 100000
    top = lb.get_top_users(5)
    assert ids(top) == ["123456789012345678", "876543210987654321"]
    assert top[1]["score"] == pytest.approx(150 * 0.95)
    assert top[1]["last_update"] == 1699913600


def test_bad_files_raise_valueerror_naming_the_file_and_change_nothing(board, tmp_path):
    board.update_user("keep", 5.0, T0)
    before = board.get_top_users(10)
    cases = {
        "truncated.json": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "sc',
        "garbage.json": "this is not json",
        "types.json": '{"decay_factor": 0.9, "max_users": 10, "entries": [{"user_id": "a", "score": "1", "last_update": 5}]}',
        "decay.json": '{"decay_factor": 7, "max_users": 10, "entries": []}',
    }
    expected = {"truncated.json": "truncated", "garbage.json": "line 1",
                "types.json": "entries[0].score must be a number", "decay.json": "decay_factor must be in (0, 1]"}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError) as info:
            board.load_from_json(path)
        assert str(path) in str(info.value)
        assert expected[name] in str(info.value)
        assert board.get_top_users(10) == before
        assert board.decay_factor == 0.5


def test_missing_files_and_folders(board, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        board.load_from_json(tmp_path / "nope.json")
    assert info.value.errno == 2 and info.value.filename == str(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError):
        board.save_to_json(tmp_path / "missing-folder" / "x.json")
    with pytest.raises(OSError):
        board.save_to_json(tmp_path)


def test_staged_updates_before_a_failed_load_are_kept(board, tmp_path):
    board.update_user("staged", 1.0, T0)
    with pytest.raises(FileNotFoundError):
        board.load_from_json(tmp_path / "nope.json")
    assert ids(board.get_top_users(5)) == ["staged"]


# ----------------------------------------------------------------------------- threads and fork


def test_threads_updating_distinct_users_give_exact_totals():
    lb = Leaderboard(decay_factor=1.0, max_users=0)
    threads, users, rounds = 4, 150, 20
    barrier = threading.Barrier(threads + 1)
    errors = []
    checks = [0]

    def writer(t):
        try:
            barrier.wait()
            for r in range(rounds):
                for u in range(users):
                    lb.update_user(f"t{t}-u{u}", float(u + 1), T0 + r)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        try:
            barrier.wait()
            for _ in range(200):
                top = lb.get_top_users(20)
                scores = [e["score"] for e in top]
                assert scores == sorted(scores, reverse=True)
                assert [e["rank"] for e in top] == list(range(1, len(top) + 1))
                checks[0] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(t,)) for t in range(threads)] + [threading.Thread(target=reader)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(120)
    assert not errors, errors
    assert checks[0] == 200
    assert lb.size() == threads * users
    for t in range(threads):
        for u in range(users):
            assert lb.get_user_rank(f"t{t}-u{u}")["score"] == float((u + 1) * rounds)
            assert lb.get_user_rank(f"t{t}-u{u}")["last_update"] == T0 + rounds - 1


def test_an_update_that_returned_is_seen_by_a_query_in_another_thread():
    lb = Leaderboard(decay_factor=1.0, max_users=0)
    for step in range(200):
        done = threading.Event()
        seen = []

        def query():
            done.wait()
            seen.append(lb.get_user_rank(f"user{step}"))

        reader = threading.Thread(target=query)
        reader.start()
        lb.update_user(f"user{step}", 1.0, T0)  # staged in Python, not yet in Java
        done.set()
        reader.join(30)
        assert seen and seen[0] is not None and seen[0]["score"] == 1.0


def test_fork_after_the_jvm_started_refuses_work_even_with_the_lock_held():
    out = run_python(textwrap.dedent("""
        import os, sys
        from cpp_leaderboard import Leaderboard
        lb = Leaderboard(decay_factor=1.0, max_users=0)
        lb.update_user("parent", 1.0, 1700000000)       # staged, not flushed
        with lb._lock:                                   # another thread mid-call at fork time
            pid = os.fork()
        if pid == 0:
            failures = 0
            calls = [lambda: lb.update_user("child", 1.0, 1700000000),
                     lambda: lb.update_users([("child", 1.0, 1700000000)]),
                     lambda: lb.get_top_users(1), lambda: lb.get_user_rank("parent"), lambda: lb.size(),
                     lambda: lb.get_rank_range(0, 1), lambda: lb.get_users_around("parent", 1),
                     lambda: lb.remove_user("parent"), lambda: lb.save_to_json("x.json"),
                     lambda: lb.load_from_json("x.json"), lambda: Leaderboard()]
            for call in calls:
                try:
                    call()
                except RuntimeError as exc:
                    failures += "fork" in str(exc)
            os._exit(0 if failures == len(calls) and len(lb._staged) == 1 else 1)
        _, status = os.waitpid(pid, 0)
        lb.update_user("parent", 2.0, 1700000000)
        print(os.waitstatus_to_exitcode(status), lb.get_user_rank("parent")["score"], lb.size())
    """), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "3.0", "1"]
