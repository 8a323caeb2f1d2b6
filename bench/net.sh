#!/usr/bin/env bash
# net.sh - `make bench-net`: raft_kv's networked mode beside etcd 3.4, both as 3 nodes on loopback
# with fsync on, driven over HTTP by wrk in the same run: writes of new keys and linearizable reads
# of keys written beforehand, at 1, 16 and 64 connections, values of 100 bytes. Prints one table
# (req/s, p50, p99 per target, operation and connection count, and raft_kv/etcd), the raw cost of
# one 4 KiB append + fdatasync in the data directories' filesystem, and the targets: raft_kv writes
# at 64 connections at least 3x etcd's, and raft_kv's p50 at 1 connection below etcd's, for writes
# and for reads. Exits 1 if a target is missed or a run had errors (non-2xx, a redirect, a socket
# error), naming each; the figures are printed either way.
#
# Usage: bench/net.sh RAFT_KV_BINARY     (make bench-net builds it and runs this)
# raft_kv runs as `RAFT_KV_BINARY serve --node ID CONFIG` through tools/cluster.sh, per
# ../shared/http-api.md; etcd is Debian's etcd-server (3.4) run here on its own ports and data
# directories. wrk runs bench/wrk/raft_kv.lua and bench/wrk/etcd.lua against each cluster's leader.
# Environment:
#   BENCH_NET_SECONDS (10)      duration of each wrk run
#   BENCH_NET_ONLY              "etcd" or "raft_kv": that target alone (no ratios, no targets)
#   BENCH_NET_CONNS ("1 16 64") connection counts; BENCH_NET_THREADS (2) wrk threads (1 at 1 conn)
#   BENCH_NET_VALUE_BYTES (100) value size; BENCH_NET_KEYS (300) keys preloaded for the reads
#   BENCH_NET_TMPDIR            where the data directories go (default $TMPDIR, else /tmp): the
#                               fdatasync figure is measured there
#   BENCH_NET_KEEP=1            keep the temporary directory (logs, wrk output) and say where
# Every process it starts (etcd, raft_kv, wrk) is stopped and the temporary directory removed on
# every exit path; every wait is bounded.
set -u
bin=${1:?usage: bench/net.sh RAFT_KV_BINARY}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2

SECS=${BENCH_NET_SECONDS:-10}
ONLY=${BENCH_NET_ONLY:-}
CONNS=${BENCH_NET_CONNS:-1 16 64}
THREADS=${BENCH_NET_THREADS:-2}
VALUE_BYTES=${BENCH_NET_VALUE_BYTES:-100}
KEYS=${BENCH_NET_KEYS:-300}

bad_env() {
    echo "bench-net: $*" >&2
    exit 2
}
# whole VALUE MAX: VALUE is a whole number in 1..MAX.
whole() { case $1 in '' | *[!0-9]*) return 1 ;; *) [ "${#1}" -le 7 ] && [ "$1" -ge 1 ] && [ "$1" -le "$2" ] ;; esac }
whole "$SECS" 3600 || bad_env "BENCH_NET_SECONDS='$SECS' must be a whole number of seconds, 1..3600"
whole "$THREADS" 64 || bad_env "BENCH_NET_THREADS='$THREADS' must be 1..64"
whole "$VALUE_BYTES" 4096 || bad_env "BENCH_NET_VALUE_BYTES='$VALUE_BYTES' must be 1..4096"
whole "$KEYS" 10000 || bad_env "BENCH_NET_KEYS='$KEYS' must be 1..10000"
for c in $CONNS; do whole "$c" 10000 || bad_env "BENCH_NET_CONNS: '$c' must be 1..10000"; done
[ -n "$CONNS" ] || bad_env "BENCH_NET_CONNS is empty"
case $ONLY in
"") targets="raft_kv etcd" ;;
raft_kv | etcd) targets=$ONLY ;;
*) bad_env "BENCH_NET_ONLY='$ONLY' must be etcd or raft_kv (or unset for both)" ;;
esac

need_tools="wrk curl python3 timeout"
case " $targets " in *" etcd "*) need_tools="$need_tools etcd" ;; esac
for t in $need_tools; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "bench-net: '$t' not found (tools/deps.sh bench-net installs etcd-server, wrk and curl)" >&2
        exit 1
    }
done
case " $targets " in
*" raft_kv "*)
    [ -x "$bin" ] || {
        echo "bench-net: no executable raft_kv at '$bin' (BENCH_NET_ONLY=etcd runs etcd alone)" >&2
        exit 1
    }
    bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    ;;
esac

