#!/usr/bin/env bash
# streamrank's one entry point.
#   ./build.sh            set up: JDK 17+ and Maven (installed with apt-get when missing and
#                         we are root), the shaded core jar, .venv with the package installed
#                         editable plus its dev/test extras
#   ./build.sh test       set up, then JUnit (mvn -q test) and pytest
#   ./build.sh demo       set up, then the main job (the live dashboard)
#   ./build.sh bench      set up, then every comparison (args go to benchmarks/run.py: --quick,
#                         --smoke, --only SECTION); STREAMRANK_ORIGINAL_PATH adds the original
#   ./build.sh soak       set up, then the soak test (args go to python/tests/soak.py)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
    # Installs Debian packages when we can (root with apt-get), else says what to install.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        if [ "$APT_UPDATED" = 0 ]; then
            say "apt-get update"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
            APT_UPDATED=1
        fi
        say "apt-get install $*"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        die "missing: $* (Debian/Ubuntu: sudo apt-get install $*)"
    fi
}

java_major() {
    # Prints the major version of the javac on PATH (or nothing).
    command -v javac >/dev/null 2>&1 || return 0
    javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p'
}

ensure_tools() {
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    local major
    major="$(java_major)"
    if [ -z "$major" ] || [ "$major" -lt 17 ]; then
        if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
            export PATH="$JAVA_HOME/bin:$PATH"
        else
            apt_install openjdk-17-jdk-headless
        fi
        major="$(java_major)"
        [ -n "$major" ] && [ "$major" -ge 17 ] || die "need a JDK 17 or newer (found: ${major:-none}); set JAVA_HOME"
    fi
    command -v mvn >/dev/null 2>&1 || apt_install maven
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

setup() {
    ensure_tools
    say "core jar (Maven runs only when the Java sources changed)"
    python3 python/build_backend/streamrank_build.py >/dev/null
    if [ ! -x "$PY" ]; then
        say "creating .venv"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when the package metadata changed (the install is editable: code changes
    # need nothing, the jar is refreshed above).
    local stamp="$VENV/.streamrank-installed" want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing streamrank (editable) with dev extras into .venv"
        "$PY" -m pip install -q --upgrade pip
        "$PY" -m pip install -q -e ".[dev]"
        echo "$want" > "$stamp"
    fi
}

run_tests() {
    if [ -x scripts/ensure_redis.sh ]; then
        # Starts a throwaway redis-server on loopback for the shared-mode tests, JUnit and
        # pytest alike (installs it if needed under CI); prints the environment they read.
        eval "$(scripts/ensure_redis.sh)" || say "Redis unavailable: the shared-mode tests will skip"
    fi
    say "JUnit (mvn -q test)"
    mvn -B -q test
    if [ -x scripts/ensure_postgres.sh ]; then
        # Starts a throwaway PostgreSQL on loopback for the Django tests (installs it if needed
        # under CI); prints the environment the tests read.
        eval "$(scripts/ensure_postgres.sh)" || say "PostgreSQL unavailable: its tests will skip"
    fi
    say "pytest"
    "$PY" -m pytest -q "$@"
}

cmd="${1:-setup}"
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    test) setup; run_tests "$@" ;;
    demo)
        setup
        if [ -f examples/discord_django/demo.py ]; then
            exec "$PY" examples/discord_django/demo.py "$@"
        fi
        exec "$PY" examples/quickstart.py "$@"
        ;;
    bench) setup; exec "$PY" benchmarks/run.py "$@" ;;
    soak) setup; exec "$PY" python/tests/soak.py "$@" ;;
    *) die "unknown command '$cmd' (use: ./build.sh [setup|test|demo|bench|soak])" ;;
esac
