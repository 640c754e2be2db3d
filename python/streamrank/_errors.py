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

# Java class name -> Python type. The exception's most specific class found here wins.
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

_BY_NAME = dict(_MAPPING)


def is_java(exc: BaseException) -> bool:
    """Whether ``exc`` is a Java exception. Pure Python on purpose: ``isinstance(exc,
    JException)`` runs JPype's ``__instancecheck__``, which (JPype 1.7) throws a C++ exception
    through the interpreter and aborts the process ("terminate called after throwing an instance
    of 'JPypeException'") when the JVM is shutting down, e.g. in a daemon thread at exit."""
    return JException in type(exc).__mro__


def _python_type(exc: BaseException) -> type:
    # A JPype exception's Python class has the Java class and its superclasses in its MRO, named
    # by their Java names: walking it needs no JVM (see is_java), most specific first.
    for klass in type(exc).__mro__:
        py_type = _BY_NAME.get(getattr(klass, "__name__", ""))
        if py_type is not None:
            return py_type
    return RuntimeError


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
    if not is_java(exc):
        return exc
    py_type = _python_type(exc)
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
