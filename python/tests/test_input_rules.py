"""Issue 11 items 13-16: inputs that used to corrupt data or disagree between entry points.

- 13: a timestamp far ahead of the clock (milliseconds passed as seconds, decades ahead) used to
  zero every other user for good; now refused with a ValueError that says what looks wrong, by
  updates and by the snapshot loader alike. Every accepted timestamp leaves the other users as
  the exact sums say (property test).
- 14: snapshot paths: symbolic links are written through, FIFOs and directories refused.
- 15: one rule per question: ids are valid Unicode everywhere, ties in code point order
  everywhere, any ``numbers.Integral`` but bool wherever an int is taken.
- 16: the processor's unique-users window through future stamps (see also
  test_event_processor.py and UniqueUsersWindowTest).
"""
from __future__ import annotations

import json
import math
import os
import threading

import pytest
from hypothesis import given, strategies as st

from hypothesis_profiles import budget

from cpp_leaderboard import Leaderboard

T0 = 1_700_000_000
DAY = 86_400


def horizon(decay: float) -> int:
    """The documented rule: 256 / -ln(decay) days ahead of the clock (no limit at decay 1)."""
    return int(256 / -math.log(decay) * DAY)


def board(decay=0.95, now=T0, max_users=0):
    lb = Leaderboard(decay_factor=decay, max_users=max_users)
    lb.set_time_source(lambda: now)
    return lb


def scores(lb):
    return {e["user_id"]: e["score"] for e in lb.get_top_users(lb.size() + 1)}


def exact(contributions, decay, at):
    return math.fsum(p * decay ** ((at - t) / DAY) for p, t in contributions)


# ----------------------------------------------------------------------------- item 13

@pytest.mark.parametrize("decay, ts, looks", [
    (0.95, T0 * 1000, "looks like milliseconds"),
    (0.5, T0 * 1000, "looks like milliseconds"),
    (0.95, T0 * 1_000_000, "looks like microseconds"),
    (0.95, T0 + 45 * 365 * DAY, r"is 16425.0 days ahead of the board.s clock"),
    (0.5, T0 + 3 * 365 * DAY, r"is 1095.0 days ahead of the board.s clock"),
])
def test_a_far_future_timestamp_is_refused_and_harms_nobody(decay, ts, looks):
    """On main these were accepted and every other score became 0.0 (ranked by id), for good."""
    lb = board(decay)
    lb.update_user("zed", 10.0, T0)
    lb.update_user("amy", 5.0, T0 - DAY)
    before = lb.get_top_users(10)
    with pytest.raises(ValueError, match=f"^timestamp {ts} {looks}"):
        lb.update_user("bad", 1.0, ts)
    with pytest.raises(ValueError, match=rf"^updates\[1\]: timestamp {ts} {looks}"):
        lb.update_users([("ok", 1.0, T0), ("bad", 1.0, ts)])
    assert lb.get_top_users(10) == before  # nothing half-applied
    lb.update_user("zed", 1.0, T0)  # later present-time updates count
    assert lb.get_user_rank("zed")["score"] == pytest.approx(11.0)
    assert lb.get_user_rank("amy")["score"] == pytest.approx(5.0 * decay)


def test_the_limit_is_exactly_the_documented_horizon():
    for decay in (0.95, 0.5, 0.3):
        lb = board(decay)
        lb.update_user("u", 1.0, T0)
        h = horizon(decay)
        # float rounding of the formula may move the edge by a second at most
        lb.update_user("edge", 1.0, T0 + h - 1)
        with pytest.raises(ValueError, match="days ahead"):
            lb.update_user("beyond", 1.0, T0 + h + 2)
        assert lb.get_user_rank("u")["score"] == pytest.approx(1.0, rel=1e-12)


