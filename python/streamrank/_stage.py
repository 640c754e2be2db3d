"""Staging that an exception at any bytecode cannot corrupt: the Python half of an idempotent
hand-off (the Java half is ``io.streamrank.bridge.StageCursor``).

A :class:`Stage` is a bounded, append-only ``deque``. A producer stores a value with ONE C call,
``stage.insert(BIG, value)``: the value is stored, or ``IndexError`` says the stage is full, so
there is no state between "accepted" and "stored" that an interrupt could leave half done, and
any number of threads stage without a lock. A hand-off sends the positions ``[sent, len)`` of a
stage and names them (generation, start, count); Java skips positions it already took, so a
hand-off that was interrupted after Java took it, and is sent again, is harmless. Positions never
move (nothing is popped): a full stage is replaced by the next generation once Java took it whole.
"""
from __future__ import annotations

import collections
import itertools
import struct
import sys

# An index past any stage's end: ``insert(BIG, x)`` appends, or raises IndexError when full.
BIG = sys.maxsize
# What every packet starts with: generation, first position, positions.
POSITIONS = struct.Struct("=qii")


class Stage(collections.deque):
    """One generation of staged values.

    Invariants:
      * at most ``maxlen`` values; append-only through ``insert(BIG, value)``;
      * Java took positions ``[0, sent)`` at least: ``sent`` is written after a hand-off returned,
        so it may lag (an interrupt in between) but never lead, and a lag costs a resend only;
      * replaced only when full and sent whole, so whoever still holds it can only fail on it.
    """

    __slots__ = ("generation", "sent", "sealed")

    def __init__(self, generation: int, capacity: int):
        super().__init__((), capacity)
        self.generation = generation
        self.sent = 0
        self.sealed = False  # the owner filled the rest with placeholders (closing)

    def unsent(self, end: int):
        """The values at positions ``[sent, end)``, oldest first."""
        return tuple(itertools.islice(self, self.sent, end))

    def is_full(self) -> bool:
        return len(self) == self.maxlen

    def has_unsent(self) -> bool:
        return len(self) > self.sent
