"""cpp_event_processor.EventStreamProcessor: the guide's API, lossless batched delivery, live stats."""
import logging
import os
import threading
import textwrap
import time

import pytest

from conftest import run_python

from cpp_event_processor import EventStreamProcessor
from cpp_event_processor.processor import DeliveryError

WAIT = 30  # seconds: a generous bound on Event.wait so a bug fails instead of hanging


# ---------------------------------------------------------------- the guide's test, verbatim

@pytest.fixture
def test_processor():
    return EventStreamProcessor(
        buffer_size=128,
        num_threads=1,
        batch_size=10,
        flush_interval_ms=100
    )


def test_event_ingestion(test_processor):
    events_collected = []
    test_processor.set_flush_callback(lambda e: events_collected.extend(e))

    for i in range(50):
        assert test_processor.push_event("message", f"user{i}", "channel1", 1000 + i)

    test_processor.flush_now()
    assert len(events_collected) == 50


# ---------------------------------------------------------------- helpers

@pytest.fixture
def make():
    """Creates processors and closes them after the test."""
    made = []

    def factory(buffer_size=1024, num_threads=2, batch_size=50, flush_interval_ms=50, **kw):
        p = EventStreamProcessor(buffer_size, num_threads, batch_size, flush_interval_ms, **kw)
        made.append(p)
        return p

    yield factory
    for p in made:
        p.set_flush_callback(lambda e: None)
        p.close(timeout=10)


