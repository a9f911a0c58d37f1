#!/usr/bin/env bash
# The whole test suite, as CI runs it: the Rust tests (unit, integration, compile-fail), the
# official MCP conformance suite against the conformance example, interop tests with the
# official Python and TypeScript MCP clients, and the docs page in headless chromium. Installs
# the npm and pip packages (and chromium) it needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need node || ! need npm || ! need python3; then
  echo "installing node, npm and python3 from Debian"
  apt-get update -qq && apt-get install -y -qq nodejs npm python3 python3-venv >/dev/null
fi

echo "== cargo test --workspace"
cargo test --workspace

echo "== docs page in a real browser (installs Debian's chromium when missing)"
tests/docs-browser/run.sh

echo "== conformance server (release build)"
cargo build --release -p musehub-examples --bin conformance
bin="$root/target/release/conformance"
tests/conformance/run.sh "$bin"

echo "== interop: official Python and TypeScript clients"
MUSEHUB_CONFORMANCE_BIN="$bin" tests/interop/run.sh
