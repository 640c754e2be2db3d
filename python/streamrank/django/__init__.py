"""Django glue: lazy per-process ``EventStreamProcessor`` / ``Leaderboard`` from settings.

The guide creates both objects at import time. Under a pre-forking server that imports the
project before forking (gunicorn ``preload_app = True``, uWSGI without ``lazy-apps``) that starts
the JVM in the master, and a JVM does not survive ``fork()``: every worker's call then raises
``RuntimeError``. The objects here are created on first use, in the process that uses them, so
each worker gets its own::

    # settings.py
    STREAMRANK = {
        "PROCESSOR": {"buffer_size": 16384, "num_threads": 4, "batch_size": 500,
                      "flush_interval_ms": 1000},
        "FLUSH_CALLBACK": "core.cpp_integration.flush_events_to_db",   # dotted path, optional
        "LEADERBOARD": {"decay_factor": 0.95, "max_users": 100000},
        "LEADERBOARD_BACKUP_PATH": BASE_DIR / "data" / "leaderboard_backup.json",
        "LEADERBOARD_LOADER": "core.cpp_integration.load_leaderboard_into",  # fn(board)
        "RESTORE_ON_START": True,
    }

    # anywhere (the guide's code works unchanged with these names)
    from streamrank.django import processor, leaderboard

``processor`` and ``leaderboard`` are proxies: attribute access goes to this process's object,
created on first use. A new leaderboard restores itself (``RESTORE_ON_START``, default true):
from ``LEADERBOARD_BACKUP_PATH`` when that file exists, else through ``LEADERBOARD_LOADER``.
Every key is optional; the defaults are the guide's numbers.

Nothing here starts the JVM at import or when Django starts. Configuration calls made through
a proxy (``processor.set_flush_callback(...)``, ``set_time_source(...)``: the guide makes the
first at module level) are recorded and applied to every object the proxy builds, in each
process, so they build nothing in a preloading master. Any other use of a proxy in the master
before the fork still builds the object there (and breaks the workers, with a clear error):
keep start-up code such as the guide's ``restore_leaderboard()`` out of ``wsgi.py`` when
preloading, and let ``RESTORE_ON_START`` do it in each worker.

An ORM call made on a thread that runs an event loop raises Django's
``SynchronousOnlyOperation``; an ASGI server (uvicorn) imports the project inside its loop, so
:func:`run_outside_event_loop` runs start-up loads (``LEADERBOARD_LOADER``, the guide's
``restore_leaderboard()``) on a helper thread there.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

logger = logging.getLogger("streamrank.django")

DEFAULTS: dict[str, Any] = {
    "PROCESSOR": {"buffer_size": 16384, "num_threads": 4, "batch_size": 500, "flush_interval_ms": 1000},
    "FLUSH_CALLBACK": None,
    "LEADERBOARD": {"decay_factor": 0.95, "max_users": 100000},
    "LEADERBOARD_BACKUP_PATH": None,
    "LEADERBOARD_LOADER": None,
    "RESTORE_ON_START": True,
    # Shared mode (docs/shared_mode.md): "redis://host:port/db" or None; read by streamrank.shared.
    "SHARED": None,
    "NAMESPACE": None,
}


def streamrank_settings() -> dict[str, Any]:
    """``settings.STREAMRANK`` over the defaults (nested dicts merged one level deep)."""
    from django.conf import settings

    user = getattr(settings, "STREAMRANK", None) or {}
    if not isinstance(user, dict):
        raise TypeError(f"settings.STREAMRANK must be a dict, not {type(user).__name__}")
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"settings.STREAMRANK has unknown keys {unknown}; known: {sorted(DEFAULTS)}")
    merged = {}
    for key, default in DEFAULTS.items():
        value = user.get(key, default)
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise TypeError(f"settings.STREAMRANK[{key!r}] must be a dict, not {type(value).__name__}")
            value = {**default, **value}
        merged[key] = value
    return merged


def import_callable(path_or_callable, setting: str) -> Callable | None:
    """A callable from a dotted path ("pkg.module.name") or the callable itself."""
    if path_or_callable is None or callable(path_or_callable):
        return path_or_callable
    if not isinstance(path_or_callable, str):
        raise TypeError(f"settings.STREAMRANK[{setting!r}] must be a dotted path or a callable")
    from django.utils.module_loading import import_string

    try:
        return import_string(path_or_callable)
    except ImportError as exc:
        raise ImportError(f"settings.STREAMRANK[{setting!r}] = {path_or_callable!r}: {exc}") from exc


class _PerProcess:
    """One object per process, built on first use by ``factory``.

    Invariant: ``_instance`` was created in process ``_pid``; a call from any other pid (a child
    forked after creation) never touches the parent's object (its threads are not in the child)
    and builds its own. That works when the parent never started the JVM; otherwise the
    constructor raises the fork ``RuntimeError`` of ``streamrank._jvm.check_usable()``. Creation is serialised by ``_lock`` (double-checked: the fast path reads
    the two fields without it; CPython's GIL makes each read atomic and ``_instance`` is written
    after it is fully built, so a reader sees None or a whole object).
    """

    def __init__(self, name: str, factory: Callable[[], Any], deferred: frozenset = frozenset()):
        self._name = name
        self._factory = factory
        self._lock = threading.Lock()
        self._instance = None
        self._pid = 0
        # Setter name -> (args, kwargs) of its last call through the proxy, in call order
        # (dicts keep insertion order; a repeated setter moves to the end). Applied to each
        # object built, in any process: configuration, not state, so it survives fork.
        self._deferred = deferred
        self._recorded: dict[str, tuple] = {}

    def get(self):
        instance = self._instance
        if instance is not None and self._pid == os.getpid():
            return instance
        with self._lock:
            if self._instance is None or self._pid != os.getpid():
                # A forked child's lock copy may be held by a thread that does not exist here;
                # the at-fork hook below resets it, so this cannot deadlock.
                self._instance = None
                built = self._factory()
                for name, (args, kwargs) in list(self._recorded.items()):
                    getattr(built, name)(*args, **kwargs)
                self._pid = os.getpid()
                self._instance = built
            return self._instance

    def record(self, name: str, args: tuple, kwargs: dict) -> None:
        """A configuration call through the proxy: check it as the object would, remember it,
        and apply it now if this process's object exists."""
        _check_setter(self._name, name, args, kwargs)
        with self._lock:
            self._recorded.pop(name, None)
            self._recorded[name] = (args, dict(kwargs))
            instance = self.peek()
        if instance is not None:
            getattr(instance, name)(*args, **kwargs)

    def peek(self):
        """This process's object if it exists, else None (never creates one)."""
        return self._instance if self._pid == os.getpid() else None

    def reset(self, close: bool = True) -> None:
        """Forget (and close) this process's object; the next use builds a new one."""
        with self._lock:
            instance, self._instance = self.peek(), None
        if close and instance is not None and hasattr(instance, "close"):
            instance.close()

    def _after_fork(self) -> None:
        self._lock = threading.Lock()


