#!/usr/bin/env bash
# Fuzz musehub-mcp with cargo fuzz (libFuzzer): each target for FUZZ_SECONDS (default 60).
#
#   musehub-mcp/fuzz/run.sh                        # all five targets, 60 s each
#   FUZZ_SECONDS=3600 musehub-mcp/fuzz/run.sh dispatcher   # one target, an hour
#
# Targets: jsonrpc_decoder, dispatcher, msign_header, uri_template, event_id.
# Works on stable Rust: cargo fuzz passes nightly-only flags (-Z sanitizer, coverage
# instrumentation), which RUSTC_BOOTSTRAP=1 unlocks. AddressSanitizer by default
# (FUZZ_SANITIZER=none to turn it off: about 2x faster, catches panics only).
# Installs cargo-fuzz from crates.io when missing. The corpus grows in fuzz/corpus/TARGET
# (git-ignored) from the checked-in seeds in fuzz/seeds/TARGET; a crash is written to
# fuzz/artifacts/TARGET/ and the script exits non-zero after running every target.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
all_targets=(jsonrpc_decoder dispatcher msign_header uri_template event_id)
if [[ $# -gt 0 ]]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

echo "== building the fuzz targets (sanitizer: $sanitizer)"
build_start=$SECONDS
cargo fuzz build -s "$sanitizer" "${targets[@]:0:1}" >/dev/null
for t in "${targets[@]:1}"; do cargo fuzz build -s "$sanitizer" "$t" >/dev/null; done
echo "   built in $((SECONDS - build_start)) s"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  echo "== fuzzing $t for $seconds s"
  log="$(mktemp)"
  if cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      >"$log" 2>&1; then
    runs="$(grep -Eo '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
    cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 || true)"
    echo "   ok: $runs inputs, $cov, corpus $(ls "corpus/$t" | wc -l) files"
  else
    echo "   CRASH in $t:"
    grep -E 'panicked|ERROR: AddressSanitizer|SUMMARY|Test unit written|assert' "$log" | head -n 20 || tail -n 40 "$log"
    failed+=("$t")
  fi
  rm -f "$log"
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs under $here/artifacts/)"
  echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run -s $sanitizer TARGET artifacts/TARGET/crash-..."
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]} ($seconds s each)"
