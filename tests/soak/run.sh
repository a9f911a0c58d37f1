#!/usr/bin/env bash
# Soak test of the musehub-server binary (loopback only, bounded): builds the server and runs
# musehub-server/tests/soak.rs (ignored by plain `cargo test`) for SOAK_SECONDS (default 60)
# with SOAK_WORKERS concurrent clients (default 12), prints the figures (requests, sessions,
# errors by kind, peak memory) and writes them into the figures table of docs/reliability.md.
#
#   tests/soak/run.sh                    # 60 s, as CI runs it
#   SOAK_SECONDS=600 tests/soak/run.sh   # ten minutes
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
seconds="${SOAK_SECONDS:-60}"
workers="${SOAK_WORKERS:-12}"
report="$root/target/soak-report.json"
doc="$root/docs/reliability.md"

echo "== soak: building musehub-server and the soak test"
cargo build -p musehub-server
cargo test -p musehub-server --test soak --no-run

echo "== soak: $seconds s, $workers clients"
rm -f "$report"
set +e
SOAK_SECONDS="$seconds" SOAK_WORKERS="$workers" SOAK_REPORT="$report" \
  cargo test -p musehub-server --test soak -- --ignored --nocapture soak
status=$?
set -e

if [[ -f "$report" ]]; then
  python3 - "$report" "$doc" "$status" <<'PY'
import json, sys, datetime
report, doc, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(report))
mib = lambda k: f"{r[k] / 1024:.1f} MiB"
errors = {k: v for k, v in r["outcomes"].items() if k not in ("ok", "delete:200")}
errs = ", ".join(f"`{k}` {v}" for k, v in sorted(errors.items())) or "none"
unexpected = ", ".join(f"`{k}` {v}" for k, v in sorted(r["unexpected"].items())) or "none"
e = r["expiry"]
rows = [
    ("run", f"{r['seconds']:.0f} s, {r['clients']} concurrent clients, {datetime.date.today()}, "
            f"{'passed' if status == 0 else 'FAILED'}"),
    ("requests", f"{r['requests']} ({r['requests_per_second']:.0f}/s)"),
    ("sessions", f"{r['sessions_created']} created, {r['sessions_deleted']} deleted by the client, "
                 f"{r['sessions_abandoned']} abandoned (deleted at the end: {r['abandoned_deleted_at_end']})"),
    ("GET streams opened", str(r["get_streams"])),
    ("pushes acknowledged", f"{r['pushes_acknowledged']}; missing or partial afterwards: {r['pushes_missing_or_partial']}"),
    ("errors by kind (expected)", errs),
    ("unexpected errors", unexpected),
    ("database consistency problems", str(len(r["consistency_problems"]))),
    ("memory (RSS)", f"start {mib('rss_start_kib')}, peak {mib('rss_peak_kib')}, "
                     f"end {mib('rss_end_kib')} (3 s after the last session ended)"),
    ("SIGTERM after the load", str(r["exit_on_sigterm"])),
    ("session expiry (in-process, idle timeout "
     f"{e['idle_timeout_s']} s)", f"{e['sessions_opened']} sessions opened and abandoned, peak "
     f"{e['peak_sessions']} live, {e['sessions_after_expiry']} left "
     f"{e['expired_within_s']:.1f} s after the load stopped"),
]
table = "| figure | value |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)
begin, end = "<!-- soak-figures:begin -->", "<!-- soak-figures:end -->"
text = open(doc).read()
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(doc, "w").write(f"{head}{begin}\n{table}{end}{tail}")
    print(f"soak figures written to {doc}")
else:
    print(f"no figure markers in {doc}; figures:\n{table}")
print(table)
PY
fi
exit "$status"
