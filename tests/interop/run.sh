#!/usr/bin/env bash
# Interop tests: the official MCP SDK clients against the conformance server binary (and, for
# ts/bearer.test.mjs, the musehub-server binary), in both protocol eras the server speaks on one
# endpoint:
#   Python `mcp` 2.x (PyPI): python/test_interop.py (handshake era, mode="legacy") and
#     python/test_modern.py (2026-07-28: mode="auto" / "2026-07-28", plus the same script in
#     mode="legacy");
#   TypeScript (npm): ts/interop.test.mjs (@modelcontextprotocol/sdk 1.x, handshake era) and
#     ts/modern.test.mjs (@modelcontextprotocol/client 2.x, 2026-07-28 and legacy mode);
#     ts/bearer.test.mjs: both TypeScript clients against the musehub-server binary with Bearer
#     agent tokens and the SDKs' own OAuth 2.1 clients (discovery, registration, PKCE, consent).
#
# Usage: tests/interop/run.sh
# Environment:
#   MUSEHUB_CONFORMANCE_BIN  server binary (default: target/debug/conformance of this checkout;
#                            build it with `cargo build -p musehub-examples --bin conformance`)
#   MUSEHUB_SERVER_BIN       musehub-server binary for ts/bearer.test.mjs (default:
#                            target/debug/musehub-server; build it with
#                            `cargo build -p musehub-server`). Required: without it run.sh fails.
#   PYTHON                   interpreter used to create the venv (default: python3, needs >= 3.10)
#   NODE                     node binary for the TypeScript suite (default: node, needs >= 20)
#
# Both suites always run; the exit status is non-zero if either fails. (The suite functions are
# called in `||` context, where `set -e` does not apply, so every step there has `|| return`.)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${MUSEHUB_CONFORMANCE_BIN:-$(dirname "$0")/../../target/debug/conformance}"
if [[ ! -x "$BIN" ]]; then
    echo "run.sh: conformance server binary not found or not executable: $BIN" >&2
    echo "run.sh: build it with 'cargo build -p musehub-examples --bin conformance' or set MUSEHUB_CONFORMANCE_BIN" >&2
    exit 2
fi
MUSEHUB_CONFORMANCE_BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
export MUSEHUB_CONFORMANCE_BIN
echo "== server binary: $MUSEHUB_CONFORMANCE_BIN"
HUB_BIN="${MUSEHUB_SERVER_BIN:-$(dirname "$0")/../../target/debug/musehub-server}"
if [[ ! -x "$HUB_BIN" ]]; then
    echo "run.sh: musehub-server binary not found or not executable: $HUB_BIN" >&2
    echo "run.sh: ts/bearer.test.mjs needs it; build it with 'cargo build -p musehub-server' or set MUSEHUB_SERVER_BIN" >&2
    exit 2
fi
MUSEHUB_SERVER_BIN="$(cd "$(dirname "$HUB_BIN")" && pwd)/$(basename "$HUB_BIN")"
export MUSEHUB_SERVER_BIN
echo "== musehub-server binary: $MUSEHUB_SERVER_BIN"

PYTHON="${PYTHON:-python3}"
NODE="${NODE:-node}"

# --- Python: official `mcp` SDK -------------------------------------------------------------
run_python() {
    local dir="$HERE/python" venv="$HERE/python/.venv"
    local stamp="$venv/.requirements.sha256" want
    want="$(sha256sum "$dir/requirements.txt" | cut -d' ' -f1)" || return
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== creating venv $venv"
        "$PYTHON" -m venv "$venv" || return
    fi
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "== installing python requirements"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/requirements.txt" || return
        echo "$want" >"$stamp" || return
    fi
    echo "== python: pytest"
    (cd "$dir" && "$venv/bin/python" -m pytest -q test_interop.py test_modern.py)
}

# --- TypeScript: official @modelcontextprotocol/sdk (1.x) and @modelcontextprotocol/client (2.x)
run_ts() {
    local dir="$HERE/ts"
    local stamp="$dir/node_modules/.package-lock.sha256" want
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)" || return
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "== npm ci"
        (cd "$dir" && npm ci --no-audit --no-fund) || return
        echo "$want" >"$stamp" || return
    fi
    echo "== typescript: node --test ($("$NODE" --version))"
    (cd "$dir" && "$NODE" --test interop.test.mjs modern.test.mjs bearer.test.mjs)
}

py_status=0
ts_status=0
run_python || py_status=$?
run_ts || ts_status=$?

echo "== python suite: $([[ $py_status -eq 0 ]] && echo PASS || echo "FAIL ($py_status)")"
echo "== typescript suite: $([[ $ts_status -eq 0 ]] && echo PASS || echo "FAIL ($ts_status)")"
if [[ $py_status -ne 0 || $ts_status -ne 0 ]]; then
    exit 1
fi