class Collector:
    """A flush callback that records batches and can signal when it has seen n events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.batches = []
        self.events = []
        self._waiters = []

    def __call__(self, events):
        with self.lock:
            self.batches.append(events)
            self.events.extend(events)
            n = len(self.events)
            for target, ev in self._waiters:
                if n >= target:
                    ev.set()

    def wait_for(self, n):
        ev = threading.Event()
        with self.lock:
            if len(self.events) >= n:
                return True
            self._waiters.append((n, ev))
        return ev.wait(WAIT)


# ---------------------------------------------------------------- construction and bad input

def test_constructor_takes_the_guides_keywords_and_validates(make):
    p = make(buffer_size=16384, num_threads=4, batch_size=500, flush_interval_ms=1000)
    assert "buffer_size=16384" in repr(p)
    for bad in (1.5, "8", None, True):
        with pytest.raises(TypeError, match="buffer_size"):
            EventStreamProcessor(bad, 1, 1, 1)
        with pytest.raises(TypeError, match="num_threads"):
            EventStreamProcessor(8, bad, 1, 1)
        with pytest.raises(TypeError, match="batch_size"):
            EventStreamProcessor(8, 1, bad, 1)
        with pytest.raises(TypeError, match="flush_interval_ms"):
            EventStreamProcessor(8, 1, 1, bad)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="buffer_size"):
            EventStreamProcessor(bad, 1, 1, 1)
        with pytest.raises(ValueError, match="num_threads"):
            EventStreamProcessor(8, bad, 1, 1)
        with pytest.raises(ValueError, match="batch_size"):
            EventStreamProcessor(8, 1, bad, 1)
        with pytest.raises(ValueError, match="flush_interval_ms"):
            EventStreamProcessor(8, 1, 1, bad)
    with pytest.raises(ValueError, match="buffer_size"):
        EventStreamProcessor(2 ** 40, 1, 1, 1)
    with pytest.raises(ValueError, match="num_threads"):
        EventStreamProcessor(8, 10_000, 1, 1)
    with pytest.raises(ValueError, match="max_retry_backoff_ms"):
        EventStreamProcessor(8, 1, 1, 1, retry_backoff_ms=10, max_retry_backoff_ms=5)
    with pytest.raises(TypeError):
        EventStreamProcessor(8, 1, 1)


def test_push_event_rejects_wrong_types_naming_the_argument(make):
    p = make()
    good = ("message", "u", "c", 1)
    for i, name in enumerate(("event_type", "user_id", "channel_id")):
        for bad in (1, None, b"bytes", 1.0):
            args = list(good)
            args[i] = bad
            with pytest.raises(TypeError, match=name):
                p.push_event(*args)
    for bad in (1.0, "1", None, True, False):
        with pytest.raises(TypeError, match="timestamp"):
            p.push_event("m", "u", "c", bad)
    with pytest.raises(ValueError, match="timestamp"):
        p.push_event("m", "u", "c", 2 ** 63)
    with pytest.raises(ValueError, match="timestamp 9223372036854775807 looks like nanoseconds"):
        p.push_event("m", "u", "c", 2 ** 63 - 1)  # no datetime holds it (see the rule's own test)
    assert p.push_event("m", "u", "c", 253402300799)
    with pytest.raises(TypeError):
        p.push_event("m", "u", "c")  # all four are required
    assert p.total_events_processed() == 1
    assert p.events_dropped() == 0


def test_other_methods_reject_bad_arguments(make):
    p = make()
    with pytest.raises(TypeError, match="callable"):
        p.set_flush_callback(42)
    with pytest.raises(TypeError, match="callable"):
        p.set_time_source("now")
    with pytest.raises(TypeError, match="k"):
        p.get_top_channels("5")
    with pytest.raises(TypeError, match="k"):
        p.get_top_channels(True)
    with pytest.raises(ValueError, match="timeout"):
        p.flush_now(timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        p.flush_now(timeout="1")
    p.set_time_source(lambda: "noon")
    with pytest.raises(TypeError, match="time source"):
        p.get_unique_users_last_hour()


def test_events_round_trip_exactly_with_plain_types(make):
    ids = ["", "plain", "caf\u00e9", "\u4f60\u597d", "emoji \U0001F600", "nul\x00inside",
           "sep\x1finside", "\x1e\x1d\x1c", "x" * 5000]
    p = make(num_threads=1, batch_size=7)  # one worker: batches arrive in push order
    got = Collector()
    p.set_flush_callback(got)
    sent = []
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            ev = (f"t{i}" if j % 2 else a, b, a, 1_600_000_000 + i * 100 + j)
            assert p.push_event(*ev)
            sent.append(ev)
    p.flush_now()
    received = [(e["type"], e["user_id"], e["channel_id"], e["timestamp"]) for e in got.events]
    assert received == sent
    for e in got.events:
        assert type(e) is dict and list(e) == ["type", "user_id", "channel_id", "timestamp"]
        assert type(e["type"]) is str and type(e["user_id"]) is str and type(e["channel_id"]) is str
        assert type(e["timestamp"]) is int


@pytest.mark.parametrize("bad", ["lone \ud800 surrogate", "\udfff", "\ud83d\ude00"])
@pytest.mark.parametrize("field", ["event_type", "user_id", "channel_id"])
def test_lone_surrogates_are_refused_like_the_leaderboard_refuses_them(make, field, bad):
    """One rule for ids everywhere: valid Unicode only. A pair written as two code points is two
    lone surrogates in Python; Java would hand it back as one code point, so it is refused too."""
    p = make()
    args = {"event_type": "m", "user_id": "u", "channel_id": "c"}
    args[field] = bad
    with pytest.raises(ValueError, match=f"{field} must be valid Unicode"):
        p.push_event(args["event_type"], args["user_id"], args["channel_id"], 1)
    assert p.total_events_processed() == 0 and p.events_dropped() == 0


def test_numpy_ints_are_accepted_wherever_ints_are(make):
    np = pytest.importorskip("numpy")
    p = make(num_threads=1)
    got = Collector()
    p.set_flush_callback(got)
    assert p.push_event("m", "u", "c", np.int64(1_700_000_000))
    assert p.get_top_channels(np.int32(3)) == [("c", 1)]
    p.flush_now()
    assert got.events[0]["timestamp"] == 1_700_000_000 and type(got.events[0]["timestamp"]) is int


def test_str_and_int_subclasses_are_accepted_as_plain_values(make):
    class Id(str):
        def __str__(self):
            return "not the value"

    class Stamp(int):
        pass

    p = make()
    got = Collector()
    p.set_flush_callback(got)
    assert p.push_event(Id("message"), Id("u1"), Id("c1"), Stamp(123))
    p.flush_now()
    e = got.events[0]
    assert e == {"type": "message", "user_id": "u1", "channel_id": "c1", "timestamp": 123}
    assert type(e["user_id"]) is str and type(e["timestamp"]) is int


# ---------------------------------------------------------------- batching and delivery

def test_batches_keep_push_order_and_respect_batch_size(make):
    p = make(num_threads=1, batch_size=10, flush_interval_ms=5000)
    got = Collector()
    p.set_flush_callback(got)
    for i in range(95):
        assert p.push_event("m", f"u{i}", "c", 1000 + i)
    p.flush_now()
    assert [len(b) for b in got.batches][:9] == [10] * 9
    assert all(len(b) <= 10 for b in got.batches)
    assert [e["timestamp"] for e in got.events] == list(range(1000, 1095))


def test_full_batches_go_out_without_waiting_for_the_interval(make):
    p = make(batch_size=20, flush_interval_ms=600_000)
    got = Collector()
    p.set_flush_callback(got)
    for i in range(40):
        p.push_event("m", f"u{i}", "c", 1)
    assert got.wait_for(40)  # 10 minutes before the interval would send them


def test_a_lone_event_goes_out_after_the_flush_interval(make):
    p = make(batch_size=1000, flush_interval_ms=30)
    got = Collector()
    p.set_flush_callback(got)
    p.push_event("m", "lonely", "c", 1)
    assert got.wait_for(1)
    assert got.events[0]["user_id"] == "lonely"


def test_events_pushed_without_a_callback_are_kept_until_one_is_set(make):
    p = make(batch_size=5, flush_interval_ms=10)
    for i in range(23):
        assert p.push_event("m", f"u{i}", "c", 1)
    assert p.pending_events() == 23
    with pytest.raises(RuntimeError, match="no flush callback"):
        p.flush_now()
    got = Collector()
    p.set_flush_callback(got)
    p.flush_now()
    assert sorted(e["user_id"] for e in got.events) == sorted(f"u{i}" for i in range(23))
    # Clearing the callback keeps new events again.
    p.set_flush_callback(None)
    p.push_event("m", "later", "c", 1)
    assert p.pending_events() == 1
    p.set_flush_callback(got)
    p.flush_now()
    assert got.events[-1]["user_id"] == "later"


def test_flush_now_with_nothing_pending_returns_even_without_a_callback(make):
    p = make()
    p.flush_now()
    p.flush_now(timeout=0)


def test_callbacks_run_on_worker_threads_never_the_pushing_thread(make):
    p = make(num_threads=3, batch_size=5)
    seen = set()
    p.set_flush_callback(lambda e: seen.add(threading.current_thread().name))
    for i in range(100):
        p.push_event("m", "u", "c", 1)
    p.flush_now()
    assert seen and threading.current_thread().name not in seen
    assert all("worker" in name for name in seen)


# ---------------------------------------------------------------- capacity

def test_a_blocked_callback_fills_the_buffer_then_pushes_return_false(make):
    release = threading.Event()
    entered = threading.Event()
    got = Collector()

    def slow(events):
        entered.set()
        release.wait(WAIT)
        got(events)

    p = make(buffer_size=64, num_threads=1, batch_size=8, flush_interval_ms=1)
    p.set_flush_callback(slow)
    p.push_event("m", "first", "c", 1)
    assert entered.wait(WAIT)  # the worker is stuck inside the callback with one event
    accepted = 1
    results = [p.push_event("m", f"u{i}", "c", 1) for i in range(200)]
    accepted += sum(results)
    # buffer_size bounds everything not yet delivered, the event inside the callback included.
    assert accepted == 64
    assert results[:63] == [True] * 63 and not any(results[63:])
    assert p.events_dropped() == 200 - 63
    assert p.pending_events() == 64
    assert p.total_events_processed() == 64
    release.set()
    p.flush_now()
    assert len(got.events) == 64
    assert p.pending_events() == 0
    assert p.push_event("m", "after", "c", 1)  # room again
    p.flush_now()
    drop_rate = p.events_dropped() / max(p.total_events_processed(), 1)
    assert drop_rate == 137 / 65


def test_flush_now_times_out_while_a_callback_is_stuck(make):
    release = threading.Event()
    p = make(num_threads=1, batch_size=2)
    p.set_flush_callback(lambda e: release.wait(WAIT))
    p.push_event("m", "u", "c", 1)
    with pytest.raises(TimeoutError, match="not yet delivered"):
        p.flush_now(timeout=0.05)
    release.set()
    p.flush_now()


# ---------------------------------------------------------------- failures

def test_a_failing_callback_is_retried_then_dead_lettered_then_redriven(make, caplog):
    p = make(num_threads=1, batch_size=4, max_retries=2, retry_backoff_ms=1, max_retry_backoff_ms=2)
    calls = []
    healthy = threading.Event()
    got = Collector()

    def flaky(events):
        calls.append(len(events))
        if not healthy.is_set():
            raise ConnectionError("database is down")
        got(events)

    p.set_flush_callback(flaky)
    for i in range(6):
        p.push_event("m", f"u{i}", "c", 100 + i)
    with caplog.at_level(logging.WARNING, logger="cpp_event_processor"):
        with pytest.raises(DeliveryError, match="dead-letter") as info:
            p.flush_now()
    assert info.value.failed_events == 6
    assert isinstance(info.value, RuntimeError)
    assert sorted(calls) == [2, 2, 2, 4, 4, 4]  # first attempt + 2 retries per batch
    failed = p.failed_batches()
    assert sorted([e["user_id"] for e in b] for b in failed) == [["u0", "u1", "u2", "u3"], ["u4", "u5"]]
    assert p.pending_events() == 0
    assert p.total_events_flushed() == 0
    # The traceback went to logging: retries as warnings, the final failure as an error.
    records = [r for r in caplog.records if r.name == "cpp_event_processor"]
    assert any(r.levelno == logging.ERROR and "dead-letter" in r.getMessage() for r in records)
    assert any(r.levelno == logging.WARNING and "will retry" in r.getMessage() for r in records)
    assert all(r.exc_info and r.exc_info[0] is ConnectionError for r in records)

    healthy.set()
    assert p.redrive_failed() == 6
    p.flush_now()
    assert sorted(e["user_id"] for e in got.events) == [f"u{i}" for i in range(6)]
    assert p.failed_batches() == []
    assert p.total_events_flushed() == 6


def test_dead_letters_hold_buffer_space_until_discarded(make):
    p = make(buffer_size=8, num_threads=1, batch_size=4, max_retries=0)

    def fail(events):
        raise ValueError("nope")

    p.set_flush_callback(fail)
    for i in range(8):
        assert p.push_event("m", f"u{i}", "c", 1)
    with pytest.raises(DeliveryError):
        p.flush_now()
    assert not p.push_event("m", "full", "c", 1)
    assert p.discard_failed() == 8
    assert p.failed_batches() == []
    assert p.push_event("m", "room", "c", 1)


def test_a_transient_failure_loses_and_duplicates_nothing(make):
    p = make(num_threads=2, batch_size=10, retry_backoff_ms=0, max_retries=5)
    got = Collector()
    failed_once = set()
    lock = threading.Lock()

    def sometimes(events):
        key = events[0]["user_id"]
        with lock:
            if key not in failed_once:
                failed_once.add(key)
                raise RuntimeError("transient")
        got(events)

    p.set_flush_callback(sometimes)
    for i in range(200):
        p.push_event("m", f"u{i}", "c", 1)
    p.flush_now()
    assert sorted(e["user_id"] for e in got.events) == sorted(f"u{i}" for i in range(200))


# ---------------------------------------------------------------- concurrency

def test_concurrent_producers_lose_and_duplicate_nothing(make):
    producers, per_thread = 4, 5000
    p = make(buffer_size=2048, num_threads=3, batch_size=100, flush_interval_ms=5)
    got = Collector()
    p.set_flush_callback(got)
    accepted = [0] * producers
    start = threading.Barrier(producers)

    def produce(k):
        start.wait()
        for i in range(per_thread):
            if p.push_event("m", f"p{k}-{i}", f"ch{k}", 1_700_000_000):
                accepted[k] += 1

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.flush_now()
    ids = [e["user_id"] for e in got.events]
    assert len(ids) == len(set(ids)) == sum(accepted)  # nothing duplicated, nothing lost
    assert p.total_events_processed() == sum(accepted)
    assert p.events_dropped() == producers * per_thread - sum(accepted)
    assert p.total_events_flushed() == sum(accepted)
    assert dict(p.get_top_channels(10)) == {f"ch{k}": accepted[k] for k in range(producers) if accepted[k]}
    # Within one producer, delivery keeps push order inside each batch.
    for batch in got.batches:
        last = {}
        for e in batch:
            k, i = e["user_id"][1:].split("-")
            assert int(i) > last.get(k, -1)
            last[k] = int(i)


def test_flush_now_races_from_many_threads(make):
    p = make(num_threads=2, batch_size=1000, flush_interval_ms=60_000)
    got = Collector()
    p.set_flush_callback(got)
    errors = []

    def push_and_flush(k):
        try:
            for r in range(20):
                mine = [f"t{k}-{r}-{i}" for i in range(5)]
                for u in mine:
                    assert p.push_event("m", u, "c", 1)
                p.flush_now()
                with got.lock:
                    delivered = {e["user_id"] for e in got.events}
                assert set(mine) <= delivered, "flush_now returned before my events were delivered"
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=push_and_flush, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(got.events) == 6 * 20 * 5


def test_flush_now_and_close_inside_a_callback_raise_instead_of_deadlocking(make):
    p = make(num_threads=1, batch_size=1)
    outcome = {}
    done = threading.Event()

    def callback(events):
        if done.is_set():
            return  # the event pushed below comes back here
        for name, call in (("flush", p.flush_now), ("close", p.close)):
            try:
                call()
                outcome[name] = "returned"
            except RuntimeError as exc:
                outcome[name] = str(exc)
        # Pushing and querying from a callback is fine.
        outcome["push"] = p.push_event("m", "from-callback", "c", 1)
        outcome["count"] = p.total_events_processed()
        done.set()

    p.set_flush_callback(callback)
    p.push_event("m", "u", "c", 1)
    assert done.wait(WAIT)
    assert "inside a flush callback" in outcome["flush"]
    assert "inside a flush callback" in outcome["close"]
    assert outcome["push"] is True and outcome["count"] == 2


# ---------------------------------------------------------------- statistics

def test_stats_are_read_your_writes_without_a_flush(make):
    p = make(batch_size=1000, flush_interval_ms=600_000)
    p.set_time_source(lambda: 1_700_000_000)
    for i in range(7):
        p.push_event("m", f"u{i % 3}", f"c{i % 2}", 1_700_000_000)
    assert p.total_events_processed() == 7
    assert p.get_unique_users_last_hour() == 3
    assert p.get_top_channels(5) == [("c0", 4), ("c1", 3)]
    assert p.pending_events() == 7
    assert p.total_events_flushed() == 0


def test_unique_users_last_hour_is_an_exact_sliding_window(make):
    now = [1_700_000_000.0]
    p = make()
    p.set_time_source(lambda: now[0])
    assert p.get_current_time() == 1_700_000_000
    p.push_event("m", "recent", "c", 1_700_000_000 - 3599)
    p.push_event("m", "hour-old", "c", 1_700_000_000 - 3600)
    # Counts from its arrival until an hour after its timestamp; more than a day ahead counts
    # as a day ahead (issue 11 item 16: it used to drop out an hour after arrival).
    p.push_event("m", "future", "c", 1_700_000_000 + 999_999)
    p.push_event("m", "now", "c", 0)  # <= 0 means the processor's now
    p.push_event("m", "now", "c", -5)
    p.push_event("m", "ancient", "c", 1000)  # the guide's test timestamps: long expired
    assert p.get_unique_users_last_hour() == 3
    now[0] += 1
    assert p.get_unique_users_last_hour() == 2
    now[0] += 3598
    assert p.get_unique_users_last_hour() == 2
    now[0] += 1
    assert p.get_unique_users_last_hour() == 1  # "future" only
    now[0] = 1_700_000_000 + 86400 + 3599
    assert p.get_unique_users_last_hour() == 1
    now[0] += 1
    assert p.get_unique_users_last_hour() == 0


def test_unique_users_survive_the_processors_clock_stepping_back(make):
    """Issue 11 item 16: after the clock stepped back, new events were dropped against the
    window's old maximum and the count stayed 0."""
    now = [1_700_000_000 + 86400]  # a wrong clock, a day ahead
    p = make()
    p.set_time_source(lambda: now[0])
    p.push_event("m", "during", "c", 0)
    assert p.get_unique_users_last_hour() == 1
    now[0] = 1_700_000_000  # corrected
    p.push_event("m", "a", "c", 0)
    p.push_event("m", "b", "c", 1_700_000_000 - 60)
    assert p.get_unique_users_last_hour() == 2


