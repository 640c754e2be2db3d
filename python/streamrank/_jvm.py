"""JVM bootstrap: start (or join) the JVM once per process and load the streamrank core jar.

Importing this module does not start the JVM; the first object that needs Java calls
:func:`start`. Configuration comes from environment variables (see ``streamrank.config``).

A JVM does not survive ``os.fork()``: the child inherits a copy of its memory but none of its
threads. A child forked *after* the JVM started marks itself unusable (``STATE.forked``) and
every streamrank call there raises a clear ``RuntimeError``; a child forked *before* starts its
own JVM on first use as usual. The child also drops JPype's ``gc.callbacks`` entry: after a
Python collection it may call ``System.gc()``, a VM operation that waits for the VM thread, and
the child has no VM thread (the call hangs or crashes the child).

Signals: the JVM is started with ``-Xrs`` so it installs no SIGINT/SIGTERM/SIGHUP/SIGQUIT
handlers, and JPype's own (which route SIGINT/SIGTERM through a Java thread and interrupt the
main thread's Java side, whatever its ``interrupt`` option says) cannot register either. Python's
handlers stay in charge, as in a process without Java. When SIGTERM still has its default action,
``streamrank._lifecycle`` installs a graceful one (deliver what was accepted, then die of SIGTERM).
"""
from __future__ import annotations

import gc
import os
import shlex
import sys
import threading
import time
from pathlib import Path

import jpype

from . import _lifecycle, config

JAR_NAME = "streamrank-core.jar"
_CORE_VERSION = "0.1.0"  # must equal io.streamrank.Version.VERSION in the jar


class _State:
    """What this process knows about the JVM. Mutated only under ``_lock`` (or in the
    single-threaded at-fork child hook)."""

    __slots__ = ("started", "owner_pid", "forked", "exiting", "loader", "classes", "jar")

    def __init__(self) -> None:
        self.started = False      # the core jar is loaded and usable in this process
        self.owner_pid = 0        # pid of the process that started/joined the JVM
        # True when the JVM must not be called here: in a child forked after the JVM started,
        # and at interpreter exit once the stop hooks ran (``exiting`` says which). The facades
        # test this one field before calling Java, then call check_usable().
        self.forked = False
        self.exiting = False      # interpreter exit: JPype is about to shut the JVM down
        self.loader = None        # java.lang.ClassLoader holding our jar, or None (system)
        self.classes: dict = {}   # class name -> JClass, cached (JClass lookup costs ~us)
        self.jar: Path | None = None


STATE = _State()
_lock = threading.RLock()

FORK_MESSAGE = (
    "streamrank: this process was forked (os.fork) after the JVM started in process {pid}; "
    "a JVM does not survive fork, so streamrank objects cannot be used here. Create "
    "EventStreamProcessor / Leaderboard objects after the fork: with gunicorn, disable "
    "preload_app or create them in a post_fork hook or lazily on first use "
    "(streamrank.django does this for you)."
)


def _drop_jpype_gc_hook() -> None:
    """Remove JPype's ``gc.callbacks`` entry (``_jpype._collect``) in this process."""
    gc.callbacks[:] = [cb for cb in gc.callbacks
                       if not (getattr(cb, "__name__", None) == "_collect"
                               and getattr(cb, "__module__", None) == "_jpype")]


def _after_fork_in_child() -> None:
    if STATE.started:
        STATE.forked = True
        _drop_jpype_gc_hook()
        # JPype's own atexit handler would try to shut down a JVM whose threads do not exist
        # in this process, which can hang the child's exit. Skip it here.
        try:
            import jpype.config as _jcfg
            _jcfg.onexit = False
        except Exception:  # pragma: no cover - defensive, jpype internals
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


EXIT_MESSAGE = "streamrank: the interpreter is exiting; the JVM is shutting down"

# Threads parked at the exit gate (thread idents), see check_usable and _quiesce_at_exit.
_parked: set[int] = set()
_PACKAGE_DIRS = tuple(str(Path(__file__).resolve().parent.parent / name) + os.sep
                      for name in ("streamrank", "cpp_event_processor", "cpp_leaderboard"))
