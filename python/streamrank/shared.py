"""Shared mode's switch: which Redis (if any) and which namespace this process uses.

Shared mode (docs/shared_mode.md) makes every ``Leaderboard`` and ``EventStreamProcessor`` of a
process a replica of state kept in Redis, so several processes (gunicorn workers, the bot, a
Celery worker) see one leaderboard and one set of event statistics. This module only *resolves*
the switch; the facades consult it (wiring still to do, see the doc).

Resolution, first match wins:

=====================================  ======================================================
``STREAMRANK_SHARED`` (environment)    ``redis://[:password@]host[:port][/db]``; an empty
                                       value means embedded mode
``settings.STREAMRANK["SHARED"]``      the same, from Django settings (only when Django is
                                       installed and its settings are configured)
(neither)                              embedded mode: ``resolve()`` returns None
=====================================  ======================================================

The namespace (``STREAMRANK_NAMESPACE`` or ``settings.STREAMRANK["NAMESPACE"]``, default
``"streamrank"``) prefixes every Redis key, so two applications can share one Redis. Objects
are named inside it: one default name per class (``"default"``), or the ``name=`` keyword.

:func:`engines` is a thin way to reach the Java engines (``io.streamrank.shared``) for tests and
tools until the facades use them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_NAMESPACE = "streamrank"
DEFAULT_NAME = "default"
DEFAULT_TIMEOUT_MS = 2000

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True)
class SharedConfig:
    """Where shared state lives: the Redis URL and the key namespace."""

    url: str
    namespace: str
    timeout_ms: int = DEFAULT_TIMEOUT_MS

    def key(self, kind: str, name: str, part: str) -> str:
        """A Redis key, as the Java side names it (``io.streamrank.shared.Keys``)."""
        return f"{self.namespace}:{kind}:{check_name(name)}:{part}"


def check_url(url: object, source: str) -> str:
    if not isinstance(url, str):
        raise TypeError(f"{source} must be a str like 'redis://127.0.0.1:6379/0', not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ValueError(f"{source} must be a redis://host:port/db URL, got {url!r}")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ValueError(f"{source} has an invalid port: {url!r}") from None
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ValueError(f"{source}: the database in {url!r} must be a number")
    return url


def check_name(name: object, what: str = "name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if not _NAME_RE.match(name):
        raise ValueError(f"{what} must be 1-100 characters of letters, digits, '_', '-', '.'; got {name!r}")
    return name


def _django_setting(key: str):
    """``settings.STREAMRANK[key]`` when Django is importable and configured, else None."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    try:
        if not settings.configured:
            return None
        user = getattr(settings, "STREAMRANK", None) or {}
    except Exception:  # ImproperlyConfigured while settings load
        return None
    if not isinstance(user, dict):
        raise TypeError(f"settings.STREAMRANK must be a dict, not {type(user).__name__}")
    return user.get(key)


def resolve() -> SharedConfig | None:
    """The shared-mode configuration of this process, or None for embedded mode."""
    env = os.environ.get("STREAMRANK_SHARED")
    if env is not None:
        url = env.strip()
        if not url:
            return None
        url = check_url(url, "STREAMRANK_SHARED")
    else:
        setting = _django_setting("SHARED")
        if setting in (None, ""):
            return None
        url = check_url(setting, 'settings.STREAMRANK["SHARED"]')
    ns_env = os.environ.get("STREAMRANK_NAMESPACE")
    if ns_env:
        namespace = check_name(ns_env.strip(), "STREAMRANK_NAMESPACE")
    else:
        ns = _django_setting("NAMESPACE")
        namespace = DEFAULT_NAMESPACE if ns in (None, "") else check_name(ns, 'settings.STREAMRANK["NAMESPACE"]')
    return SharedConfig(url=url, namespace=namespace)


class Engines:
    """The Java classes of shared mode, loaded through streamrank's JVM bootstrap."""

    def __init__(self) -> None:
        from . import _jvm

        p = "io.streamrank.shared."
        self.RedisEndpoint = _jvm.jclass(p + "RedisEndpoint")
        self.ReplicatedLeaderboard = _jvm.jclass(p + "ReplicatedLeaderboard")
        self.SharedEventStream = _jvm.jclass(p + "SharedEventStream")
        self.SharedEventConsumer = _jvm.jclass(p + "SharedEventConsumer")
        self.ConsumerOptions = _jvm.jclass(p + "SharedEventConsumer$Options")
        self.LogReader = _jvm.jclass(p + "LogReader")
        self.DeliveryCallback = _jvm.jclass(p + "DeliveryCallback")
        self.StreamId = _jvm.jclass(p + "StreamId")
        self.SharedUnavailableException = _jvm.jclass(p + "SharedUnavailableException")

    def endpoint(self, config: SharedConfig):
        return self.RedisEndpoint.open(config.url, config.timeout_ms)


_engines: Engines | None = None


def engines() -> Engines:
    """The Java engines (starts the JVM on first use)."""
    global _engines
    if _engines is None:
        _engines = Engines()
    return _engines
