"""``cpp_leaderboard.Leaderboard``: the original C++ extension's API over the Java core.

The ranking lives in Java (``io.streamrank.leaderboard``: an indexable skip list plus a hash
index, scores normalised to a reference time so decay never touches every user). This module is
a thin facade whose only job is to cross into Java as rarely as possible, because one JPype call
costs ~1.6 us, more than the Java work behind most methods:

- ``update_user`` validates its arguments and *stages* the update with one C call into a
  bounded, append-only stage (``streamrank._stage``): no crossing, no lock, and an exception at
  any bytecode leaves it staged wholly or not at all. A full stage (``_STAGE_LIMIT`` updates) is
  packed and handed to Java, which queues it for a background thread and returns, so Python
  stages the next updates while Java applies these. Every other call carries what is still
  staged into Java together with its own arguments, and Java applies queued batches, then that,
  before answering: one crossing per call. A packet names the stage positions it covers and Java
  skips positions it took before, so resending after an interrupted call is harmless.
- ``update_users`` queues its whole validated batch with one C call (``deque.append``), so it
  too takes effect wholly or not at all; each bulk chunk carries an id Java applies once.
- Linearizability: every call hands Java the updates staged before it began, under one lock per
  leaderboard held through the Java call and the copy of its reply.
- Arguments and replies travel through two Python-owned buffers that Java sees as direct
  ``ByteBuffer`` objects (see ``streamrank._wire`` and ``LeaderboardBridge``), never as JPype
  strings, lists or arrays.
- Fork safety: in a child forked after the JVM started, every method raises ``RuntimeError``
  before touching the lock or the stage (the lock may have been held by another thread at the
  time of the fork).
"""
from __future__ import annotations

import collections
import decimal
import errno
import itertools
import math
import numbers
import os
import struct
import threading
import time
from array import array
from collections.abc import Mapping

from streamrank import _jvm
from streamrank._errors import JException, call as _java_call, translate
from streamrank._stage import BIG, POSITIONS, Stage
from streamrank._wire import LATIN1, UTF16, Packer, Unpacker

__all__ = ["Leaderboard"]

_STATE = _jvm.STATE

# Updates staged before a bulk apply. Past ~256 the per-update share of the crossing and the
# packing overhead is under 2%; larger stages only make the query that flushes them slower.
_STAGE_LIMIT = 512
# The largest batch one crossing carries (update_users on a big iterable is cut into these).
_BULK_CHUNK = 1 << 16
_IO_BYTES = 1 << 16
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
# 9999-12-31T23:59:59Z, the last second datetime can hold: no timestamp beyond it is accepted,
# whatever the decay (Java's Timestamps.LAST_DATETIME_SECOND, which words the refusal).
_LAST_DATETIME_SECOND = 253_402_300_799
_SCORE_AND_STAMP = struct.Struct("=dq")
# A window reply starts with the first rank, then PackedWriter's strings header.
_WINDOW_HEAD = struct.Struct("=iiiii")  # first rank, count, encoding, separator, text bytes


def _type_name(value) -> str:
    return type(value).__name__


def _check_user_id(user_id, where: str = "") -> str:
    """The id as a plain ``str``; TypeError for non-str, ValueError for lone surrogates (which
    cannot be told apart from surrogate pairs once in Java, and which the original rejected)."""
    if not isinstance(user_id, str):
        raise TypeError(f"{where}user_id must be str, not {_type_name(user_id)}")
    user_id = str(user_id)  # a str subclass becomes a plain str
    if not user_id.isascii():
        try:
            user_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where}user_id must be valid Unicode (it contains a lone surrogate): "
                             f"{user_id!r}") from None
    return user_id


def _check_points(points, where: str = "") -> float:
    if type(points) is int:  # the common slow-path case: int points from a database
        try:
            return float(points)
        except OverflowError:
            raise ValueError(f"{where}points must be finite, not {points!r}") from None
    if isinstance(points, bool) or not isinstance(points, (numbers.Real, decimal.Decimal)):
        raise TypeError(f"{where}points must be a number (int or float), not {_type_name(points)}")
    try:
        value = float(points)
    except (OverflowError, ValueError):
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{where}points must be finite, not {points!r}")
    return value


def _encode_id(user_id: str):
    """(bytes, encoding) of an id argument for the io buffer."""
    if user_id.isascii():
        return user_id.encode("ascii"), LATIN1
    return user_id.encode("utf-16-le", "surrogatepass"), UTF16