def test_past_timestamps_and_no_decay_have_no_limit():
    lb = board(0.95)
    lb.update_user("replayed", 3.0, 1)  # 1970: replaying old events is normal
    assert lb.get_user_rank("replayed") is not None
    flat = board(1.0)  # nothing decays, nothing can underflow: only the datetime range
    flat.update_user("a", 1.0, T0)
    flat.update_user("b", 2.0, 253_402_300_799)  # 9999-12-31T23:59:59Z
    assert scores(flat) == {"a": 1.0, "b": 2.0}
    with pytest.raises(ValueError, match="is after 9999-12-31T23:59:59Z"):
        flat.update_user("c", 1.0, 253_402_300_800)
    with pytest.raises(ValueError, match="looks like milliseconds"):
        flat.update_user("c", 1.0, T0 * 1000)


def test_the_clock_is_re_read_before_refusing():
    now = [T0]
    lb = Leaderboard(decay_factor=0.5, max_users=0)
    lb.set_time_source(lambda: now[0])
    lb.update_user("u", 1.0, T0 + DAY)  # caches the limit at T0 + horizon
    ts = T0 + horizon(0.5) + 10 * DAY
    with pytest.raises(ValueError):
        lb.update_user("v", 1.0, ts)
    now[0] += 11 * DAY  # the clock moved on: the same timestamp is now within the limit
    lb.update_user("v", 1.0, ts)
    assert lb.size() == 2


def test_a_snapshot_entry_in_milliseconds_is_refused_naming_the_entry(tmp_path):
    path = tmp_path / "ms.json"
    path.write_text(json.dumps({"decay_factor": 0.95, "max_users": 0, "entries": [
        {"user_id": "a", "score": 10.0, "last_update": T0},
        {"user_id": "b", "score": 5.0, "last_update": T0 * 1000}]}))
    lb = board(0.5, max_users=7)
    lb.update_user("kept", 1.0, T0)
    with pytest.raises(ValueError, match=r"entries\[1\]\.last_update 1700000000000 looks like milliseconds"):
        lb.load_from_json(path)
    assert scores(lb) == {"kept": 1.0} and lb.decay_factor == 0.5 and lb.max_users == 7


# Background users with ordinary scores; an outlier gets timestamps anywhere in the accepted
# range (any past second up to the horizon ahead, the edges included).
@budget(150)
@given(decay=st.one_of(st.sampled_from([0.95, 0.5, 0.999, 0.3, 1e-3]),
                       st.floats(min_value=1e-6, max_value=0.9999)),
       background=st.lists(st.tuples(st.floats(1e-3, 1e6), st.integers(0, 30 * DAY)),
                           min_size=2, max_size=6),
       outlier=st.lists(st.tuples(st.floats(-1e6, 1e6).filter(bool),
                                  st.one_of(st.just(1.0), st.just(0.0),
                                            st.floats(0.0, 1.0))),
                        min_size=1, max_size=6),
       later=st.integers(0, 10 * DAY))
def test_accepted_timestamps_never_disturb_other_users(decay, background, outlier, later):
    h = horizon(decay) - 1
    now = T0
    lb = Leaderboard(decay_factor=decay, max_users=0)
    lb.set_time_source(lambda: now)
    history = {}
    for i, (p, age) in enumerate(background):
        lb.update_user(f"user{i}", p, T0 - age)
        history[f"user{i}"] = [(p, T0 - age)]
    for p, where in outlier:
        # where in [0, 1]: 0 is the far past (second 1), 0.5 now, 1 the edge of the horizon
        ts = max(1, int(T0 * 2 * where)) if where < 0.5 else T0 + int(h * (2 * where - 1))
        lb.update_user("outlier", p, ts)
    now = T0 + later
    got = scores(lb)
    for user, contributions in history.items():
        want = exact(contributions, decay, now)
        assert got[user] == pytest.approx(want, rel=1e-9, abs=1e-300), (user, got[user], want)
    order = [u for u in (e["user_id"] for e in lb.get_top_users(lb.size())) if u != "outlier"]
    assert order == sorted(history, key=lambda u: (-exact(history[u], decay, now), u))


# ----------------------------------------------------------------------------- item 14

