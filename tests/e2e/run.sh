#!/usr/bin/env bash
# End-to-end test: the official Python `mcp` client against the musehub-server binary.
#
#   1. `musehub-server keys generate` registers a fresh Ed25519 key for the handle `e2e-user`
#      in a new SQLite database under a temp dir (the secret goes to a 0600 file there);
#   2. the server starts on that database with the demo hub, on a free loopback port;
#   3. test_musehub_e2e.py signs with the MSignAuth hook extracted from docs/msign.md and
#      creates a repository, pushes, opens and merges a proposal, publishes a release, reads
#      the resources, answers an interactive tool's elicitation; unsigned, the write is 401.
#      Each test runs in both eras: mode="legacy" (2025-11-25 handshake) and "2026-07-28".
#
# Usage: tests/e2e/run.sh   (the caller builds: cargo build -p musehub-server)
# Environment:
#   MUSEHUB_SERVER_BIN  server binary (default: target/debug/musehub-server of this checkout)
#   PYTHON              interpreter for the venv (default python3, needs >= 3.10)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

ensure_venv

# --- a temp dir, a key, a server ----------------------------------------------------------
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

db="sqlite://$tmp/e2e.db"
handle="e2e-user"
echo "== keys generate --handle $handle"
"$BIN" keys generate --handle "$handle" --out "$tmp/e2e.key" --database-url "$db"

start_server "$tmp/server.log" --database-url "$db" --seed-demo || exit 1
server_pid="$started_pid"
port="$started_port"
echo "== server: http://127.0.0.1:$port/mcp (pid $server_pid)"

status=0
(
    cd "$HERE"
    MUSEHUB_E2E_URL="http://127.0.0.1:$port/mcp" \
    MUSEHUB_E2E_HANDLE="$handle" \
    MUSEHUB_E2E_KEY="$tmp/e2e.key" \
        "$venv/bin/python" -m pytest -q -rs test_musehub_e2e.py
) || status=$?
if [[ $status -ne 0 ]]; then
    echo "== server log (last 60 lines)"
    tail -n 60 "$tmp/server.log"
fi
exit $status