def test_timestamp_zero_is_stamped_with_the_processors_clock(make):
    p = make()
    got = Collector()
    p.set_flush_callback(got)
    p.set_time_source(lambda: 1234.9)
    p.push_event("m", "u", "c", 0)
    p.set_time_source(None)
    before = int(time.time())
    p.push_event("m", "u", "c", 0)
    p.flush_now()
    assert got.events[0]["timestamp"] == 1234
    assert before <= got.events[1]["timestamp"] <= int(time.time())


def test_top_channels_order_and_bounds(make):
    p = make()
    for ch, n in (("b", 3), ("a", 3), ("c", 5), ("d", 1)):
        for _ in range(n):
            p.push_event("m", "u", ch, 1)
    assert p.get_top_channels(3) == [("c", 5), ("a", 3), ("b", 3)]
    assert p.get_top_channels(100) == [("c", 5), ("a", 3), ("b", 3), ("d", 1)]
    assert p.get_top_channels(0) == [] and p.get_top_channels(-3) == []
    assert p.get_top_channels(2 ** 70)[0] == ("c", 5)
    top = p.get_top_channels(1)[0]
    assert type(top) is tuple and type(top[0]) is str and type(top[1]) is int


def test_the_guides_dashboard_and_monitoring_views(make):
    p = make()
    p.set_flush_callback(lambda e: None)
    for i in range(10):
        p.push_event("message", f"u{i}", f"ch{i % 2}", 0)
    stats = {
        "unique_active_users_last_hour": p.get_unique_users_last_hour(),
        "top_channels": [{"channel_id": ch[0], "message_count": ch[1]} for ch in p.get_top_channels(5)],
        "total_events_processed": p.total_events_processed(),
        "dropped": p.events_dropped(),
        "drop_rate": p.events_dropped() / max(p.total_events_processed(), 1),
    }
    assert stats == {
        "unique_active_users_last_hour": 10,
        "top_channels": [{"channel_id": "ch0", "message_count": 5}, {"channel_id": "ch1", "message_count": 5}],
        "total_events_processed": 10,
        "dropped": 0,
        "drop_rate": 0.0,
    }


