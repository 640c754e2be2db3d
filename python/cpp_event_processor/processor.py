"""``EventStreamProcessor``: the ``cpp_event_processor`` API on the Java event pipeline.

The pipeline (bounded ingestion, batching, retry, dead letters, statistics) lives in Java
(``io.streamrank.events``); this module is a thin fast facade:

* ``push_event`` never crosses into Java and takes no lock. It validates, then *stages* the
  event in a slot of the current generation claimed with a ticket (``_Generation``), within a
  capacity *credit* Java granted at the last hand-off (Java's free capacity, which can only
  grow until the next hand-off). When the generation is full (the credit or ``_CHUNK``
  events) it is handed to Java in one packed call (``streamrank._wire``), which returns the new
  credit. So ``True`` always means Java will accept the event, and ``buffer_size`` bounds
  staged + queued + batched + in-callback events exactly.
* A background *ticker* thread hands off stragglers, so a lone event reaches Java quickly and
  is delivered ``flush_interval_ms`` after it was pushed (Java dates each packet by the age of
  its oldest event).
* Every query hands off the stage in the same Java call that answers it (read-your-writes in
  one crossing).
* ``num_threads`` worker threads each block in Java (``nextBatch``; JPype releases the GIL)
  for a packed batch, turn it into a ``list`` of ``dict``, call the callback and report the
  outcome; Java retries failures with back-off and dead-letters a batch after the last retry.
"""
from __future__ import annotations

import itertools
import logging
import os
import struct
import sys
import threading
import time
import weakref

from streamrank import _jvm, _lifecycle
from streamrank._errors import JException, is_java, translate
from streamrank._wire import Packer, Unpacker

__all__ = ["EventStreamProcessor", "DeliveryError"]

log = logging.getLogger("cpp_event_processor")

_MAX_TS = (1 << 63) - 1
_MAX_BUFFER = 1 << 30
_MAX_INT32 = (1 << 31) - 1
_MAX_THREADS = 256
# Events staged before a hand-off even with credit left: large enough to amortise the ~2 us
# Java call and the packing, small enough that the packet stays in cache (~25 KB).
_CHUNK = 512
# Smallest generation after a hand-off that found the stage nearly empty.
_MIN_GENERATION = 64
# Packet header: credit (written by Java), n, dropped, now (epoch s), age of oldest (ns).
_HEADER = struct.Struct("=qiiqq")
_CREDIT = struct.Struct("=q")
_BATCH_HEAD = struct.Struct("=qii")  # batch id, failures so far, n
_INT = struct.Struct("=i")
# How long a worker blocks in Java per call, and a flush/close waits per Java call: bounds how
# late a stop request or Ctrl-C is noticed, not how fast events move.
_POLL_MS = 250
# Empty ticks before the ticker sleeps until the next push wakes it.
_IDLE_TICKS = 20
# Bounded wait for pending deliveries when the interpreter exits.
ATEXIT_TIMEOUT_SECONDS = 10.0

# Counter ids of io.streamrank.events.PackedEventPort.counter
_ACCEPTED, _DROPPED, _PENDING, _DELIVERED = 0, 1, 2, 3


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


