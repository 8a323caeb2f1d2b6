#!/usr/bin/env bash
# inspect.sh - `raft_kv inspect DATA_DIR` end to end: usage errors (exit 2), a missing directory
# (1), an empty one (0, sound), hand-made damage named with file and offset (1), and not one byte
# or name changed by looking. The format itself is tested by test/unit/test_storage_*.c.
# Runs "$RAFT_KV_BIN" (set by test/run.sh); exits nonzero listing every failed check.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# expect NAME RC TEXT ARGS...: the exit code must be RC and stdout+stderr must contain TEXT.
expect() {
    local name=$1 want_rc=$2 text=$3
    shift 3
    "$bin" "$@" >"$tmp/out" 2>&1
    local rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL: $name: exit code $rc, expected $want_rc (raft_kv $*)"
        sed 's/^/  | /' "$tmp/out"
        failed=$((failed + 1))
    elif ! grep -qF -- "$text" "$tmp/out"; then
        echo "FAIL: $name: output lacks '$text' (raft_kv $*)"
        sed 's/^/  | /' "$tmp/out"
        failed=$((failed + 1))
    fi
}

expect "no directory" 2 "usage: raft_kv inspect DATA_DIR" inspect
expect "two directories" 2 "usage: raft_kv inspect DATA_DIR" inspect "$tmp" "$tmp"
expect "an option" 2 "usage: raft_kv inspect DATA_DIR" inspect --help
expect "missing directory" 1 "$tmp/none: cannot open the directory" inspect "$tmp/none"

mkdir "$tmp/empty"
expect "empty directory" 0 "sound" inspect "$tmp/empty"

# A segment that is not one (wrong magic) beside a hard state with two damaged slots.
mkdir "$tmp/bad"
head -c 1024 /dev/urandom >"$tmp/bad/hardstate"
printf 'this is not a segment header, nor any record at all\n' \
    >"$tmp/bad/wal-0000000000000001-0000000000000001"
printf 'x' >"$tmp/bad/snap-0000000000000004-0000000000000001.tmp"
before=$(cd "$tmp/bad" && ls -l --time-style=+%s . && md5sum ./*)
expect "damaged directory" 1 \
    "DAMAGE: $tmp/bad/wal-0000000000000001-0000000000000001: offset 0: segment header: wrong magic" \
    inspect "$tmp/bad"
expect "damaged hard state" 1 "DAMAGE: $tmp/bad/hardstate: no valid hard state slot" \
    inspect "$tmp/bad"
expect "temporary file listed" 1 "temporary file snap-0000000000000004-0000000000000001.tmp" \
    inspect "$tmp/bad"
after=$(cd "$tmp/bad" && ls -l --time-style=+%s . && md5sum ./*)
if [ "$before" != "$after" ]; then
    echo "FAIL: inspect changed the directory"
    failed=$((failed + 1))
fi

if [ "$failed" -ne 0 ]; then
    echo "inspect.sh: $failed failed"
    exit 1
fi
echo "inspect.sh: all checks passed"
