#!/usr/bin/env bash
# net_membership.sh - changing a networked cluster while it runs (issue 16): raft_kv serve processes
# on loopback, driven by tools/cluster.sh and curl. Checks, in order:
#   - a node whose table says join = true refuses to start without --join, saying so;
#   - 3 nodes and 2 spares grow to 5 (cluster.sh add 4, add 5) while five HTTP clients record a
#     history (net_history.py) and a writer puts keys with curl: the leader's /status lists
#     voters 1..5;
#   - leadership moves to node 4, then to node 2 (cluster.sh transfer), each saying it leads;
#   - node 1, then node 2, the leader, are removed (cluster.sh remove): a new leader, voters 3 4 5,
#     nodes 1 and 2 stopped;
#   - malformed admin requests: 400 (bad ids, a missing or unknown parameter), 405 with Allow:
#     POST; an addition while another learner catches up is refused, 409 with its reason (node 1
#     is added while its process is down, so it stays a learner), and the learner is removed;
#   - node 2 comes back as a fresh machine (its data directory gone) under its old id, started with
#     --join although its table has no join, becomes a voter, and is removed again;
#   - the history is linearizable, every key the writer was told was stored reads back from the
#     leader (linearizable GET), and after the whole cluster is stopped and started again (the
#     nodes it has now: 3, 4 and 5) its configuration and keys are still there.
# Runs "$RAFT_KV_BIN" (set by test/run.sh). Every wait is bounded; every process is stopped and the
# temporary directory removed on every exit path.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "net_membership.sh: $tool is missing (make deps-test)"; exit 1; }
done
tmp=$(mktemp -d)
cdir=$tmp/cluster
conf=$cdir/cluster.toml
# Under the sanitizers every process runs several times slower: waits scale with it.
slow=1
case "${RAFT_KV_BUILD:-}" in *tsan* | *asan*) slow=4 ;; esac
export RAFT_KV_START_TIMEOUT=$((15 * slow))
export RAFT_KV_STOP_TIMEOUT=10
cl() { bash "$root/tools/cluster.sh" --dir "$cdir" --bin "$bin" "$@"; }
pdir=$tmp/plain # a cluster of one node, started without spares
pl() { bash "$root/tools/cluster.sh" --dir "$pdir" --bin "$bin" "$@"; }
bg_pids=()
cleanup() {
    : >"$tmp/stop"
    for p in "${bg_pids[@]+"${bg_pids[@]}"}"; do kill "$p" 2>/dev/null; done
    RAFT_KV_STOP_TIMEOUT=5 cl stop >/dev/null 2>&1
    [ -f "$pdir/cluster.toml" ] && RAFT_KV_STOP_TIMEOUT=5 pl stop >/dev/null 2>&1
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
phase() { echo "--- ${SECONDS}s: $*"; }
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}
finish() {
    if grep -l "Sanitizer\|runtime error:" "$cdir"/node*.log 2>/dev/null; then
        fail "a sanitizer reported in a node's log"
        grep -h -A20 "Sanitizer\|runtime error:" "$cdir"/node*.log | head -60
    fi
    if [ $failed -gt 0 ]; then
        cl status
        for i in 1 2 3 4 5; do echo "--- node $i"; tail -n 15 "$cdir/node$i.log" 2>/dev/null; done
        exit 1
    fi
    echo "net_membership: all checks passed"
    exit 0
}

