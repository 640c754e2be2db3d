"""Fuzzed bad input at every public function (issue 7).

Every argument of every public method gets random values of every kind (wrong types, bools
where ints are expected, huge and negative numbers, NaN/inf, huge strings, lone surrogates,
NUL, absurd timestamps) while the other arguments stay valid. What must hold:

* the call returns, or raises a *Python builtin* exception (never a JPype/Java type);
* a value of the wrong type raises ``TypeError`` naming the argument; a value of the right type
  that the API rejects raises ``ValueError`` (or ``OverflowError`` for integers past 64 bits);
* the object keeps working afterwards and its invariants hold (scores finite, save/load round
  trip, exact counters).

Calls that could crash or hang the process (huge allocations, millions of threads) run in a
subprocess with a timeout. Budget: ``HYPOTHESIS_PROFILE=ci|dev|soak``.
"""
from __future__ import annotations

import json
import math
import os
import textwrap
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, note, strategies as st

from conftest import run_python
from hypothesis_profiles import budget
from reliability_models import is_python_builtin_exception

from cpp_event_processor import EventStreamProcessor
from cpp_leaderboard import Leaderboard

T0 = 1_700_000_000

# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------

lone_surrogates = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d"])
weird_text = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),  # surrogates too
    lone_surrogates,
    st.sampled_from(["", "\x00", "a\x00b", "\U0001F600", "\u202e", "x" * 100_000]),
)
absurd_ints = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, -2**31, 2**53 + 1, 2**63 - 1, -2**63,
                               2**63, -2**63 - 1, 2**64, 10**30, -10**30, T0 * 1000, T0 * 10**6])
floats_all = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324,
                                                      1.7976931348623157e308]))
