#!/usr/bin/env bash
# End to end with the shipped `muse` client against the musehub-server binary (issue 15):
#
#   1. a hub on an empty SQLite database (no demo data) on a free loopback port;
#   2. alice's key made on the hub's machine (`keys generate`); bob's enrolled from "his own
#      machine" with a one-time code (`keys invite`, then `muse auth enroll`);
#   3. alice creates a repository and adds bob (signed MCP calls, curl + `musehub-server sign`);
#   4. both clone; alice commits and pushes bass.mid on main, bob drums.mid on a branch; bob
#      opens a proposal, alice merges it: main keeps both files; `muse pull` brings them;
#   5. both change README.md differently: the proposal's merge is refused with merge_conflict
#      listing README.md, and bob's `muse pull origin main` lists the conflict and changes
#      nothing;
#   6. a 100 MiB file pushes (signed 4 MiB pieces) and pulls back byte-identical; the
#      server's peak RSS (VmHWM) must stay within BOUND_KIB of what it was before.
#
# Usage: tests/e2e/muse_client.sh   (the caller builds: cargo build -p musehub-server -p muse-cli)
# Environment: MUSEHUB_SERVER_BIN, MUSE_BIN (default target/debug/...), BIG_MIB (default 100).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"
MUSE="${MUSE_BIN:-$ROOT/target/debug/muse}"
if [[ ! -x "$MUSE" ]]; then
    echo "muse_client.sh: muse not found at $MUSE (cargo build -p muse-cli, or set MUSE_BIN)" >&2
    exit 2
fi
BIG_MIB="${BIG_MIB:-100}"
# The server holds one upload piece (4 MiB) while it checks its signature, plus hyper's and
# the allocator's buffers; a server that kept the file (or its base64) would exceed the file's
# own size. 48 MiB over the baseline is far below that and leaves room for the allocator.
BOUND_KIB="${BOUND_KIB:-49152}"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    # KEEP=1 keeps the folders (repositories, object store, logs) for a look afterwards.
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "== server log (last 40 lines)" >&2
    tail -n 40 "$tmp/server.log" >&2 || true
    exit 1
}
step() { echo "== $*"; }
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d, 'json': json}))" "$1"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

db="sqlite://$tmp/hub.db"
start_server "$tmp/server.log" --database-url "$db" --objects-dir "$tmp/objects" || exit 1
server_pid="$started_pid"
hub="http://127.0.0.1:$started_port"
step "hub: $hub (pid $server_pid), empty database"

# One signed MCP call, sessionless (2026-07-28), the way the docs page shows: prints the
# result's structuredContent as JSON (a tool error too: it carries {"error": ...}).
mcp() {
    local who="$1" tool="$2" args="$3" body
    body="$("$PYTHON" -c 'import json,sys; print(json.dumps({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":sys.argv[1],"arguments":json.loads(sys.argv[2]),"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}))' "$tool" "$args")"
    curl -sS "$hub/mcp" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $tool" \
        -H "Authorization: $("$BIN" sign --key "$tmp/keys/$who.key" --handle "$who" --body "$body")" \
        -d "$body" | json "json.dumps(d['result']['structuredContent'])"
}

# --- keys: alice on the hub's machine, bob enrolled from his own -----------------------------
mkdir -p "$tmp/keys" "$tmp/alice" "$tmp/bob"
step "keys generate (alice), keys invite + muse auth enroll (bob)"
"$BIN" keys generate --handle alice --out "$tmp/keys/alice.key" --database-url "$db" --objects-dir "$tmp/objects" >/dev/null 2>&1
code="$("$BIN" keys invite --handle bob --database-url "$db" --objects-dir "$tmp/objects" 2>/dev/null | awk '/^code: / {print $2}')"
[[ "$code" == mhe_* ]] || fail "keys invite printed no code"
export MUSE_HOME="$tmp/bob/.muse-home"
"$MUSE" auth enroll "$hub" --handle bob --code "$code" --out "$tmp/keys/bob.key" >/dev/null
[[ "$("$MUSE" config --global user.handle)" == bob ]] || fail "enroll did not record user.handle"
if "$MUSE" auth enroll "$hub" --handle bob --code "$code" --out "$tmp/keys/bob2.key" 2>"$tmp/reuse.err"; then
    fail "an enrollment code worked twice"
