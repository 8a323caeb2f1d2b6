#!/usr/bin/env bash
# run.sh - `make bench`: the runtime benchmark beside the Erlang/OTP reference, in one run on the
# same machine, then the replicated store with memory and with disk storage (fsync on) beside the
# raw cost of one fdatasync, then the peak RSS of long runs (bench/rss.sh), and the targets (at or
# better than the BEAM on pingpong, call and fan-in; idle CPU under 2% of one core; the store's
# work per operation at 64 clients (CPU time, mailbox messages, wake-ups) and, where two threads
# bounce a cache line in under 150 ns, its throughput and latency; 64 clients on disk at least a
# quarter of memory; on the read-heavy
# workload on disk, ReadIndex at least 3x reads through the log; a flat peak RSS).
# Exits 1 if a target is missed, naming it; the figures are printed either way.
#
# Usage: bench/run.sh BUILD_DIR
# BENCH_RAFT_OPS (200000) and BENCH_RAFT_DISK_OPS (100000) are the store's operations per client
# count with memory and with disk storage (one client does a tenth); BENCH_READ_OPS (200000) the
# read-heavy workload's per read policy (0 skips it); BENCH_RSS=0 skips the RSS runs. Every data
# directory lives in one mktemp directory, removed on every exit.
set -u
build=${1:?usage: bench/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
ROUNDS=${BENCH_ROUNDS:-1000000}
PRODUCERS=${BENCH_PRODUCERS:-4}
MESSAGES=${BENCH_MESSAGES:-1000000}
RAFT_OPS=${BENCH_RAFT_OPS:-200000}
RAFT_DISK_OPS=${BENCH_RAFT_DISK_OPS:-100000}
READ_OPS=${BENCH_READ_OPS:-200000}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/raft_kv_bench.XXXXXX") || {
    echo "bench: cannot make a temporary directory" >&2
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export RAFT_BENCH_TMPDIR=$tmp

# The two-thread bounce of one cache line (raft_bench measures it first, and again before the
# store's runs): what moving a message between the two cores costs here today.
first_bounce=$("$build/bench/raft_bench" 0 5 0 0 | awk '$1 == "bounce_ns" { print $2 }')
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), two-thread bounce ${first_bounce:-?} ns"

beam_out=""
reference=../shared/reference/actor_bench.erl
if command -v erlc >/dev/null 2>&1 && command -v erl >/dev/null 2>&1 && [ -f "$reference" ]; then
    mkdir -p "$build/bench/beam"
    if erlc -o "$build/bench/beam" "$reference"; then
        echo "running the BEAM reference ($ROUNDS round trips, $PRODUCERS x $MESSAGES fan-in)..."
        beam_out=$(erl -noshell -pa "$build/bench/beam" -run actor_bench main "$ROUNDS" "$PRODUCERS" "$MESSAGES")
    fi
else
    echo "no Erlang/OTP (erlang-base) or no $reference: the BEAM column stays empty"
fi

echo "running raft_kv's runtime..."
ours=$("$build/bench/actor_bench" "$ROUNDS" "$PRODUCERS" "$MESSAGES") || {
    echo "bench: actor_bench failed" >&2
    exit 1
}

value() { # value NAME TEXT
    printf '%s\n' "$2" | awk -v k="$1" '$1 == k { print $2 }'
}

missed=0
missed_names=""
printf '\n%-24s %14s %14s   %s\n' workload raft_kv BEAM target
row() { # row NAME BETTER(lower|higher|none) [LIMIT]
    local name=$1 better=$2 limit=${3:-}
    local mine beam verdict=""
    mine=$(value "$name" "$ours")
    beam=$(value "$name" "$beam_out")
    case $better in
    lower | higher)
        if [ -z "$beam" ]; then
            verdict="(no BEAM figure to compare)"
        elif awk -v a="$mine" -v b="$beam" -v d="$better" 'BEGIN { exit !(d == "lower" ? a <= b : a >= b) }'; then
            verdict="met: $(awk -v a="$mine" -v b="$beam" -v d="$better" 'BEGIN { printf "%.2fx the BEAM", d == "lower" ? b / a : a / b }')"
        else
            verdict="MISSED: $(awk -v a="$mine" -v b="$beam" -v d="$better" 'BEGIN { printf "%.2fx the BEAM", d == "lower" ? b / a : a / b }')"
            missed_names="$missed_names $name"
            missed=1
        fi
        ;;
    below)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a < l) }'; then
            verdict="met: under $limit"
        else
            verdict="MISSED: not under $limit"
            missed_names="$missed_names $name"
            missed=1
        fi
        ;;
    none) verdict="(reported)" ;;
    esac
    printf '%-24s %14s %14s   %s\n' "$name" "$mine" "${beam:--}" "$verdict"
}
row pingpong_roundtrip_ns lower
row pingpong_forward_roundtrip_ns none
row call_roundtrip_ns lower
row fanin_msgs_per_s higher
row ring_hop_ns none
row idle_cpu_percent below 2
row idle_timer_ticks none