class _Proxy:
    """Forwards attribute access to ``holder.get()``: usable wherever the guide's module-level
    ``processor`` / ``leaderboard`` are."""

    __slots__ = ("_holder",)

    def __init__(self, holder: _PerProcess):
        object.__setattr__(self, "_holder", holder)

    def __getattr__(self, name):
        holder = self._holder
        if name in holder._deferred:
            return lambda *args, **kwargs: holder.record(name, args, kwargs)
        return getattr(holder.get(), name)

    def __setattr__(self, name, value):
        raise AttributeError(f"streamrank.django.{self._holder._name} is a proxy; set attributes on "
                             f"streamrank.django.get_{self._holder._name}() instead")

    def __repr__(self):
        made = self._holder.peek()
        return f"<streamrank.django.{self._holder._name} proxy: {made!r}>" if made is not None else \
            f"<streamrank.django.{self._holder._name} proxy (not created in this process yet)>"


def _check_setter(owner: str, name: str, args: tuple, kwargs: dict) -> None:
    """The TypeError the real setter would raise, raised at the proxy call instead of later in
    a worker. Every deferred setter takes one callable-or-None argument."""
    if len(args) + len(kwargs) != 1:
        raise TypeError(f"{owner}.{name}() takes exactly one argument ({len(args) + len(kwargs)} given)")
    value = args[0] if args else next(iter(kwargs.values()))
    if value is not None and not callable(value):
        what = "callback" if name == "set_flush_callback" else "time source"
        raise TypeError(f"{what} must be callable or None, not {type(value).__name__}")


def run_outside_event_loop(fn: Callable, *args):
    """``fn(*args)``, on a helper thread when this thread runs an asyncio event loop (the ORM
    refuses to run there), else right here. Returns its result, raises its exception."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)

    def call():
        from django.db import connections

        try:
            return fn(*args)
        finally:
            connections.close_all()  # the helper thread's own connections: do not leak them

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamrank-sync") as pool:
        return pool.submit(call).result()


def _build_processor():
    import cpp_event_processor

    conf = streamrank_settings()
    callback = import_callable(conf["FLUSH_CALLBACK"], "FLUSH_CALLBACK")
    built = cpp_event_processor.EventStreamProcessor(**conf["PROCESSOR"])
    if callback is not None:
        built.set_flush_callback(callback)
    logger.info("streamrank: event processor created in process %d", os.getpid())
    return built


def _build_leaderboard():
    import cpp_leaderboard

    conf = streamrank_settings()
    built = cpp_leaderboard.Leaderboard(**conf["LEADERBOARD"])
    if conf["RESTORE_ON_START"]:
        restore_into(built, conf)
    logger.info("streamrank: leaderboard created in process %d (%d users)", os.getpid(), built.size())
    return built


def restore_into(board, conf: dict | None = None) -> str:
    """Fill ``board`` from the snapshot if it exists, else with the loader. Returns the source
    used: the snapshot's path, ``"loader"`` or ``"none"``."""
    conf = conf or streamrank_settings()
    path = conf["LEADERBOARD_BACKUP_PATH"]
    if path and os.path.exists(path):
        board.load_from_json(str(path))
        return str(path)
    loader = import_callable(conf["LEADERBOARD_LOADER"], "LEADERBOARD_LOADER")
    if loader is not None:
        run_outside_event_loop(loader, board)
        return "loader"
    return "none"


_processor = _PerProcess("processor", _build_processor,
                         frozenset({"set_flush_callback", "set_time_source"}))
_leaderboard = _PerProcess("leaderboard", _build_leaderboard, frozenset({"set_time_source"}))

processor = _Proxy(_processor)
leaderboard = _Proxy(_leaderboard)


def get_processor():
    """This process's ``EventStreamProcessor`` (built from settings on first use)."""
    return _processor.get()


def get_leaderboard():
    """This process's ``Leaderboard`` (built from settings, and restored, on first use)."""
    return _leaderboard.get()


def reset() -> None:
    """Close and forget this process's objects (tests; settings changes)."""
    _processor.reset()
    _leaderboard.reset(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: (_processor._after_fork(), _leaderboard._after_fork()))

__all__ = ["processor", "leaderboard", "get_processor", "get_leaderboard", "reset",
           "restore_into", "run_outside_event_loop", "streamrank_settings"]
