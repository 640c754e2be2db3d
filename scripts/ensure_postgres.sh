#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the Django example's tests and prints the environment
# they read, as `export VAR=...` lines (build.sh evals them):
#
#   eval "$(scripts/ensure_postgres.sh)"
#
# - STREAMRANK_PG_HOST already set: a server is provided; print nothing, start nothing.
# - PostgreSQL's programs missing: installed from Debian's packages when running as root under CI
#   (CI=true); otherwise print nothing (the PostgreSQL tests then skip, saying why).
# - The server runs as a non-root user (PostgreSQL refuses root) from a fresh data folder in a
#   temp dir, listening on 127.0.0.1 on a free port, trust authentication, no fsync (throwaway).
#   A watcher stops it and deletes the folder when the calling build.sh exits.
# Everything but the export lines goes to stderr.
set -euo pipefail

log() { printf 'ensure_postgres: %s\n' "$*" >&2; }

if [ -n "${STREAMRANK_PG_HOST:-}" ]; then
    log "using the server at $STREAMRANK_PG_HOST:${STREAMRANK_PG_PORT:-5432}"
    exit 0
fi

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
    if [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing PostgreSQL from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        BINDIR="$(find_bindir || true)"
    fi
    if [ -z "$BINDIR" ]; then
        log "no PostgreSQL found (Debian/Ubuntu: apt-get install postgresql); its tests will skip"
        exit 0
    fi
fi

# The server's user: ourselves unless root; then the postgres system user, or nobody.
AS=()
if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then RUNAS=postgres; else RUNAS=nobody; fi
    AS=(runuser -u "$RUNAS" --)
else
    RUNAS="$(id -un)"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/streamrank-pg.XXXXXX")"
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$RUNAS" "$DIR"
"${AS[@]}" "$BINDIR/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>"$DIR/initdb.log" \
    || { log "initdb failed: $(tail -3 "$DIR/initdb.log")"; rm -rf "$DIR"; exit 0; }

PORT=""
for _ in 1 2 3 4 5; do
    PORT="$(free_port)"
    if "${AS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        start >/dev/null 2>&1; then
        break
    fi
    PORT=""
done
if [ -z "$PORT" ]; then
    log "the server did not start: $(tail -3 "$DIR/server.log" 2>/dev/null)"
    rm -rf "$DIR"
    exit 0
fi

# Stop it when the calling build.sh exits. Our parent may be the command substitution's
# subshell (a fork of build.sh with the same command line): then watch its parent instead.
OWNER=$PPID
GRAND=$(ps -o ppid= -p "$OWNER" | tr -d ' ')
if [ -n "$GRAND" ] && [ -r "/proc/$OWNER/cmdline" ] && [ -r "/proc/$GRAND/cmdline" ] \
    && cmp -s "/proc/$OWNER/cmdline" "/proc/$GRAND/cmdline"; then
    OWNER=$GRAND
fi
STOP_AS="${AS[*]}"
setsid bash -c "
    while kill -0 $OWNER 2>/dev/null; do sleep 2; done
    $STOP_AS '$BINDIR/pg_ctl' -D '$DIR/data' -m immediate stop >/dev/null 2>&1
    rm -rf '$DIR'
" </dev/null >/dev/null 2>&1 &

log "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data in $DIR, stopped when pid $OWNER exits)"
echo "export STREAMRANK_PG_HOST=127.0.0.1"
echo "export STREAMRANK_PG_PORT=$PORT"
echo "export STREAMRANK_PG_USER=postgres"
echo "export STREAMRANK_PG_DB=postgres"
echo "export STREAMRANK_PG_DATADIR=$DIR/data"