# ---------------------------------------------------------------- close and exit

def test_close_delivers_everything_then_refuses_pushes():
    p = EventStreamProcessor(1024, 2, 100, 600_000)
    got = Collector()
    p.set_flush_callback(got)
    for i in range(250):
        p.push_event("m", f"u{i}", "c", 1)
    assert p.close() is True
    assert len(got.events) == 250
    assert p.push_event("m", "late", "c", 1) is False
    assert p.events_dropped() == 1
    assert p.close() is True  # idempotent
    assert p.total_events_processed() == 250
    assert "closed" in repr(p)
    workers = [t for t in threading.enumerate() if t.name.startswith(p._core.name)]
    assert workers == []


def test_context_manager_closes_and_delivers():
    got = Collector()
    with EventStreamProcessor(256, 1, 100, 600_000) as p:
        p.set_flush_callback(got)
        for i in range(42):
            p.push_event("m", f"u{i}", "c", 1)
    assert len(got.events) == 42
    assert not p.push_event("m", "u", "c", 1)


def test_close_without_a_callback_reports_undelivered_events(caplog):
    p = EventStreamProcessor(256, 1, 100, 10)
    p.push_event("m", "u", "c", 1)
    with caplog.at_level(logging.WARNING, logger="cpp_event_processor"):
        assert p.close() is False
    assert "1 events undelivered" in caplog.text


