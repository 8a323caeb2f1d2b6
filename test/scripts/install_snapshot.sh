#!/usr/bin/env bash
# install_snapshot.sh - InstallSnapshot in the threaded run, on files (issue 11): node 3 is cut
# off while the leader and node 2 take snapshots and drop their logs; healed, it needs entries no
# one holds, and catches up from the leader's snapshot, sent in 128-byte chunks. Passes when the
# trace shows the leader sending the snapshot and node 3 installing it, the summary counts the
# install, the run is consistent, and node 3's directory holds the installed snapshot.
# Runs "$RAFT_KV_BIN" (set by test/run.sh), bounded in time; its files go to a temporary
# directory removed on every exit.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

cat >"$tmp/config.toml" <<'EOF'
num_nodes = 3
num_clients = 3
seed = 7
[client]
requests = 300
[storage]
snapshot_threshold = 20
snapshot_trailing = 5
snapshot_chunk_bytes = 128
[[fault]]
at_ms = 1
kind = "isolate"
node = 3
[[fault]]
at_ms = 1500
kind = "heal"
EOF

timeout 300 "$bin" "$tmp/config.toml" --data-dir "$tmp/data" --color never >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "exit code $rc, expected 0"
grep -q "verdict: consistent" "$tmp/out" || fail "the run is not consistent"
grep -Eq "node [12] +node 3 needs compacted entries: sends it the snapshot at [0-9]+" "$tmp/out" ||
    fail "the trace does not show the leader sending node 3 its snapshot"
grep -Eq "node 3 +installs node [12]'s snapshot at [0-9]+" "$tmp/out" ||
    fail "the trace does not show node 3 installing the snapshot"
grep -Eq "snapshots: [0-9]+ taken, [1-9][0-9]* installed from a leader" "$tmp/out" ||
    fail "the summary counts no snapshot installed"
grep -q "stores: all 3 identical" "$tmp/out" || fail "the stores differ"
"$bin" inspect "$tmp/data/node3" >"$tmp/inspect" 2>&1 || fail "inspect node3 is not sound"
grep -Eq "^  snapshot snap-[0-9a-f]+-[0-9a-f]+: index [1-9]" "$tmp/inspect" ||
    fail "node 3's directory holds no snapshot"

if [ "$failed" -ne 0 ]; then
    grep -E "snapshot|summary|verdict|stores|error" "$tmp/out" | tail -20 | sed 's/^/  | /'
    echo "install_snapshot.sh: $failed failed"
    exit 1
fi
echo "install_snapshot.sh: node 3 caught up by InstallSnapshot: $(grep -E 'snapshots: ' "$tmp/out" | cut -c1-80)"
