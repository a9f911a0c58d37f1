# Shared by tests/e2e/run.sh and tests/e2e/scale_out.sh (sourced, not run): the server
# binary, the Python venv with the pinned requirements, a free loopback port, and starting
# one musehub-server.
#
# Expects HERE (this directory). Sets ROOT, BIN (absolute; MUSEHUB_SERVER_BIN, default
# target/debug/musehub-server, which the caller builds) and PYTHON (default python3, >= 3.10).

ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${MUSEHUB_SERVER_BIN:-$ROOT/target/debug/musehub-server}"
if [[ ! -x "$BIN" ]]; then
    echo "$(basename "$0"): server binary not found or not executable: $BIN" >&2
    echo "$(basename "$0"): build it with 'cargo build -p musehub-server' or set MUSEHUB_SERVER_BIN" >&2
    exit 2
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
PYTHON="${PYTHON:-python3}"

# The venv with the pinned requirements, reinstalled when requirements.txt changes.
venv="$HERE/.venv"
ensure_venv() {
    local stamp="$venv/.requirements.sha256" want
    want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== creating venv $venv"
        "$PYTHON" -m venv "$venv"
    fi
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "== installing python requirements"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
        echo "$want" >"$stamp"
    fi
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server LOG ARGS...: starts "$BIN" ARGS... --bind 127.0.0.1:PORT on a free port and
# waits for /readyz; sets started_pid and started_port. Retries when the probed port was
# taken before the server bound it. Returns 1 (after printing the log) when it never came up.
start_server() {
    local log="$1" pid port ok=""
    shift
    for _attempt in 1 2 3; do
        port="$(free_port)"
        "$BIN" "$@" --bind "127.0.0.1:$port" >"$log" 2>&1 &
        pid=$!
        for _ in $(seq 1 150); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if "$PYTHON" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=1).status == 200 else 1)" 2>/dev/null; then
                ok=1
                break
            fi
            sleep 0.1
        done
        [[ -n "$ok" ]] && break
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -z "$ok" ]]; then
        echo "the server did not start; its log:" >&2
        cat "$log" >&2
        return 1
    fi
    started_pid="$pid"
    started_port="$port"
}
