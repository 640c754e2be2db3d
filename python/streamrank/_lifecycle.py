"""Graceful stop: one place where streamrank objects finish their work before the process ends.

A process ends in one of two ways that matter here:

- **interpreter exit** (end of script, ``sys.exit``, an uncaught exception, a server's own
  SIGTERM handler that exits): ``atexit`` runs the stop hooks. Our atexit entry is registered
  after ``import jpype``, so it runs *before* JPype's own exit hook shuts the JVM down (atexit
  runs entries last-registered first).
- **SIGTERM with no handler of the application's** (``python bot.py`` under ``docker stop``,
  systemd, Kubernetes): :func:`install_sigterm_handler` (called when streamrank starts the JVM on
  the main thread) installs a handler that runs the stop hooks and then dies of SIGTERM like a
  plain Python process would (``SIG_DFL`` and re-raise: exit status -15 / 143). An application
  handler installed before our JVM start is left alone; one installed after replaces ours.

A hook is ``fn(deadline: float)``, ``deadline`` on ``time.monotonic()``; it must return by then.
Hooks run once per process, in registration order, whichever way comes first.
The budget is ``STREAMRANK_STOP_TIMEOUT`` seconds (default :data:`DEFAULT_STOP_TIMEOUT`).
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
from typing import Callable

import jpype  # noqa: F401  (imported first: our atexit entry must come after JPype's)

log = logging.getLogger("streamrank")

# Fits inside the shortest common grace period (docker stop: 10 s before SIGKILL) with room for
# the application's own shutdown.
DEFAULT_STOP_TIMEOUT = 5.0

# Invariant: _hooks is appended to under _lock; _ran flips to True once, under _lock, before the
# hooks run, so a second trigger (SIGTERM during the atexit run, or the reverse) runs nothing.
_hooks: list[Callable[[float], None]] = []
# Re-entrant: the SIGTERM handler runs on the main thread at any bytecode, possibly inside
# on_stop()/run_stop_hooks() holding it; it then sees _ran and returns instead of deadlocking.
_lock = threading.RLock()
_ran = False


def stop_timeout() -> float:
    """``STREAMRANK_STOP_TIMEOUT`` (seconds, >= 0) or the default."""
    raw = os.environ.get("STREAMRANK_STOP_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_STOP_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"STREAMRANK_STOP_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"STREAMRANK_STOP_TIMEOUT must be >= 0, not {raw!r}")
    return value


def on_stop(fn: Callable[[float], None]) -> None:
    """Register ``fn(deadline_monotonic)`` to run once at graceful stop."""
    if not callable(fn):
        raise TypeError(f"on_stop() needs a callable, not {type(fn).__name__}")
    with _lock:
        _hooks.append(fn)


def run_stop_hooks(timeout: float | None = None) -> None:
    """Run the hooks (once per process) with ``timeout`` seconds between them all."""
    global _ran
    with _lock:
        if _ran:
            return
        _ran = True
        hooks = list(_hooks)
    if timeout is None:
        timeout = stop_timeout()
    deadline = time.monotonic() + timeout
    for fn in hooks:
        try:
            fn(deadline)
        except BaseException as exc:  # a hook's failure must not cost the others their turn
            log.error("streamrank: stop hook %r failed: %s", fn, exc)


# Run at interpreter exit after the stop hooks, just before JPype's exit hook shuts the JVM
# down (not on SIGTERM: the process dies of the signal right after the hooks, the JVM with it).
_before_jvm_shutdown: list[Callable[[], None]] = []


def before_jvm_shutdown(fn: Callable[[], None]) -> None:
    _before_jvm_shutdown.append(fn)


def _stop() -> None:
    try:
        timeout = stop_timeout()
    except ValueError as exc:
        log.error("streamrank: %s; using %.1f s", exc, DEFAULT_STOP_TIMEOUT)
        timeout = DEFAULT_STOP_TIMEOUT
    run_stop_hooks(timeout)


def _at_exit() -> None:
    _stop()
    for fn in _before_jvm_shutdown:
        try:
            fn()
        except BaseException as exc:
            log.error("streamrank: exit step %r failed: %s", fn, exc)


atexit.register(_at_exit)


def _on_sigterm(signum, frame) -> None:
    # A second SIGTERM while we deliver ends the process at once, as SIG_DFL would.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        _stop()
    finally:
        signal.raise_signal(signal.SIGTERM)
        os._exit(128 + signal.SIGTERM)  # pragma: no cover - only if SIGTERM is blocked


def install_sigterm_handler() -> bool:
    """Install the graceful SIGTERM handler if the application has none (SIGTERM is still
    ``SIG_DFL``) and this is the main thread. Returns True if ours is in place."""
    if threading.current_thread() is not threading.main_thread():
        return False  # signal.signal() only works there; SIGTERM keeps its default action
    current = signal.getsignal(signal.SIGTERM)
    if current is _on_sigterm:
        return True
    if current is not signal.SIG_DFL:
        return False  # the application's handler (or SIG_IGN) keeps precedence
    signal.signal(signal.SIGTERM, _on_sigterm)
    return True


def _after_fork_in_child() -> None:
    # Hooks stay (each knows whether its objects belong to this process); a child gets its own
    # single run, and a fresh lock: another thread may have held the parent's at the fork.
    global _lock, _ran
    _lock = threading.RLock()
    _ran = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["on_stop", "run_stop_hooks", "before_jvm_shutdown", "install_sigterm_handler", "stop_timeout",
           "DEFAULT_STOP_TIMEOUT"]