def test_interpreter_exit_delivers_pending_events():
    out = run_python(textwrap.dedent("""
        import sys
        from cpp_event_processor import EventStreamProcessor
        p = EventStreamProcessor(buffer_size=4096, num_threads=2, batch_size=2000, flush_interval_ms=600000)
        def write(events):
            for e in events:
                sys.stdout.write(e["user_id"] + "\\n")
            sys.stdout.flush()
        p.set_flush_callback(write)
        for i in range(1234):
            assert p.push_event("message", f"user{i}", "c", 1)
        print("pushed", flush=True)
        # no flush_now, no close: exit delivers
    """), timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[0] == "pushed"  # nothing is due before exit: not a full batch, long interval
    assert sorted(lines[1:]) == sorted(f"user{i}" for i in range(1234))


def test_a_collected_processor_still_delivers_what_it_accepted():
    got = Collector()
    p = EventStreamProcessor(1024, 1, 1000, 600_000)
    p.set_flush_callback(got)
    for i in range(10):
        p.push_event("m", f"u{i}", "c", 1)
    del p
    import gc
    gc.collect()
    assert got.wait_for(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_clear_error_and_the_parent_keeps_working():
    out = run_python(textwrap.dedent("""
        import os, sys
        from cpp_event_processor import EventStreamProcessor
        p = EventStreamProcessor(1024, 2, 10, 50)
        got = []
        p.set_flush_callback(got.extend)
        p.push_event("m", "before", "c", 1)
        pid = os.fork()
        if pid == 0:
            for name, call in (("push", lambda: p.push_event("m", "u", "c", 1)),
                               ("stats", p.get_unique_users_last_hour),
                               ("flush", p.flush_now),
                               ("counter", p.total_events_processed)):
                try:
                    call()
                    print("child:", name, "no error", flush=True)
                except RuntimeError as e:
                    print("child:", name, "RuntimeError", "fork" in str(e), flush=True)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("parent: child exit", os.waitstatus_to_exitcode(status))
        assert p.push_event("m", "after", "c", 1)
        p.flush_now()
        print("parent:", sorted(e["user_id"] for e in got))
    """), timeout=120)
    assert out.returncode == 0, out.stderr
    for name in ("push", "stats", "flush", "counter"):
        assert f"child: {name} RuntimeError True" in out.stdout, out.stdout
    assert "parent: child exit 0" in out.stdout
    assert "parent: ['after', 'before']" in out.stdout


def test_django_connections_are_recycled_around_each_batch_only_when_configured():
    out = run_python(textwrap.dedent("""
        import sys
        from cpp_event_processor import EventStreamProcessor
        p = EventStreamProcessor(1024, 1, 5, 60000)
        p.set_flush_callback(lambda e: None)
        p.push_event("m", "u", "c", 1)
        p.flush_now()
        print("django imported without settings:", "django" in sys.modules)

        import django
        from django.conf import settings
        settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
                           INSTALLED_APPS=["cpp_event_processor"])
        django.setup()
        import django.db
        calls = []
        django.db.close_old_connections = lambda **kw: calls.append("close")
        def callback(events):
            calls.append(len(events))
        p.set_flush_callback(callback)
        for i in range(12):
            p.push_event("m", f"u{i}", "c", 1)
        p.flush_now()
        print("calls:", calls)
    """), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "django imported without settings: False" in out.stdout
    assert "calls: ['close', 5, 'close', 'close', 5, 'close', 'close', 2, 'close']" in out.stdout


def test_importing_does_not_start_the_jvm_and_creating_does():
    out = run_python(textwrap.dedent("""
        import streamrank, cpp_event_processor
        before = streamrank.jvm_started()
        p = cpp_event_processor.EventStreamProcessor(8, 1, 1, 1)
        print(before, streamrank.jvm_started())
    """))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_pushes_preempted_mid_stage_are_neither_lost_nor_duplicated(make):
    """A tiny GIL switch interval preempts pushers between taking a slot and filling it while
    other threads hand off (queries, a full stage): such slots are collected later."""
    import sys
    p = make(buffer_size=300, num_threads=2, batch_size=16, flush_interval_ms=2)
    got = Collector()
    p.set_flush_callback(got)
    accepted = [0] * 6
    stop = threading.Event()
    start = threading.Barrier(7)

    def produce(k):
        start.wait()
        for i in range(3000):
            if p.push_event("m", f"p{k}-{i}", "c", 1):
                accepted[k] += 1

    def query():
        start.wait()
        while not stop.is_set():
            p.total_events_processed()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=produce, args=(k,)) for k in range(6)]
        querier = threading.Thread(target=query)
        for t in threads + [querier]:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        querier.join()
    finally:
        sys.setswitchinterval(old)
    p.flush_now()
    ids = [e["user_id"] for e in got.events]
    assert len(ids) == len(set(ids)) == sum(accepted)
    assert p.total_events_processed() == sum(accepted)
    assert p.events_dropped() == 6 * 3000 - sum(accepted)
    assert p.pending_events() == 0


def test_push_event_takes_the_guides_keywords(make):
    p = make()
    got = Collector()
    p.set_flush_callback(got)
    assert p.push_event(event_type="message", user_id="42", channel_id="7", timestamp=1_700_000_000)
    p.flush_now()
    assert got.events == [{"type": "message", "user_id": "42", "channel_id": "7", "timestamp": 1_700_000_000}]


def test_close_racing_with_pushers_keeps_every_true_and_counts_every_false():
    p = EventStreamProcessor(4096, 2, 64, 5)
    got = Collector()
    p.set_flush_callback(got)
    results = [[] for _ in range(4)]
    started = threading.Barrier(5)

    def produce(k):
        started.wait()
        for i in range(20_000):
            results[k].append((f"p{k}-{i}", p.push_event("m", f"p{k}-{i}", "c", 1)))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    started.wait()
    while sum(len(r) for r in results) < 5000:
        time.sleep(0.001)  # let the producers get going (not synchronisation: any point will do)
    assert p.close() is True
    for t in threads:
        t.join()
    accepted = {u for r in results for u, ok in r if ok}
    refused = sum(1 for r in results for _, ok in r if not ok)
    delivered = [e["user_id"] for e in got.events]
    assert len(delivered) == len(set(delivered))
    assert set(delivered) == accepted
    assert p.total_events_processed() == len(accepted)
    assert p.events_dropped() == refused


def test_a_hand_off_whose_completion_was_not_recorded_is_resent_harmlessly(make):
    """White box: an interrupt between Java taking a packet and Python noting it leaves the
    stage's ``sent`` behind; the next hand-off sends those positions again and Java skips them."""
    p = make(batch_size=1000, flush_interval_ms=600_000)
    got = Collector()
    p.set_flush_callback(got)
    for i in range(5):
        assert p.push_event("m", f"u{i}", "c", 1)
    assert p.total_events_processed() == 5
    stage = p._core.stage
    assert stage.sent == 5
    stage.sent = 2  # as if interrupted after the Java call returned
    assert p.push_event("m", "u5", "c", 1)
    assert p.total_events_processed() == 6
    stage.sent = 0
    p.flush_now()
    assert [e["user_id"] for e in got.events] == [f"u{i}" for i in range(6)]



@pytest.mark.parametrize("stamp,says", [(1_700_000_000_000, "looks like milliseconds"),
                                         (1_700_000_000_000_000, "looks like microseconds"),
                                         (253402300800, "after 9999-12-31"),
                                         (2 ** 63, "64 bits")])
def test_a_timestamp_no_datetime_can_hold_is_refused_saying_why(make, stamp, says):
    """The guide's callback turns every timestamp into a datetime: one such event would
    dead-letter its whole batch, so it is refused at the push, with the reason."""
    p = make()
    p.set_time_source(lambda: 1_700_000_000)
    with pytest.raises(ValueError, match=says):
        p.push_event("m", "u", "c", stamp)
    assert p.push_event("m", "u", "c", 253402300799)
    assert p.total_events_processed() == 1 and p.events_dropped() == 0