fi
grep -q invalid_enrollment_code "$tmp/reuse.err" || fail "reused code: $(cat "$tmp/reuse.err")"
[[ ! -e "$tmp/keys/bob2.key" ]] || fail "a refused enrollment left a key file"
[[ "$(mcp bob musehub_whoami '{}' | json "d['handle']")" == bob ]] || fail "bob's enrolled key does not sign"

as_alice() { MUSE_HOME="$tmp/alice/.muse-home" "$@"; }
as_bob() { MUSE_HOME="$tmp/bob/.muse-home" "$@"; }
as_alice "$MUSE" config --global user.handle alice
as_alice "$MUSE" config --global user.key "$tmp/keys/alice.key"

# --- a repository, two clones ------------------------------------------------------------------
step "alice creates alice/duet and adds bob"
[[ "$(mcp alice musehub_create_repo '{"name":"Duet"}' | json "d['repo']['slug']")" == duet ]] || fail "create_repo"
[[ "$(mcp alice musehub_add_collaborator '{"owner":"alice","slug":"duet","handle":"bob"}' | json "d['added']")" == True ]] || fail "add_collaborator"
remote="$(mcp alice muse_remote '{"owner":"alice","slug":"duet"}' | json "d['remote_url']")"
[[ "$remote" == "$hub/alice/duet" ]] || fail "muse_remote gave $remote"
(cd "$tmp/alice" && as_alice "$MUSE" clone "$remote" duet >/dev/null)
(cd "$tmp/bob" && as_bob "$MUSE" clone "$remote" duet >/dev/null)
[[ -f "$tmp/alice/duet/README.md" && -f "$tmp/bob/duet/README.md" ]] || fail "clones lack README.md"

step "alice pushes bass.mid to main; bob pushes drums.mid to a branch and opens a proposal"
(cd "$tmp/alice/duet" && printf 'MThd bass line' >bass.mid && as_alice "$MUSE" add bass.mid >/dev/null \
    && as_alice "$MUSE" commit -m "Add bass" >/dev/null && as_alice "$MUSE" push >/dev/null)
(cd "$tmp/bob/duet" && as_bob "$MUSE" checkout -b drums >/dev/null && mkdir -p kit && printf 'MThd drums' >kit/drums.mid \
    && as_bob "$MUSE" add kit >/dev/null && as_bob "$MUSE" commit -m "Add drums" >/dev/null \
    && as_bob "$MUSE" push origin drums >/dev/null)
pr="$(mcp bob musehub_create_pr '{"owner":"alice","slug":"duet","title":"Drums","from_branch":"drums","to_branch":"main"}' | json "d['number']")"
merged="$(mcp alice musehub_merge_pr "{\"owner\":\"alice\",\"slug\":\"duet\",\"pr_id\":\"$pr\"}")"
[[ "$(echo "$merged" | json "d['pull_request']['state']")" == merged ]] || fail "merge: $merged"
(cd "$tmp/alice/duet" && as_alice "$MUSE" pull >/dev/null)
for f in README.md bass.mid kit/drums.mid; do
    [[ -f "$tmp/alice/duet/$f" ]] || fail "after the merge and pull, alice lacks $f"
done
[[ "$(cat "$tmp/alice/duet/kit/drums.mid")" == "MThd drums" ]] || fail "drums.mid content"
(cd "$tmp/alice/duet" && as_alice "$MUSE" status | grep -q "nothing to commit") || fail "alice's folder is not clean"
(cd "$tmp/bob/duet" && as_bob "$MUSE" checkout main >/dev/null && as_bob "$MUSE" pull >/dev/null)
[[ -f "$tmp/bob/duet/bass.mid" && -f "$tmp/bob/duet/kit/drums.mid" ]] || fail "bob's main lacks a side's file"
echo "   both changes kept: README.md bass.mid kit/drums.mid on main"

