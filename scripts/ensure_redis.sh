#!/usr/bin/env bash
# Starts a throwaway redis-server for the shared-mode tests and prints the environment they read,
# as `export VAR=...` lines (build.sh evals them):
#
#   eval "$(scripts/ensure_redis.sh)"
#
#   STREAMRANK_TEST_REDIS         redis://127.0.0.1:PORT/0, the server every shared-mode test uses
#   STREAMRANK_TEST_REDIS_SERVER  the redis-server program, for tests that start (and kill, and
#                                 restart) a private server of their own
#
# - STREAMRANK_TEST_REDIS already set: a server is provided; print nothing, start nothing.
# - redis-server missing: installed from Debian's package when running as root under CI
#   (CI=true); otherwise print nothing (the shared-mode tests then skip, saying why).
# - The server listens on 127.0.0.1 on a free port, keeps its files in a fresh temp folder, with
#   the append-only file on and fsynced at every write (appendfsync always), so that a test that
#   restarts a server can assert that nothing acknowledged was lost. No RDB snapshots.
#   A watcher stops it and deletes the folder when the calling build.sh exits.
# Everything but the export lines goes to stderr.
set -euo pipefail

log() { printf 'ensure_redis: %s\n' "$*" >&2; }

if [ -n "${STREAMRANK_TEST_REDIS:-}" ]; then
    log "using the server at $STREAMRANK_TEST_REDIS"
    exit 0
fi

SERVER="$(command -v redis-server || true)"
if [ -z "$SERVER" ]; then
    if [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing redis-server from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends redis-server >&2
        # The package starts a system service on port 6379; the tests do not use it.
        SERVER="$(command -v redis-server || true)"
    fi
    if [ -z "$SERVER" ]; then
        log "no redis-server found (Debian/Ubuntu: apt-get install redis-server); shared-mode tests will skip"
        exit 0
    fi
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Answers PING on the port: redis-cli when present, else a raw RESP exchange from Python.
ping() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/streamrank-redis.XXXXXX")"
PORT=""
for _ in 1 2 3 4 5; do
    PORT="$(free_port)"
    "$SERVER" --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --daemonize yes \
        --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
        --appendonly yes --appendfsync always --save "" >/dev/null 2>&1 || { PORT=""; continue; }
    for _ in $(seq 1 100); do
        ping "$PORT" && break
        sleep 0.05
    done
    ping "$PORT" && break
    [ -f "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    PORT=""
done
if [ -z "$PORT" ]; then
    log "the server did not start: $(tail -3 "$DIR/redis.log" 2>/dev/null)"
    rm -rf "$DIR"
    exit 0
fi
PID="$(cat "$DIR/redis.pid")"

# Stop it when the calling build.sh exits. Our parent may be the command substitution's
# subshell (a fork of build.sh with the same command line): then watch its parent instead.
OWNER=$PPID
GRAND=$(ps -o ppid= -p "$OWNER" | tr -d ' ')
if [ -n "$GRAND" ] && [ -r "/proc/$OWNER/cmdline" ] && [ -r "/proc/$GRAND/cmdline" ] \
    && cmp -s "/proc/$OWNER/cmdline" "/proc/$GRAND/cmdline"; then
    OWNER=$GRAND
fi
setsid bash -c "
    while kill -0 $OWNER 2>/dev/null; do sleep 2; done
    kill -9 $PID 2>/dev/null
    rm -rf '$DIR'
" </dev/null >/dev/null 2>&1 &

log "redis-server $("$SERVER" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:$PORT (files in $DIR, stopped when pid $OWNER exits)"
echo "export STREAMRANK_TEST_REDIS=redis://127.0.0.1:$PORT/0"
echo "export STREAMRANK_TEST_REDIS_SERVER=$SERVER"
