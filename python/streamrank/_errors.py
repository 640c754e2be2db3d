"""Map Java exceptions to Python ones, the way users of a Python library expect.

A Java exception never reaches the user raw: :func:`translate` turns it into ``ValueError``,
``TypeError``, ``FileNotFoundError``, ``OSError``, ``TimeoutError`` or ``RuntimeError`` carrying
the Java message. The Java stack trace is appended to the message only when
``STREAMRANK_DEBUG=1``.

Usage at a crossing::

    try:
        return self._core.topUsers(k, now)
    except JException as exc:
        raise translate(exc) from None
"""
from __future__ import annotations

import jpype

from . import config

JException = jpype.JException

# Most specific first: the first class the exception is an instance of wins.
_MAPPING = (
    ("java.io.FileNotFoundException", FileNotFoundError),
    ("java.nio.file.NoSuchFileException", FileNotFoundError),
    ("java.nio.file.AccessDeniedException", PermissionError),
    ("java.io.UncheckedIOException", OSError),
    ("java.io.IOException", OSError),
    ("java.lang.NumberFormatException", ValueError),
    ("java.lang.IllegalArgumentException", ValueError),
    ("java.lang.IndexOutOfBoundsException", IndexError),
    ("java.lang.NullPointerException", TypeError),
    ("java.lang.ClassCastException", TypeError),
    ("java.util.concurrent.TimeoutException", TimeoutError),
    ("java.lang.OutOfMemoryError", MemoryError),
)

_resolved: list | None = None


def _classes():
    global _resolved
    if _resolved is None:
        found = []
        for name, py_type in _MAPPING:
            try:
                found.append((jpype.JClass(name), py_type))
            except Exception:  # pragma: no cover - every name above is in java.base
                continue
        _resolved = found
    return _resolved


def _message(exc) -> str:
    try:
        msg = exc.getMessage()
    except Exception:
        msg = None
    if msg is None:
        try:
            return str(exc.getClass().getSimpleName())
        except Exception:
            return "Java error"
    return str(msg)


def _stack(exc) -> str:
    try:
        StringWriter = jpype.JClass("java.io.StringWriter")
        PrintWriter = jpype.JClass("java.io.PrintWriter")
        sw = StringWriter()
        exc.printStackTrace(PrintWriter(sw))
        return str(sw.toString())
    except Exception:
        return ""


def translate(exc: BaseException) -> BaseException:
    """The Python exception for ``exc``. Non-Java exceptions are returned unchanged."""
    if not isinstance(exc, JException):
        return exc
    py_type = RuntimeError
    for java_cls, candidate in _classes():
        if isinstance(exc, java_cls):
            py_type = candidate
            break
    message = _message(exc)
    if config.debug():
        message += "\n\nJava stack trace (STREAMRANK_DEBUG=1):\n" + _stack(exc)
    return py_type(message)


def call(fn, *args):
    """Call a Java method, translating any Java exception. For cold paths; hot paths inline
    the try/except so they pay no extra Python call."""
    try:
        return fn(*args)
    except JException as exc:
        raise translate(exc) from None
