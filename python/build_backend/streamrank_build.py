"""PEP 517 build backend: setuptools, plus the Maven build of the core jar the wheel carries.

``pip install .``, ``pip install -e .`` and ``pip wheel .`` call :func:`build_wheel` or
:func:`build_editable`; both first make sure ``python/streamrank/jars/streamrank-core.jar`` is
the shaded jar built from the current Java sources (Maven runs only when a source or pom is
newer than the jar, or when ``STREAMRANK_FORCE_MAVEN=1``). An sdist carries the Java sources,
so a wheel can be built from it on a machine with a JDK 17+ and Maven.

Run as a script (``python python/build_backend/streamrank_build.py``) it only builds the jar;
``build.sh`` does that so the two never disagree on when Maven must run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (re-exported PEP 517 hooks)
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

ROOT = Path(__file__).resolve().parents[2]
JAR_BUILT = ROOT / "java-core" / "target" / "streamrank-core.jar"
JAR_SHIPPED = ROOT / "python" / "streamrank" / "jars" / "streamrank-core.jar"
_INPUTS = ("pom.xml", "java-core/pom.xml", "java-core/src/main")


def _newest_input_mtime() -> float:
    newest = 0.0
    for rel in _INPUTS:
        path = ROOT / rel
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for f in path.rglob("*"):
                if f.is_file():
                    newest = max(newest, f.stat().st_mtime)
    return newest


def _log(msg: str) -> None:
    print(f"streamrank build: {msg}", file=sys.stderr, flush=True)


def ensure_jar() -> Path:
    """Build (if stale) and place the shaded jar inside the Python package; return its path."""
    have_sources = (ROOT / "java-core" / "pom.xml").is_file()
    forced = os.environ.get("STREAMRANK_FORCE_MAVEN") == "1"
    fresh = JAR_SHIPPED.is_file() and (not have_sources or JAR_SHIPPED.stat().st_mtime >= _newest_input_mtime())
    if fresh and not forced:
        return JAR_SHIPPED
    if not have_sources:
        raise RuntimeError(f"streamrank: no Java sources and no jar at {JAR_SHIPPED}; cannot build")
    mvn = shutil.which("mvn")
    if mvn is None:
        if JAR_SHIPPED.is_file():
            _log(f"Maven not found; using the existing {JAR_SHIPPED} (may be older than the sources)")
            return JAR_SHIPPED
        raise RuntimeError(
            "streamrank: building the core jar needs Maven and a JDK 17+ (Debian/Ubuntu: "
            "apt-get install maven openjdk-17-jdk-headless), or run ./build.sh, which installs them."
        )
    _log("building the core jar with Maven (mvn -B -q -DskipTests package)")
    subprocess.run([mvn, "-B", "-q", "-DskipTests", "package"], cwd=ROOT, check=True)
    JAR_SHIPPED.parent.mkdir(parents=True, exist_ok=True)
    tmp = JAR_SHIPPED.with_suffix(".jar.tmp")
    shutil.copyfile(JAR_BUILT, tmp)
    os.replace(tmp, JAR_SHIPPED)
    return JAR_SHIPPED


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    ensure_jar()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    ensure_jar()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    return _setuptools.build_sdist(sdist_directory, config_settings)


if __name__ == "__main__":
    print(ensure_jar())