def _time_value(value) -> int:
    """A time source's result as int epoch seconds (the slow path: floats, other numbers, errors)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise TypeError(f"the time source must return a number of epoch seconds, not {_type_name(value)}")
    if not isinstance(value, int):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"the time source returned {value!r}, not a finite number")
        value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"the time source returned {value!r}, outside the 64-bit range")
    return int(value)


def _check_int(value, name: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be int, not {_type_name(value)}")
    return int(value)


def _check_decay(decay_factor) -> float:
    if isinstance(decay_factor, bool) or not isinstance(decay_factor, (numbers.Real, decimal.Decimal)):
        raise TypeError(f"decay_factor must be a number, not {_type_name(decay_factor)}")
    value = float(decay_factor)
    if not 0.0 < value <= 1.0:  # NaN fails too
        raise ValueError(f"decay_factor must be in (0, 1], not {decay_factor!r}")
    return value


def _check_max_users(max_users) -> int:
    value = _check_int(max_users, "max_users")
    if value < 0:
        raise ValueError(f"max_users must be >= 0 (0 means unlimited), not {max_users!r}")
    if value > _INT64_MAX:
        raise ValueError(f"max_users must be at most {_INT64_MAX}, not {max_users!r}")
    return value


def _check_path(path, name: str = "path") -> str:
    try:
        raw = os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be str or os.PathLike, not {_type_name(path)}") from None
    text = os.fsdecode(raw)
    if not text:
        raise ValueError(f"{name} must not be empty")
    if "\x00" in text:
        raise ValueError(f"{name} must not contain NUL characters")
    # Absolute here: the JVM resolves relative paths against the directory it started in, not
    # against Python's current one.
    return os.path.abspath(text)


_VALUES_STRUCTS: dict = {}  # count -> Struct("=<count>d<count>q"), for counts up to 128


def _values(data, offset: int, count: int):
    """(scores, last updates) of a window reply: float64s then int64s at ``offset``."""
    if count <= 128:
        unpacker = _VALUES_STRUCTS.get(count)
        if unpacker is None:
            unpacker = _VALUES_STRUCTS[count] = struct.Struct(f"={count}d{count}q")
        values = unpacker.unpack_from(data, offset)  # one call for both arrays
        return values, values[count:]
    view = memoryview(data)
    return (view[offset:offset + 8 * count].cast("d").tolist(),
            view[offset + 8 * count:offset + 16 * count].cast("q").tolist())


def _entries(data) -> list:
    """Decodes a window reply: int32 first rank, a PackedWriter strings section (ids), float64
    scores, int64 last updates. The common layout (a separator, no lengths) is read inline:
    ~40% cheaper than going through Unpacker's methods, which remains the general path."""
    first, count, encoding, sep, nbytes = _WINDOW_HEAD.unpack_from(data, 0)
    if count == 0:
        return []
    if sep >= 0:
        end = 20 + nbytes
        text = data[20:end].decode("latin-1") if encoding == LATIN1 \
            else data[20:end].decode("utf-16-le", "surrogatepass")
        ids = text.split(chr(sep)) if count > 1 else [text]
        scores, stamps = _values(data, end, count)
    else:
        u = Unpacker(data)
        first = u.read_int()
        ids = u.read_strings()
        scores, stamps = _values(data, u.pos, count)
    return [{"rank": rank, "user_id": uid, "score": score, "last_update": stamp}
            for rank, uid, score, stamp in zip(range(first, first + count), ids, scores, stamps)]


