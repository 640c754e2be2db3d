"""Property tests: ``cpp_event_processor.EventStreamProcessor`` under random configurations,
producers, callback failures and stalls, compared with exact bookkeeping (issue 7).

For every example: the multiset of events whose ``push_event`` returned True equals the
multiset delivered to successful callbacks plus the dead-lettered ones, each exactly once; the
number of False pushes equals ``events_dropped()``; every batch holds at most ``batch_size``
events in per-producer push order; the live stats equal a model computed from the accepted
events.

Budget: ``HYPOTHESIS_PROFILE=ci|dev|soak`` (see ``hypothesis_profiles``).
"""
from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from hypothesis import given, note, strategies as st

from hypothesis_profiles import budget
from reliability_models import RecordingCallback, check_delivery, event_key, is_python_builtin_exception

from cpp_event_processor import EventStreamProcessor

T0 = 1_700_000_000
JOIN_TIMEOUT = 120  # a hang fails the test instead of blocking CI forever


def make_processor(buffer_size, num_threads, batch_size, flush_interval_ms, *, retries=2):
    """A processor whose failed batches are retried quickly (tests must not wait for a
    production backoff)."""
    return EventStreamProcessor(buffer_size, num_threads, batch_size, flush_interval_ms,
                                max_retries=retries, retry_backoff_ms=1)


def dead_letters(proc) -> list[list[dict]]:
    return [list(b) for b in proc.failed_batches()]


def schedule(seed: int, fail_rate: float, stall_rate: float, stall_s: float):
    rnd = random.Random(seed)
    lock = threading.Lock()

    def decide(_call_index):
        with lock:
            return rnd.random() < fail_rate, (stall_s if rnd.random() < stall_rate else 0.0)
    return decide


configs = st.fixed_dictionaries({
    "buffer_size": st.sampled_from([1, 2, 7, 64, 1000, 16384]),
    "num_threads": st.integers(1, 4),
    "batch_size": st.sampled_from([1, 2, 3, 10, 64, 500]),
    "flush_interval_ms": st.sampled_from([1, 5, 50, 1000]),
})


@budget(100)
@given(cfg=configs,
       producers=st.integers(1, 4),
       per_producer=st.integers(0, 400),
       fail_rate=st.sampled_from([0.0, 0.0, 0.05, 0.3]),
       stall_rate=st.sampled_from([0.0, 0.1]),
       retries=st.integers(0, 3),
       flushers=st.integers(0, 2),
       seed=st.integers(0, 2**32 - 1),
       finish=st.sampled_from(["close", "flush_then_close", "context"]))
def test_nothing_lost_nothing_duplicated(cfg, producers, per_producer, fail_rate, stall_rate,
                                         retries, flushers, seed, finish):
    proc = make_processor(**cfg, retries=retries)
    now = T0
    proc.set_time_source(lambda: now)
    cb = RecordingCallback(schedule(seed, fail_rate, stall_rate, 0.002))
    proc.set_flush_callback(cb)

    accepted: list[list[tuple]] = [[] for _ in range(producers)]
    rejected = [0] * producers
    start = threading.Barrier(producers + flushers)
    flush_errors: list[BaseException] = []
    done = threading.Event()

    def produce(k):
        start.wait()
        rnd = random.Random(seed + k)
        for seq in range(per_producer):
            ev = ("message" if seq % 3 else "reaction", f"p{k}-{seq}", f"c{rnd.randrange(5)}",
                  T0 - rnd.randrange(7200))
            ok = proc.push_event(*ev)
            assert ok is True or ok is False
            if ok:
                accepted[k].append(ev)
            else:
                rejected[k] += 1

    def flusher():
        start.wait()
        while not done.is_set():
            try:
                proc.flush_now()
            except Exception as exc:  # a dead-lettered batch is reported by raising
                flush_errors.append(exc)
                if not cb.failures:
                    raise

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
    threads += [threading.Thread(target=flusher) for _ in range(flushers)]
    for t in threads:
        t.start()
    for t in threads[:producers]:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "a producer hung"
    done.set()
    for t in threads[producers:]:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "flush_now hung"

    all_accepted = [e for a in accepted for e in a]
    if producers * per_producer <= cfg["buffer_size"]:
        # The oracle "nothing lost, nothing duplicated" alone would pass if every push were
        # refused: with room for every event, there must be no refusal at all.
        assert sum(rejected) == 0, f"{sum(rejected)} refusals with room for every event"
    # Stats are read-your-writes: exact before anything is delivered or closed.
    assert proc.total_events_processed() == len(all_accepted)
    assert proc.events_dropped() == sum(rejected)
    check_stats(proc, all_accepted, now)
    # The hour window is exact to the second as the clock moves on (expired minutes go).
    for later in sorted(random.Random(seed).sample(range(1, 7300), 4)) + [7300]:
        now = T0 + later
        check_stats(proc, all_accepted, now)

    if finish == "flush_then_close":
        try:
            proc.flush_now()
        except Exception:
            assert cb.failures, "flush_now raised though no callback failed"
        proc.close()
    elif finish == "context":
        with proc:
            pass
    else:
        proc.close()

    dead = dead_letters(proc)
    note(f"accepted={len(all_accepted)} rejected={sum(rejected)} batches={len(cb.batches)} "
         f"attempts={cb.attempts} failures={cb.failures} dead={len(dead)}")
    check_delivery(all_accepted, cb.batches, dead, cfg["batch_size"])
    if not cb.failures:
        assert not dead
    for e in flush_errors:
        assert is_python_builtin_exception(e), type(e)
    # total_events_flushed counts events whose callback returned (dead letters excluded).
    assert proc.total_events_flushed() == sum(len(b) for b in cb.batches)
    assert proc.pending_events() == 0
    # Closed: pushes are refused (False, counted) or raise RuntimeError; never accepted.
    try:
        assert proc.push_event("message", "after-close", "c", T0) is False
    except RuntimeError:
        pass