url() { echo "${urls[$(($1 - 1))]}"; } # the node's client URL (urls: once the cluster file exists)
status() { curl -s --max-time 2 "$(url "$1")/status" 2>/dev/null; }
field() { python3 -c 'import json,sys
try:
    v = json.loads(sys.stdin.read())[sys.argv[1]]
    print(" ".join(map(str, v)) if isinstance(v, list) else v)
except Exception: print("")' "$1"; }
leader() { cl leader 2>/dev/null | awk '{ print $1 }'; }
# req METHOD URL: prints "CODE BODY" of one request (no redirect followed).
req() {
    local code
    code=$(curl -s --max-time $((5 * slow)) -o "$tmp/body" -w '%{http_code}' -X "$1" "$2" 2>/dev/null)
    echo "$code $(cat "$tmp/body" 2>/dev/null)"
}
expect() { # expect WHAT "CODE BODY" CODE [BODY-SUBSTRING]
    local what=$1 got=$2 code=$3 sub=${4:-}
    if [ "${got%% *}" != "$code" ] || [[ $got != *"$sub"* ]]; then
        fail "$what: expected $code${sub:+ with $sub}, got '$got'"
    fi
}
# expect_members WHAT VOTERS: the leader's voters and committed voters are VOTERS ("3 4 5").
expect_members() {
    local l s v c
    l=$(leader) || true
    [ -n "$l" ] || { fail "$1: no leader"; return; }
    s=$(status "$l")
    v=$(echo "$s" | field voters)
    c=$(echo "$s" | field committed_voters)
    if [ "$v" != "$2" ] || [ "$c" != "$2" ]; then
        fail "$1: node $l (leader) has voters '$v', committed '$c', not '$2'"
    fi
}

# --- a plain start: no spares, no join table (it once failed to write its cluster file) --------
phase "start 1 node without spares, then stop it"
if pl --set 'trace.level = "quiet"' start 1 >/dev/null; then
    grep -q '^join' "$pdir/cluster.toml" && fail "cluster.sh start 1 wrote a join table"
    RAFT_KV_STOP_TIMEOUT=5 pl stop >/dev/null || fail "cluster.sh stop (the plain cluster)"
else
    fail "cluster.sh start 1 (no spares)"
fi

# --- a joining node needs --join --------------------------------------------------------------
phase "start 3 nodes and 2 spares"
# Elections slower than the default (two cores shared with sanitizers and the clients), which also
# gives a learner time to catch up in rounds shorter than an election timeout; small snapshots,
# so that the nodes added catch up by InstallSnapshot.
cl --set 'trace.level = "quiet"' --set "raft.election_timeout_ms_min = $((400 * slow))" \
    --set "raft.election_timeout_ms_max = $((800 * slow))" --set 'storage.snapshot_threshold = 50' \
    --set 'storage.snapshot_trailing = 10' start 3 --spare 2 || { fail "cluster.sh start 3 --spare 2"; finish; }
grep -q '^join = true' "$conf" || fail "cluster.sh start --spare wrote no join = true table"
urls=()
for i in 1 2 3 4 5; do urls+=("$(cl url "$i")"); done
timeout 20 "$bin" serve --node 5 "$conf" >"$tmp/nojoin.log" 2>&1
rc=$?
if [ $rc != 2 ] || ! grep -q "join = true: start it with --join" "$tmp/nojoin.log"; then
    fail "node 5 (join = true) without --join: expected exit 2 saying so, got $rc: $(cat "$tmp/nojoin.log")"
fi
l=$(leader) || true
[ -n "$l" ] || { fail "no leader among three new nodes"; finish; }
expect_members "three nodes" "1 2 3"
[ "$(status 1 | field learners)" = "" ] || fail "node 1 has learners at the start"

# --- the workload: a history of five clients, and a writer of unique keys ------------------------
python3 "$here/net_history.py" --check "$bin" "$tmp/history.jsonl" $((12 * slow)) "${urls[@]}" \
    >"$tmp/clients.out" 2>&1 &
clients=$!
bg_pids+=("$clients")
# writer: puts w<i> = v<i> at the leader, one at a time, each with its own (client_id, seq) and
# retried with it until an answer is final; the indexes of the stored keys go to acked.
writer() {
    local i=0 u="" code
    while [ ! -e "$tmp/stop" ]; do
        if [ -z "$u" ]; then
            u=$(cl leader 2>/dev/null | awk '{ print $2 }')
            [ -z "$u" ] && { sleep 0.1; continue; }
        fi
        code=$(curl -s --max-time 5 -o "$tmp/w.body" -w '%{http_code}' -X PUT --data-binary "v$i" \
            "$u/kv/w$i?client_id=4242&seq=$((i + 1))" 2>/dev/null)
        case $code in
        200) echo "$i" >>"$tmp/acked"; i=$((i + 1)); sleep 0.02 ;;
        409) echo "w$i: $(cat "$tmp/w.body")" >>"$tmp/writer.bad"; i=$((i + 1)) ;;
        *) u=""; sleep 0.05 ;;
        esac
    done
}
writer &
writer_pid=$!
bg_pids+=("$writer_pid")
# Enough entries that the leader has compacted its log: node 4 must catch up by a snapshot.
for ((i = 0; i < 200 * slow; i++)); do
    l=$(leader) || true
    c=$([ -n "$l" ] && status "$l" | field commit_index)
    [ "${c:-0}" -ge 100 ] && break
    sleep 0.1
