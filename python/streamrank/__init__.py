"""streamrank: the Java core behind the ``cpp_event_processor`` and ``cpp_leaderboard`` modules.

Layout:

- ``streamrank._jvm``: JVM bootstrap (start once, join a running JVM, fork safety).
- ``streamrank._errors``: Java exception -> Python exception mapping.
- ``streamrank._wire``: the packed format for bulk Python <-> Java transfers.
- ``streamrank.config``: environment variables.

Importing streamrank (or the ``cpp_*`` modules) never starts the JVM.
"""
from __future__ import annotations

__version__ = "0.1.0"

from ._jvm import is_started as jvm_started  # noqa: E402

__all__ = ["__version__", "jvm_started"]