junk = st.one_of(
    st.none(), st.booleans(), st.integers(), absurd_ints, floats_all, weird_text,
    st.binary(max_size=8), st.builds(bytearray, st.binary(max_size=4)),
    st.complex_numbers(allow_nan=True), st.just(object()), st.just(Decimal("1.5")),
    st.just(Fraction(1, 3)), st.lists(st.integers(), max_size=3), st.tuples(st.text(max_size=3)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.just(print), st.just(len),
)


def is_int(v):
    return type(v) is int


def is_real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def expect_for(kind, v):
    """The allowed outcomes for value ``v`` passed where ``kind`` is expected:
    a set of exception types, with None standing for a normal return."""
    if kind == "str":
        if not isinstance(v, str):
            return {TypeError}
        if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            return {None, ValueError}  # lone surrogates: carried, or refused as invalid Unicode
        return {None}
    if kind.startswith("int"):
        if isinstance(v, bool):
            return {None, TypeError}  # bool is an int in Python; either answer is documented
        if not is_int(v):
            return {TypeError}
        lo = {"int": None, "int>=0": 0, "int>0": 1}[kind]
        if lo is not None and v < lo:
            return {ValueError}
        if lo is None and v < 0:
            return {None, ValueError}  # e.g. a negative k or page start: [] or refused
        if abs(v) >= 2**31:
            # Past a Java int: clipped (a count/rank that large just means "all") or refused.
            return {None, ValueError, OverflowError}
        return {None}
    if kind == "timestamp":
        if isinstance(v, bool):
            return {None, TypeError}
        if not is_int(v):
            return {TypeError}
        if abs(v) >= 2**40:
            return {None, ValueError, OverflowError}
        # Far in the future the decayed score overflows a double: refusing is the documented
        # answer (a year ahead of "now" is allowed either way).
        return {None, ValueError} if v > T0 + 365 * 86400 else {None}
    if kind == "finite":
        if isinstance(v, bool):
            return {None, TypeError}
        if isinstance(v, (Decimal, Fraction)):
            return {None, TypeError}
        if not is_real(v):
            return {TypeError}
        if isinstance(v, int) and abs(v) > 2**1023:
            return {ValueError, OverflowError}
        return {None} if math.isfinite(v) else {ValueError}
    if kind == "decay":
        if isinstance(v, bool):
            return {None, TypeError} if v else {ValueError, TypeError}
        if isinstance(v, (Decimal, Fraction)):
            return {None, TypeError, ValueError}
        if not is_real(v):
            return {TypeError}
        return {None} if 0 < v <= 1 else {ValueError, OverflowError}
    if kind == "callable_or_none":
        return {None} if v is None or callable(v) else {TypeError}
    if kind == "path":
        if isinstance(v, (str, os.PathLike)):
            return {None, OSError, ValueError}
        if isinstance(v, bytes):
            return {None, OSError, ValueError, TypeError}
        return {TypeError}
    if kind == "timeout":
        if v is None:
            return {None}
        if isinstance(v, bool) or not is_real(v):
            return {TypeError}
        if v == math.inf:
            return {None, ValueError}  # waiting forever is what None means too
        return {None} if math.isfinite(v) and v >= 0 else {ValueError}
    raise AssertionError(kind)


def outcome(fn, *args, **kwargs):
    try:
        return None, fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - classifying is the point
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return exc, None


def check_outcome(exc, allowed, *, arg, where):
    if exc is None:
        assert None in allowed, f"{where}: accepted {arg}=... though {sorted(t.__name__ for t in allowed if t)} expected"
        return
    assert is_python_builtin_exception(exc), \
        f"{where}: raised {type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    assert any(t is not None and isinstance(exc, t) for t in allowed), \
        f"{where}: raised {type(exc).__name__}: {exc}; allowed {[t.__name__ if t else 'return' for t in allowed]}"
    if isinstance(exc, TypeError):
        names = {arg, arg.replace("_", " ")}  # "time source" reads as well as "time_source"
        assert any(n in str(exc) for n in names), f"{where}: TypeError does not name '{arg}': {exc}"


# ---------------------------------------------------------------------------------------------
# Leaderboard
# ---------------------------------------------------------------------------------------------

def fresh_board():
    b = Leaderboard(decay_factor=0.95, max_users=100)
    b.set_time_source(lambda: T0)
    b.update_user("alice", 10.0, T0)
    b.update_user("bob", 5.0, T0 - 86400)
    return b


def assert_board_healthy(b, tmp_path):
    """Invariants that must survive any call: finite scores in order, size agrees, and a
    save/load round trip reproduces the ranking."""
    b.set_time_source(lambda: T0)
    top = b.get_top_users(b.size() + 1)
    assert len(top) == b.size()
    assert all(math.isfinite(e["score"]) for e in top), top
    assert [e["score"] for e in top] == sorted((e["score"] for e in top), reverse=True)
    path = tmp_path / "health.json"
    b.save_to_json(str(path))
    json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no NaN/Infinity tokens
    c = Leaderboard()
    c.set_time_source(lambda: T0)
    c.load_from_json(str(path))
    again = c.get_top_users(c.size() + 1)
    assert [e["user_id"] for e in again] == [e["user_id"] for e in top]
    for x, y in zip(again, top):
        assert x["score"] == pytest.approx(y["score"], rel=1e-9, abs=1e-300)


BOARD_CALLS = [
    # (method, argument names and kinds, valid values)
    ("update_user", [("user_id", "str"), ("points", "finite"), ("timestamp", "timestamp")], ["carol", 1.0, T0]),
    ("get_top_users", [("k", "int")], [5]),
    ("get_user_rank", [("user_id", "str")], ["alice"]),
    ("remove_user", [("user_id", "str")], ["bob"]),
    ("get_rank_range", [("start", "int"), ("stop", "int")], [1, 2]),
    ("get_users_around", [("user_id", "str"), ("radius", "int>=0")], ["alice", 1]),
    ("set_time_source", [("time_source", "callable_or_none")], [None]),
]


@pytest.mark.parametrize("method,args,valid", BOARD_CALLS, ids=[c[0] for c in BOARD_CALLS])
@budget(60)
@given(data=st.data())
def test_leaderboard_methods_reject_bad_arguments_cleanly(method, args, valid, data, tmp_path_factory):
    b = fresh_board()
    pos = data.draw(st.integers(0, len(args) - 1), label="argument")
    name, kind = args[pos]
    value = data.draw(junk, label=name)
    call = list(valid)
    call[pos] = value
    exc, _ = outcome(getattr(b, method), *call)
    if method == "set_time_source" and exc is None and value is not None:
        # A callable is accepted; what it returns is checked at the next use.
        exc, _ = outcome(b.get_current_time)
        if exc is not None:
            assert is_python_builtin_exception(exc), type(exc)
        b.set_time_source(None)
        return
    check_outcome(exc, expect_for(kind, value), arg=name, where=f"Leaderboard.{method}")
    assert_board_healthy(b, tmp_path_factory.mktemp("fuzz"))


@budget(80)
@given(decay=junk | floats_all, max_users=junk | absurd_ints, which=st.integers(0, 1))
def test_leaderboard_constructor_rejects_bad_arguments_cleanly(decay, max_users, which):
    if which == 0:
        exc, b = outcome(Leaderboard, decay_factor=decay, max_users=100)
        check_outcome(exc, expect_for("decay", decay), arg="decay_factor", where="Leaderboard()")
    else:
        if is_int(max_users) and max_users >= 2**31:
            max_users = 2**31 - 1 if max_users < 2**63 else max_users  # capacity: see subprocess test
        exc, b = outcome(Leaderboard, decay_factor=0.9, max_users=max_users)
        check_outcome(exc, expect_for("int>=0", max_users), arg="max_users", where="Leaderboard()")
    if b is not None:
        b.update_user("x", 1.0, 0)
        assert b.size() == 1


@budget(40)
@given(items=st.one_of(junk, st.lists(st.one_of(junk, st.tuples(junk, junk, junk)), max_size=4),
                       st.lists(st.tuples(st.text(max_size=5), floats_all, absurd_ints), max_size=4)))
def test_update_users_rejects_bad_items_cleanly(items, tmp_path_factory):
    b = fresh_board()
    before = b.get_top_users(10)
    exc, _ = outcome(b.update_users, items)
    if exc is not None:
        assert is_python_builtin_exception(exc), f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        assert isinstance(exc, (TypeError, ValueError, OverflowError)), repr(exc)
        # Documented: every item is validated before any is applied.
        assert b.get_top_users(10) == before, "a refused update_users applied some items"
    assert_board_healthy(b, tmp_path_factory.mktemp("fuzz"))


@budget(40)
@given(ts=st.one_of(absurd_ints, st.integers(-2**70, 2**70)), pts=floats_all,
       decay=st.sampled_from([0.95, 0.5, 1.0, 1e-9]))
def test_absurd_timestamps_never_break_the_board(ts, pts, decay, tmp_path_factory):
    """Timestamps thousands of years away (or past int64): the update is refused with
    ValueError/OverflowError, or accepted with every score still finite and snapshot-able."""
    b = Leaderboard(decay_factor=decay, max_users=10)
    b.set_time_source(lambda: T0)
    b.update_user("anchor", 1.0, T0)
    exc, _ = outcome(b.update_user, "x", pts, ts)
    allowed = expect_for("finite", pts)
    if None in allowed:
        allowed = expect_for("timestamp", ts)
    check_outcome(exc, allowed | {ValueError}, arg="timestamp", where=f"update_user(ts={ts}, points={pts})")
    assert_board_healthy(b, tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("returns", [None, "123", 1.5, math.nan, math.inf, -5, 2**64, True, "raise"])
def test_a_misbehaving_time_source_is_a_clean_error(returns):
    b = fresh_board()

    def source():
        if returns == "raise":
            raise LookupError("clock broke")
        return returns
    b.set_time_source(source)
    for fn in (b.get_current_time, lambda: b.get_top_users(3), lambda: b.update_user("z", 1.0, 0),
               lambda: b.get_user_rank("alice")):
        exc, _ = outcome(fn)
        if exc is not None:
            assert is_python_builtin_exception(exc), f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    b.set_time_source(None)
    assert b.size() in (2, 3)
    assert all(math.isfinite(e["score"]) for e in b.get_top_users(5))


@pytest.mark.parametrize("path", [123, None, b"x.json", "", "\x00bad", "a\udc00.json",
                                  "/" + "x" * 5000 + ".json", ["p"]])
@pytest.mark.parametrize("method", ["save_to_json", "load_from_json"])
def test_snapshot_paths_are_checked(method, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever gets written lands in the test's folder
    b = fresh_board()
    before = b.get_top_users(10)
    arg = path
    if isinstance(path, str) and path.startswith("a\udc00"):
        arg = str(tmp_path / path)
    exc, _ = outcome(getattr(b, method), arg)
    # Only a save to a usable name (str, or bytes as os.fsencode gives) may succeed.
    assert exc is not None or (method == "save_to_json" and isinstance(arg, (str, bytes))), f"{method}({path!r}) returned"
    if exc is not None:
        check_outcome(exc, expect_for("path", path), arg="path", where=f"{method}({str(path)[:20]!r})")
    assert b.get_top_users(10) == before


def test_lone_surrogates_in_user_ids_round_trip_or_are_refused_at_save(tmp_path):
    """Python str may hold lone surrogates. The board refuses them up front (ValueError naming
    user_id), or keeps them and a snapshot then either keeps them (JSON \\u escapes) or
    refuses cleanly with ValueError, keeping the old file."""
    b = fresh_board()
    path = tmp_path / "s.json"
    b.save_to_json(str(path))
    old = path.read_bytes()
    exc, _ = outcome(b.update_user, "x\ud800y", 3.0, T0)
    if exc is not None:  # refused up front: fine, if it is a ValueError naming the argument
        assert type(exc) is ValueError and "user_id" in str(exc), repr(exc)
        assert b.size() == 2
        return
    assert b.get_user_rank("x\ud800y")["user_id"] == "x\ud800y"
    exc, _ = outcome(b.save_to_json, str(path))
    if exc is None:
        c = Leaderboard()
        c.load_from_json(str(path))
        assert c.get_user_rank("x\ud800y") is not None
    else:
        assert type(exc) is ValueError, f"{type(exc).__name__}: {exc}"
        assert path.read_bytes() == old


# ---------------------------------------------------------------------------------------------
# EventStreamProcessor
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_proc():
    p = EventStreamProcessor(1 << 16, 2, 100, 5)
    got = []
    p.set_flush_callback(got.extend)
    p.delivered = got
    yield p
    p.close()


PROC_CALLS = [
    ("push_event", [("event_type", "str"), ("user_id", "str"), ("channel_id", "str"), ("timestamp", "timestamp")],
     ["message", "u", "c", T0]),
    ("get_top_channels", [("k", "int")], [3]),
    ("set_flush_callback", [("callback", "callable_or_none")], [None]),
    ("set_time_source", [("time_source", "callable_or_none")], [None]),
    ("flush_now", [("timeout", "timeout")], [None]),
]


@pytest.mark.parametrize("method,args,valid", PROC_CALLS, ids=[c[0] for c in PROC_CALLS])
@budget(60)
@given(data=st.data())
def test_processor_methods_reject_bad_arguments_cleanly(method, args, valid, data, shared_proc):
    p = shared_proc
    pos = data.draw(st.integers(0, len(args) - 1), label="argument")
    name, kind = args[pos]
    value = data.draw(junk, label=name)
    if method == "set_flush_callback" and callable(value):
        value = None  # print/len as a callback would be accepted and then fail every batch
    if method == "flush_now" and is_real(value) and math.isfinite(value) and value > 5:
        value = 5.0
    call = list(valid)
    call[pos] = value
    before = p.total_events_processed(), p.events_dropped()
    exc, result = outcome(getattr(p, method), *call)
    if method in ("set_flush_callback", "set_time_source"):
        getattr(p, method)(p.delivered.extend if method == "set_flush_callback" else None)
    check_outcome(exc, expect_for(kind, value), arg=name, where=f"EventStreamProcessor.{method}")
    after = p.total_events_processed(), p.events_dropped()
    if method == "push_event":
        if exc is None:
            assert result is True or result is False
            assert after == (before[0] + result, before[1] + (not result))
        else:
            assert after == before, "a refused push was counted"
    # Still healthy: a push arrives intact.
    marker = f"marker-{before[0]}"
    assert p.push_event("message", marker, "c", T0)
    p.flush_now()
    assert p.delivered[-1]["user_id"] == marker


@budget(80)
@given(which=st.integers(0, 3), value=junk)
def test_processor_constructor_rejects_bad_arguments_cleanly(which, value):
    names = ["buffer_size", "num_threads", "batch_size", "flush_interval_ms"]
    args = [64, 1, 10, 50]
    if is_int(value) and value > 64:
        value = 64  # big sizes allocate or spawn: see the subprocess test below
    args[which] = value
    exc, p = outcome(EventStreamProcessor, *args)
    check_outcome(exc, expect_for("int>0", value), arg=names[which], where="EventStreamProcessor()")
    if p is not None:
        got = []
        p.set_flush_callback(got.extend)
        assert p.push_event("message", "u", "c", T0)
        p.flush_now()
        assert [e["user_id"] for e in got] == ["u"]
        p.close()


@budget(30)
@given(ts=st.one_of(absurd_ints, st.integers(-2**70, 2**70)))
def test_absurd_timestamps_keep_the_processor_exact(ts, shared_proc):
    """An absurd timestamp is refused (ValueError/OverflowError) or delivered unchanged; the
    hour window and its memory are unaffected by far-future or far-past stamps."""
    p = shared_proc
    n0 = len(p.delivered)
    exc, ok = outcome(p.push_event, "message", "absurd", "absurd-channel", ts)
    check_outcome(exc, expect_for("timestamp", ts), arg="timestamp", where=f"push_event(ts={ts})")
    p.flush_now()
    if exc is None and ok:
        e = p.delivered[-1]
        assert e["user_id"] == "absurd"
        if ts > 0:
            assert e["timestamp"] == ts
        else:
            assert e["timestamp"] > 0  # <= 0 means now
    assert isinstance(p.get_unique_users_last_hour(), int)
    assert len(p.delivered) >= n0


@pytest.mark.parametrize("s", ["", "\x00", "a\x00b", "\U0001F600\u202e", "x" * 1_000_000])
def test_any_valid_str_travels_unchanged(s, shared_proc):
    p = shared_proc
    assert p.push_event(s, s, s, T0)
    p.flush_now()
    e = p.delivered[-1]
    assert (e["type"], e["user_id"], e["channel_id"]) == (s, s, s)


@pytest.mark.parametrize("s", ["\ud800", "x\udfffy", "\ud83d\ude00"])
def test_a_str_with_lone_surrogates_is_refused_not_altered(s, shared_proc):
    """Java would hand back a pair written as two code points as one: refused, as the
    leaderboard refuses it (and as the original's pybind11 conversion did)."""
    p = shared_proc
    before = p.total_events_processed()
    for args in ((s, "u", "c"), ("m", s, "c"), ("m", "u", s)):
        with pytest.raises(ValueError, match="valid Unicode"):
            p.push_event(*args, T0)
    assert p.total_events_processed() == before


# ---------------------------------------------------------------------------------------------
# risky calls: in a subprocess with a timeout
# ---------------------------------------------------------------------------------------------

RISKY = {
    "buffer_size 2**31-1": "EventStreamProcessor(2**31 - 1, 1, 10, 50)",
    "buffer_size 2**62": "EventStreamProcessor(2**62, 1, 10, 50)",
    "num_threads 100000": "EventStreamProcessor(64, 100_000, 10, 50)",
    "batch_size 2**31-1": "EventStreamProcessor(64, 1, 2**31 - 1, 50)",
    "flush_interval_ms 2**62": "EventStreamProcessor(64, 1, 10, 2**62)",
    "max_users 2**62": "Leaderboard(0.9, 2**62)",
    "get_top_users 2**62": "(lambda b: (b.update_user('a', 1.0, 0), b.get_top_users(2**62))[1])(Leaderboard())",
    "get_rank_range 1..2**62": "(lambda b: (b.update_user('a', 1.0, 0), b.get_rank_range(1, 2**62))[1])(Leaderboard())",
    "get_users_around radius 2**62": "(lambda b: (b.update_user('a', 1.0, 0), b.get_users_around('a', 2**62))[1])(Leaderboard())",
    "user_id of 50 MB": "(lambda b: (b.update_user('u' * 50_000_000, 1.0, 0), b.size())[1])(Leaderboard())",
    "push_event of 3 x 20 MB": "EventStreamProcessor(64, 1, 10, 50).push_event('t' * 20_000_000, 'u' * 20_000_000, 'c' * 20_000_000, 0)",
}


@pytest.mark.parametrize("case", sorted(RISKY))
def test_risky_arguments_in_a_subprocess(case):
    """Huge sizes must be refused (ValueError/MemoryError) or work; never crash the JVM, hang,
    or leak a Java exception. Output: OK <repr> or ERR <module> <class> <message>."""
    code = textwrap.dedent(f"""
        from cpp_event_processor import EventStreamProcessor
        from cpp_leaderboard import Leaderboard
        try:
            r = {RISKY[case]}
            print("OK", repr(r)[:80])
        except BaseException as e:
            print("ERR", type(e).__module__, type(e).__name__, str(e)[:200])
    """)
    out = run_python(code, timeout=90, env={"STREAMRANK_JVM_HEAP": "512m"})
    assert out.returncode == 0, f"crashed ({out.returncode}): {out.stdout}{out.stderr[-2000:]}"
    line = out.stdout.strip().splitlines()[-1]
    if line.startswith("ERR"):
        _, module, cls, *_ = line.split(" ", 3)
        assert module == "builtins" and cls in ("ValueError", "MemoryError", "OverflowError"), line
