#!/usr/bin/env bash
# run.sh - `make bench`: the runtime benchmark beside the Erlang/OTP reference, in one run on the
# same machine, then the targets (at or better than the BEAM on pingpong, call and fan-in; idle
# CPU under 2% of one core). Exits 1 if a target is missed; the figures are printed either way.
#
# Usage: bench/run.sh BUILD_DIR
set -u
build=${1:?usage: bench/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
ROUNDS=${BENCH_ROUNDS:-1000000}
PRODUCERS=${BENCH_PRODUCERS:-4}
MESSAGES=${BENCH_MESSAGES:-1000000}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

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
            missed=1
        fi
        ;;
    below)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a < l) }'; then
            verdict="met: under $limit"
        else
            verdict="MISSED: not under $limit"
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
echo "running the replicated store (5 nodes, closed-loop clients, trace off)..."
raft=$("$build/bench/raft_bench" "${BENCH_RAFT_OPS:-200000}") || {
    echo "bench: raft_bench failed" >&2
    exit 1
}
printf '\n%-24s %14s   %s\n' measure raft_kv target
raft_row() { # raft_row NAME (above|below|none) [LIMIT]
    local name=$1 kind=$2 limit=${3:-} mine verdict="(reported)"
    mine=$(value "$name" "$raft")
    case $kind in
    above)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a >= l) }'; then verdict="met: at least $limit"; else
            verdict="MISSED: below $limit"
            missed=1
        fi
        ;;
    below)
        if awk -v a="$mine" -v l="$limit" 'BEGIN { exit !(a < l) }'; then verdict="met: under $limit"; else
            verdict="MISSED: not under $limit"
            missed=1
        fi
        ;;
    esac
    printf '%-24s %14s   %s\n' "$name" "$mine" "$verdict"
}
raft_row raft_1c_ops_per_s none
raft_row raft_1c_p50_us below 100
raft_row raft_1c_p99_us none
raft_row raft_16c_ops_per_s none
raft_row raft_16c_p50_us none
raft_row raft_16c_p99_us none
raft_row raft_64c_ops_per_s above 100000
raft_row raft_64c_p50_us none
raft_row raft_64c_p99_us none
echo
if [ "$missed" -ne 0 ]; then
    echo "bench: a target was missed (figures move with machine load: compare on a quiet machine)"
    exit 1
fi
echo "bench: all targets met"