parent=${BENCH_NET_TMPDIR:-${TMPDIR:-/tmp}}
tmp=$(mktemp -d "$parent/raft_kv_bench_net.XXXXXX") || {
    echo "bench-net: cannot make a temporary directory in $parent" >&2
    exit 1
}
etcd_pids=()
wrk_pid=""
raft_started=0
cluster=(bash "$here/tools/cluster.sh" --dir "$tmp/raft_kv" --bin "$bin")

# stop_pids SECONDS PID...: SIGTERM, then SIGKILL whatever is left after SECONDS; reaps them.
stop_pids() {
    local secs=$1 p i=0 alive
    shift
    [ "$#" -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    while [ "$i" -lt $((secs * 10)) ]; do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$@" 2>/dev/null
    wait "$@" 2>/dev/null
}
cleanup() {
    trap - EXIT INT TERM
    [ -n "$wrk_pid" ] && stop_pids 5 "$wrk_pid"
    [ "${#etcd_pids[@]}" -gt 0 ] && stop_pids 10 "${etcd_pids[@]}"
    [ "$raft_started" = 1 ] && RAFT_KV_STOP_TIMEOUT=10 "${cluster[@]}" stop >/dev/null 2>&1
    if [ "${BENCH_NET_KEEP:-0}" = 1 ]; then
        echo "bench-net: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'echo "bench-net: interrupted (SIGINT): stopping what it started" >&2; exit 130' INT
trap 'echo "bench-net: interrupted (SIGTERM): stopping what it started" >&2; exit 143' TERM

# ports_free PORT...: each port can be bound on 127.0.0.1 now.
ports_free() {
    python3 - "$@" <<'EOF'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}

fs=$(df -PT "$tmp" 2>/dev/null | awk 'NR == 2 { print $2 }')
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data directories in $tmp (${fs:-unknown filesystem}); wrk runs of $SECS s, values of $VALUE_BYTES bytes"
[ "$fs" = tmpfs ] && echo "bench-net: WARNING: $tmp is on tmpfs, where fdatasync costs nothing: set BENCH_NET_TMPDIR to a disk"

# --- the raw cost of one fdatasync ---------------------------------------------------------
fsync_out=$(python3 - "$tmp/fdatasync.probe" 200 <<'EOF'
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
block = b"x" * 4096
os.write(fd, block)
os.fdatasync(fd)  # the file exists and has a block before the timing starts
us = []
for _ in range(n):
    t0 = time.perf_counter_ns()
    os.write(fd, block)
    os.fdatasync(fd)
    us.append((time.perf_counter_ns() - t0) / 1000.0)
os.close(fd)
os.unlink(path)
us.sort()
print("fdatasync_4k_p50_us %.0f" % us[len(us) // 2])
print("fdatasync_4k_p99_us %.0f" % us[min(len(us) - 1, int(len(us) * 0.99))])
EOF
) || {
    echo "bench-net: the fdatasync measurement failed" >&2
    exit 1
}
fsync_p50=$(printf '%s\n' "$fsync_out" | awk '$1 == "fdatasync_4k_p50_us" { print $2 }')
fsync_p99=$(printf '%s\n' "$fsync_out" | awk '$1 == "fdatasync_4k_p99_us" { print $2 }')
echo "one 4 KiB append + fdatasync there, 200 times: p50 $fsync_p50 µs, p99 $fsync_p99 µs"

value=$(printf "%${VALUE_BYTES}s" "" | tr ' ' v)

# --- one wrk run ----------------------------------------------------------------------------
# Results by "target op conns": req/s, p50_us, p99_us and the errors in words ("" if none).
declare -A rps p50 p99 errs
failed=0
failed_names=""

# run_wrk TARGET OP CONNS URL SCRIPT ARG...: one wrk run; records its figures and errors.
run_wrk() {
    local target=$1 op=$2 c=$3 url=$4 script=$5 k="$1 $2 $3" out t rc line e=""
    shift 5
    out=$tmp/wrk-$target-$op-$c.txt
    t=$THREADS
    [ "$c" -lt "$t" ] && t=$c
    timeout -k 5 $((SECS + 30)) wrk -t"$t" -c"$c" -d"${SECS}s" --timeout 5s --latency \
        -s "$script" "$url" -- "$@" >"$out" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid"
    rc=$?
    wrk_pid=""
    line=$(grep '^bench_net_result ' "$out" | tail -n 1)
    field() { printf '%s\n' "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        e="wrk exited $rc without a result: $(grep -v '^bench_net_result' "$out" | tail -n 3 | tr '\n' ' ' | sed 's/ *$//')"
        rps[$k]=-
        p50[$k]=-
        p99[$k]=-
    else
        rps[$k]=$(field req_per_s)
        p50[$k]=$(field p50_us)
        p99[$k]=$(field p99_us)
        # wrk's own lines say the same as the result line; both are read, the larger count wins.
        local non2xx sock status bad n name
        non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
        status=$(field status)
        [ "${non2xx:-0}" -gt "${status:-0}" ] && status=$non2xx
        [ "${status:-0}" -gt 0 ] && e="$e $status non-2xx,"
        bad=$(field bad)
        [ "${bad:-0}" -gt "${status:-0}" ] && e="$e $((bad - ${status:-0})) other bad answers (3xx or not found),"
        for name in connect read write timeout; do
            n=$(field "$name")
            [ "${n:-0}" -gt 0 ] && e="$e $n socket $name errors,"
        done
        sock=$(grep -o 'Socket errors:.*' "$out")
        [ -n "$sock" ] && [ -z "$e" ] && e=" $sock"
        e=${e%,}
        e=${e# }
        [ "$(field requests)" = 0 ] && e="${e:+$e, }no request completed"
    fi
    errs[$k]=$e
    printf '  %-8s %-4s %3s connections: %10s req/s  p50 %7s µs  p99 %7s µs  %s\n' "$target" "$op" "$c" \
        "${rps[$k]}" "${p50[$k]}" "${p99[$k]}" "${e:+ERRORS: $e}"
    if [ -n "$e" ]; then
        failed=1
        failed_names="$failed_names $target-$op-${c}c"
    fi
}

# preload_check TARGET CODES: CODES (one HTTP status a line) are $KEYS 200s.
preload_check() {
    local n
    n=$(printf '%s\n' "$2" | grep -c '^200$')
    if [ "$n" -ne "$KEYS" ]; then
        echo "bench-net: $1: preloading $KEYS keys: $n answered 200; status counts:" \
            "$(printf '%s\n' "$2" | sort | uniq -c | tr '\n' ' ')" >&2
        return 1
    fi
}

# --- raft_kv --------------------------------------------------------------------------------
bench_raft_kv() {
    local leader url c codes="" args i j got
    echo
    echo "raft_kv: 3 nodes (tools/cluster.sh, $bin serve), trace quiet, fsync on..."
    raft_started=1
    if ! RAFT_KV_START_TIMEOUT=20 "${cluster[@]}" --set 'trace.level = "quiet"' --set 'storage.fsync = true' start 3; then
        echo "bench-net: raft_kv did not start (does $bin have 'serve' yet? BENCH_NET_ONLY=etcd runs etcd alone)" >&2
        return 1
    fi
    leader=$(RAFT_KV_START_TIMEOUT=20 "${cluster[@]}" leader) || {
        echo "bench-net: raft_kv elected no leader" >&2
        "${cluster[@]}" status >&2
        return 1
    }
    url=${leader#* }
    echo "raft_kv leader: node ${leader%% *} at $url; preloading $KEYS keys with curl..."
    for ((i = 0; i < KEYS; i += 100)); do # one curl (one connection) per 100 keys
        args=()
        for ((j = i; j < KEYS && j < i + 100; j++)); do
            args+=(-s -m 10 -o /dev/null -w '%{http_code}\n' -X PUT --data-binary "$value" "$url/kv/r-$j" --next)
        done
        unset 'args[${#args[@]}-1]'
        codes="$codes$(timeout 60 curl "${args[@]}")"$'\n'
    done
    preload_check raft_kv "${codes%$'\n'}" || return 1
    got=$(curl -s -m 10 "$url/kv/r-0")
    case $got in *"\"$value\""*) ;; *)
        echo "bench-net: raft_kv: GET /kv/r-0 after the preload answered: $got" >&2
        return 1
        ;;
    esac
    for c in $CONNS; do
        run_wrk raft_kv put "$c" "$url" bench/wrk/raft_kv.lua put "w$c-" "$VALUE_BYTES"
    done
    for c in $CONNS; do
        run_wrk raft_kv get "$c" "$url" bench/wrk/raft_kv.lua get r- "$KEYS"
    done
    if [ "$failed" -ne 0 ]; then
        echo "raft_kv at the end of its runs:"
        "${cluster[@]}" status
    fi
    RAFT_KV_STOP_TIMEOUT=10 "${cluster[@]}" stop || echo "bench-net: raft_kv did not stop cleanly on SIGTERM" >&2
    raft_started=0
    rm -rf "$tmp/raft_kv"
}

# --- etcd -----------------------------------------------------------------------------------
# etcd_json URL PATH BODY: POST BODY to etcd's JSON gateway, print the answer.
etcd_json() { curl -s -m 5 -X POST -H 'Content-Type: application/json' --data-binary "$3" "$1$2"; }

bench_etcd() {
    local base tries=0 i j initial="" url urls=() leader_url="" body c codes="" args k64 got
    echo
    echo "etcd: 3 members, $(etcd --version 2>/dev/null | head -n 1), fsync on (its only mode in 3.4)..."
    case $(etcd --version 2>/dev/null | head -n 1) in *" 3.4."*) ;; *) echo "bench-net: WARNING: not etcd 3.4" ;; esac
    while :; do
        base=$((20000 + (RANDOM % 1000) * 10))
        # shellcheck disable=SC2046
        ports_free $(for i in 1 2 3; do echo $((base + i)) $((base + 100 + i)); done) && break
        tries=$((tries + 1))
        [ "$tries" -lt 50 ] || {
            echo "bench-net: found no free ports for etcd in 50 tries" >&2
            return 1
        }
    done
    for i in 1 2 3; do
        initial="$initial${initial:+,}e$i=http://127.0.0.1:$((base + 100 + i))"
    done
    mkdir -p "$tmp/etcd"
    for i in 1 2 3; do
        etcd --name "e$i" --data-dir "$tmp/etcd/e$i" \
            --listen-client-urls "http://127.0.0.1:$((base + i))" \
            --advertise-client-urls "http://127.0.0.1:$((base + i))" \
            --listen-peer-urls "http://127.0.0.1:$((base + 100 + i))" \
            --initial-advertise-peer-urls "http://127.0.0.1:$((base + 100 + i))" \
            --initial-cluster "$initial" --initial-cluster-state new \
            --initial-cluster-token "bench-net-$$" \
            --logger zap --log-outputs stderr --log-level warn \
            </dev/null >"$tmp/etcd/e$i.log" 2>&1 &
        etcd_pids+=("$!")
        urls+=("http://127.0.0.1:$((base + i))")
    done
    # Healthy (a leader, the member answering), then the leader: the member whose id is the leader.
    for ((i = 0; i < 300; i++)); do
        leader_url=""
        for url in "${urls[@]}"; do
            body=$(etcd_json "$url" /v3/maintenance/status '{}') || continue
            if printf '%s' "$body" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if j.get("leader") and j.get("leader") == j.get("header", {}).get("member_id") else 1)' 2>/dev/null; then
                leader_url=$url
            fi
        done
        [ -n "$leader_url" ] && [ "$(curl -s -m 2 "$leader_url/health")" = '{"health":"true"}' ] && break
        for c in "${etcd_pids[@]}"; do
            kill -0 "$c" 2>/dev/null || {
                echo "bench-net: an etcd member exited; its logs:" >&2
                tail -n 5 "$tmp"/etcd/e*.log >&2
                return 1
            }
        done
        sleep 0.1
    done
    [ -n "$leader_url" ] || {
        echo "bench-net: etcd elected no leader in 30 s; the end of its logs:" >&2
        tail -n 5 "$tmp"/etcd/e*.log >&2
        return 1
    }
    echo "etcd leader: $leader_url; preloading $KEYS keys with curl..."
    local v64
    v64=$(printf '%s' "$value" | base64 -w0)
    for ((i = 0; i < KEYS; i += 100)); do # one curl (one connection) per 100 keys
        args=()
        for ((j = i; j < KEYS && j < i + 100; j++)); do
            k64=$(printf 'r-%d' "$j" | base64 -w0)
            args+=(-s -m 10 -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json'
                --data-binary "{\"key\":\"$k64\",\"value\":\"$v64\"}" "$leader_url/v3/kv/put" --next)
        done
        unset 'args[${#args[@]}-1]'
        codes="$codes$(timeout 60 curl "${args[@]}")"$'\n'
    done
    preload_check etcd "${codes%$'\n'}" || return 1
    got=$(etcd_json "$leader_url" /v3/kv/range "{\"key\":\"$(printf 'r-0' | base64 -w0)\"}")
    case $got in *"\"$v64\""*) ;; *)
        echo "bench-net: etcd: range of r-0 after the preload answered: $got" >&2
        return 1
        ;;
    esac
    for c in $CONNS; do
        run_wrk etcd put "$c" "$leader_url" bench/wrk/etcd.lua put "w$c-" "$VALUE_BYTES"
    done
    for c in $CONNS; do
        run_wrk etcd get "$c" "$leader_url" bench/wrk/etcd.lua get r- "$KEYS"
    done
    stop_pids 10 "${etcd_pids[@]}"
    etcd_pids=()
    rm -rf "$tmp/etcd"
}

