#!/usr/bin/env bash
# rss.sh - the peak resident size of the real program on long runs: ./raft_kv config.toml with the
# trace quiet and the checks that keep a history off, 16 clients, the default snapshot settings,
# at 100k, 1M and 2M operations, with memory storage and with disk storage (fsync on, a fresh
# directory per run, removed after it). Peak RSS is the kernel's count (getrusage of the waited
# child, bench/peak_rss.c). Memory is bounded if the peak stays flat from 1M to 2M operations.
#
# Usage: bench/rss.sh BUILD_DIR   (make bench runs it; BENCH_RSS=0 skips it there)
# BENCH_RSS_OPS="100000 1000000 2000000" and BENCH_RSS_STORAGE="memory disk" choose the runs.
# Prints "rss_<storage>_<ops>_kb N" lines, then whether each storage stayed flat; exits 1 if not
# (or if a run failed). The data directories live in a mktemp directory under
# $RAFT_BENCH_TMPDIR (else $TMPDIR, else /tmp), removed on every exit.
set -u
build=${1:?usage: bench/rss.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
ops_list=${BENCH_RSS_OPS:-100000 1000000 2000000}
storages=${BENCH_RSS_STORAGE:-memory disk}
clients=16
# Flat: the peak at the largest run is at most this many times the peak at the one before.
flat_ratio=1.10

parent=${RAFT_BENCH_TMPDIR:-${TMPDIR:-/tmp}}
tmp=$(mktemp -d "$parent/raft_kv_rss.XXXXXX") || {
    echo "rss: cannot make a directory in $parent" >&2
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

label() { # 100000 -> 100k, 2000000 -> 2M
    awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1000000; else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'
}

failed=0
for storage in $storages; do
    prev_kb=""
    prev_label=""
    for ops in $ops_list; do
        requests=$((ops / clients))
        args=(config.toml --trace-level quiet --set check.linearizability=false
            --set check.invariants=false --set "num_clients=$clients"
            --set "client.requests=$requests")
        if [ "$storage" = disk ]; then
            args+=(--data-dir "$tmp/data-$ops")
        fi
        out=$("$build/bench/peak_rss" "$build/raft_kv" "${args[@]}" 2>&1)
        rc=$?
        rm -rf "$tmp/data-$ops"
        case $rc in 130 | 143) exit "$rc" ;; esac # raft_kv stopped in order by SIGINT, SIGTERM
        kb=$(printf '%s\n' "$out" | awk '$1 == "peak_rss_kb" { print $2 }')
        secs=$(printf '%s\n' "$out" | awk '$1 == "summary" && $2 == "after" { print $3 }')
        name="rss_${storage}_$(label "$ops")_kb"
        if [ "$rc" -ne 0 ] || [ -z "$kb" ]; then
            echo "rss: $storage, $ops operations: raft_kv exited $rc" >&2
            printf '%s\n' "$out" | tail -5 >&2
            failed=1
            continue
        fi
        echo "$name $kb"
        echo "rss_${storage}_$(label "$ops")_seconds $secs"
        if [ -n "$prev_kb" ]; then
            echo "rss_${storage}_$(label "$ops")_over_${prev_label} $(awk -v a="$kb" -v b="$prev_kb" 'BEGIN { printf "%.2f", a / b }')"
        fi
        last_ratio_ok=$(awk -v a="$kb" -v b="${prev_kb:-$kb}" -v r="$flat_ratio" 'BEGIN { print (a <= b * r) ? 1 : 0 }')
        prev_kb=$kb
        prev_label=$(label "$ops")
    done
    if [ -n "$prev_kb" ]; then
        if [ "${last_ratio_ok:-0}" = 1 ]; then
            echo "rss_${storage}_flat yes"
        else
            echo "rss_${storage}_flat NO"
            failed=1
        fi
    fi
done
exit "$failed"
