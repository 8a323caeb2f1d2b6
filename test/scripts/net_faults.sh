#!/usr/bin/env bash
# net_faults.sh - raft_kv serve under real kernel faults: three nodes, each in its own network
# namespace, joined pairwise by veth links (and each to the test's namespace, where the clients
# run). Five HTTP clients (net_history.py) record a history while a nemesis, for about 20 s,
# cuts a node's links (a partition), slows a link (tc tbf), kills a node with SIGKILL and
# restarts it from its files, and pauses one with SIGSTOP. Then every fault is healed, and the
# history is checked with raft_kv --check-history: the test fails on a violation.
#
# The kernel here may lack netem (CONFIG_NET_SCH_NETEM): then delay, loss and duplication come
# from raft_kv's own emulated network ([network], in front of the TCP transport), and the test
# says so; with netem, they are added to the peer links with tc as Jepsen does.
# Needs root (namespaces); without it the test says SKIPPED and passes. Namespaces, links and
# processes are removed on every exit path; every wait is bounded.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    echo "SKIPPED: network namespaces need root and iproute2"
    exit 0
fi
tag=rk$$
tmp=$(mktemp -d)
declare -A pids=()
cleanup() {
    for id in "${!pids[@]}"; do
        kill -CONT "${pids[$id]}" 2>/dev/null
        kill -9 "${pids[$id]}" 2>/dev/null
    done
    wait 2>/dev/null
    for i in 1 2 3; do ip netns del "${tag}n$i" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}
slow=1
case "${RAFT_KV_BUILD:-}" in *tsan* | *asan*) slow=3 ;; esac

# Each node i: 10.201.0.i on its loopback, reached from the test over 10.202.i.0/30 and from peer
# j over its own link 10.203.<ij>.0/30.
ns() { echo "${tag}n$1"; }
for i in 1 2 3; do
    ip netns add "$(ns "$i")" || { echo "SKIPPED: cannot create a network namespace"; exit 0; }
    ip -n "$(ns "$i")" link set lo up
    ip -n "$(ns "$i")" addr add "10.201.0.$i/32" dev lo
    ip link add "${tag}c$i" type veth peer name "n$i" netns "$(ns "$i")"
    ip addr add "10.202.$i.1/30" dev "${tag}c$i"
    ip link set "${tag}c$i" up
    ip -n "$(ns "$i")" addr add "10.202.$i.2/30" dev "n$i"
    ip -n "$(ns "$i")" link set "n$i" up
    ip route add "10.201.0.$i/32" via "10.202.$i.2"
done
link_up() { # link_up I J: the link between i and j up, with its routes
    local i=$1 j=$2 net
    net="10.203.$((i < j ? i * 10 + j : j * 10 + i))"
    ip -n "$(ns "$i")" link set "p$j" up
    ip -n "$(ns "$j")" link set "p$i" up
    ip -n "$(ns "$i")" route replace "10.201.0.$j/32" via "$net.$((i < j ? 2 : 1))"
    ip -n "$(ns "$j")" route replace "10.201.0.$i/32" via "$net.$((i < j ? 1 : 2))"
}
link_down() {
    ip -n "$(ns "$1")" link set "p$2" down
    ip -n "$(ns "$2")" link set "p$1" down
}
for pair in "1 2" "1 3" "2 3"; do
    read -r i j <<<"$pair"
    net="10.203.$((i * 10 + j))"
    ip link add "${tag}x" type veth peer name "${tag}y"
    ip link set "${tag}x" netns "$(ns "$i")"
    ip link set "${tag}y" netns "$(ns "$j")"
    ip -n "$(ns "$i")" link set "${tag}x" name "p$j"
    ip -n "$(ns "$j")" link set "${tag}y" name "p$i"
    ip -n "$(ns "$i")" addr add "$net.1/30" dev "p$j"
    ip -n "$(ns "$j")" addr add "$net.2/30" dev "p$i"
    link_up "$i" "$j"
done
netem=0
if ip netns exec "$(ns 1)" tc qdisc add dev p2 root netem delay 1ms 2>/dev/null; then
    ip netns exec "$(ns 1)" tc qdisc del dev p2 root
    netem=1
fi

conf=$tmp/cluster.toml
{
    echo '[trace]'
    echo 'level = "quiet"'
    if [ $netem = 0 ]; then
        echo '[network]'
        echo 'drop = 0.02'
        echo 'delay_ms = [0, 5]'
        echo 'duplicate = 0.02'
        echo 'reorder = true'
    fi
    for i in 1 2 3; do
        printf '\n[[node]]\nid = %d\nraft = "10.201.0.%d:7000"\nhttp = "10.201.0.%d:8000"\n' "$i" "$i" "$i"
        echo "data_dir = \"$tmp/node$i\""
    done
} >"$conf"
if [ $netem = 1 ]; then
    for pair in "1 2" "1 3" "2 3"; do
        read -r i j <<<"$pair"
        ip netns exec "$(ns "$i")" tc qdisc add dev "p$j" root netem delay 2ms 2ms loss 2% duplicate 2% reorder 10%
    done
    echo "faults on the links: tc netem (delay, loss, duplication, reordering)"
