#!/usr/bin/env bash
# timeline_runs.sh - --timeline and --perfetto on runs: a simulated run draws the same page byte
# for byte from the same seed (and another page from another seed); a threaded run with faults
# draws a page and a Perfetto file that parses, with its messages, faults and client operations
# in them; a sweep seed can be drawn (--sweep 1), a sweep of several cannot (exit 2); a file that
# cannot be written is an error (exit 1). Runs "$RAFT_KV_BIN" (set by test/run.sh).
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}
sim=(--simulate --set num_nodes=3 --set num_clients=2 --set client.requests=20
    --set 'network.delay_ms=[1, 4]' --set nemesis.interval_ms=30)

"$bin" "${sim[@]}" --seed 21 --timeline "$tmp/a.html" >"$tmp/a.out" 2>&1 || fail "simulated run 21: exit $?"
"$bin" "${sim[@]}" --seed 21 --timeline "$tmp/b.html" >"$tmp/b.out" 2>&1 || fail "simulated run 21 again: exit $?"
"$bin" "${sim[@]}" --seed 22 --timeline "$tmp/c.html" >/dev/null 2>&1 || fail "simulated run 22: exit $?"
cmp -s "$tmp/a.html" "$tmp/b.html" || fail "one seed drew two different pages"
cmp -s "$tmp/a.html" "$tmp/c.html" && fail "two seeds drew the same page"
grep -q "timeline: $tmp/a.html" "$tmp/a.out" || fail "the summary does not name the page"
grep -q "history: /tmp/raft_kv-history" "$tmp/a.out" && fail "the summary names a temporary history"
ls /tmp/raft_kv-trace-* /tmp/raft_kv-history-* 2>/dev/null | grep -q . &&
    echo "note: temporary files of another run are in /tmp"
grep -q "<svg" "$tmp/a.html" || fail "the page has no picture"

# A threaded run with a crash and a restart, drawn both ways.
"$bin" --seed 5 --set num_nodes=3 --set num_clients=2 --set client.requests=60 \
    --set nemesis.interval_ms=50 --set 'nemesis.kinds=["crash"]' \
    --timeline "$tmp/t.html" --perfetto "$tmp/t.json" --history "$tmp/t.jsonl" >"$tmp/t.out" 2>&1 ||
    fail "threaded run: exit $? ($(tail -3 "$tmp/t.out"))"
python3 - "$tmp/t.json" "$tmp/t.jsonl" <<'PY' || fail "the Perfetto file of the threaded run"
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
flows = [e for e in events if e.get("ph") in ("s", "f")]
ops = sum(1 for line in open(sys.argv[2]) if '"type":"invoke"' in line)
assert flows, "no message flows"
assert ops > 0, "no client operations in the history"
print("perfetto: %d events, %d flow ends, %d client operations" % (len(events), len(flows), ops))
PY
grep -q "history: $tmp/t.jsonl" "$tmp/t.out" || fail "the summary does not name the history asked for"

# One sweep seed can be drawn; several cannot.
"$bin" --sweep 1 --seed 7 --timeline "$tmp/s.html" >/dev/null 2>&1 || fail "--sweep 1 --timeline: exit $?"
[ -s "$tmp/s.html" ] || fail "--sweep 1 drew nothing"
"$bin" --sweep 2 --timeline "$tmp/x.html" >/dev/null 2>&1
[ $? = 2 ] || fail "--sweep 2 --timeline: expected exit 2"
"$bin" "${sim[@]}" --seed 21 --timeline "$tmp/no/such/dir/p.html" >"$tmp/e.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "no/such/dir" "$tmp/e.out" || fail "an unwritable page: expected exit 1 naming it, got $rc"

[ $failed = 0 ] && echo "timeline_runs: all checks passed"
exit $((failed > 0))
