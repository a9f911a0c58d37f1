#!/usr/bin/env bash
# The whole test suite, as CI runs it: the Rust tests (unit, integration, compile-fail), the
# official MCP conformance suite against the conformance example, interop tests with the
# official Python and TypeScript MCP clients, and the docs page in headless chromium. Installs
# the npm and pip packages (and chromium) it needs. The OAuth consent page runs in chromium too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The suite must not leave files in the source tree: what is untracked now is compared at the end.
untracked_before="$(git ls-files --others --exclude-standard 2>/dev/null | sort || true)"

need() { command -v "$1" >/dev/null 2>&1; }
# curl runs the docs page's signing example (musehub-server/tests/docs_auth_examples.rs)
# and the muse client end to end (tests/e2e/muse_client.sh).
if ! need node || ! need npm || ! need python3 || ! need curl; then
  echo "installing node, npm, python3 and curl from Debian"
  apt-get update -qq && apt-get install -y -qq nodejs npm python3 python3-venv curl >/dev/null
fi

echo "== cargo test --workspace"
cargo test --workspace

echo "== docs page in a real browser (installs Debian's chromium when missing)"
tests/docs-browser/run.sh

echo "== OAuth sign-in/consent page in a real browser (musehub-server, chromium)"
cargo build -p musehub-server
tests/oauth-browser/run.sh "$root/target/debug/musehub-server"

echo "== conformance server (release build)"
cargo build --release -p musehub-examples --bin conformance
bin="$root/target/release/conformance"
tests/conformance/run.sh "$bin"

echo "== interop: official Python and TypeScript clients (conformance server; TypeScript also against musehub-server with Bearer tokens and OAuth)"
cargo build -p musehub-server
MUSEHUB_CONFORMANCE_BIN="$bin" MUSEHUB_SERVER_BIN="$root/target/debug/musehub-server" tests/interop/run.sh

# --- MuseHub server: end to end with the official Python client ------------------------------
echo "== musehub-server end to end (official Python mcp client, MSign from docs/msign.md)"
cargo build -p musehub-server
echo "== musehub-server docs --check (every tool and parameter described, write tools explicit)"
"$root/target/debug/musehub-server" docs --format markdown --out "$root/target/musehub-reference.md" --check
MUSEHUB_SERVER_BIN="$root/target/debug/musehub-server" tests/e2e/run.sh
echo "== OAuth end to end (official Python SDK OAuthClientProvider: discovery, registration, PKCE, consent, then writes; both eras)"
MUSEHUB_SERVER_BIN="$root/target/debug/musehub-server" tests/e2e/oauth.sh
echo "== muse client end to end (two people clone, push, propose, merge, conflict; a 100 MiB file, server RSS bounded)"
cargo build -p muse-cli
MUSEHUB_SERVER_BIN="$root/target/debug/musehub-server" MUSE_BIN="$root/target/debug/muse" tests/e2e/muse_client.sh

# --- MuseHub server: the test suite against PostgreSQL ---------------------------------------
# A private PostgreSQL instance (Debian's package) on a free loopback port under a temp dir, run
# by the unprivileged `postgres` user; every test creates its own database in it.
echo "== musehub-server tests on PostgreSQL"
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing postgresql from Debian"
  apt-get update && apt-get install -y postgresql
fi
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_dir="$(mktemp -d /tmp/musehub-pg.XXXXXX)"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
as_postgres() { if [[ "$(id -u)" -eq 0 ]]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
if [[ "$(id -u)" -eq 0 ]]; then chown postgres "$pg_dir"; fi
chmod 700 "$pg_dir"
pg_stop() {
  as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap pg_stop EXIT
as_postgres "'$pg_bin/initdb' -D '$pg_dir/data' -U postgres -A trust --no-sync" >"$pg_dir/initdb.log"
as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/postgres.log' -w -o \"-c listen_addresses=127.0.0.1 -p $pg_port -k '$pg_dir' -c fsync=off -c max_connections=400\" start"
as_postgres "'$pg_bin/createdb' -h 127.0.0.1 -p $pg_port -U postgres musehub_test"
MUSEHUB_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/musehub_test" cargo test -p musehub-server
pg_stop
trap - EXIT

# --- Benchmarks: smoke run of the side-by-side bench (issue 9) --------------------------------
# `--quick` runs every measurement briefly (musehub, rmcp in two configurations, the axum floor)
# and must produce the report; its numbers are not compared. The full run is in BENCHMARKS.md.
echo "== bench --quick (musehub vs rmcp vs the floor, smoke mode)"
bench_out="$root/target/bench/BENCHMARKS.quick.md"
rm -f "$bench_out"
cargo run --release -p musehub-bench --features bench --bin bench -- all --quick --out "$bench_out"
if ! grep -qE '^\| [0-9]+ \| musehub \| [0-9]' "$bench_out"; then
  echo "bench --quick did not produce the results table ($bench_out)"
  exit 1
fi

# --- reliability: fuzzing, soak, fault injection (issue 10) ----------------------------------
# Fuzz every target for 60 s (cargo-fuzz installed on first use; ASan on stable Rust through
# RUSTC_BOOTSTRAP=1), a 60 s soak of the musehub-server binary (figures into
# docs/reliability.md), and the fault-injection tests (the file-system ones mount a loop ext4
# image and a tmpfs: root only, they skip with a message otherwise).
# Measured on the 2-core machine: installing cargo-fuzz ~1 min, the instrumented build ~10 min
# cold (~2 min when only musehub-mcp changed), 5 x FUZZ_SECONDS of fuzzing; the soak ~1.5 min
# plus its build; the fault tests ~15 s. A full rehearsal of .ci/run took 16 min warm.
echo "== reliability: fuzzing (musehub-mcp/fuzz/run.sh, FUZZ_SECONDS=60 per target)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" musehub-mcp/fuzz/run.sh
echo "== reliability: soak (tests/soak/run.sh, SOAK_SECONDS=60)"
SOAK_SECONDS="${SOAK_SECONDS:-60}" tests/soak/run.sh
echo "== reliability: fault injection (cargo test -p musehub-server --test faults)"
cargo test -p musehub-server --test faults

# --- Scale-out: two instances sharing one private Redis (issue 8) ----------------------------
# Each test starts its own `redis-server --port P --save '' --appendonly no` on a free loopback
# port (tests/src/lib.rs `RedisServer`); MUSEHUB_REQUIRE_REDIS=1 makes a missing binary fail
# instead of skipping.
echo "== scale-out: multi-instance tests on a private Redis"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server from Debian"
  apt-get update && apt-get install -y redis-server
fi
MUSEHUB_REQUIRE_REDIS=1 cargo test -p musehub-tests --test scale_out
echo "== scale-out: three musehub-server processes, official Python client round robin, instance kill, Redis restart"
cargo build -p musehub-server
bash tests/e2e/scale_out.sh

echo "== the suite left no files in the source tree"
untracked_after="$(git ls-files --others --exclude-standard 2>/dev/null | sort || true)"
left="$(comm -13 <(printf '%s\n' "$untracked_before") <(printf '%s\n' "$untracked_after") | sed '/^$/d')"
if [[ -n "$left" ]]; then
  echo "the test suite wrote these files into the source tree (write them under a temp dir):"
  printf '%s\n' "$left" | sed 's/^/  /'
  exit 1
fi
