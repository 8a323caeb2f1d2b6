#!/usr/bin/env bash
# restart.sh - the whole in-process cluster killed (kill -9) and restarted from --data-dir, twice
# in a row, then run to its end, with crash faults inside each run restarting single nodes from
# their files. Passes when:
#   - each restarted run says it recovered the nodes' logs and ends consistent (exit 0 for the
#     last), and a crashed node inside a run restarted from its files;
#   - the three histories, joined one after the other (the second and third without their
#     "recovered" lines), are linearizable: every write acknowledged before a kill -9 is still
#     there, read back by the later runs, and nothing unacknowledged appeared out of nowhere;
#   - `raft_kv inspect` finds every node's directory sound at the end.
# Runs "$RAFT_KV_BIN" (set by test/run.sh); every raft_kv is bounded in time and killed on exit.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

args=("$root/config.toml" --data-dir "$tmp/data" --seed 11
    --set num_clients=3 --set client.requests=400 --set client.timeout_ms=2000
    --set nemesis.interval_ms=40 --set 'nemesis.kinds=["crash"]'
    --set storage.snapshot_threshold=100 --set storage.snapshot_trailing=20)

# oks FILE: how many operations completed ok in a history file.
oks() { grep -c '"type":"ok"' "$1" 2>/dev/null || true; }

# killed_run N: starts run N, waits until its history holds 300 completed operations past the
# recovered ones (at most 60 s), then kills it with SIGKILL.
killed_run() {
    local n=$1
    "$bin" "${args[@]}" --history "$tmp/h$n.jsonl" >"$tmp/out$n" 2>&1 &
    pid=$!
    local waited=0 done
    while :; do
        done=$(oks "$tmp/h$n.jsonl")
        [ "${done:-0}" -ge 300 ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            fail "run $n ended before it was killed"
            sed 's/^/  | /' "$tmp/out$n" | tail -20
            return
        fi
        if [ "$waited" -ge 600 ]; then
            fail "run $n completed no 300 operations in 60 s"
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    pid=
}

# stop: ends the test at once when something already failed (later checks would only echo it).
stop_if_failed() { [ "$failed" -eq 0 ] || { echo "restart.sh: $failed failed"; exit 1; }; }

killed_run 1
stop_if_failed
grep -q "restarts from $tmp/data/node" "$tmp/out1" ||
    echo "note: no node crashed inside run 1 before the kill (the nemesis drew none)"
killed_run 2
stop_if_failed
for i in 1 2 3 4 5; do
    grep -q "node $i    starts from $tmp/data/node$i: term" "$tmp/out2" ||
        fail "run 2 did not say what node $i recovered"
done

timeout 300 "$bin" "${args[@]}" --history "$tmp/h3.jsonl" >"$tmp/out3" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
    fail "run 3 exited $rc, expected 0"
    tail -30 "$tmp/out3" | sed 's/^/  | /'
fi
grep -q "node 1 recovered term" "$tmp/out3" || fail "run 3's summary does not say what was recovered"
grep -q "verdict: consistent" "$tmp/out3" || fail "run 3 is not consistent"
grep -Eq "snapshots: [1-9][0-9]* taken" "$tmp/out3" || fail "run 3 took no snapshot"
# The recovered keys open run 3's history, unless the store run 2 left held none of them (every
# key deleted at the kill: the clients put and delete 5 keys, so that happens now and then).
held=$(sed -n 's/.*the resumed store holds \([0-9]*\) of the .*/\1/p' "$tmp/out3" | head -1)
if [ -z "$held" ]; then
    fail "run 3 did not say how many keys the resumed store holds"
elif [ "$held" -gt 0 ]; then
    [ "$(grep -c '"recovered":true' "$tmp/h3.jsonl")" -eq $((2 * held)) ] ||
        fail "run 3's history does not start with the $held recovered keys"
fi
grep -q "restarts from $tmp/data/node" "$tmp/out1" "$tmp/out2" "$tmp/out3" ||
    fail "no crash fault restarted a node from its files in any run"

# One history of the three runs: each run's times after the last one's and its clients numbered
# apart (a killed run leaves operations in flight for ever), its recovered lines left out (they
# restate what the earlier runs wrote).
python3 - "$tmp/h1.jsonl" "$tmp/h2.jsonl" "$tmp/h3.jsonl" >"$tmp/all.jsonl" <<'EOF' ||
import json, sys
base = 0
for run, path in enumerate(sys.argv[1:]):
    last = 0
    for line in open(path):
        op = json.loads(line)
        last = max(last, op["time"])
        if op.get("recovered"):
            continue
        op["time"] += base
        op["process"] += 1000 * run
        print(json.dumps(op))
    base += last + 1
EOF
    fail "cannot join the histories"
acked=$(grep -c '"type":"ok","f":"put"' "$tmp/h1.jsonl" || true)
[ "$acked" -gt 0 ] || fail "run 1 acknowledged no put before its kill"
"$bin" --check-history "$tmp/all.jsonl" >"$tmp/check" 2>&1 ||
    fail "the three runs together are not linearizable: $(head -5 "$tmp/check")"

for i in 1 2 3 4 5; do
    "$bin" inspect "$tmp/data/node$i" >"$tmp/inspect$i" 2>&1 ||
        fail "inspect node$i: $(grep DAMAGE "$tmp/inspect$i" | head -3)"
done

if [ "$failed" -ne 0 ]; then
    echo "restart.sh: $failed failed"
    exit 1
fi
echo "restart.sh: 3 runs on one data directory, 2 killed with SIGKILL ($acked puts acknowledged" \
    "in run 1): $(cat "$tmp/check")"
