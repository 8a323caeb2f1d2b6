#!/usr/bin/env bash
# torture.sh - many seeds x cluster sizes 3, 5, 7 x a random nemesis on a lossy network. Each
# run must end with invariants held, every store identical and (when the checker is built in)
# a linearizable history. Prints every failing run as the command that replays it.
#
# Usage: test/torture.sh [SEEDS [FIRST_SEED [BINARY]]]   (defaults 30, 1, ./raft_kv)
set -u
seeds=${1:-30}
first=${2:-1}
bin=${3:-./raft_kv}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The workload and the faults: every setting is on the command line, so a failure's replay
# command is complete.
common=(--set num_clients=4 --set client.requests=25 --set client.timeout_ms=150
    --set nemesis.interval_ms=60 --set 'nemesis.kinds=["crash", "partition", "isolate", "slow"]'
    --set network.drop=0.03 --set 'network.delay_ms=[0, 5]' --set network.duplicate=0.02
    --set network.reorder=true --set check.converge_ms=10000 --set 'trace.level="quiet"'
    --set 'client.read="mix"' --set client.get_weight=2)

runs=0
failures=0
start=$SECONDS
for ((seed = first; seed < first + seeds; seed++)); do
    for nodes in 3 5 7; do
        runs=$((runs + 1))
        if ! "$bin" --seed "$seed" --set num_nodes="$nodes" "${common[@]}" \
            --history "$tmp/history.jsonl" >"$tmp/out" 2>&1; then
            failures=$((failures + 1))
            echo "FAIL seed $seed, $nodes nodes: $(grep -m1 -E 'verdict|raft_kv:|NOT|VIOLATION' "$tmp/out")"
            printf '  replay: %s --seed %s --set num_nodes=%s' "$bin" "$seed" "$nodes"
            printf " %q" "${common[@]}"
            printf '\n'
        fi
    done
done
echo "torture: $runs runs ($seeds seeds x 3, 5 and 7 nodes) in $((SECONDS - start)) s"
echo "torture: $((runs - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