for target in $targets; do
    if ! "bench_$target"; then
        echo "bench-net: $target could not be measured" >&2
        exit 1
    fi
done

# --- the table and the targets ---------------------------------------------------------------
ratio() { # ratio A B: A / B as "N.NNx", or "-"
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 <= 0) print "-"; else printf "%.2fx\n", a / b }'
}
echo
echo "fdatasync (4 KiB append, $fs, this run): p50 $fsync_p50 µs, p99 $fsync_p99 µs"
printf '\n%-13s %-4s %6s %11s %9s %9s   %s\n' target op conns req/s p50_us p99_us errors
for op in put get; do
    for c in $CONNS; do
        for target in $targets; do
            k="$target $op $c"
            printf '%-13s %-4s %6s %11s %9s %9s   %s\n' "$target" "$op" "$c" "${rps[$k]}" "${p50[$k]}" \
                "${p99[$k]}" "${errs[$k]:+FAILED: ${errs[$k]}}"
        done
        if [ -z "$ONLY" ]; then
            printf '%-13s %-4s %6s %11s %9s %9s\n' raft_kv/etcd "$op" "$c" \
                "$(ratio "${rps[raft_kv $op $c]}" "${rps[etcd $op $c]}")" \
                "$(ratio "${p50[raft_kv $op $c]}" "${p50[etcd $op $c]}")" \
                "$(ratio "${p99[raft_kv $op $c]}" "${p99[etcd $op $c]}")"
        fi
    done