def test_save_writes_through_a_symlink(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "board.json").write_text("old")
    link = tmp_path / "board.json"
    link.symlink_to("data/board.json")  # relative, as `ln -s` makes it
    lb = board()
    lb.update_user("a", 1.0, T0)
    lb.save_to_json(link)
    assert link.is_symlink(), "main replaced the link with a regular file"
    assert json.loads((data / "board.json").read_text())["entries"][0]["user_id"] == "a"
    assert sorted(os.listdir(data)) == ["board.json"]
    other = board()
    other.load_from_json(link)
    assert scores(other) == {"a": 1.0}


def test_a_dangling_symlink(tmp_path):
    link = tmp_path / "snap.json"
    link.symlink_to(tmp_path / "target.json")
    lb = board()
    with pytest.raises(FileNotFoundError):
        lb.load_from_json(link)
    lb.update_user("a", 1.0, T0)
    lb.save_to_json(link)  # creates the target, as writing through the link does
    assert link.is_symlink() and (tmp_path / "target.json").is_file()


def test_a_directory_is_refused_both_ways(tmp_path):
    lb = board()
    lb.update_user("a", 1.0, T0)
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        lb.save_to_json(tmp_path)
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        lb.load_from_json(tmp_path)
    assert scores(lb) == {"a": 1.0}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_and_never_blocks_the_board(tmp_path):
    """On main, load_from_json opened the FIFO, waited forever for a writer, and held the
    board's lock meanwhile (every other call on the board hung too)."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    lb = board()
    lb.update_user("a", 1.0, T0)
    outcome = {}

    def load():
        try:
            lb.load_from_json(fifo)
        except BaseException as exc:
            outcome["error"] = exc

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(60)  # a hang guard, not a timing assertion
    if t.is_alive():
        # Unblock the stuck open() so the test process can end, then fail.
        with open(fifo, "w"):
            pass
        pytest.fail("load_from_json blocked on a FIFO")
    assert type(outcome.get("error")) is OSError, outcome
    assert "not a regular file" in str(outcome["error"])
    with pytest.raises(OSError, match="not a regular file"):
        lb.save_to_json(fifo)
    assert fifo.exists() and not fifo.is_file()  # save did not replace it either
    assert scores(lb) == {"a": 1.0}


class _SlowParse:
    """The board's real bridge, except that reading a snapshot (``parse``, and main's
    ``load``, which read under the facade's lock) first waits for ``release``: a slow file."""

    def __init__(self, bridge):
        self._bridge = bridge
        self.reading = threading.Event()
        self.release = threading.Event()

    def _slow(self, name):
        def call(*args):
            self.reading.set()
            self.release.wait(120)
            return getattr(self._bridge, name)(*args)
        return call

    def __getattr__(self, name):
        if name in ("parse", "load"):
            return self._slow(name)
        return getattr(self._bridge, name)


def test_other_calls_proceed_while_a_snapshot_is_being_read(tmp_path):
    """On main the facade held the board's lock while Java opened and read the file."""
    path = tmp_path / "snap.json"
    src = board()
    src.update_user("from-file", 5.0, T0)
    src.save_to_json(path)
    lb = board()
    lb.update_user("a", 1.0, T0)
    shim = _SlowParse(lb._bridge)
    lb._bridge = shim
    errors = []
    loader = threading.Thread(target=lambda: errors.append(None) if lb.load_from_json(path) is None
                              else None, daemon=True)
    loader.start()
    assert shim.reading.wait(60)
    done = threading.Event()
    seen = {}

    def query():
        lb.update_user("b", 2.0, T0)
        seen["top"] = [e["user_id"] for e in lb.get_top_users(5)]
        done.set()

    threading.Thread(target=query, daemon=True).start()
    finished = done.wait(30)  # a hang guard: it must not wait for the file at all
    shim.release.set()
    loader.join(60)
    assert finished, "a query waited for a snapshot being read"
    assert seen["top"] == ["b", "a"]
    assert errors == [None]
    assert scores(lb) == {"from-file": 5.0}  # the load then replaced the whole board


# ----------------------------------------------------------------------------- item 15

PAIR_AS_TWO = "\ud83d\ude00"  # a surrogate pair written as two code points: two lone surrogates