def check_stats(proc, accepted, now):
    channels = Counter(e[2] for e in accepted)
    want_top = sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))
    for k in (0, 1, 3, 10):
        assert proc.get_top_channels(k) == want_top[:k]
    users = {e[1] for e in accepted if now - 3600 < e[3] <= now}
    assert proc.get_unique_users_last_hour() == len(users)


@budget(25)
@given(cfg=configs, n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_flush_now_is_read_your_writes(cfg, n, seed):
    """After ``flush_now`` returns, every event accepted before the call has been delivered
    (no failures here, so nothing may be dead-lettered)."""
    proc = make_processor(**cfg)
    cb = RecordingCallback(schedule(seed, 0.0, 0.05, 0.001))
    proc.set_flush_callback(cb)
    rnd = random.Random(seed)
    accepted = []
    try:
        for i in range(n):
            ev = ("message", f"p0-{i}", f"c{i % 4}", T0 + i)
            if proc.push_event(*ev):
                accepted.append(ev)
            if rnd.random() < 0.1:
                proc.flush_now()
                got = Counter(event_key(e) for e in cb.delivered())
                assert got == Counter(accepted), "flush_now returned before delivering"
        proc.flush_now()
        check_delivery(accepted, cb.batches, [], cfg["batch_size"])
        assert proc.total_events_flushed() == len(accepted)
    finally:
        proc.close()


@budget(25)
@given(cfg=configs, before=st.integers(0, 200), after=st.integers(0, 50))
def test_events_pushed_without_a_callback_are_kept(cfg, before, after):
    proc = make_processor(**cfg)
    accepted = []
    try:
        for i in range(before):
            ev = ("message", f"p0-{i}", "c", T0)
            if proc.push_event(*ev):
                accepted.append(ev)
        assert len(accepted) == min(before, cfg["buffer_size"])
        assert proc.events_dropped() == before - len(accepted)
        cb = RecordingCallback()
        proc.set_flush_callback(cb)
        for i in range(before, before + after):
            ev = ("message", f"p0-{i}", "c", T0)
            if proc.push_event(*ev):
                accepted.append(ev)
        proc.flush_now()
        check_delivery(accepted, cb.batches, [], cfg["batch_size"])
    finally:
        proc.close()


@budget(20)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), batch_size=st.sampled_from([1, 5, 50]))
def test_dead_letters_can_be_redriven(seed, n, batch_size):
    """A callback that always fails dead-letters every batch; the application reads them with
    ``failed_batches()`` and re-drives them: together they are exactly the accepted events."""
    proc = make_processor(1024, 2, batch_size, 5, retries=1)
    always = RecordingCallback(lambda i: (True, 0.0))
    proc.set_flush_callback(always)
    accepted = []
    for i in range(n):
        ev = ("message", f"p0-{i}", f"c{i % 3}", T0)
        if proc.push_event(*ev):
            accepted.append(ev)
    with pytest.raises(Exception) as info:
        proc.flush_now()
    assert is_python_builtin_exception(info.value), type(info.value)
    dead = dead_letters(proc)
    check_delivery(accepted, [], dead, batch_size)
    ok = RecordingCallback()
    proc.set_flush_callback(ok)
    proc.redrive_failed()
    proc.flush_now()
    check_delivery(accepted, ok.batches, [], batch_size)
    assert dead_letters(proc) == []
    proc.close()