done
echo "(put: a new key per request; get: a linearizable read of a preloaded key; both at the leader."
echo " Latencies in µs as wrk measures them, closed loop; raft_kv/etcd: above 1x is more req/s, and"
echo " below 1x a lower latency)"

# check_target LABEL NAME OK [WHY]: prints the target's line; a miss (OK = 0) fails the run, naming NAME.
check_target() {
    if [ "$3" = 1 ]; then
        printf '%-52s met\n' "$1"
    else
        printf '%-52s MISSED%s\n' "$1" "${4:+ ($4)}"
        failed=1
        failed_names="$failed_names $2"
    fi
}
# run_ok TARGET OP CONNS: that run was measured without errors.
run_ok() { [ -n "${rps[$1 $2 $3]:-}" ] && [ "${rps[$1 $2 $3]}" != - ] && [ -z "${errs[$1 $2 $3]}" ]; }
echo
if [ -n "$ONLY" ]; then
    echo "targets not checked: $ONLY alone (BENCH_NET_ONLY=$ONLY)"
else
    case " $CONNS " in
    *" 64 "*)
        if run_ok raft_kv put 64 && run_ok etcd put 64; then
            ok=$(awk -v a="${rps[raft_kv put 64]}" -v b="${rps[etcd put 64]}" 'BEGIN { print (a >= 3 * b) ? 1 : 0 }')
            check_target "raft_kv writes at 64 connections >= 3x etcd" "writes_64c>=3x_etcd" "$ok" \
                "$(ratio "${rps[raft_kv put 64]}" "${rps[etcd put 64]}")"
        else
            check_target "raft_kv writes at 64 connections >= 3x etcd" "writes_64c>=3x_etcd" 0 "a run had errors"
        fi
        ;;
    *) echo "raft_kv writes at 64 connections >= 3x etcd: not checked (64 not in BENCH_NET_CONNS)" ;;
    esac
    case " $CONNS " in
    *" 1 "*)
        for op in put get; do
            label="raft_kv $op p50 at 1 connection < etcd's"
            if run_ok raft_kv "$op" 1 && run_ok etcd "$op" 1; then
                ok=$(awk -v a="${p50[raft_kv $op 1]}" -v b="${p50[etcd $op 1]}" 'BEGIN { print (a < b) ? 1 : 0 }')
                check_target "$label" "${op}_p50_1c<etcd" "$ok" "${p50[raft_kv $op 1]} µs vs ${p50[etcd $op 1]} µs"
            else
                check_target "$label" "${op}_p50_1c<etcd" 0 "a run had errors"
            fi
        done
        ;;
    *) echo "raft_kv p50 at 1 connection < etcd's: not checked (1 not in BENCH_NET_CONNS)" ;;
    esac
fi
echo
if [ "$failed" -ne 0 ]; then
    echo "bench-net: FAILED:$failed_names (a run with errors, or a missed target; figures move with machine load)"
    exit 1
fi
if [ -n "$ONLY" ]; then
    echo "bench-net: $ONLY alone: no errors (targets not checked)"
else
    echo "bench-net: no errors, all targets met"
fi