class Leaderboard:
    """Time-decayed leaderboard: ``Leaderboard(decay_factor=0.95, max_users=100000)``.

    A user's score at time T is the sum of their contributions, each decayed from its own
    timestamp: ``sum(points_i * decay_factor ** ((T - t_i) / 86400))``. Users are ranked by
    current score, highest first, ties by ``user_id`` ascending. ``max_users=0`` means
    unlimited; past the limit the lowest-ranked user is evicted. Thread-safe; see the module
    docstring for the staging and locking scheme.
    """

    __slots__ = ("_lock", "_staged", "_retired", "_bulk", "_bulk_ids", "_stage", "_sent_stage", "_io",
                 "_bridge", "_time_source", "_decay_factor", "_max_users", "_horizon", "_future_limit",
                 "__weakref__")

    def __init__(self, decay_factor=0.95, max_users=100000):
        decay = _check_decay(decay_factor)
        limit = _check_max_users(max_users)
        bridge_class = _jvm.jclass("io.streamrank.leaderboard.LeaderboardBridge")
        _jvm.check_usable()
        try:
            self._bridge = bridge_class(decay, limit)
        except JException as exc:
            raise translate(exc) from None
        import jpype.nio

        # Serialises crossings; a signal handler that runs inside this thread's own crossing
        # (``_is_owned``) must not start another one (the buffers are in use).
        self._lock = threading.RLock()
        # Validated (user_id, points, timestamp) updates not yet taken by Java: the current
        # stage, full stages a signal handler retired while a crossing was under way (sent
        # first, oldest first), and update_users chunks (id, ids, points, stamps).
        self._staged = Stage(1, _STAGE_LIMIT)
        self._retired = collections.deque()
        self._bulk = collections.deque()
        self._bulk_ids = itertools.count(1)
        self._stage = Packer(1 << 15)  # the packed stage, rebuilt per crossing
        self._sent_stage = None  # the stage's Java buffer as last handed to the bridge
        # Arguments in, replies out; guarded by _lock (Java writes it during our call). The
        # bridge keeps both buffers, so calls pass primitives only (cheaper to convert).
        self._io = bytearray(_IO_BYTES)
        self._bridge.setIo(jpype.nio.convertToDirectBuffer(self._io))
        self._time_source = None
        self._decay_factor = decay
        self._max_users = limit
        # The timestamp rule (docs/leaderboard.md, "Input rules"): a timestamp may lie at most
        # _horizon seconds ahead of the clock, or the re-normalisation it forces would underflow
        # every other user's score. _future_limit is clock + _horizon as of the last reading: a
        # timestamp at or below it is accepted without reading the clock (exact for a clock
        # that does not step back), one above it re-reads the clock before refusing.
        self._horizon = int(self._bridge.futureHorizon())
        self._future_limit = 0

    # ----------------------------------------------------------------- time

    def get_current_time(self) -> int:
        """Epoch seconds from the time source (``time.time()`` unless one was set)."""
        if _STATE.forked:  # "any use" in a forked child raises, this pure-Python one too
            _jvm.check_usable()
        source = self._time_source
        if source is None:
            return int(time.time())
        value = source()
        if type(value) is int and _INT64_MIN <= value <= _INT64_MAX:
            return value
        return _time_value(value)

    def set_time_source(self, time_source) -> None:
        """Use ``time_source()`` (epoch seconds) as "now"; ``None`` restores ``time.time``."""
        if time_source is not None and not callable(time_source):
            raise TypeError(f"time_source must be callable or None, not {_type_name(time_source)}")
        if _STATE.forked:
            _jvm.check_usable()
        self._time_source = time_source
        self._future_limit = 0  # another clock: read it at the next future-looking timestamp

    def _timestamp(self, timestamp, where: str = "") -> int:
        if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral):
            raise TypeError(f"{where}timestamp must be int (epoch seconds), not {_type_name(timestamp)}")
        timestamp = int(timestamp)
        if timestamp <= 0:
            return self.get_current_time()
        if timestamp > _INT64_MAX:
            raise ValueError(f"{where}timestamp must fit in 64 bits, not {timestamp!r}")
        if timestamp > self._future_limit:
            self._check_future(timestamp, where)
        return timestamp

    def _check_future(self, timestamp: int, where: str) -> None:
        """Re-reads the clock for a timestamp beyond the cached limit; ValueError if it is
        beyond the real one (the message, from Java, says what looks wrong)."""
        now = self.get_current_time()
        limit = min(now + self._horizon, _LAST_DATETIME_SECOND)
        self._future_limit = limit
        if timestamp > limit:
            problem = _java_call(self._bridge.timestampProblem, timestamp, now)
            raise ValueError(f"{where}timestamp {problem}")

    # ----------------------------------------------------------------- updates

    def update_user(self, user_id, points, timestamp):
        """Adds ``points`` contributed at ``timestamp`` (epoch seconds; ``<= 0`` means now)."""
        if type(user_id) is not str or not user_id.isascii():
            user_id = _check_user_id(user_id)
        if type(points) is not float or points - points != 0.0:  # x - x is NaN for inf and NaN
            points = _check_points(points)
        if type(timestamp) is not int or timestamp <= 0 or timestamp > self._future_limit:
            timestamp = self._timestamp(timestamp)
        if _STATE.forked:
            _jvm.check_usable()
        try:
            self._staged.insert(BIG, (user_id, points, timestamp))
        except IndexError:
            self._stage_when_full((user_id, points, timestamp))

    def _stage_when_full(self, update) -> None:
        """The stage is full: hand it to Java's background applier and stage into the next
        generation (only after Java took it whole: whoever still holds the full one fails)."""
        if _STATE.forked:
            _jvm.check_usable()
        if self._lock._is_owned():
            # A signal handler inside this thread's own crossing: no crossing now. Retire the
            # full stage for the next crossing to send, and stage into a fresh one.
            full = self._staged
            self._retired.append(full)
            self._staged = Stage(full.generation + 1, _STAGE_LIMIT)
            self._staged.insert(BIG, update)
            return
        with self._lock:
            while True:
                try:
                    self._staged.insert(BIG, update)
                    return
                except IndexError:
                    pass
                full = self._staged
                self._call_locked(self._bridge.submit)
                if self._staged is full:
                    self._staged = Stage(full.generation + 1, _STAGE_LIMIT)

    def update_users(self, updates) -> int:
        """Bulk ``update_user``: an iterable of ``(user_id, points, timestamp)`` tuples and/or
        dicts with those keys (a missing timestamp, or ``<= 0``, means now). All items are
        validated before any is applied; returns how many were applied."""
        if isinstance(updates, (str, bytes, bytearray, Mapping)):
            raise TypeError(f"updates must be an iterable of (user_id, points, timestamp) tuples or dicts, "
                            f"not {_type_name(updates)}")
        try:
            items = iter(updates)
        except TypeError:
            raise TypeError(f"updates must be an iterable of (user_id, points, timestamp) tuples or dicts, "
                            f"not {_type_name(updates)}") from None
        ids = []
        points_list = array("d")
        stamps = array("q")
        now = None
        for i, item in enumerate(items):
            kind = type(item)
            if kind is tuple or kind is list:
                if len(item) == 3:
                    uid, pts, ts = item
                elif len(item) == 2:
                    uid, pts = item
                    ts = 0
                else:
                    raise ValueError(f"updates[{i}]: expected (user_id, points, timestamp), got {len(item)} values")
            elif kind is dict or isinstance(item, Mapping):
                try:
                    uid = item["user_id"]
                    pts = item["points"]
                except KeyError as exc:
                    raise ValueError(f"updates[{i}]: missing key {exc.args[0]!r}") from None
                ts = item.get("timestamp", 0)
            else:
                raise TypeError(f"updates[{i}]: expected a (user_id, points, timestamp) tuple or a dict, "
                                f"not {_type_name(item)}")
            # The checks of update_user, with the item's position in any message.
            if type(uid) is not str or not uid.isascii():
                uid = _check_user_id(uid, f"updates[{i}]: ")
            if type(pts) is not float or pts - pts != 0.0:
                pts = _check_points(pts, f"updates[{i}]: ")
            if type(ts) is not int or ts <= 0 or ts > self._future_limit:
                if isinstance(ts, bool) or not isinstance(ts, numbers.Integral):
                    raise TypeError(f"updates[{i}]: timestamp must be int (epoch seconds), not {_type_name(ts)}")
                ts = int(ts)
                if ts <= 0:
                    if now is None:
                        now = self.get_current_time()
                    ts = now
                elif ts > _INT64_MAX:
                    raise ValueError(f"updates[{i}]: timestamp must fit in 64 bits, not {ts!r}")
                elif ts > self._future_limit:
                    self._check_future(ts, f"updates[{i}]: ")
            ids.append(uid)
            points_list.append(pts)
            stamps.append(ts)
        if _STATE.forked:
            _jvm.check_usable()
        if not ids:
            return 0
        reentered = self._lock._is_owned()  # a signal handler inside our own crossing
        with self._lock:
            chunks = [(next(self._bulk_ids), ids[i:i + _BULK_CHUNK], points_list[i:i + _BULK_CHUNK],
                       stamps[i:i + _BULK_CHUNK]) for i in range(0, len(ids), _BULK_CHUNK)]
            self._bulk.extend(chunks)  # one C call: all of it is queued, or none
            if not reentered:  # else the crossing under way, or the next, sends it
                self._call_locked(self._bridge.submit)
        return len(ids)

    # ----------------------------------------------------------------- the crossing

    def _crossing(self):
        """The lock a call holds through its crossing and the copy of its reply, after the fork
        check. In a signal handler that interrupted this thread inside a crossing of this
        board the buffers are in use: only staging is possible there."""
        if _STATE.forked:
            _jvm.check_usable()
        if self._lock._is_owned():
            raise RuntimeError("a Leaderboard method was called from a signal handler that interrupted a call "
                               "on the same leaderboard; only update_user/update_users may be called there")
        return self._lock

    def _call(self, method, *args):
        """The one way into Java for calls that see the staged updates: hand Java what is staged
        in the same call as ``method(stage_length, *args)``; Java errors become Python ones."""
        with self._crossing():
            return self._call_locked(method, *args)

    def _call_locked(self, method, *args):
        """Retired stages and bulk chunks go first (each its own submit), then the current
        stage's unsent positions travel with ``method``."""
        while self._retired:
            stage = self._retired[0]
            self._send_stage_locked(self._bridge.submit, stage)
            self._retired.popleft()
        while self._bulk:
            chunk = self._bulk[0]
            _java_call(self._bridge.submitBulk, self._pack_locked(*chunk))
            self._bulk.popleft()
        return self._send_stage_locked(method, self._staged, *args)

    def _send_stage_locked(self, method, stage, *args):
        end = len(stage)
        length = 0
        if end > stage.sent:
            ids, points, stamps = zip(*stage.unsent(end))
            length = self._pack_locked(stage.generation, ids, points, stamps, stage.sent)
        result = _java_call(method, length, *args)
        stage.sent = end
        return result

    def _pack_locked(self, generation: int, ids, points, stamps, start: int = 0) -> int:
        """Packs updates (positions ``start...`` of a stage generation, or a bulk chunk whose id
        is its generation) into the stage buffer; returns its length."""
        packer = self._stage
        packer.reset()
        packer.put_struct(POSITIONS, generation, start, len(ids))
        packer.put_joined_strings(ids)
        packer.put_doubles(points)
        packer.put_longs(stamps)
        jbuffer = packer.jbuffer  # a new Java buffer only after the packer grew
        if jbuffer is not self._sent_stage:
            self._bridge.setStage(jbuffer)
            self._sent_stage = jbuffer
        return packer.pos

    def _put_id_locked(self, raw: bytes) -> int:
        """Writes an encoded id argument into the io buffer; returns its length."""
        n = len(raw)
        if n > len(self._io):
            import jpype.nio

            self._io = bytearray(max(n, 2 * len(self._io)))
            self._bridge.setIo(jpype.nio.convertToDirectBuffer(self._io))
        self._io[:n] = raw  # same length: the bytearray is not resized
        return n

    def _take_reply_locked(self):
        """A reply Java kept aside because it did not fit the io buffer."""
        return bytes(_java_call(self._bridge.takeReply))

    # ----------------------------------------------------------------- queries

    def get_top_users(self, k) -> list:
        """The ``k`` best users now: dicts ``{"rank", "user_id", "score", "last_update"}``."""
        if type(k) is not int:
            k = _check_int(k, "k")
        if _STATE.forked:
            _jvm.check_usable()
        if k <= 0:
            return []
        if k > _INT32_MAX:
            k = _INT32_MAX
        now = self.get_current_time()
        with self._crossing():
            length = self._call_locked(self._bridge.top, k, now)
            data = self._io[:length] if length >= 0 else self._take_reply_locked()
        return _entries(data)

    def get_user_rank(self, user_id):
        """The user's entry now, or ``None`` when the user is not on the board."""
        if type(user_id) is str and user_id.isascii():
            raw = user_id.encode("ascii")
            encoding = LATIN1
        else:
            user_id = _check_user_id(user_id)
            raw, encoding = _encode_id(user_id)
        if _STATE.forked:
            _jvm.check_usable()
        now = self.get_current_time()
        with self._crossing():
            rank = self._call_locked(self._bridge.rank, self._put_id_locked(raw), encoding, now)
            if rank == 0:
                return None
            score, stamp = _SCORE_AND_STAMP.unpack_from(self._io, 0)
        return {"rank": int(rank), "user_id": user_id, "score": score, "last_update": stamp}

    def get_rank_range(self, start, stop) -> list:
        """A page of the ranking, as Redis ``ZREVRANGE start stop``: 0-based positions, both
        inclusive, negative ones counted from the end (-1 is the last user); out-of-range values
        are clamped. ``get_rank_range(0, 9)`` is the top 10, ``get_rank_range(-10, -1)`` the
        bottom 10. Entries carry 1-based ranks as everywhere else."""
        start = _check_int(start, "start")
        stop = _check_int(stop, "stop")
        start = min(max(start, _INT64_MIN), _INT64_MAX)
        stop = min(max(stop, _INT64_MIN), _INT64_MAX)
        if _STATE.forked:
            _jvm.check_usable()
        now = self.get_current_time()
        with self._crossing():
            length = self._call_locked(self._bridge.range, start, stop, now)
            data = self._io[:length] if length >= 0 else self._take_reply_locked()
        return _entries(data)

    def get_users_around(self, user_id, radius) -> list:
        """The user and up to ``radius`` users ranked directly above and below (fewer at the
        ends of the board), best first; ``[]`` when the user is not on the board."""
        user_id = _check_user_id(user_id)
        radius = _check_int(radius, "radius")
        if radius < 0:
            raise ValueError(f"radius must be >= 0, not {radius}")
        radius = min(radius, _INT32_MAX)
        raw, encoding = _encode_id(user_id)
        if _STATE.forked:
            _jvm.check_usable()
        now = self.get_current_time()
        with self._crossing():
            length = self._call_locked(self._bridge.around, self._put_id_locked(raw), encoding, radius, now)
            if length == -2:
                return []
            data = self._io[:length] if length >= 0 else self._take_reply_locked()
        return _entries(data)

    def remove_user(self, user_id) -> bool:
        """Removes a user; True if it was on the board."""
        user_id = _check_user_id(user_id)
        raw, encoding = _encode_id(user_id)
        if _STATE.forked:
            _jvm.check_usable()
        with self._crossing():
            return bool(self._call_locked(self._bridge.remove, self._put_id_locked(raw), encoding))

    def size(self) -> int:
        """How many users are on the board."""
        if _STATE.forked:
            _jvm.check_usable()
        return int(self._call(self._bridge.size))

    @property
    def decay_factor(self) -> float:
        """The daily decay factor (the file's after a ``load_from_json``)."""
        return self._decay_factor

    @property
    def max_users(self) -> int:
        """The user limit, 0 for unlimited (the file's after a ``load_from_json``)."""
        return self._max_users

    # ----------------------------------------------------------------- persistence

    def save_to_json(self, path) -> None:
        """Writes a snapshot in the original's JSON layout, atomically (temp file in the same
        folder, fsync, rename): a crash mid-save leaves the previous file whole. A symbolic
        link is followed: its target is replaced and the link stays a link (a dangling link's
        target is created); a directory or another non-regular file is refused."""
        path = _check_path(path)
        if _STATE.forked:
            _jvm.check_usable()
        with self._crossing():
            self._call_locked(self._bridge.apply)  # the staged updates first
            self._file_call(path, self._bridge.save, 0, path)

    def load_from_json(self, path) -> None:
        """Replaces the whole board (entries, decay factor, max users) with a snapshot's.
        ``ValueError`` naming the file and the problem if it is invalid (the board is then left
        as it was), ``FileNotFoundError`` if it does not exist, ``IsADirectoryError`` /
        ``OSError`` for a directory or another non-regular file (a FIFO is never opened).
        The file is read and checked without the board's lock held, so a slow file delays
        only this call; the board is then replaced at once."""
        path = _check_path(path)
        if _STATE.forked:
            _jvm.check_usable()
        now = self.get_current_time()  # last_update values obey the update timestamp rule
        prepared = self._file_call(path, self._bridge.parse, path, now)
        with self._crossing():
            self._future_limit = 0  # re-read clock and horizon for updates from here on
            self._call_locked(self._bridge.install, prepared)
            self._decay_factor = float(_java_call(self._bridge.decayFactor))
            self._max_users = int(_java_call(self._bridge.maxUsers))
            self._horizon = int(_java_call(self._bridge.futureHorizon))
            self._future_limit = 0  # another decay factor: another horizon

    @staticmethod
    def _file_call(path: str, method, *args):
        """``method(*args)`` with Java's file errors as the matching Python ``OSError``s."""
        try:
            return method(*args)
        except JException as exc:
            error = translate(exc)
            if isinstance(error, FileNotFoundError):
                raise FileNotFoundError(errno.ENOENT, str(error), path) from None
            if exc.getClass().getName() == "io.streamrank.leaderboard.NotARegularFileException":
                if exc.isDirectory():
                    raise IsADirectoryError(errno.EISDIR, str(error), path) from None
                raise OSError(str(error)) from None
            raise error from None

    def __repr__(self) -> str:
        return f"<Leaderboard decay_factor={self._decay_factor!r} max_users={self._max_users!r}>"

    def __reduce__(self):
        raise TypeError("Leaderboard objects cannot be pickled; save_to_json/load_from_json persist them")