echo
echo "running the replicated store (5 nodes, closed-loop clients, trace off): memory storage with"
echo "$RAFT_OPS operations per client count, then disk storage (fsync on) with $RAFT_DISK_OPS"
echo "(fewer: a disk run takes longer), one client a tenth of each; then the read-heavy workload"
echo "(64 clients, 90% gets) with $READ_OPS operations per read policy in memory, a quarter on disk..."
raft=$("$build/bench/raft_bench" "$RAFT_OPS" 5 "$RAFT_DISK_OPS" "$READ_OPS") || {
    echo "bench: raft_bench failed" >&2
    exit 1
}
raft_row() { # raft_row NAME (above|below|atmost|none) [LIMIT]
    local name=$1 kind=$2 limit=${3:-} mine verdict="(reported)"
    mine=$(value "$name" "$raft")
    case $kind in
    above)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a >= l) }'; then verdict="met: at least $limit"; else
            verdict="MISSED: below $limit"
            missed_names="$missed_names $name"
            missed=1
        fi
        ;;
    below)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a < l) }'; then verdict="met: under $limit"; else
            verdict="MISSED: not under $limit"
            missed_names="$missed_names $name"
            missed=1
        fi
        ;;
    atmost)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a != "" && a <= l) }'; then verdict="met: at most $limit"; else
            verdict="MISSED: above $limit"
            missed_names="$missed_names $name"
            missed=1
        fi
        ;;
    esac
    printf '%-34s %14s   %s\n' "$name" "$mine" "$verdict"
}
ratio_row() { # ratio_row LABEL NAME A B MIN: the target A / B >= MIN (NAME: what a miss is called)
    local label=$1 name=$2 min=$5 ratio verdict
    ratio=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    if awk -v s="$ratio" -v m="$min" 'BEGIN { exit !(s >= m) }'; then verdict="met: at least $min"; else
        verdict="MISSED: below $min"
        missed_names="$missed_names $name"
        missed=1
    fi
    printf '%-34s %14s   %s\n' "$label" "$ratio" "$verdict"
}
# The store's table: one column per client count, one row per figure, for one configuration
# (prefix "" memory with gets through the log, "_readindex" gets read by ReadIndex, "_disk"...).
store_table() { # store_table TITLE SUFFIX
    local title=$1 sfx=$2 c
    echo
    echo "$title"
    printf '%-22s %12s %12s %12s\n' "" "1 client" "16 clients" "64 clients"
    for f in ops_per_s:ops/s p50_us:"p50 µs" p99_us:"p99 µs" cpu_us_per_op:"cpu µs/op" \
        mbox_msgs_per_op:"mailbox msgs/op" wakeups_per_op:"wake-ups/op" sleeps_per_op:"sleeps/op" \
        allocs_per_op:"allocations/op" msgs_per_op:"node msgs/op" syncs_per_op:"syncs/op"; do
        local key=${f%%:*} label=${f#*:} line
        line=$(printf '%-22s' "$label")
        local any=0
        for c in 1 16 64; do
            local v
            v=$(value "raft_${c}c${sfx}_$key" "$raft")
            [ -n "$v" ] && any=1
            line="$line $(printf '%12s' "${v:--}")"
        done
        [ "$any" = 1 ] && printf '%s\n' "$line"
    done
}
bounce=$(value bounce_ns "$raft")
store_table "memory storage, gets through the log:" ""
store_table "memory storage, gets read by ReadIndex:" "_readindex"
echo "(cpu: the process's CPU time, every thread, per op; mailbox msgs: every message pushed"
echo "onto an actor's mailbox, a client's request and its answer being two; wake-ups: a sleeping"
echo "thread woken (FUTEX_WAKE); sleeps: a thread parked (FUTEX_WAIT); node msgs: Raft messages"
echo "between nodes)"
echo
echo "two-thread bounce of one cache line on this machine, in this run: ${bounce} ns per round trip"
printf '\n%-34s %14s   %s\n' measure raft_kv target
# Work per committed operation at 64 clients (issue 15): it moves less with the machine than the
# throughput does.
for sfx in "" _readindex; do
    raft_row raft_64c${sfx}_cpu_us_per_op atmost 5
    raft_row raft_64c${sfx}_mbox_msgs_per_op atmost 2.5
    raft_row raft_64c${sfx}_wakeups_per_op atmost 0.2
    raft_row raft_64c${sfx}_allocs_per_op none
done
# Throughput and latency: judged on a machine whose two cores bounce a line in under 150 ns (the
# issue's condition); on a slower one they are printed, not judged.
if awk -v b="$bounce" 'BEGIN { exit !(b > 0 && b < 150) }'; then
    raft_row raft_64c_ops_per_s above 300000
    raft_row raft_1c_p50_us below 50
else
    raft_row raft_64c_ops_per_s none
    raft_row raft_1c_p50_us none
    echo "(throughput and latency not judged: the bounce is ${bounce} ns, the targets hold under 150 ns)"
fi
if [ "$RAFT_DISK_OPS" != 0 ]; then
    echo
    echo "disk storage in $(value disk_fs "$raft"), fsync on; raw cost of one 4 KiB append + fdatasync"
    echo "there, 1000 times in the same run:"
    raft_row fdatasync_4k_p50_us none
    raft_row fdatasync_4k_p99_us none
    store_table "disk storage (fsync on), gets through the log:" "_disk"
    store_table "disk storage (fsync on), gets read by ReadIndex:" "_disk_readindex"
    echo "(syncs/op: group commits summed over the 5 nodes per committed op; 1/syncs is how many"
    echo "ops one sync covers)"
    echo
    # Group commit: 64 clients on disk reach at least a quarter of the memory figure of this run.
    ratio_row "64c disk / memory ops/s" "raft_64c_disk_ops_per_s>=0.25*raft_64c_ops_per_s" \
        "$(value raft_64c_disk_ops_per_s "$raft")" "$(value raft_64c_ops_per_s "$raft")" 0.25
fi

if [ "$READ_OPS" != 0 ]; then
    echo
    echo "read-heavy: 64 clients (one load-generator actor, asynchronous calls), 5 nodes, 90% gets"
    echo "of existing keys and 10% writes (through the log, at the leader), in this run: memory"
    echo "storage with $(value read_ops "$raft") operations per read policy, then disk (fsync on) with a quarter;"
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '\n%-15s %9s %9s %9s %9s %9s %7s %7s %8s %9s\n' policy ops/s get_p50 get_p99 \
        write_p50 write_p99 failed redir msgs/op cpu_us/op
    for store in "" _disk; do
        for p in log readindex lease follower; do
            k=raft_read90${store}_$p
            printf '%-15s %9s %9s %9s %9s %9s %7s %7s %8s %9s\n' "$p${store:+ (disk)}" \
                "$(value ${k}_ops_per_s "$raft")" \
                "$(value ${k}_get_p50_us "$raft")" "$(value ${k}_get_p99_us "$raft")" \
                "$(value ${k}_write_p50_us "$raft")" "$(value ${k}_write_p99_us "$raft")" \
                "$(value ${k}_failed "$raft")" "$(value ${k}_redirects "$raft")" \
                "$(value ${k}_msgs_per_op "$raft")" "$(value ${k}_cpu_us_per_op "$raft")"
        done
    done
    echo "(latencies in µs, p50/p99 of the gets and of the writes apart; redir: follower gets asked"
    echo "again at the leader; msgs/op: messages between nodes per op; cpu_us/op: the process's CPU"
    echo "time, every thread, per op)"
    # ReadIndex beats reads through the log by at least 3x on this workload (issue 12), judged
    # on disk with fsync on: the store as it keeps data, where a get through the log waits for
    # fdatasyncs and a ReadIndex round does not. In memory both paths wait for one round trip to
    # a majority per batch, so no read path that takes a round trip can beat the log by more than
    # the lease (no round trip at all) does: that ratio is printed beside it as the ceiling.
    echo
    ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
    printf '%-34s %14s   %s\n' "read-heavy memory ReadIndex/log" \
        "$(ratio_of "$(value raft_read90_readindex_ops_per_s "$raft")" "$(value raft_read90_log_ops_per_s "$raft")")" \
        "(reported; the lease's ratio, its ceiling: $(ratio_of "$(value raft_read90_lease_ops_per_s "$raft")" "$(value raft_read90_log_ops_per_s "$raft")"))"
    if [ "$RAFT_DISK_OPS" != 0 ]; then
        ratio_row "read-heavy on disk ReadIndex/log" "read-heavy_disk_ReadIndex/log>=3" \
            "$(value raft_read90_disk_readindex_ops_per_s "$raft")" \
            "$(value raft_read90_disk_log_ops_per_s "$raft")" 3
    else
        echo "(the 3x target is judged on disk: BENCH_RAFT_DISK_OPS=0 skipped it)"
    fi
fi

if [ "${BENCH_RSS:-1}" != 0 ]; then
    echo
    echo "running ./raft_kv config.toml for the peak RSS (16 clients, trace quiet, checks off,"
    echo "snapshots every 10000 entries) at 100k, 1M and 2M operations, memory then disk storage"
    echo "(BENCH_RSS=0 skips this; a few minutes)..."
    rss=$(bash bench/rss.sh "$build")
    rss_rc=$?
    printf '\n%-34s %14s   %s\n' measure raft_kv target
    printf '%s\n' "$rss" | while read -r name v; do
        case $name in
        *_flat) [ "$v" = yes ] && verdict="met: 2M within 10% of 1M" || verdict="MISSED: grows from 1M to 2M" ;;
        *) verdict="(reported)" ;;
        esac
        printf '%-34s %14s   %s\n' "$name" "$v" "$verdict"
    done
    if [ "$rss_rc" -ne 0 ]; then
        missed_names="$missed_names peak_rss_flat"
        missed=1
    fi
else
    echo
    echo "peak RSS runs skipped (BENCH_RSS=0)"
fi
echo
if [ "$missed" -ne 0 ]; then
    echo "bench: a target was missed:$missed_names (figures move with machine load: compare on a quiet machine)"
    exit 1
fi
echo "bench: all targets met"