@pytest.mark.parametrize("call", [
    lambda lb, uid: lb.update_user(uid, 1.0, T0),
    lambda lb, uid: lb.update_users([(uid, 1.0, T0)]),
    lambda lb, uid: lb.get_user_rank(uid),
    lambda lb, uid: lb.remove_user(uid),
    lambda lb, uid: lb.get_users_around(uid, 1),
])
@pytest.mark.parametrize("uid", ["x\ud800", PAIR_AS_TWO, "\udfff"])
def test_ids_with_lone_surrogates_are_refused_at_every_entry_point(call, uid):
    lb = board()
    with pytest.raises(ValueError, match="user_id must be valid Unicode"):
        call(lb, uid)


def test_a_real_surrogate_pair_is_one_code_point_everywhere(tmp_path):
    lb = board()
    lb.update_user("\U0001F600", 1.0, T0)
    assert lb.get_user_rank("\U0001F600")["user_id"] == "\U0001F600"
    path = tmp_path / "pair.json"
    lb.save_to_json(path)
    other = board()
    other.load_from_json(path)
    assert other.remove_user("\U0001F600") is True


def test_lone_surrogate_ids_in_a_snapshot_are_refused(tmp_path):
    """On main such an id was listed by get_top_users but refused by get_user_rank and
    remove_user: it could never be looked up or removed."""
    path = tmp_path / "lone.json"
    path.write_text('{"decay_factor": 0.9, "max_users": 0, "entries": ['
                    '{"user_id": "ok", "score": 1, "last_update": %d},'
                    '{"user_id": "x\\ud83d", "score": 2, "last_update": %d}]}' % (T0, T0))
    lb = board()
    lb.update_user("kept", 1.0, T0)
    with pytest.raises(ValueError, match=r"entries\[1\]\.user_id contains a lone surrogate"):
        lb.load_from_json(path)
    assert scores(lb) == {"kept": 1.0}


def test_ties_break_in_code_point_order_in_both_classes(tmp_path):
    """U+FF01 < U+1F600 by code point (Python's str order); Java's String.compareTo puts the
    surrogate pair D83D DE00 first. On main get_top_channels used the latter."""
    import cpp_event_processor

    ids = ["\U0001F600", "\uff01", "a", "\xe9"]
    lb = board()
    for uid in ids:
        lb.update_user(uid, 1.0, T0)
    assert [e["user_id"] for e in lb.get_top_users(10)] == sorted(ids)
    p = cpp_event_processor.EventStreamProcessor(buffer_size=64, num_threads=1, batch_size=10,
                                                 flush_interval_ms=60_000)
    try:
        for ch in ids:
            p.push_event("message", "u", ch, T0)
        assert [ch for ch, _ in p.get_top_channels(10)] == sorted(ids)
    finally:
        p.close()


def test_numpy_integers_are_ints_and_bools_are_not():
    np = pytest.importorskip("numpy")
    lb = Leaderboard(decay_factor=np.float64(0.5), max_users=np.int64(10))
    lb.set_time_source(lambda: T0)
    lb.update_user("a", np.int32(3), np.int64(T0))
    lb.update_user("b", np.float32(2.5), np.uint32(T0))
    lb.update_users([("c", np.int8(1), np.int64(T0)), {"user_id": "d", "points": 1.0,
                                                       "timestamp": np.int64(0)}])
    assert [e["user_id"] for e in lb.get_top_users(np.int64(2))] == ["a", "b"]
    assert len(lb.get_rank_range(np.int16(0), np.int64(-1))) == 4
    assert len(lb.get_users_around("a", np.uint8(1))) == 2
    with pytest.raises(ValueError, match="looks like milliseconds"):
        lb.update_user("e", 1.0, np.int64(T0 * 1000))  # the same rule for numpy ints
    for bad in (True, np.bool_(True)):
        with pytest.raises(TypeError, match="timestamp must be int"):
            lb.update_user("e", 1.0, bad)
        with pytest.raises(TypeError, match="k must be int"):
            lb.get_top_users(bad)
