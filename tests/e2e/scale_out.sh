#!/usr/bin/env bash
# Scale-out end to end (issue 8): three musehub-server processes on one SQLite database and
# one private Redis, driven by the official Python `mcp` client through a round robin that
# sends each HTTP request to the next instance (no sticky sessions), and by raw HTTP.
#
#   1. a private redis-server on a free loopback port (append-only file, so a restart keeps
#      the sessions), a key from `musehub-server keys generate`;
#   2. instances A, B and C with --redis-url and no shared requestState key configured (they
#      agree on one through Redis);
#   3. test_musehub_e2e.py's whole signed workflow, both eras, through the round robin;
#   4. test_scale_out.py: Redis restarted mid-session (503 while down, the same session
#      afterwards), then instance A killed with a GET stream open and the stream resumed on
#      B with Last-Event-ID, losing nothing.
#
# Usage: tests/e2e/scale_out.sh   (the caller builds: cargo build -p musehub-server)
# Environment: MUSEHUB_SERVER_BIN, PYTHON as for run.sh; REDIS_SERVER (default: redis-server
# on PATH).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"
REDIS_SERVER="${REDIS_SERVER:-$(command -v redis-server || true)}"
if [[ -z "$REDIS_SERVER" ]]; then
    echo "scale_out.sh: redis-server is required (apt-get install -y redis-server)" >&2
    exit 2
fi

ensure_venv

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    # The tests restart Redis themselves: whichever redis-server runs now wrote the pid file.
    if [[ -f "$tmp/redis/redis.pid" ]]; then
        kill "$(cat "$tmp/redis/redis.pid")" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

redis_port="$(free_port)"
mkdir -p "$tmp/redis"
redis_args=(--port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync always --dir "$tmp/redis" --pidfile "$tmp/redis/redis.pid")
"$REDIS_SERVER" "${redis_args[@]}" >"$tmp/redis.log" 2>&1 &
pids+=($!)
redis_ready=""
for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$redis_port" 2>/dev/null; then
        redis_ready=1
        break
    fi
    sleep 0.1
done
if [[ -z "$redis_ready" ]]; then
    echo "scale_out.sh: redis-server did not start; its log:" >&2
    cat "$tmp/redis.log" >&2
    exit 1
fi
echo "== redis on 127.0.0.1:$redis_port"

db="sqlite://$tmp/hub.db"
handle="scale-user"
"$BIN" keys generate --handle "$handle" --out "$tmp/user.key" --database-url "$db" >/dev/null
common=(--database-url "$db" --redis-url "redis://127.0.0.1:$redis_port/0" --no-rate-limits)

urls=()
instance_pids=()
for name in a b c; do
    extra=()
    # One instance loads the demo hub before the others start on the same file.
    [[ "$name" == a ]] && extra=(--seed-demo)
    start_server "$tmp/$name.log" "${common[@]}" ${extra[@]+"${extra[@]}"} || exit 1
    pids+=("$started_pid")
    instance_pids+=("$started_pid")
    urls+=("http://127.0.0.1:$started_port/mcp")
    echo "== instance $name: ${urls[-1]} (pid $started_pid)"
done

# Two runs, each with its own status: a failure of the first must not hide behind the second.
run_tests() {
    cd "$HERE"
    export MUSEHUB_E2E_URL="${urls[0]}"
    MUSEHUB_E2E_URLS="$(IFS=,; echo "${urls[*]}")"
    export MUSEHUB_E2E_URLS
    export MUSEHUB_E2E_HANDLE="$handle" MUSEHUB_E2E_KEY="$tmp/user.key"
    "$venv/bin/python" -m pytest -q -rs -k whole_workflow test_musehub_e2e.py || return $?
    MUSEHUB_SCALE_PIDS="$(IFS=,; echo "${instance_pids[*]}")" \
    MUSEHUB_SCALE_REDIS_BIN="$REDIS_SERVER" \
    MUSEHUB_SCALE_REDIS_DIR="$tmp/redis" \
    MUSEHUB_SCALE_REDIS_PORT="$redis_port" \
        "$venv/bin/python" -m pytest -q -rs test_scale_out.py
}
status=0
(run_tests) || status=$?
if [[ $status -ne 0 ]]; then
    for name in a b c; do
        echo "== instance $name log (last 40 lines)"
        tail -n 40 "$tmp/$name.log"
    done
fi
exit $status