else
    echo "this kernel has no netem: delay, loss, duplication and reordering come from [network]"
fi

start() {
    ip netns exec "$(ns "$1")" "$bin" serve --node "$1" "$conf" >>"$tmp/node$1.log" 2>&1 &
    pids[$1]=$!
}
for i in 1 2 3; do start "$i"; done
# Wait (bounded) until some node answers /status.
ok=0
for ((k = 0; k < 100 * slow; k++)); do
    curl -s --max-time 1 http://10.201.0.1:8000/status >/dev/null && { ok=1; break; }
    sleep 0.1
done
[ $ok = 1 ] || { fail "node 1 never answered"; exit 1; }

seconds=$((20 * slow))
python3 "$here/net_history.py" --check "$bin" "$tmp/history.jsonl" "$seconds" \
    http://10.201.0.1:8000 http://10.201.0.2:8000 http://10.201.0.3:8000 >"$tmp/clients.out" 2>&1 &
clients=$!

# status_of I FIELD: a field of node i's /status, or nothing.
status_of() {
    curl -s --max-time 1 "http://10.201.0.$1:8000/status" 2>/dev/null | python3 -c 'import json,sys
try: print(json.load(sys.stdin)[sys.argv[1]])
except Exception: pass' "$2"
}
# The node that says it leads now, or nothing.
leader_now() {
    local i
    for i in 1 2 3; do [ "$(status_of "$i" role)" = leader ] && { echo "$i"; return; }; done
}

# The nemesis: one fault at a time, each healed before the next. The kills go to the leader when
# there is one, so that leadership must change hands.
killed_term=
end=$((SECONDS + seconds - 3))
round=0
while [ $SECONDS -lt $end ]; do
    round=$((round + 1))
    victim=$((RANDOM % 3 + 1))
    case $((round % 4)) in
    1)
        echo "nemesis: node $victim cut off (its links down)"
        for j in 1 2 3; do [ "$j" != "$victim" ] && link_down "$victim" "$j"; done
        sleep 2
        for j in 1 2 3; do [ "$j" != "$victim" ] && link_up "$victim" "$j"; done
        ;;
    2)
        l=$(leader_now)
        if [ -n "$l" ]; then
            victim=$l
            t=$(status_of "$l" term)
            [ -z "$killed_term" ] && killed_term=$t
        fi
        echo "nemesis: node $victim${l:+ (the leader)} killed (SIGKILL) and restarted"
        { kill -9 "${pids[$victim]}"; wait "${pids[$victim]}"; } 2>/dev/null
        sleep 1
        start "$victim"
        ;;
    3)
        echo "nemesis: node $victim paused (SIGSTOP) then resumed"
        kill -STOP "${pids[$victim]}"
        sleep 1.5
        kill -CONT "${pids[$victim]}"
        ;;
    0)
        other=$((victim % 3 + 1))
        echo "nemesis: the link $victim-$other slowed (tc tbf 64kbit)"
        ip netns exec "$(ns "$victim")" tc qdisc add dev "p$other" root tbf rate 64kbit burst 4kb latency 400ms 2>/dev/null ||
            ip netns exec "$(ns "$victim")" tc qdisc change dev "p$other" root tbf rate 64kbit burst 4kb latency 400ms
        sleep 2
        ip netns exec "$(ns "$victim")" tc qdisc del dev "p$other" root 2>/dev/null
        [ $netem = 1 ] && ip netns exec "$(ns "$victim")" tc qdisc add dev "p$other" root netem delay 2ms 2ms loss 2% duplicate 2% reorder 10%
        ;;
    esac
    sleep 1
done
wait $clients
crc=$?
cat "$tmp/clients.out"
[ $crc = 1 ] && fail "the clients completed no operation"
[ $crc -gt 1 ] && fail "the history is not linearizable (or undecided)"
for i in 1 2 3; do
    kill -0 "${pids[$i]}" 2>/dev/null || fail "node $i is not running at the end"
done
# The faults did bite: the leader that was killed first was replaced (a later term).
term=$(status_of 1 term)
echo "term at the end: ${term:-?}; the first leader killed led term ${killed_term:-none}"
if [ -z "$killed_term" ]; then
    fail "the nemesis never found a leader to kill"
elif [ -z "$term" ] || [ "$term" -le "$killed_term" ]; then
    fail "no new term after the leader of term $killed_term was killed (term ${term:-?} at the end)"
fi

# A sanitizer build reports into the node's log (and a node killed with SIGKILL never exits
# with the sanitizer's status): any report there fails the test.
if grep -l "Sanitizer\|runtime error:" "$tmp"/node*.log 2>/dev/null; then
    fail "a sanitizer reported in a node's log"
    grep -h -A20 "Sanitizer\|runtime error:" "$tmp"/node*.log | head -60
fi
if [ $failed -gt 0 ]; then
    for i in 1 2 3; do echo "--- node $i"; tail -n 15 "$tmp/node$i.log"; done
    exit 1
fi
echo "net_faults: linearizable under partitions, kills, pauses and slow links"
