#!/usr/bin/env bash
# End-to-end test of standard MCP authorization: the official Python SDK's
# OAuthClientProvider (PKCE, dynamic registration, an automated consent step) against the
# musehub-server binary, then a repository created and a push, in both protocol eras
# (test_oauth_e2e.py).
#
# Usage: tests/e2e/oauth.sh   (the caller builds: cargo build -p musehub-server)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

ensure_venv

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

db="sqlite://$tmp/oauth.db"
start_server "$tmp/server.log" --database-url "$db" --no-rate-limits || exit 1
server_pid="$started_pid"
port="$started_port"
echo "== server: http://127.0.0.1:$port/mcp (pid $server_pid)"

status=0
(
    cd "$HERE"
    MUSEHUB_E2E_URL="http://127.0.0.1:$port/mcp" \
    MUSEHUB_E2E_BIN="$BIN" \
    MUSEHUB_E2E_DB="$db" \
    MUSEHUB_E2E_HANDLE="oauth-user" \
        "$venv/bin/python" -m pytest -q -rs test_oauth_e2e.py
) || status=$?
if [[ $status -ne 0 ]]; then
    echo "== server log (last 40 lines)"
    tail -n 40 "$tmp/server.log"
fi
exit $status