QUIESCE_TIMEOUT = 2.0  # seconds the exit waits for other threads to leave streamrank calls


def check_usable() -> None:
    """Raise ``RuntimeError`` if this is a child forked after the JVM started. At interpreter
    exit (after the stop hooks), the main thread gets ``RuntimeError`` and any other thread
    (only daemon threads are left then) parks here for good: a thread that entered JPype while
    JPype destroys the JVM either holds the GIL forever at the JVM's exit safepoint (the exit
    hangs) or is unwound through JPype's C++ frames (the process aborts)."""
    if STATE.exiting:
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError(EXIT_MESSAGE)
        _parked.add(threading.get_ident())
        threading.Event().wait()  # never set: the process is ending
    if STATE.forked:
        raise RuntimeError(FORK_MESSAGE.format(pid=STATE.owner_pid))


def _in_streamrank(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
            return True
        frame = frame.f_back
    return False


def _quiesce_at_exit() -> None:
    """After the stop hooks, before JPype shuts the JVM down: close the gate, then wait
    (bounded) until every other thread is out of streamrank code or parked at the gate."""
    if not STATE.started or STATE.forked:
        return
    STATE.exiting = True
    STATE.forked = True  # the facades' one-field test sends every new call to the gate
    me = threading.get_ident()
    deadline = time.monotonic() + QUIESCE_TIMEOUT
    while time.monotonic() < deadline:
        busy = [ident for ident, frame in sys._current_frames().items()
                if ident != me and ident not in _parked and _in_streamrank(frame)]
        if not busy:
            return
        time.sleep(0.002)  # polling a condition other threads cannot signal (they are in Java)


_lifecycle.before_jvm_shutdown(_quiesce_at_exit)


def jar_path() -> Path:
    """Where the core jar is: ``STREAMRANK_JAR`` if set, else next to this package."""
    override = os.environ.get("STREAMRANK_JAR")
    path = Path(override) if override else Path(__file__).resolve().parent / "jars" / JAR_NAME
    if not path.is_file():
        raise RuntimeError(
            f"streamrank: the core jar is missing at {path}. Build it with ./build.sh (or "
            "`pip install .`, which runs Maven), or point STREAMRANK_JAR at a streamrank-core.jar."
        )
    return path


_LIBJVM_GLOBS = ("lib/server/libjvm.so", "lib/*/server/libjvm.so", "jre/lib/*/server/libjvm.so",
                 "lib/server/libjvm.dylib", "bin/server/jvm.dll")


def _jvm_path() -> str:
    """libjvm of STREAMRANK_JAVA_HOME or JAVA_HOME when set, else JPype's own search."""
    java_home = os.environ.get("STREAMRANK_JAVA_HOME") or os.environ.get("JAVA_HOME")
    if java_home:
        home = Path(java_home)
        for pattern in _LIBJVM_GLOBS:
            for candidate in sorted(home.glob(pattern)):
                return str(candidate)
        raise RuntimeError(
            f"streamrank needs a Java runtime 17 or newer and found none under {java_home!r} "
            "(no lib/server/libjvm). Point STREAMRANK_JAVA_HOME (or JAVA_HOME) at a Java 17+ "
            "installation, or install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)."
        )
    try:
        return jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException as exc:
        raise RuntimeError(
            "streamrank needs a Java runtime 17 or newer and found none. Install one "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set STREAMRANK_JAVA_HOME "
            "(or JAVA_HOME) to its folder."
        ) from exc


# What the objects need: a Leaderboard keeps <= 200 B/user (100K users, the guide's max_users,
# ~20 MB; 1M users ~200 MB) and a processor a few MB per 16K-event buffer. Without a bound the
# JVM allows itself a quarter of RAM per process and lets G1 grow into it under churn
# (docs/reliability.md, "Process-level faults": RSS 254 MB unbounded vs 183 MB at 512m).
DEFAULT_HEAP = "512m"
_HEAP_FLAGS = ("-Xmx", "-XX:MaxHeapSize=", "-XX:MaxRAMPercentage=", "-XX:MaxRAM=", "-XX:MaxRAMFraction=")


def jvm_options() -> list[str]:
    """Flags for a JVM we start: ``-Xrs`` (signals stay Python's, see the module doc), the
    heap bound (``STREAMRANK_JVM_HEAP``, else :data:`DEFAULT_HEAP` unless
    ``STREAMRANK_JVM_OPTS`` sets one), then ``STREAMRANK_JVM_OPTS``."""
    extra = shlex.split(os.environ.get("STREAMRANK_JVM_OPTS", ""))
    opts = ["-Xrs"]
    heap = os.environ.get("STREAMRANK_JVM_HEAP", "").strip()
    if heap:
        opts.append(f"-Xmx{heap}")
    elif not any(flag.startswith(_HEAP_FLAGS) for flag in extra):
        opts.append(f"-Xmx{DEFAULT_HEAP}")
    opts.extend(extra)
    return opts


def start() -> None:
    """Start the JVM with the core jar on its class path, or join one already running."""
    if STATE.started:
        check_usable()
        return
    with _lock:
        if STATE.started:
            check_usable()
            return
        jar = jar_path()
        if not jpype.isJVMStarted():
            jpype.startJVM(
                _jvm_path(),
                *jvm_options(),
                classpath=[str(jar)],
                convertStrings=False,
                # JPype reads interrupt=False as "install our Java handlers for SIGINT and
                # SIGTERM" (org.jpype.JPypeSignal); -Xrs above makes that registration fail
                # quietly, so the value only matters for a JVM without -Xrs.
                interrupt=False,
            )
        STATE.loader = _loader_for(jar)
        STATE.jar = jar
        STATE.owner_pid = os.getpid()
        STATE.started = True
        # Also when we joined a JVM someone else started: a Python handler replaces the JVM's
        # at the OS level, so SIGTERM becomes a graceful stop there too.
        _lifecycle.install_sigterm_handler()
        try:
            found = str(jclass("io.streamrank.Version").get())
        except BaseException:
            STATE.started = False
            raise
        if found != _CORE_VERSION:
            STATE.started = False
            raise RuntimeError(
                f"streamrank: the core jar at {jar} is version {found}, this package needs "
                f"{_CORE_VERSION}; rebuild it (./build.sh or pip install .)."
            )


def _loader_for(jar: Path):
    """Our classes' loader: the system one when the jar is on the class path (we started the
    JVM), else a URLClassLoader over the jar (another library started the JVM first)."""
    try:
        jpype.JClass("io.streamrank.Version")
        return None
    except Exception:
        pass
    URLClassLoader = jpype.JClass("java.net.URLClassLoader")
    URL = jpype.JClass("java.net.URL")
    Thread = jpype.JClass("java.lang.Thread")
    urls = jpype.JArray(URL)([jpype.JClass("java.io.File")(str(jar)).toURI().toURL()])
    return URLClassLoader(urls, Thread.currentThread().getContextClassLoader())


def jclass(name: str):
    """The JClass for a core class, loaded through the right loader and cached."""
    if STATE.forked:
        check_usable()
    cls = STATE.classes.get(name)
    if cls is not None:
        return cls
    if not STATE.started:
        start()
    try:
        if STATE.loader is None:
            cls = jpype.JClass(name)
        else:
            cls = jpype.JClass(name, loader=STATE.loader)
    except Exception as exc:
        msg = str(exc)
        if "UnsupportedClassVersionError" in msg or "class file version" in msg:
            raise RuntimeError(
                "streamrank needs a Java runtime 17 or newer; the running JVM is older. Set "
                "STREAMRANK_JAVA_HOME (or JAVA_HOME) to a Java 17+ installation."
            ) from None
        raise RuntimeError(f"streamrank: cannot load {name} from {STATE.jar}: {msg}") from None
    STATE.classes[name] = cls
    return cls


def java_version() -> str:
    start()
    return str(jpype.JClass("java.lang.System").getProperty("java.version"))


def is_started() -> bool:
    """True once this process has started (or joined) the JVM. Never starts it."""
    return STATE.started


__all__ = ["start", "jclass", "check_usable", "jar_path", "jvm_options", "is_started", "STATE", "config"]
