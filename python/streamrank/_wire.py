"""The packed format that carries many values across the Python/Java boundary in one call.

A JPype call costs 1-2 us and JPype converts Python containers element by element (a 512-int
list to ``int[]`` takes ~35 us, a 23 KB ``str`` ~100 us). So the hot paths never pass lists or
strings: Python writes them into a ``bytearray`` that Java sees as a direct ``ByteBuffer``
(zero copy, :class:`Packer`), and Java answers with one ``byte[]`` that Python slices with
``memoryview`` and ``str.split`` (:class:`Unpacker`). Java's side is ``io.streamrank.bridge``:
``PackedReader`` reads what :class:`Packer` writes, ``PackedWriter`` writes what
:class:`Unpacker` reads. Byte order is the machine's own on both sides (same process).

Python -> Java, a sequence of sections in the order the two sides agree on:

- int: int32.
- longs / doubles: the values as int64 / float64, count agreed separately.
- strings: int32 count, int32 encoding (0: Latin-1, 1: UTF-16LE), int32 length of each string
  in units of that encoding (bytes for Latin-1, code units for UTF-16), then the concatenated
  text. Lone surrogates travel as they are (``surrogatepass``).
- joined strings (:meth:`Packer.put_joined_strings`): int32 count, int32 encoding (2: Latin-1,
  3: UTF-16LE), int32 separator (a code unit none of the strings contains), int32 byte length,
  then the text joined by the separator. Saves the per-string ``len()`` calls of the form above
  (the hot path stages thousands of short ids per call).

Java -> Python: ints, longs and doubles as above; strings as int32 count, int32 encoding,
int32 separator (a UTF-16 code unit that occurs in none of the strings, or -1 when Java found
none, in which case int32 lengths follow), int32 byte length, then the text joined by the
separator, so Python splits it in C with ``str.split``.
"""
from __future__ import annotations

import struct
from array import array
from itertools import accumulate

LATIN1 = 0
UTF16 = 1
LATIN1_JOINED = 2
UTF16_JOINED = 3

_INT = struct.Struct("=i")
_STR_HEAD = struct.Struct("=ii")
_REPLY_STR_HEAD = struct.Struct("=iii")


