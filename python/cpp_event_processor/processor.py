"""``EventStreamProcessor``: the ``cpp_event_processor`` API on the Java event pipeline.

The pipeline (bounded ingestion, batching, retry, dead letters, statistics) lives in Java
(``io.streamrank.events``). This module is the crossing, built so that an exception raised at
any bytecode (Ctrl-C, a signal handler's time limit) can neither lose, duplicate nor wedge:

* ``push_event`` validates, then stores its event with ONE C call into a bounded, append-only
  stage (``streamrank._stage``): the event is stored, or the stage is full. So an interrupted
  push took effect wholly or not at all, and any number of threads push without a lock.
* A stage's capacity is a credit Java granted: its free capacity when the stage was made. A
  hand-off sends the positions the stage holds from ``sent`` on, and Java takes only positions
  it has not taken yet (the hand-off is idempotent): an interrupt after Java took a packet and
  before Python noted it costs a resend, nothing more.
* A full stage is *retired*, under the lock, only after Java took all of it: the next stage
  (the next generation) gets Java's fresh free capacity. A push still holding the old stage can
  only fail on it and retry on the slow path. So a push is refused only when Java's buffer is
  really full at that hand-off.
* A background *ticker* thread hands off stragglers, so a lone event reaches Java within
  ``handoff_delay``; every query hands off the stage in the same Java call that answers it
  (read-your-writes in one crossing).
* ``num_threads`` worker threads each block in Java (``nextBatch``; JPype releases the GIL)
  for a packed batch, turn it into a ``list`` of ``dict``, call the callback and report the
  outcome; Java retries failures with back-off and dead-letters a batch after the last retry.

Every Java call goes through :meth:`_Core.call` (fork check, hand-off, error translation).
"""
from __future__ import annotations

import logging
import math
import numbers
import os
import struct
import sys
import threading
import time
import weakref

import jpype

from streamrank import _jvm, _lifecycle
from streamrank._errors import JException, translate
from streamrank._stage import BIG as _BIG, POSITIONS, Stage as _Stage
from streamrank._wire import Packer, Unpacker

__all__ = ["EventStreamProcessor", "DeliveryError"]

log = logging.getLogger("cpp_event_processor")

# The last second a datetime can hold (9999-12-31T23:59:59Z): the guide's callback turns every
# timestamp into one, so a later stamp (milliseconds by mistake) would dead-letter its batch.
_MAX_TS = 253402300799
_INT64_MAX = (1 << 63) - 1
_MAX_BUFFER = 1 << 30
_MAX_INT32 = (1 << 31) - 1
_MAX_THREADS = 256
# Largest stage: large enough to amortise the ~2 us Java call and the packing, small enough
# that the packet stays in cache (~25 KB) and a retired stage's memory is small.
_CHUNK = 512
# Packet header (PackedEventPort): credit (written by Java), the stage positions (generation,
# start, count), running drop total, now (epoch s), flags, zero.
_HEADER = struct.Struct("=q" + POSITIONS.format[1:] + "qqii")
_MAY_HOLD_PLACEHOLDERS = 1
# Fills the rest of a stage at close, so a late push into it fails (timestamp -1: no event).
_PLACEHOLDER = ("", "", "", -1)
_BATCH_HEAD = struct.Struct("=qii")  # batch id, failures so far, n
_INT = struct.Struct("=i")
# How long a worker blocks in Java per call, and a flush/close waits per Java call: bounds how
# late a stop request or Ctrl-C is noticed, not how fast events move.
_POLL_MS = 250
# Empty ticks before the ticker sleeps until a push wakes it, and the longest such sleep (a
# wake-up lost to a push interrupted between its store and its wake costs at most this).
_IDLE_TICKS = 20
_IDLE_WAIT_SECONDS = 1.0

# Counter ids of io.streamrank.events.PackedEventPort.counter
_ACCEPTED, _DROPPED, _PENDING, _DELIVERED = 0, 1, 2, 3

# Lifecycle of a processor (``_Core.state``); transitions only go forward.
_OPEN = "open"          # accepting
_CLOSED = "closed"      # close() began: pushes are refused; pending events are delivered
_FINISHED = "finished"  # threads stopped
_FORKED = "forked"      # a child forked after the JVM started: every call raises


