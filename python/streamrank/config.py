"""Environment variables that configure streamrank (read when the JVM starts, or per error).

==========================  ==========================================================
``STREAMRANK_JAVA_HOME``    Java 17+ installation to use (falls back to ``JAVA_HOME``,
                            then JPype's search of the usual places).
``STREAMRANK_JVM_HEAP``     Maximum heap, passed as ``-Xmx<value>`` (e.g. ``512m``, ``2g``);
                            default ``512m`` unless ``STREAMRANK_JVM_OPTS`` bounds it.
``STREAMRANK_JVM_OPTS``     Extra JVM flags, split like a shell would
                            (e.g. ``-XX:+UseZGC -Dfoo=bar``).
``STREAMRANK_JAR``          Use this core jar instead of the one inside the package.
``STREAMRANK_DEBUG``        ``1`` attaches the Java stack trace to errors raised from Java.
``STREAMRANK_STOP_TIMEOUT`` Seconds a graceful stop (exit, unhandled SIGTERM) waits for
                            pending events (default 5; see ``streamrank._lifecycle``).
==========================  ==========================================================
"""
from __future__ import annotations

import os


def debug() -> bool:
    """Whether errors from Java carry the Java stack trace (``STREAMRANK_DEBUG=1``)."""
    return os.environ.get("STREAMRANK_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