def _utf16_units(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-16-le", "surrogatepass")) >> 1


def encode_strings(strings) -> tuple[int, bytes, array]:
    """(encoding, text bytes, lengths) for a list of ``str``."""
    joined = "".join(strings)
    if joined.isascii():  # O(1) in CPython: compact ASCII strings carry a flag
        return LATIN1, joined.encode("ascii"), array("i", map(len, strings))
    try:
        return LATIN1, joined.encode("latin-1"), array("i", map(len, strings))
    except UnicodeEncodeError:
        pass
    data = joined.encode("utf-16-le", "surrogatepass")
    return UTF16, data, array("i", map(_utf16_units, strings))


class Packer:
    """A growable ``bytearray`` that Java reads as a direct ``ByteBuffer``.

    Not thread-safe: one writer at a time, and the Java call that reads it must finish
    before the next :meth:`reset`. The owner's lock provides both.
    """

    __slots__ = ("_buf", "_view", "_jbuf", "pos")

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._buf = bytearray(capacity)
        self._view = memoryview(self._buf)
        self._jbuf = None
        self.pos = 0

    @property
    def jbuffer(self):
        """The Java ``ByteBuffer`` over this packer's memory (JVM must be running)."""
        if self._jbuf is None:
            import jpype.nio
            self._jbuf = jpype.nio.convertToDirectBuffer(self._buf)
        return self._jbuf

    def reset(self) -> None:
        self.pos = 0

    def _reserve(self, n: int) -> int:
        start = self.pos
        end = start + n
        if end > len(self._buf):
            # A bytearray exported to Java cannot be resized; move to a larger one.
            size = len(self._buf)
            while size < end:
                size *= 2
            new = bytearray(size)
            new[:start] = self._view[:start]
            self._view.release()
            self._buf = new
            self._view = memoryview(new)
            self._jbuf = None
        self.pos = end
        return start

    def put_bytes(self, data) -> None:
        """Raw bytes, or any buffer (an ``array`` is written as its bytes)."""
        if not isinstance(data, (bytes, bytearray)):
            data = memoryview(data).cast("B")
        start = self._reserve(len(data))
        self._view[start:self.pos] = data

    def put_int(self, value: int) -> None:
        _INT.pack_into(self._buf, self._reserve(4), value)

    def put_longs(self, values) -> None:
        """int64 values; ``values`` may be any iterable of ints (OverflowError past 64 bits)."""
        self.put_bytes(values if isinstance(values, array) and values.typecode == "q"
                       else array("q", values))

    def put_doubles(self, values) -> None:
        self.put_bytes(values if isinstance(values, array) and values.typecode == "d"
                       else array("d", values))

    def put_strings(self, strings) -> None:
        encoding, data, lengths = encode_strings(strings)
        _STR_HEAD.pack_into(self._buf, self._reserve(8), len(lengths), encoding)
        self.put_bytes(lengths)
        self.put_bytes(data)

    def put_joined_strings(self, strings, sep: str = "\x1f") -> None:
        """Like :meth:`put_strings`, joined by ``sep`` instead of carrying lengths; falls back
        to :meth:`put_strings` when a string contains ``sep``. ``strings`` must be a list."""
        count = len(strings)
        text = sep.join(strings)
        if count > 1 and text.count(sep) != count - 1:
            self.put_strings(strings)
            return
        try:
            data = text.encode("latin-1")
            encoding = LATIN1_JOINED
        except UnicodeEncodeError:
            data = text.encode("utf-16-le", "surrogatepass")
            encoding = UTF16_JOINED
        _REPLY_STR_HEAD.pack_into(self._buf, self._reserve(12), count, encoding, ord(sep))
        self.put_int(len(data))
        self.put_bytes(data)

    def put_struct(self, st: struct.Struct, *values) -> int:
        """Packs ``values`` with ``st`` at the current position; returns that position."""
        at = self._reserve(st.size)
        st.pack_into(self._buf, at, *values)
        return at

    def unpack_from(self, st: struct.Struct, offset: int = 0) -> tuple:
        """Reads ``st`` at ``offset`` (e.g. a reply Java wrote into the shared buffer)."""
        return st.unpack_from(self._buf, offset)


class Unpacker:
    """Reads a reply ``byte[]`` (already copied to ``bytes``) section by section."""

    __slots__ = ("_data", "_view", "pos")

    def __init__(self, data) -> None:
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)  # a JPype byte[]: one memcpy
        self._data = data
        self._view = memoryview(data)
        self.pos = 0

    def read_int(self) -> int:
        (value,) = _INT.unpack_from(self._data, self.pos)
        self.pos += 4
        return value

    def read_longs(self, n: int) -> list:
        start = self.pos
        self.pos = start + 8 * n
        return self._view[start:self.pos].cast("q").tolist()

    def read_doubles(self, n: int) -> list:
        start = self.pos
        self.pos = start + 8 * n
        return self._view[start:self.pos].cast("d").tolist()

    def read_strings(self) -> list:
        count, encoding, sep = _REPLY_STR_HEAD.unpack_from(self._data, self.pos)
        self.pos += 12
        lengths = None
        if sep < 0:
            start = self.pos
            self.pos = start + 4 * count
            lengths = self._view[start:self.pos].cast("i").tolist()
        nbytes = self.read_int()
        start = self.pos
        self.pos = start + nbytes
        raw = self._data[start:self.pos]
        text = raw.decode("latin-1") if encoding == LATIN1 else raw.decode("utf-16-le", "surrogatepass")
        if count == 0:
            return []
        if lengths is None:
            return text.split(chr(sep))
        if encoding == UTF16 and not text.isascii():
            # Lengths are UTF-16 code units; slice the code units, then decode each.
            units = raw
            out = []
            offset = 0
            for length in lengths:
                out.append(units[offset:offset + 2 * length].decode("utf-16-le", "surrogatepass"))
                offset += 2 * length
            return out
        offsets = list(accumulate(lengths, initial=0))
        return [text[a:b] for a, b in zip(offsets, offsets[1:])]