class DeliveryError(RuntimeError):
    """``flush_now`` finished, but some batches ended in the dead-letter list (their callback
    kept failing). Read them with ``failed_batches()``; ``redrive_failed()`` retries them."""

    def __init__(self, message: str, failed_events: int):
        super().__init__(message)
        self.failed_events = failed_events


# Per thread: > 0 while this thread runs a flush callback (flush_now/close there would wait for
# the very thread that waits: they raise instead).
_callback_state = threading.local()


def _in_callback() -> bool:
    return getattr(_callback_state, "depth", 0) > 0


_django_close = None


def _django_close_old_connections():
    """``django.db.close_old_connections`` when this process runs a configured Django, else
    None. Never imports Django when the application did not."""
    global _django_close
    if _django_close is not None:
        return _django_close
    if "django" not in sys.modules:
        return None
    try:
        from django.conf import settings
        if not settings.configured:
            return None
        from django.db import close_old_connections
    except Exception:  # pragma: no cover - a half-installed Django: behave as without it
        return None
    _django_close = close_old_connections
    return _django_close


# ---------------------------------------------------------------------- validation

def _int_arg(name: str, value) -> int:
    """Any integral number but bool (numpy ints included), as a plain int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    return int(value)


def _bounded_int(name: str, value, minimum: int, maximum: int) -> int:
    value = _int_arg(name, value)
    if value < minimum:
        raise ValueError(f"{name} must be {'positive' if minimum == 1 else f'>= {minimum}'}, got {value}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def _timeout_seconds(timeout):
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    timeout = float(timeout)
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout}")
    return timeout


def _text(name: str, value) -> str:
    """A plain ``str`` that is valid Unicode: a lone surrogate (including a pair written as two
    code points, which Java would merge into one) is refused, as the leaderboard refuses it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    value = str.__str__(value)  # a str subclass travels as its value, not its __str__
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{name} must be valid Unicode (it contains a lone surrogate): {value!r}") from None
    return value


def _clock_value(value) -> int:
    """A time source's result as int epoch seconds in [0, 2**63)."""
    if type(value) is int and 0 <= value <= _INT64_MAX:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"the time source must return epoch seconds as a number, not {type(value).__name__}")
    if not isinstance(value, numbers.Integral):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"the time source returned {value!r}, not a finite number of epoch seconds")
        value = math.floor(value)
    value = int(value)
    if not 0 <= value <= _INT64_MAX:
        raise ValueError(f"the time source returned {value}, outside 0..2**63-1 epoch seconds")
    return value


# ---------------------------------------------------------------------- wire

def _event_dicts(strings, timestamps):
    it = iter(strings)
    return [{"type": t, "user_id": u, "channel_id": c, "timestamp": ts}
            for t, u, c, ts in zip(it, it, it, timestamps)]


def _decode_batch(data, pos: int = 0):
    """(batch id, failures so far, events, position after) of a packed batch at ``pos``."""
    batch_id, failures, n = _BATCH_HEAD.unpack_from(data, pos)
    reader = Unpacker(data)
    reader.pos = pos + _BATCH_HEAD.size
    strings = reader.read_strings()
    timestamps = reader.read_longs(n)
    return batch_id, failures, _event_dicts(strings, timestamps), reader