def _positive_int(name: str, value, maximum: int) -> int:
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    value = int(value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def _non_negative_int(name: str, value, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def _timeout_seconds(timeout):
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout}")
    return float(timeout)


def _event_dicts(strings, timestamps):
    it = iter(strings)
    return [{"type": t, "user_id": u, "channel_id": c, "timestamp": ts}
            for t, u, c, ts in zip(it, it, it, timestamps)]


def _decode_batch(data):
    """(batch id, failures so far, events) from a packed batch."""
    batch_id, failures, n = _BATCH_HEAD.unpack_from(data, 0)
    reader = Unpacker(data)
    reader.pos = _BATCH_HEAD.size
    strings = reader.read_strings()
    timestamps = reader.read_longs(n)
    return batch_id, failures, _event_dicts(strings, timestamps)


class _Generation:
    """One stage: ``limit`` slots that pushes claim with tickets, without a lock.

    A push takes ticket ``i = next(tickets)`` (atomic under the GIL: ``itertools.count`` is C),
    then, if ``i < limit`` and the generation is still ``open``, stores its event tuple in
    ``slots[i]``; if it finds the generation closed it stores ``_REJECTED`` instead (so every
    slot below the tickets handed out is eventually filled, without a lock) and retries on the
    slow path. A hand-off closes the generation (``open = False``, then draws a ticket ``k``
    itself: every later ticket sees it closed), takes the filled slots ``[0, min(k, limit))``
    and leaves a slot still ``None`` (its push is between ticket and store: preempted, or
    interrupted by a signal handler in this very thread) as a *leftover* that a later
    hand-off collects. Ticket order is push order.
    """

    __slots__ = ("tickets", "limit", "open", "slots", "first_ns")

    def __init__(self, limit: int):
        self.tickets = itertools.count()
        self.limit = limit
        self.open = True
        self.slots = [None] * limit
        self.first_ns = 0  # when slot 0 was filled (0: not yet)


_REJECTED = object()  # a slot whose push found its generation closed (not a tuple: zip(*) fails on it)


class _Core:
    """Everything the worker and ticker threads (and the finalizer) need; never refers to the
    ``EventStreamProcessor`` itself, so an unreferenced processor can be collected (and closed).

    Staging invariants (``lock`` serialises hand-offs and slow paths; the push fast path takes
    no lock, see ``_Generation``):
      * Python holds events Java has not accepted yet: ``unsent`` (a hand-off whose Java call
        failed), ``leftovers`` (slots of closed generations whose push has not stored yet) and
        the current generation. Their total never exceeds ``credit``, Java's free capacity at
        the last hand-off (a lower bound of the current one): each hand-off sizes the next
        generation as ``credit`` minus what it holds. So every accepted push fits in Java.
      * ``sending`` is True from closing a generation until Java took the packet; a re-entrant
        call in that window (a signal handler in this thread) must not hand off again.
    """

    __slots__ = (
        "port", "lock", "gen", "leftovers", "unsent", "credit", "dropped_unsent",
        "packer", "sending", "closed", "forked", "time_source", "callback", "max_retries",
        "wake", "ticker_idle", "stop", "workers", "ticker", "handoff_delay", "finished",
        "finish_lock", "name", "__weakref__",
    )

    def __init__(self, port, name: str, flush_interval_ms: int, max_retries: int):
        self.port = port
        self.name = name
        self.lock = threading.RLock()
        self.gen = _Generation(0)  # the first hand-off (in the constructor) sizes a real one
        self.leftovers: list = []  # (generation, slot index) still None
        self.unsent: list = []     # event tuples Java has not taken (its call failed)
        self.credit = 0
        self.dropped_unsent = 0
        self.packer = Packer(1 << 16)
        self.sending = False
        self.closed = False
        self.forked = False
        self.time_source = None
        self.callback = None
        self.max_retries = max_retries
        self.wake = threading.Event()
        self.ticker_idle = False
        self.stop = threading.Event()
        self.workers: list = []
        self.ticker = None
        # Stragglers reach Java well before their batch is due (Java counts the interval from
        # the push, not from the hand-off); a few ms of staging amortises the Java call.
        self.handoff_delay = max(0.0005, min(flush_interval_ms / 4000.0, 0.02))
        self.finished = False
        self.finish_lock = threading.Lock()

    # ------------------------------------------------------------------ time

    def now_seconds(self) -> int:
        source = self.time_source
        if source is None:
            return int(time.time())
        value = source()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"time source must return epoch seconds as int or float, not {type(value).__name__}")
        return int(value // 1)

    # ------------------------------------------------------------------ staging

    def stamp(self, timestamp: int) -> int:
        """An int timestamp outside (0, 2**63): ``<= 0`` means now, above is an error."""
        if timestamp <= 0:
            return self.now_seconds()
        raise ValueError(f"timestamp must fit in 64 bits, got {timestamp}")

    def checked(self, event_type, user_id, channel_id, timestamp):
        """Slow-path validation: the types, and ``timestamp <= 0`` meaning now."""
        for name, value in (("event_type", event_type), ("user_id", user_id), ("channel_id", channel_id)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be str, not {type(value).__name__}")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise TypeError(f"timestamp must be int (epoch seconds), not {type(timestamp).__name__}")
        timestamp = int(timestamp)
        if timestamp <= 0:
            timestamp = self.now_seconds()
        elif timestamp > _MAX_TS:
            raise ValueError(f"timestamp must fit in 64 bits, got {timestamp}")
        # str subclasses travel as plain str (their value, not their __str__).
        return (str.__str__(event_type), str.__str__(user_id), str.__str__(channel_id), timestamp)

    def first_staged(self, gen: _Generation) -> None:
        """After slot 0 of ``gen`` was filled: date the stage, wake an idle ticker. (In this
        order: the ticker sets ``ticker_idle`` then looks at slot 0, so one of the two sees
        the other.)"""
        gen.first_ns = time.monotonic_ns()
        if self.ticker_idle:
            self.ticker_idle = False
            self.wake.set()

    def has_staged(self) -> bool:
        """True if a push into the current generation completed (or older ones wait). Slot 0
        is filled first in the common case; when it is empty, a later slot may still be filled
        (its push returned while the holder of ticket 0 was preempted), so look at them all."""
        if self.leftovers or self.unsent:
            return True
        slots = self.gen.slots
        if not slots:
            return False
        return slots[0] is not None or slots.count(None) != len(slots)

    def push_slow(self, seen: _Generation, event) -> bool:
        """The fast path found ``seen`` full or closed: hand off for fresh credit, then retry
        once; ``False`` (a counted drop) if there is still no room or the processor closed."""
        with self.lock:
            if self.forked:
                _jvm.check_usable()
            if self.closed:
                self.dropped_unsent += 1
                return False
            gen = self.gen
            if gen is seen and not self.sending:
                self.send_locked(None)
                gen = self.gen
            i = next(gen.tickets)
            if i < gen.limit:
                if gen.open:
                    gen.slots[i] = event
                    if not i:
                        self.first_staged(gen)
                    return True
                gen.slots[i] = _REJECTED
            self.dropped_unsent += 1
            return False

    def _collect_locked(self, old: _Generation):
        """Closes ``old``; returns (columns, n, first_ns): the events Java must get now, oldest
        first, as (types, users, channel_ids, timestamps) tuples (None when there are none).
        Slots still being written become leftovers."""
        old.open = False
        k = next(old.tickets)  # every ticket after this one sees the generation closed
        n = k if k < old.limit else old.limit
        slots = old.slots if n == old.limit else old.slots[:n]
        if not self.leftovers and not self.unsent:
            if not n:
                return None, 0, 0
            try:
                return tuple(zip(*slots)), n, old.first_ns  # fails on None / _REJECTED
            except TypeError:
                pass
        events = self.unsent
        self.unsent = []
        still = []
        for gen, idx in self.leftovers:
            e = gen.slots[idx]
            if e is None:
                still.append((gen, idx))
            elif e is not _REJECTED:
                events.append(e)
        for idx, e in enumerate(slots):
            if e is None:
                still.append((old, idx))
            elif e is not _REJECTED:
                events.append(e)
        self.leftovers = still
        if not events:
            return None, 0, old.first_ns
        return tuple(zip(*events)), len(events), old.first_ns

    def send_locked(self, method, *args, header: bool = True):
        """Under lock: hands the stage to Java through ``method(buffer, length, *args)`` (a
        plain hand-off when ``method`` is None) and returns its result. With nothing staged
        and nothing to report, sends no packet (length 0) unless ``header`` asks for the
        credit reply."""
        _jvm.check_usable()
        port = self.port
        if self.sending:
            # Re-entered from a signal handler in the middle of a hand-off: the packet in the
            # buffer is not ours to touch. Answer without the stage.
            if method is None:
                return None
            try:
                return method(None, 0, *args)
            except JException as exc:
                raise translate(exc) from None
        gen = self.gen
        if not (header and method is None) and not self.dropped_unsent and not self.has_staged():
            # Nothing to hand over: no push into this generation completed (one that holds a
            # ticket but has not stored has not returned: read-your-writes does not need it).
            try:
                return method(None, 0, *args)
            except JException as exc:
                raise translate(exc) from None
        self.sending = True
        try:
            columns, n, first_ns = self._collect_locked(gen)
            limit = 0 if self.closed else min(_CHUNK, self.credit - n - len(self.leftovers))
            # Size the next generation from this one: a stage that filled up grows (x4) back to
            # _CHUNK at once; one a query or the ticker drained early stays small, so a query
            # after every push (the guide's on_message) does not allocate 512 slots each time.
            if n < gen.limit:
                limit = min(limit, max(_MIN_GENERATION, 4 * n))
            self.gen = _Generation(limit if limit > 0 else 0)  # pushes go on while Java works
            dropped = self.dropped_unsent
            if not n and not dropped and not (header and method is None):
                length = 0
            else:
                length = self.pack_locked(columns, n, first_ns, dropped)
            try:
                if method is None:
                    result = port.handoff(self.packer.jbuffer, length)
                else:
                    result = method(self.packer.jbuffer if length else None, length, *args)
            except BaseException as exc:
                if n:  # Java did not take them: keep them, first, for the next hand-off
                    self.unsent = list(zip(*columns)) + self.unsent
                if is_java(exc):  # not isinstance: that aborts the process once the JVM shuts down
                    raise translate(exc) from None
                raise
            if length:
                self.dropped_unsent -= dropped
                (self.credit,) = self.packer.unpack_from(_CREDIT, 0)
                gen = self.gen
                if gen.limit == 0 and not self.closed:
                    # Sized from a stale credit of 0 before the call; the reply says there is
                    # room. A zero-size generation holds nothing: swap it for a real one.
                    limit = min(_CHUNK, self.credit - len(self.leftovers) - len(self.unsent))
                    if limit > 0:
                        gen.open = False
                        self.gen = _Generation(limit)
            return result
        finally:
            self.sending = False

    def pack_locked(self, columns, n: int, first_ns: int, dropped: int) -> int:
        packer = self.packer
        packer.reset()
        age = time.monotonic_ns() - first_ns if n and first_ns else 0
        try:
            now = self.now_seconds()
        except Exception as exc:  # a broken time source must not stop events reaching Java
            log.error("event processor: time source failed (%s); using the wall clock", exc)
            now = int(time.time())
        packer.put_struct(_HEADER, 0, n, dropped, now, age)
        if n:
            types, users, channels, timestamps = columns
            packer.put_joined_strings(types + users + channels)
            packer.put_longs(timestamps)
        return packer.pos

    def query(self, method, *args):
        """Hands off the stage and runs ``method`` in one Java call."""
        with self.lock:
            return self.send_locked(method, *args, header=False)

    # ------------------------------------------------------------------ threads

    def start_threads(self, num_threads: int) -> None:
        for i in range(num_threads):
            t = threading.Thread(target=_worker_loop, args=(self,), name=f"{self.name}-worker-{i}", daemon=True)
            self.workers.append(t)
        self.ticker = threading.Thread(target=_ticker_loop, args=(self,), name=f"{self.name}-ticker", daemon=True)
        for t in self.workers:
            t.start()
        self.ticker.start()

    def run_batch(self, data) -> None:
        """Decode one packed batch, run the callback, report the outcome to Java."""
        port = self.port
        batch_id, failures, events = _decode_batch(bytes(data))
        callback = self.callback
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

    # ------------------------------------------------------------------ close

    def begin_close(self):
        """Under lock, once: stop accepting and give Java the last stage. Returns the accepted
        count (the target everything must reach) or None if already closed."""
        if self.closed:
            return None
        self.closed = True  # the next hand-off makes a zero-size generation; slow path drops
        self.send_locked(None)
        # A push caught between its ticket and its store (another thread the GIL preempted
        # there) has not returned yet; give it a moment to land, then send it too.
        deadline = time.monotonic() + 2.0
        while self.leftovers and time.monotonic() < deadline:
            time.sleep(0.0005)
            self.send_locked(None)
        if self.leftovers:
            log.error("event processor %s: %d pushes did not complete before close", self.name,
                      len(self.leftovers))
        target = int(self.send_locked(self.port.close))
        self.credit = 0
        return target

    def wait_settled(self, target: int, timeout):
        """Waits (GIL released in slices) until events below ``target`` settled. Returns the
        dead-letter event count, or -1 on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        port = self.port
        while True:
            if deadline is None:
                slice_ms = _POLL_MS
            else:
                slice_ms = int(min(_POLL_MS, max(0.0, deadline - time.monotonic()) * 1000))
            _jvm.check_usable()
            try:
                result = int(port.awaitSettled(target, slice_ms))
            except JException as exc:
                raise translate(exc) from None
            if result >= 0:
                return result
            if deadline is not None and time.monotonic() >= deadline:
                return -1

    def finish(self, join_timeout: float = 5.0) -> None:
        """Stops the threads (after close). Idempotent."""
        with self.finish_lock:
            if self.finished:
                return
            self.finished = True
        self.stop.set()
        self.wake.set()
        if not self.forked:
            try:
                self.port.shutdown()
            except JException as exc:  # pragma: no cover - shutdown only flips flags
                log.error("event processor shutdown failed: %s", translate(exc))
        me = threading.current_thread()
        deadline = time.monotonic() + join_timeout
        for t in self.workers + [self.ticker]:
            if t is not None and t is not me and t.is_alive():
                t.join(max(0.0, deadline - time.monotonic()))
        _LIVE.discard(self)


def _worker_loop(core: _Core) -> None:
    port = core.port
    while not core.stop.is_set():
        try:
            data = port.nextBatch(_POLL_MS)
        except JException as exc:
            log.error("event processor worker: nextBatch failed: %s", translate(exc))
            core.stop.wait(0.1)
            continue
        except BaseException:  # pragma: no cover - JVM going away at exit
            return
        if data is None:
            try:
                if port.isFinished():
                    return
            except BaseException:  # pragma: no cover
                return
            continue
        try:
            core.run_batch(data)
        except JException as exc:
            log.error("event processor worker: reporting a batch failed: %s", translate(exc))
        except BaseException:  # pragma: no cover - decoding bug: keep the worker alive
            log.exception("event processor worker: unexpected error")


def _ticker_loop(core: _Core) -> None:
    """Hands off stragglers: events that sat in the stage for ``handoff_delay`` go to Java.

    While events keep coming the ticker simply wakes every ``handoff_delay``; after
    ``_IDLE_TICKS`` ticks with an empty stage it sleeps on ``wake``, which the next push that
    fills slot 0 sets (``ticker_idle``). So an idle processor costs nothing, and a busy one
    never pays for an Event.set() per push or per hand-off (a wake-up per stage would cost a
    thread switch each time the stage drains, e.g. after every query of the guide's
    on_message)."""
    lock = core.lock
    delay = core.handoff_delay
    delay_ns = int(delay * 1e9)
    idle_ticks = 0
    while not core.stop.is_set():
        with lock:
            if core.closed or core.forked:
                return
            staged = core.has_staged()
            since = core.gen.first_ns
            if not staged:
                idle_ticks += 1
                if idle_ticks >= _IDLE_TICKS:
                    core.ticker_idle = True
                    if core.has_staged():  # a push filled slot 0 meanwhile: stay awake
                        core.ticker_idle = False
            else:
                idle_ticks = 0
        if not staged:
            if core.ticker_idle:
                core.wake.wait()
                core.wake.clear()
                idle_ticks = 0
            else:
                core.stop.wait(delay)
            continue
        wait_ns = (since + delay_ns - time.monotonic_ns()) if since else 0
        if wait_ns > 0:
            core.stop.wait(wait_ns / 1e9)
            continue
        try:
            with lock:
                if core.has_staged() and not core.closed and not core.sending:
                    since = core.gen.first_ns
                    if not since or time.monotonic_ns() - since >= delay_ns or core.leftovers or core.unsent:
                        core.send_locked(None)
        except BaseException as exc:
            if core.forked:
                return
            log.error("event processor: handing staged events to Java failed: %s", exc)
            core.stop.wait(0.1)


# Open processors' cores (strong references: a processor collected without close() is closed by
# its finalizer, and its workers finish delivering in the background; interpreter exit waits).
_LIVE: "set[_Core]" = set()
_FACADES: "weakref.WeakSet" = weakref.WeakSet()
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
            _close_core(core, max(0.0, deadline - time.monotonic()), at_exit=True)
        except BaseException as exc:  # pragma: no cover - best effort at exit
            log.error("event processor: delivery at exit failed: %s", exc)


def _close_core(core: _Core, timeout, at_exit: bool = False) -> bool:
    with core.lock:
        target = core.begin_close()
    if target is None and core.finished:
        return True
    if target is None:
        try:
            target = int(core.port.processor().acceptedCount())
        except JException as exc:  # pragma: no cover
            raise translate(exc) from None
    delivered_all = True
    if core.callback is None:
        pending = _pending(core)
        if pending:
            log.warning("event processor %s closed with %d events undelivered: no flush callback was set",
                        core.name, pending)
            delivered_all = False
    else:
        result = core.wait_settled(target, timeout)
        if result < 0:
            log.warning("event processor %s closed after waiting %.1f s with %d events undelivered",
                        core.name, timeout, _pending(core))
            delivered_all = False
        elif result > 0:
            log.error("event processor %s closed with %d events in the dead-letter list",
                      core.name, result)
    core.finish(join_timeout=1.0 if at_exit else 5.0)
    return delivered_all


def _pending(core: _Core) -> int:
    try:
        return int(core.port.counter(None, 0, _PENDING))
    except JException as exc:  # pragma: no cover
        raise translate(exc) from None


def _finalize(core: _Core) -> None:
    """The processor was collected without close(): deliver what it accepted in the background
    (the closer thread stops accepting, waits for the workers, then stops them). Never blocks
    or takes a lock here: a collection can run on any thread, at any bytecode."""
    if core.closed or core.forked or _jvm.STATE.forked:
        return
    threading.Thread(target=_close_quietly, args=(core,), name=f"{core.name}-closer", daemon=True).start()


def _close_quietly(core: _Core) -> None:
    try:
        _close_core(core, None)
    except BaseException as exc:  # pragma: no cover - nobody to report to but the log
        log.error("event processor %s: closing a collected processor failed: %s", core.name, exc)


def _after_fork_in_child() -> None:
    """A JVM does not survive fork: every processor in the child raises on use. Replace locks
    (another thread may have held them at the fork) and turn push_event into the error."""
    if not _jvm.STATE.started:
        return
    for facade in list(_FACADES):
        core = facade._core
        core.forked = True
        core.lock = threading.RLock()
        core.gen = _Generation(0)
        facade.push_event = _forked_push
    _LIVE.clear()


def _forked_push(event_type, user_id, channel_id, timestamp):
    _jvm.check_usable()
    raise RuntimeError("streamrank: this processor cannot be used in a forked child")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _make_push(core: _Core):
    """The hot path, as a closure (locals are the fastest loads). No lock: a ticket from the
    current generation claims a slot (see ``_Generation``)."""
    checked = core.checked
    stamp = core.stamp
    push_slow = core.push_slow
    first_staged = core.first_staged
    rejected = _REJECTED
    max_ts = _MAX_TS

    def push_event(event_type, user_id, channel_id, timestamp):
        """Queue one event; ``True`` if accepted (it will reach the callback), ``False`` if the
        buffer is full or the processor closed (counted by ``events_dropped()``). Never blocks.
        ``timestamp`` is epoch seconds; ``<= 0`` means now."""
        if type(event_type) is str and type(user_id) is str and type(channel_id) is str \
                and type(timestamp) is int:
            if not 0 < timestamp <= max_ts:
                timestamp = stamp(timestamp)  # <= 0: now; too large: ValueError
        else:
            event_type, user_id, channel_id, timestamp = checked(event_type, user_id, channel_id, timestamp)
        gen = core.gen
        i = next(gen.tickets)
        if i < gen.limit:
            if gen.open:
                gen.slots[i] = (event_type, user_id, channel_id, timestamp)
                if not i:
                    first_staged(gen)
                return True
            gen.slots[i] = rejected
        return push_slow(gen, (event_type, user_id, channel_id, timestamp))

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
        buffer_size = _positive_int("buffer_size", buffer_size, _MAX_BUFFER)
        num_threads = _positive_int("num_threads", num_threads, _MAX_THREADS)
        batch_size = _positive_int("batch_size", batch_size, _MAX_INT32)
        flush_interval_ms = _positive_int("flush_interval_ms", flush_interval_ms, _MAX_INT32)
        max_retries = _non_negative_int("max_retries", max_retries, 1000)
        retry_backoff_ms = _non_negative_int("retry_backoff_ms", retry_backoff_ms, _MAX_INT32)
        max_retry_backoff_ms = _non_negative_int("max_retry_backoff_ms", max_retry_backoff_ms, _MAX_INT32)
        if max_retry_backoff_ms < retry_backoff_ms:
            raise ValueError(f"max_retry_backoff_ms ({max_retry_backoff_ms}) must be >= retry_backoff_ms "
                             f"({retry_backoff_ms})")
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
        self._core = core
        with core.lock:
            core.send_locked(None)  # first credit
        self.push_event = _make_push(core)
        _register_atexit()
        _LIVE.add(core)
        _FACADES.add(self)
        # Not at exit: the exit hook above closes every live processor, with a bounded wait.
        weakref.finalize(self, _finalize, core).atexit = False
        core.start_threads(num_threads)

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
        _jvm.check_usable()
        try:
            if callback is None:
                core.port.setDeliveryEnabled(False)
                core.callback = None
            else:
                core.callback = callback
                core.port.setDeliveryEnabled(not core.finished)
        except JException as exc:
            raise translate(exc) from None

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
        a flush callback or with events pending and no callback set."""
        timeout = _timeout_seconds(timeout)
        if _in_callback():
            raise RuntimeError("flush_now() cannot be called from inside a flush callback: it would wait "
                               "for the callback that calls it")
        core = self._core
        with core.lock:
            if core.sending:
                raise RuntimeError("flush_now() cannot be called from a signal handler that interrupted "
                                   "this thread while it handed events over; call it outside the handler")
            target = int(core.send_locked(core.port.flushTarget, header=False))
        result = core.wait_settled(target, timeout)
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
        if core.forked:
            _jvm.check_usable()
        return _close_core(core, timeout)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # ------------------------------------------------------------------ statistics

    def get_unique_users_last_hour(self) -> int:
        """Distinct user_ids with an event stamped within the last 3600 s of the processor's
        clock (events stamped in the future count as now)."""
        core = self._core
        with core.lock:
            now = core.now_seconds()
            return int(core.send_locked(core.port.uniqueUsersLastHour, now, header=False))

    def get_top_channels(self, k) -> list:
        """``[(channel_id, count), ...]``: the k channels with the most accepted events, count
        descending, ties by channel_id; ``[]`` when ``k <= 0``."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"k must be int, not {type(k).__name__}")
        k = int(k)
        if k <= 0:
            return []
        core = self._core
        data = core.query(core.port.topChannels, min(k, _MAX_INT32))
        reader = Unpacker(bytes(data))
        count = reader.read_int()
        ids = reader.read_strings()
        counts = reader.read_longs(count)
        return list(zip(ids, counts))

    def _counter(self, which: int) -> int:
        core = self._core
        return int(core.query(core.port.counter, which))

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
        _jvm.check_usable()
        try:
            data = bytes(core.port.failedBatches())
        except JException as exc:
            raise translate(exc) from None
        (count,) = _INT.unpack_from(data, 0)
        out = []
        pos = 4
        for _ in range(count):
            batch_id, failures, n = _BATCH_HEAD.unpack_from(data, pos)
            reader = Unpacker(data)
            reader.pos = pos + _BATCH_HEAD.size
            strings = reader.read_strings()
            timestamps = reader.read_longs(n)
            reader.read_strings()  # last error (logged when it happened)
            out.append(_event_dicts(strings, timestamps))
            pos = reader.pos
        return out

    def redrive_failed(self) -> int:
        """Queues every dead-lettered batch for delivery again; returns the number of events."""
        core = self._core
        _jvm.check_usable()
        try:
            return int(core.port.redriveFailed())
        except JException as exc:
            raise translate(exc) from None

    def discard_failed(self) -> int:
        """Drops the dead-lettered batches (freeing their buffer space); returns the number of
        events discarded."""
        core = self._core
        _jvm.check_usable()
        try:
            return int(core.port.discardFailed())
        except JException as exc:
            raise translate(exc) from None

    def __repr__(self) -> str:
        b, t, s, f = self._config
        state = "closed" if self._core.closed else "open"
        return (f"<EventStreamProcessor buffer_size={b} num_threads={t} batch_size={s} "
                f"flush_interval_ms={f} {state}>")