done

# --- grow 3 -> 5 ---------------------------------------------------------------------------------
phase "grow to 5"
cl add 4 || fail "cluster.sh add 4"
cl add 5 || fail "cluster.sh add 5"
expect_members "after adding 4 and 5" "1 2 3 4 5"
for i in 4 5; do
    [ "$(status "$i" | field member)" = voter ] || fail "node $i does not see itself a voter: $(status "$i")"
done
grep -q -- "--join" "$cdir/node4.log" || fail "node 4 was not started with --join"
[ "$(status 4 | field snapshots_installed)" -ge 1 ] 2>/dev/null ||
    fail "node 4 joined without a snapshot: $(status 4)"
cl status | grep -q "^5 .* voter " || fail "cluster.sh status does not show node 5 a voter: $(cl status)"

# --- transfers ------------------------------------------------------------------------------------
phase "transfers"
cl transfer 4 || fail "cluster.sh transfer 4"
[ "$(status 4 | field role)" = leader ] || fail "node 4 does not lead after the transfer: $(status 4)"
expect "a transfer to the leader itself" "$(req POST "$(url 4)/admin/transfer?to=4")" 409 '"reason":"self"'
cl transfer 2 || fail "cluster.sh transfer 2"
[ "$(status 2 | field role)" = leader ] || fail "node 2 does not lead after the transfer: $(status 2)"

# --- shrink: node 1, then node 2, the leader ------------------------------------------------------
phase "shrink"
cl remove 1 || fail "cluster.sh remove 1"
expect_members "after removing 1" "2 3 4 5"
cl remove 2 || fail "cluster.sh remove 2 (the leader)"
expect_members "after removing 2" "3 4 5"
l=$(leader) || true
case $l in 3 | 4 | 5) ;; *) fail "after node 2, the leader, was removed: leader '$l'" ;; esac
st=$(cl status)
for i in 1 2; do
    [ "$(echo "$st" | awk -v id="$i" '$1 == id { print $3 }')" = down ] || fail "node $i still runs after its removal: $st"
done

# --- bad admin requests, and a change refused during another -----------------------------------
phase "bad admin requests, a refused change"
L=$(url "${l:-3}")
expect "add id=0" "$(req POST "$L/admin/add?id=0")" 400 '"error":"bad_query"'
expect "add id=6 (above the tables)" "$(req POST "$L/admin/add?id=6")" 400 '"error":"bad_query"'
expect "add without id" "$(req POST "$L/admin/add")" 400 '"error":"bad_query"'
expect "add id=x" "$(req POST "$L/admin/add?id=x")" 400 '"error":"bad_query"'
expect "add id twice" "$(req POST "$L/admin/add?id=1&id=1")" 400 '"error":"bad_query"'
expect "transfer with id=" "$(req POST "$L/admin/transfer?id=3")" 400 '"error":"bad_query"'
expect "GET of an admin path" "$(req GET "$L/admin/add?id=1")" 405 '"error":"method_not_allowed"'
allow=$(curl -s -i --max-time 5 -X DELETE "$L/admin/remove?id=3" 2>/dev/null | tr -d '\r' | grep -i '^Allow:')
[ "$allow" = "Allow: POST" ] || fail "405 of an admin path: expected Allow: POST, got '$allow'"
expect "unknown admin path" "$(req POST "$L/admin/grow?id=1")" 404 '"error":"unknown_path"'
# Node 1 is down: added, it stays a learner, so a second addition is refused (catching_up, or
# change_pending if the first entry has not committed yet).
got=$(req POST "$L/admin/add?id=1")
expect "add of node 1 (down)" "$got" 200 '"result":"accepted"'
got=$(req POST "$L/admin/add?id=2")
expect "an addition while node 1 catches up" "$got" 409 '"error":"refused"'
[[ $got == *'"reason":"catching_up"'* || $got == *'"reason":"change_pending"'* ]] ||
    fail "the refusal's reason: expected catching_up or change_pending, got '$got'"
