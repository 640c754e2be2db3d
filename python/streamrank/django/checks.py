"""System checks: ``manage.py check`` (and runserver, migrate...) report a missing or too old
Java, or a missing core jar, before the first request fails. They never start the JVM: the Java
version comes from the installation's ``release`` file (``java -version`` when it has none)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.core import checks

MIN_JAVA = 17
TAG = "streamrank"


def _java_home_of(libjvm: Path) -> Path | None:
    """The installation folder holding ``libjvm``: the first parent with a ``release`` file or
    ``bin/java``."""
    for parent in list(libjvm.parents)[:5]:
        if (parent / "release").is_file() or (parent / "bin" / "java").is_file():
            return parent
    return None


def _parse_version(text: str) -> int | None:
    """Major version from '17.0.2', '21', '1.8.0_292' (-> 8) or a `java -version` banner."""
    match = re.search(r'(?:JAVA_VERSION=|version ")"?(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # 1.8 -> 8
        major = int(match.group(2))
    return major


def java_major(home: Path) -> tuple[int | None, str]:
    """(major version or None, how it was found) of the Java installation at ``home``."""
    release = home / "release"
    if release.is_file():
        text = release.read_text(errors="replace")
        major = _parse_version(text)
        if major is not None:
            return major, str(release)
    java = home / "bin" / "java"
    if java.is_file():
        try:
            out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=20)
            major = _parse_version(out.stderr + out.stdout)
            if major is not None:
                return major, f"{java} -version"
        except (OSError, subprocess.SubprocessError):
            pass
    return None, str(home)


@checks.register(TAG)
def check_java(app_configs=None, **kwargs):
    from streamrank import _jvm

    if _jvm.is_started():  # already running in this process: ask it
        try:
            major = _parse_version(f'version "{_jvm.java_version()}"')
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return [checks.Error(f"streamrank: the running JVM is unusable: {exc}", id="streamrank.E004")]
        if major is not None and major < MIN_JAVA:
            return [_too_old(major, "the running JVM")]
        return []

    errors = []
    try:
        libjvm = Path(_jvm._jvm_path())
    except RuntimeError as exc:
        errors.append(checks.Error(str(exc), id="streamrank.E001"))
    else:
        home = _java_home_of(libjvm)
        major, source = java_major(home) if home else (None, str(libjvm))
        if major is None:
            errors.append(checks.Warning(
                f"streamrank: cannot tell the version of the Java runtime at {home or libjvm}; "
                f"it needs {MIN_JAVA} or newer.", id="streamrank.W001"))
        elif major < MIN_JAVA:
            errors.append(_too_old(major, source))
    try:
        _jvm.jar_path()
    except RuntimeError as exc:
        errors.append(checks.Error(str(exc), id="streamrank.E003"))
    try:
        from . import streamrank_settings

        streamrank_settings()
    except (TypeError, ValueError) as exc:
        errors.append(checks.Error(f"streamrank: {exc}", id="streamrank.E005"))
    return errors


def _too_old(major: int, source: str) -> checks.Error:
    return checks.Error(
        f"streamrank needs Java {MIN_JAVA} or newer; found Java {major} ({source}).",
        id="streamrank.E002",
        hint="Install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) "
             "and point STREAMRANK_JAVA_HOME (or JAVA_HOME) at it.",
    )