class _Core:
    """Everything the worker and ticker threads need; never refers to the facade strongly, so a
    processor nobody holds is collected (and closed) even when its callback refers back to it.

    ``lock`` serialises hand-offs (every Java call that takes the stage) and the lifecycle
    transitions. A signal handler that runs while this thread holds it (``_is_owned``) must not
    hand off again: the packet buffer is in use. Its calls answer without the stage instead.
    """

    __slots__ = (
        "port", "name", "lock", "stage", "dropped", "state", "target", "packer", "time_source",
        "facade_ref", "orphan_callback", "doomed", "max_retries", "wake", "ticker_idle",
        "workers", "ticker", "handoff_delay", "__weakref__",
    )

    def __init__(self, port, name: str, flush_interval_ms: int, max_retries: int):
        self.port = port
        self.name = name
        self.lock = threading.RLock()
        self.stage = _Stage(0, 0)  # the constructor's first refill installs generation 1
        self.dropped = 0           # pushes refused here, a running total; written under lock
        self.state = _OPEN
        self.target = None         # accepted count when Java stopped accepting (set by close)
        self.packer = Packer(1 << 16)
        self.time_source = None
        self.facade_ref = None     # weakref to the facade, which holds the callback
        self.orphan_callback = None  # the callback of a collected facade, until its events are out
        self.doomed = False        # the facade was collected without close(): the ticker closes
        self.max_retries = max_retries
        self.wake = threading.Event()
        self.ticker_idle = False
        self.workers: list = []
        self.ticker = None
        # Stragglers reach Java well within the interval; a few ms of staging amortises the
        # Java call.
        self.handoff_delay = max(0.0005, min(flush_interval_ms / 4000.0, 0.02))

    # ------------------------------------------------------------------ time

    def now_seconds(self) -> int:
        source = self.time_source
        if source is None:
            return int(time.time())
        return _clock_value(source())

    def packet_clock(self) -> int:
        """The clock for a packet: a broken time source must not stop events reaching Java, nor
        move the unique-users window (-1: Java leaves the window where it is)."""
        source = self.time_source
        if source is None:
            return int(time.time())
        try:
            return _clock_value(source())
        except Exception as exc:
            log.error("event processor %s: time source failed (%s); its events are handed over "
                      "without moving the unique-users window", self.name, exc)
            return -1

    def checked(self, event_type, user_id, channel_id, timestamp):
        """Slow-path validation: types, valid Unicode, and ``timestamp <= 0`` meaning now."""
        timestamp = _int_arg("timestamp", timestamp)
        if timestamp <= 0:
            timestamp = self.now_seconds()
        elif timestamp > _MAX_TS:
            if timestamp > _INT64_MAX:
                raise ValueError(f"timestamp must fit in 64 bits, got {timestamp}")
            problem = self.java(_jvm.jclass("io.streamrank.leaderboard.Timestamps").eventProblem, timestamp,
                                self.packet_clock())
            raise ValueError(f"timestamp {problem}")
        return (_text("event_type", event_type), _text("user_id", user_id),
                _text("channel_id", channel_id), timestamp)

    # ------------------------------------------------------------------ the crossing

    def call(self, method, *args):
        """The one way into Java: under the lock, hand the unsent part of the stage to
        ``method(buffer, length, *args)`` in the same call, and translate Java errors."""
        if self.state is _FORKED:
            _jvm.check_usable()
        if self.lock._is_owned():
            # A signal handler inside this thread's own hand-off: answer without the stage.
            return self.java(method, None, 0, *args)
        with self.lock:
            return self.call_locked(method, *args)

    def call_locked(self, method, *args):
        stage = self.stage
        end = len(stage)  # positions stored now; later pushes go in the next packet
        length = self.pack_locked(stage, end)
        result = self.java(method, self.packer.jbuffer, length, *args)
        stage.sent = end
        return result

    def java(self, method, *args):
        _jvm.check_usable()
        try:
            return method(*args)
        except JException as exc:
            raise translate(exc) from None

    def pack_locked(self, stage: _Stage, end: int) -> int:
        """Writes the packet for positions ``[stage.sent, end)``; returns its length."""
        start = stage.sent
        n = end - start
        packer = self.packer
        packer.reset()
        packer.put_struct(_HEADER, 0, stage.generation, start, n, self.dropped, self.packet_clock(),
                          _MAY_HOLD_PLACEHOLDERS if stage.sealed else 0, 0)
        if n:
            types, users, channels, timestamps = zip(*stage.unsent(end))
            packer.put_joined_strings(types + users + channels)
            packer.put_longs(timestamps)
        return packer.pos

    def refill_locked(self) -> int:
        """Under lock, with the stage full: hand the rest of it to Java, then make the next
        generation from Java's fresh free capacity. Returns that capacity."""
        stage = self.stage
        credit = int(self.call_locked(self.port.handoff))
        if self.state is _OPEN and stage.is_full() and self.stage is stage:
            self.stage = _Stage(stage.generation + 1, min(_CHUNK, credit))
        return credit

    def push_slow(self, event) -> bool:
        """The fast path found the stage full: refill and retry until the event is stored, or
        Java's buffer is full (or the processor closed): then a counted drop."""
        if self.state is _FORKED:
            _jvm.check_usable()
        if self.lock._is_owned():  # a signal handler's push inside our own hand-off
            self.dropped += 1
            return False
        with self.lock:
            while True:
                try:
                    self.stage.insert(_BIG, event)
                    return True
                except IndexError:
                    pass
                # Other producers may fill a fresh stage before this one stores: retry while
                # Java grants room.
                if self.state is not _OPEN or self.refill_locked() == 0:
                    self.dropped += 1
                    return False

    def has_unsent(self) -> bool:
        return self.stage.has_unsent()

    def wake_ticker(self) -> None:
        self.ticker_idle = False
        self.wake.set()

    # ------------------------------------------------------------------ callbacks

    def callback(self):
        facade = self.facade_ref() if self.facade_ref is not None else None
        if facade is not None:
            return facade._callback
        return self.orphan_callback

    def run_batch(self, data) -> None:
        """Decode one packed batch, run the callback, report the outcome to Java."""
        port = self.port
        batch_id, failures, events, _ = _decode_batch(bytes(data))
        callback = self.callback()
        if callback is None:
            port.release(batch_id)  # cleared meanwhile: keep the events for the next callback
            return
        close_old = _django_close_old_connections()
        _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
        error = None
        try:
            if close_old is not None:
                close_old()
            callback(events)
        except BaseException as exc:  # a worker must survive anything a callback raises
            error = exc
        finally:
            _callback_state.depth -= 1
            del callback
        if close_old is not None:
            try:
                close_old()
            except Exception:  # the batch's outcome stands: never re-run a callback that returned
                log.exception("django.db.close_old_connections() failed after a batch")
        if error is None:
            port.complete(batch_id)
            return
        attempt = failures + 1
        if attempt > self.max_retries:
            log.error("flush callback failed on batch %d (%d events), attempt %d of %d: moved to the "
                      "dead-letter list (failed_batches(), redrive_failed())", batch_id, len(events),
                      attempt, self.max_retries + 1, exc_info=error)
        else:
            log.warning("flush callback failed on batch %d (%d events), attempt %d of %d: will retry",
                        batch_id, len(events), attempt, self.max_retries + 1, exc_info=error)
        try:
            summary = f"{type(error).__name__}: {error}"
        except Exception:  # an exception whose __str__ fails
            summary = type(error).__name__
        port.fail(batch_id, summary)

    # ------------------------------------------------------------------ threads

    def start_threads(self, num_threads: int) -> None:
        for i in range(num_threads):
            t = threading.Thread(target=_worker_loop, args=(self,), name=f"{self.name}-worker-{i}", daemon=True)
            self.workers.append(t)
        self.ticker = threading.Thread(target=_ticker_loop, args=(self,), name=f"{self.name}-ticker", daemon=True)
        for t in self.workers:
            t.start()
        self.ticker.start()

    # ------------------------------------------------------------------ close

    def stop_accepting(self, at_exit: bool = False) -> int:
        """Once (idempotent, and safe to re-run after an interrupt): refuse later pushes, give
        Java the rest of the stage, stop Java accepting. Returns the accepted count then.

        ``at_exit``: the graceful stop (a SIGTERM's handler, or interpreter exit) may run while
        this thread is inside a hand-off it interrupted. That hand-off never resumes (the
        process ends after the stop hooks), so closing over it is safe: the packet is rebuilt
        from the stage, and Java skips whatever the interrupted one already gave it."""
        if self.target is not None:
            return self.target
        if self.lock._is_owned() and not at_exit:
            raise RuntimeError("close() cannot be called from a signal handler that interrupted this "
                               "thread while it handed events over; call it outside the handler")
        with self.lock:
            if self.target is not None:
                return self.target
            if self.state is _OPEN:
                self.state = _CLOSED  # pushes that find the stage full are dropped from now on
            stage = self.stage
            stage.sealed = True
            # Fill the stage so that a push still holding it fails: each insert is one C call,
            # and a push storing meanwhile just takes a position before the placeholders.
            while True:
                try:
                    stage.insert(_BIG, _PLACEHOLDER)
                except IndexError:
                    break
            self.target = int(self.call_locked(self.port.close))
            return self.target

    def wait_settled(self, target: int, deadline):
        """Waits (GIL released in slices) until events below ``target`` settled. Returns the
        dead-letter event count, or -1 when ``deadline`` (monotonic, None: none) passed."""
        while True:
            if deadline is None:
                slice_ms = _POLL_MS
            else:
                slice_ms = int(min(_POLL_MS, max(0.0, deadline - time.monotonic()) * 1000))
            result = int(self.java(self.port.awaitSettled, target, slice_ms))
            if result >= 0:
                return result
            if deadline is not None and time.monotonic() >= deadline:
                return -1

    def finish(self, deadline) -> None:
        """Stops the threads (after stop_accepting). Idempotent."""
        with self.lock:
            if self.state in (_FINISHED, _FORKED):
                return
            self.state = _FINISHED
        self.wake.set()
        try:
            self.port.shutdown()
        except JException as exc:  # pragma: no cover - shutdown only flips flags
            log.error("event processor %s: shutdown failed: %s", self.name, translate(exc))
        me = threading.current_thread()
        for t in self.workers + [self.ticker]:
            if t is not None and t is not me and t.is_alive():
                t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self.orphan_callback = None
        _LIVE.discard(self)

    def close(self, timeout, at_exit: bool = False) -> bool:
        """Stop accepting, deliver what is pending (``timeout`` seconds at most; None: until
        done), stop the threads. True if every accepted event was delivered."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.state is _FINISHED:
            return self.java(self.port.counter, None, 0, _PENDING) == 0
        target = self.stop_accepting(at_exit)
        delivered_all = True
        if self.callback() is None:
            pending = int(self.java(self.port.counter, None, 0, _PENDING))
            if pending:
                log.warning("event processor %s closed with %d events undelivered: no flush callback was set",
                            self.name, pending)
                delivered_all = False
        else:
            result = self.wait_settled(target, deadline)
            if result < 0:
                log.warning("event processor %s closed after waiting %.1f s with %d events undelivered",
                            self.name, timeout, int(self.java(self.port.counter, None, 0, _PENDING)))
                delivered_all = False
            elif result > 0:
                log.error("event processor %s closed with %d events in the dead-letter list", self.name, result)
        self.finish(deadline if not at_exit else time.monotonic() + 1.0)
        return delivered_all


def _detach_from_jvm() -> None:
    """A thread that called into Java stays attached (a live JVM thread) until it detaches."""
    try:
        if jpype.isJVMStarted() and not _jvm.STATE.forked:
            jpype.java.lang.Thread.detach()
    except BaseException:  # pragma: no cover - JVM going away at exit
        pass


def _worker_loop(core: _Core) -> None:
    port = core.port
    try:
        while core.state is not _FINISHED and core.state is not _FORKED:
            try:
                data = port.nextBatch(_POLL_MS)
            except JException as exc:
                log.error("event processor %s worker: nextBatch failed: %s", core.name, translate(exc))
                core.wake.wait(0.1)
                continue
            if data is None:
                if port.isFinished():
                    return
                continue
            try:
                core.run_batch(data)
            except JException as exc:
                log.error("event processor %s worker: reporting a batch failed: %s", core.name, translate(exc))
            except Exception:  # pragma: no cover - decoding bug: keep the worker alive
                log.exception("event processor %s worker: unexpected error", core.name)
    except BaseException:  # pragma: no cover - JVM going away at exit
        return
    finally:
        _detach_from_jvm()


def _ticker_loop(core: _Core) -> None:
    """Hands off stragglers: events that sat in the stage for ``handoff_delay`` go to Java.

    While events keep coming the ticker wakes every ``handoff_delay``; after ``_IDLE_TICKS``
    ticks with nothing unsent it sleeps on ``wake``, which the next push sets
    (``ticker_idle``: the push stores, then reads the flag; the ticker sets the flag, then
    looks at the stage, so one of the two sees the other). It also closes a processor whose
    facade was collected (``doomed``)."""
    delay = core.handoff_delay
    idle_ticks = 0
    try:
        while core.state is _OPEN:
            if core.doomed:
                core.close(None)
                return
            if core.has_unsent():
                idle_ticks = 0
                core.wake.wait(delay)
                core.wake.clear()
                if core.state is not _OPEN:
                    return
                try:
                    core.call(core.port.handoff)
                except Exception as exc:
                    if core.state is _FORKED:
                        return
                    log.error("event processor %s: handing staged events to Java failed: %s", core.name, exc)
                    core.wake.wait(0.1)
                continue
            idle_ticks += 1
            if idle_ticks < _IDLE_TICKS:
                core.wake.wait(delay)
                core.wake.clear()
                continue
            core.ticker_idle = True
            if not core.has_unsent():
                core.wake.wait(_IDLE_WAIT_SECONDS)
            core.wake.clear()
            core.ticker_idle = False
            idle_ticks = 0
    except BaseException as exc:  # pragma: no cover - JVM going away at exit
        if core.state is _OPEN:
            log.error("event processor %s: ticker stopped: %s", core.name, exc)
    finally:
        _detach_from_jvm()


# Open processors' cores (strong references: a processor collected without close() is closed by
# its ticker, and its workers finish delivering in the background; interpreter exit waits).
_LIVE: "set[_Core]" = set()
_FACADES: "set" = set()  # weak references to facades, for the fork hook
_atexit_registered = False
_atexit_lock = threading.Lock()


def _register_atexit() -> None:
    """Registers the graceful-stop hook once: streamrank._lifecycle runs it at interpreter exit
    (before JPype's own exit hook shuts the JVM down) and on a SIGTERM the application does not
    handle, with one deadline for every open processor."""
    global _atexit_registered
    with _atexit_lock:
        if not _atexit_registered:
            _lifecycle.on_stop(_close_all_at_exit)
            _atexit_registered = True


def _close_all_at_exit(deadline: float) -> None:
    cores = list(_LIVE)
    if not cores or _jvm.STATE.forked:
        return
    for core in cores:
        try:
            core.close(max(0.0, deadline - time.monotonic()), at_exit=True)
        except BaseException as exc:  # pragma: no cover - best effort at exit
            log.error("event processor %s: delivery at exit failed: %s", core.name, exc)


def _after_fork_in_child() -> None:
    """A JVM does not survive fork: every processor in the child raises on use. Replace the
    locks (another thread may have held them at the fork) and make every push fail."""
    if not _jvm.STATE.started:
        return
    for ref in list(_FACADES):
        facade = ref()
        if facade is None:
            continue
        core = facade._core
        core.state = _FORKED
        core.lock = threading.RLock()
        core.stage = _Stage(0, 0)
        facade.push_event = _forked_push
    _LIVE.clear()


def _forked_push(event_type, user_id, channel_id, timestamp):
    _jvm.check_usable()
    raise RuntimeError("streamrank: this processor cannot be used in a forked child")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _make_push(core: _Core):
    """The hot path, as a closure (locals are the fastest loads): validation, then one C call
    that stores the event or raises because the stage is full (see ``_Stage``)."""
    checked = core.checked
    push_slow = core.push_slow
    big = _BIG
    max_ts = _MAX_TS

    def push_event(event_type, user_id, channel_id, timestamp):
        """Queue one event; ``True`` if accepted (it will reach the callback), ``False`` if the
        buffer is full or the processor closed (counted by ``events_dropped()``). Never blocks.
        ``timestamp`` is epoch seconds; ``<= 0`` means now."""
        if type(event_type) is str and type(user_id) is str and type(channel_id) is str \
                and type(timestamp) is int and 0 < timestamp <= max_ts \
                and event_type.isascii() and user_id.isascii() and channel_id.isascii():
            event = (event_type, user_id, channel_id, timestamp)
        else:
            event = checked(event_type, user_id, channel_id, timestamp)
        try:
            core.stage.insert(big, event)
        except IndexError:
            return push_slow(event)
        if core.ticker_idle:
            core.wake_ticker()
        return True

    return push_event


class EventStreamProcessor:
    """Batched, bounded, lossless event ingestion with live statistics.

    ``EventStreamProcessor(buffer_size, num_threads, batch_size, flush_interval_ms)``, all
    positive ints. Keyword-only extras: ``max_retries`` (default 3) retries of a batch whose
    callback raised, after ``retry_backoff_ms`` (default 100) doubling up to
    ``max_retry_backoff_ms`` (default 5000); after the last retry the batch goes to the
    dead-letter list (``failed_batches()``, ``redrive_failed()``, ``discard_failed()``).
    """

    def __init__(self, buffer_size, num_threads, batch_size, flush_interval_ms, *,
                 max_retries=3, retry_backoff_ms=100, max_retry_backoff_ms=5000):
        buffer_size = _bounded_int("buffer_size", buffer_size, 1, _MAX_BUFFER)
        num_threads = _bounded_int("num_threads", num_threads, 1, _MAX_THREADS)
        batch_size = _bounded_int("batch_size", batch_size, 1, _MAX_INT32)
        flush_interval_ms = _bounded_int("flush_interval_ms", flush_interval_ms, 1, _MAX_INT32)
        max_retries = _bounded_int("max_retries", max_retries, 0, 1000)
        retry_backoff_ms = _bounded_int("retry_backoff_ms", retry_backoff_ms, 0, _MAX_INT32)
        max_retry_backoff_ms = _bounded_int("max_retry_backoff_ms", max_retry_backoff_ms, 0, _MAX_INT32)
        if max_retry_backoff_ms < retry_backoff_ms:
            raise ValueError(f"max_retry_backoff_ms ({max_retry_backoff_ms}) must be >= retry_backoff_ms "
                             f"({retry_backoff_ms})")
        self._callback = None
        _jvm.start()
        Port = _jvm.jclass("io.streamrank.events.PackedEventPort")
        try:
            port = Port(buffer_size, batch_size, flush_interval_ms, max_retries, retry_backoff_ms,
                        max_retry_backoff_ms)
            port.setDeliveryEnabled(False)  # events wait for a callback
        except JException as exc:
            raise translate(exc) from None
        self._config = (buffer_size, num_threads, batch_size, flush_interval_ms)
        core = _Core(port, f"EventStreamProcessor-{id(self):x}", flush_interval_ms, max_retries)
        core.facade_ref = weakref.ref(self)
        self._core = core
        with core.lock:
            core.refill_locked()  # generation 1, sized by Java's free capacity
        self.push_event = _make_push(core)
        _register_atexit()
        _LIVE.add(core)
        _FACADES.add(weakref.ref(self, _FACADES.discard))
        core.start_threads(num_threads)

    def __del__(self):
        # Collected without close() (also as part of a cycle through its callback): hand the
        # callback to the core and let the ticker close it, delivering what is pending. No lock
        # and no thread start here: a collection runs on any thread, at any bytecode.
        core = getattr(self, "_core", None)
        if core is not None and core.state is _OPEN:
            core.orphan_callback = self._callback
            core.doomed = True
            core.ticker_idle = False

    # Documented here; each instance carries a faster closure under the same name.
    def push_event(self, event_type, user_id, channel_id, timestamp):  # pragma: no cover - shadowed
        """Queue one event; ``True`` if accepted, ``False`` if dropped (buffer full or closed)."""
        return self.push_event(event_type, user_id, channel_id, timestamp)

    # ------------------------------------------------------------------ callback

    def set_flush_callback(self, callback) -> None:
        """``callback(events)`` receives each batch (a list of event dicts) on a worker
        thread; ``None`` stops deliveries (events are kept until a callback is set)."""
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, not {type(callback).__name__}")
        core = self._core
        self._callback = callback
        core.java(core.port.setDeliveryEnabled, callback is not None and core.state is not _FINISHED)

    def set_time_source(self, source) -> None:
        """``source()`` returns epoch seconds (tests move time with it); ``None``: the wall
        clock. Used for ``timestamp <= 0`` and the unique-users window."""
        if source is not None and not callable(source):
            raise TypeError(f"time source must be callable or None, not {type(source).__name__}")
        _jvm.check_usable()  # "any use" in a forked child raises, these pure-Python ones too
        self._core.time_source = source

    def get_current_time(self) -> int:
        """The processor's clock, epoch seconds."""
        _jvm.check_usable()
        return self._core.now_seconds()

    # ------------------------------------------------------------------ flush / close

    def flush_now(self, timeout=None) -> None:
        """Returns once every event accepted before the call was delivered and its callback
        returned. Raises ``DeliveryError`` if batches ended in the dead-letter list,
        ``TimeoutError`` if ``timeout`` (seconds) passed first, ``RuntimeError`` if called from
        a flush callback."""
        timeout = _timeout_seconds(timeout)
        if _in_callback():
            raise RuntimeError("flush_now() cannot be called from inside a flush callback: it would wait "
                               "for the callback that calls it")
        core = self._core
        if core.lock._is_owned():
            raise RuntimeError("flush_now() cannot be called from a signal handler that interrupted "
                               "this thread while it handed events over; call it outside the handler")
        target = int(core.call(core.port.flushTarget))
        result = core.wait_settled(target, None if timeout is None else time.monotonic() + timeout)
        if result < 0:
            raise TimeoutError(f"flush_now() timed out after {timeout} s with {self.pending_events()} "
                               "events not yet delivered")
        if result > 0:
            raise DeliveryError(f"{result} events are in the dead-letter list: their callback kept failing "
                                "(see failed_batches(), redrive_failed())", result)

    def close(self, timeout=None) -> bool:
        """Stop accepting (later pushes return False), deliver what is pending (waiting up to
        ``timeout`` seconds, None: until done), stop the threads. Returns True if every event
        was delivered. Idempotent."""
        timeout = _timeout_seconds(timeout)
        if _in_callback():
            raise RuntimeError("close() cannot be called from inside a flush callback: it would wait for "
                               "the callback that calls it")
        core = self._core
        if core.state is _FORKED:
            _jvm.check_usable()
        return core.close(timeout)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # ------------------------------------------------------------------ statistics

    def get_unique_users_last_hour(self) -> int:
        """Distinct user_ids with an event stamped within the last 3600 s of the processor's
        clock (see docs/event_processor.md for future-stamped events and clock steps)."""
        core = self._core
        return int(core.call(core.port.uniqueUsersLastHour, core.now_seconds()))

    def get_top_channels(self, k) -> list:
        """``[(channel_id, count), ...]``: the k channels with the most accepted events, count
        descending, ties by channel_id; ``[]`` when ``k <= 0``."""
        k = _int_arg("k", k)
        if k <= 0:
            return []
        core = self._core
        reader = Unpacker(bytes(core.call(core.port.topChannels, min(k, _MAX_INT32))))
        count = reader.read_int()
        ids = reader.read_strings()
        return list(zip(ids, reader.read_longs(count)))

    def _counter(self, which: int) -> int:
        core = self._core
        return int(core.call(core.port.counter, which))

    def total_events_processed(self) -> int:
        """Events accepted since start (they are in the statistics)."""
        return self._counter(_ACCEPTED)

    def events_dropped(self) -> int:
        """Events refused: the buffer was full, or the processor was closed."""
        return self._counter(_DROPPED)

    def pending_events(self) -> int:
        """Accepted events not yet delivered (staged, queued, batched, in a callback, or waiting
        for a retry); dead-lettered events are not pending."""
        return self._counter(_PENDING)

    def total_events_flushed(self) -> int:
        """Events whose callback returned successfully."""
        return self._counter(_DELIVERED)

    # ------------------------------------------------------------------ dead letters

    def failed_batches(self) -> list:
        """The dead-lettered batches, oldest first, each a list of event dicts as the callback
        received it."""
        core = self._core
        data = bytes(core.java(core.port.failedBatches))
        (count,) = _INT.unpack_from(data, 0)
        out = []
        pos = 4
        for _ in range(count):
            _, _, events, reader = _decode_batch(data, pos)
            reader.read_strings()  # last error (logged when it happened)
            out.append(events)
            pos = reader.pos
        return out

    def redrive_failed(self) -> int:
        """Queues every dead-lettered batch for delivery again; returns the number of events."""
        core = self._core
        return int(core.java(core.port.redriveFailed))

    def discard_failed(self) -> int:
        """Drops the dead-lettered batches (freeing their buffer space); returns the number of
        events discarded."""
        core = self._core
        return int(core.java(core.port.discardFailed))

    def __repr__(self) -> str:
        b, t, s, f = self._config
        state = "open" if self._core.state is _OPEN else "closed"
        return (f"<EventStreamProcessor buffer_size={b} num_threads={t} batch_size={s} "
                f"flush_interval_ms={f} {state}>")