# --- a conflict ---------------------------------------------------------------------------------
step "both change README.md: the merge is refused with the conflict listed"
(cd "$tmp/bob/duet" && as_bob "$MUSE" checkout -b readme >/dev/null && echo "# Duet (bob's words)" >README.md \
    && as_bob "$MUSE" commit -a -m "Bob's README" >/dev/null && as_bob "$MUSE" push origin readme >/dev/null)
(cd "$tmp/alice/duet" && echo "# Duet (alice's words)" >README.md && as_alice "$MUSE" commit -a -m "Alice's README" >/dev/null \
    && as_alice "$MUSE" push >/dev/null)
pr2="$(mcp bob musehub_create_pr '{"owner":"alice","slug":"duet","title":"README","from_branch":"readme","to_branch":"main"}' | json "d['number']")"
refused="$(mcp alice musehub_merge_pr "{\"owner\":\"alice\",\"slug\":\"duet\",\"pr_id\":\"$pr2\"}")"
[[ "$(echo "$refused" | json "d['error']['code']")" == merge_conflict ]] || fail "expected merge_conflict: $refused"
[[ "$(echo "$refused" | json "[c['path'] for c in d['error']['data']['conflicts']]")" == "['README.md']" ]] || fail "conflicts: $refused"
[[ "$(echo "$refused" | json "d['error']['data']['conflicts'][0]['kind']")" == both_modified ]] || fail "kind: $refused"
before="$(cat "$tmp/bob/duet/README.md")"
if (cd "$tmp/bob/duet" && as_bob "$MUSE" pull origin main) >"$tmp/pull.out" 2>"$tmp/pull.err"; then
    fail "bob's pull of the conflicting main succeeded"
fi
grep -q "conflict: README.md" "$tmp/pull.err" || fail "the client did not list the conflict: $(cat "$tmp/pull.err")"
[[ "$(cat "$tmp/bob/duet/README.md")" == "$before" ]] || fail "a refused pull changed README.md"
echo "   refused: $(echo "$refused" | json "d['error']['message']")"

# --- a 100 MiB file --------------------------------------------------------------------------------
step "a ${BIG_MIB} MiB file pushes in pieces and pulls back byte-identical"
big="$tmp/alice/duet/stems/take.wav"
mkdir -p "$(dirname "$big")"
head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$big"
want="$(sha256sum "$big" | cut -d' ' -f1)"
base_kib="$(hwm_kib "$server_pid")"
peak() { "$PYTHON" -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)' "$@"; }
push_rss="$(cd "$tmp/alice/duet" && as_alice "$MUSE" add stems >/dev/null && as_alice "$MUSE" commit -m "Add the take" >/dev/null \
    && as_alice peak "$MUSE" push | tail -n 1)"
after_push_kib="$(hwm_kib "$server_pid")"
[[ -f "$tmp/objects/${want:0:2}/${want:2}" ]] || fail "the object store has no file for $want"
pull_rss="$(cd "$tmp/bob/duet" && as_bob "$MUSE" checkout main >/dev/null && as_bob peak "$MUSE" pull | tail -n 1)"
after_pull_kib="$(hwm_kib "$server_pid")"
got="$(sha256sum "$tmp/bob/duet/stems/take.wav" | cut -d' ' -f1)"
[[ "$got" == "$want" ]] || fail "the pulled file differs ($got, wanted $want)"
grown=$((after_pull_kib - base_kib))
echo "   server VmHWM: ${base_kib} KiB before, ${after_push_kib} KiB after the push, ${after_pull_kib} KiB after the pull (+${grown} KiB; bound +${BOUND_KIB} KiB)"
echo "   client peak RSS: push ${push_rss} KiB, pull ${pull_rss} KiB"
((grown < BOUND_KIB)) || fail "the server's peak RSS grew by ${grown} KiB moving a ${BIG_MIB} MiB file"
# Over MCP the file is too big to inline: the error names the HTTP URL.
too="$(mcp alice musehub_read_file "{\"owner\":\"alice\",\"slug\":\"duet\",\"object_id\":\"$want\"}")"
[[ "$(echo "$too" | json "d['error']['code']")" == too_large ]] || fail "read_file of the big file: $too"
[[ "$(echo "$too" | json "d['error']['data']['download_url']")" == "$remote/objects/$want" ]] || fail "download_url: $too"
echo "== muse client end to end: ok"