expect "a transfer to the learner" "$(req POST "$L/admin/transfer?to=1")" 409 '"reason":"not_voter"'
[ "$(status "${l:-3}" | field learners)" = 1 ] || fail "node 1 is not a learner at the leader: $(status "${l:-3}")"
for ((i = 0; i < 50; i++)); do # its entry commits at once; the leader may also drop it by itself
    got=$(req POST "$L/admin/remove?id=1")
    case $got in 200* | *'"reason":"not_member"'*) break ;; esac
    sleep 0.1
done
[[ $got == 200* || $got == *not_member* ]] || fail "removing learner 1: got '$got'"
for ((i = 0; i < 50 * slow; i++)); do
    [ -z "$(status "${l:-3}" | field learners)" ] && break
    sleep 0.1
done
expect_members "after the learner went" "3 4 5"

# --- a fresh machine under an old id: node 2 with --join, its table without join ---------------
phase "node 2 back as a fresh machine"
rm -rf "$cdir/node2"
cl add 2 || fail "cluster.sh add 2 (a fresh node 2 with --join)"
grep -q "node 2 of 5 serving (joining" "$cdir/node2.log" || fail "node 2 did not start with --join: $(tail -3 "$cdir/node2.log")"
expect_members "after adding node 2 back" "2 3 4 5"
cl remove 2 || fail "cluster.sh remove 2 (again)"
expect_members "after removing node 2 again" "3 4 5"

# --- the history and the keys ---------------------------------------------------------------------
phase "the history and the keys"
: >"$tmp/stop"
wait "$writer_pid"
wait "$clients"
crc=$?
cat "$tmp/clients.out"
[ $crc = 1 ] && fail "the clients completed no operation"
[ $crc -gt 1 ] && fail "the history is not linearizable (or undecided)"
[ -s "$tmp/writer.bad" ] && fail "puts of new keys answered exists: $(head -3 "$tmp/writer.bad")"
n_acked=$(wc -l <"$tmp/acked" 2>/dev/null || echo 0)
[ "${n_acked:-0}" -ge 20 ] || fail "the writer stored only ${n_acked:-0} keys"
# read_keys WHEN: every stored key reads back from the leader, linearizably (one python3 process:
# a curl per key would take longer than the rest of the test).
read_keys() {
    local lost
    lost=$(python3 - "$tmp/acked" $((20 * slow)) "${urls[@]}" <<'EOF'
import http.client, sys, time, urllib.parse
keys = [int(l) for l in open(sys.argv[1]) if l.strip()]
deadline = time.monotonic() + float(sys.argv[2])
hosts = [urllib.parse.urlparse(u).netloc for u in sys.argv[3:]]
node, lost = 0, 0
for i in keys:
    got = None
    while got is None and time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection(hosts[node], timeout=3)
            c.request("GET", "/kv/w%d" % i)
            r = c.getresponse()
            body = r.read().decode()
            c.close()
        except (OSError, http.client.HTTPException):
            node = (node + 1) % len(hosts)
            continue
        if r.status == 307:
            node = hosts.index(urllib.parse.urlparse(r.getheader("Location")).netloc)
        elif r.status in (503, 504):
            time.sleep(0.05)
        else:
            got = (r.status, body)
    if got is None or got[0] != 200 or '"value":"v%d"' % i not in got[1]:
        lost += 1
        print("w%d: %s" % (i, got), file=sys.stderr)
print(lost)
EOF
)
    [ "$lost" = 0 ] || fail "$1: ${lost:-?} of $n_acked stored keys do not read back"
}
read_keys "with voters 3 4 5"
echo "$n_acked keys written while the cluster grew, moved its leader and shrank, all readable"

# --- the whole cluster stopped and started again ------------------------------------------------
phase "the whole cluster restarted"
cl stop || fail "cluster.sh stop: a node needed SIGKILL"
cl start || { fail "cluster.sh start again"; finish; }
st=$(cl status)
for i in 1 2; do
    [ "$(echo "$st" | awk -v id="$i" '$1 == id { print $3 }')" = down ] || fail "node $i, removed, was started again: $st"
done
for ((i = 0; i < 100 * slow; i++)); do
    l=$(leader) || true
    [ -n "$l" ] && [ "$(status "$l" | field committed_voters)" = "3 4 5" ] && break
    sleep 0.1
done
expect_members "after the restart" "3 4 5"
read_keys "after the restart"
finish
