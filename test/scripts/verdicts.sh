#!/usr/bin/env bash
# verdicts.sh - how a run ends, end to end (issue 17): SIGINT or SIGTERM mid-run gives a summary
# that says "interrupted", exit 130 or 143, and a history every line of which is whole and that
# --check-history accepts; a liveness failure (no leader) prints its summary, says "(liveness)"
# and exits 4, apart from safety failures (1).
# Runs "$RAFT_KV_BIN" (set by test/run.sh); every child is killed on every exit path.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
checks=0

fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

# signal_and_wait SIGNAL: sends SIGNAL to $pid and waits for it to end, at most 60 s (the summary
# comes within an attempt's timeout; sanitizer builds too). Sets rc to its exit status, or to ""
# if it did not end (it is then killed); $pid is reaped either way.
signal_and_wait() {
    kill -"$1" "$pid"
    rc=
    for _ in $(seq 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            rc=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$rc" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    pid=
}

# interrupt SIGNAL STATUS [ARGS...]: a long run (threaded, or as ARGS say), stopped by SIGNAL
# once its history has 200 lines.
interrupt() {
    local sig=$1 want=$2
    shift 2
    local name="$sig${1:+ $1}" h="$tmp/h-$sig$#.jsonl" out="$tmp/out-$sig$#.txt" failed_before=$failed
    checks=$((checks + 1))
    (cd "$here" && exec "$bin" --seed 1 --set 'trace.level="quiet"' --set num_clients=4 \
        --set client.requests=1000000 --history "$h" "$@" >"$out" 2>&1) &
    pid=$!
    local waited=0
    while { [ ! -f "$h" ] || [ "$(wc -l <"$h")" -lt 200 ]; } && [ $waited -lt 600 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    signal_and_wait "$sig"
    if [ -z "$rc" ]; then
        fail "$name: raft_kv did not end within 60 s of the signal"
        return
    fi
    [ "$rc" -eq "$want" ] || fail "$name: exit status $rc, expected $want"
    grep -q "^  interrupted by SIG$sig" "$out" ||
        fail "$name: the summary does not say 'interrupted by SIG$sig'"
    grep -q "^  verdict: interrupted by SIG$sig" "$out" || fail "$name: no 'verdict: interrupted' line"
    [ "$(tail -c 1 "$h" | od -An -c | tr -d ' ')" = '\n' ] || fail "$name: the history ends inside a line"
    local lines
    lines=$(wc -l <"$h")
    [ "$lines" -ge 200 ] || fail "$name: only $lines history lines"
    # Every invoke has its completion: an operation in flight ended as ok, fail or info.
    local invokes completions
    invokes=$(grep -c '"type":"invoke"' "$h")
    completions=$(grep -cE '"type":"(ok|fail|info)"' "$h")
    [ "$invokes" -eq "$completions" ] || fail "$name: $invokes invokes but $completions completions"
    "$bin" --check-history "$h" >"$tmp/check.txt" 2>&1 ||
        fail "$name: --check-history rejects the history: $(head -c 300 "$tmp/check.txt")"
    if [ "$failed" -ne "$failed_before" ]; then
        echo "  output: $(head -c 1500 "$out")"
    fi
}

interrupt INT 130
interrupt TERM 143
interrupt INT 130 --simulate

# A sweep stopped by a signal says how far it came, and exits 130.
checks=$((checks + 1))
(cd "$tmp" && exec "$bin" --sweep 1000000 >"$tmp/sweep.txt" 2>&1) &
pid=$!
sleep 1
signal_and_wait INT
[ "$rc" = 130 ] || fail "sweep: exit status '$rc', expected 130"
grep -qE '^interrupted by SIGINT after [0-9]+ of 1000000 seeds$' "$tmp/sweep.txt" ||
    fail "sweep: no 'interrupted by SIGINT after N of 1000000 seeds' line: $(tail -c 300 "$tmp/sweep.txt")"

# expect_run NAME STATUS TEXT ARGS...: a run whose exit status must be STATUS and whose stdout
# must hold the line TEXT (a fixed string), with a summary.
expect_run() {
    local name=$1 want=$2 text=$3 failed_before=$failed
    shift 3
    checks=$((checks + 1))
    (cd "$here" && timeout 120 "$bin" --set 'trace.level="quiet"' "$@") >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "$name: exit status $rc, expected $want (raft_kv $*)"
    grep -qF -- "$text" "$tmp/out" || fail "$name: stdout lacks '$text' (raft_kv $*)"
    grep -q '^summary after' "$tmp/out" || fail "$name: no summary (raft_kv $*)"
    if [ "$failed" -ne "$failed_before" ]; then
        echo "  stdout: $(head -c 1500 "$tmp/out")"
        echo "  stderr: $(head -c 600 "$tmp/err")"
    fi
}

# Every message lost: no leader, a liveness verdict (exit 4), not a safety one (exit 1).
fast='--set raft.election_timeout_ms_min=20 --set raft.election_timeout_ms_max=40 --set raft.heartbeat_ms=5'
# shellcheck disable=SC2086
expect_run no-leader 4 "verdict: no leader (liveness): no leader was elected within" \
    --seed 3 --set num_nodes=3 --set network.drop=1.0 $fast
# shellcheck disable=SC2086
expect_run no-leader-simulated 4 "verdict: no leader (liveness): no leader was elected within" \
    --simulate --seed 3 --set num_nodes=3 --set network.drop=1.0 $fast
expect_run consistent 0 "verdict: consistent" --seed 3 --set num_nodes=3

echo "verdicts: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
