#!/usr/bin/env bash
# net_cluster.sh - raft_kv serve as real processes on loopback: three nodes, each its own process
# with its own data directory, driven with curl and the command-line client. Checks, in order:
#   - put, get, delete through HTTP and the CLI, with the contract's codes (../shared/http-api.md);
#     a follower redirects (307) to the leader; a retried request (same client_id/seq) is applied
#     once; the CLI's exit codes;
#   - bad input (wrong method, unknown path, bad query, oversized body, bad UTF-8, garbage bytes on
#     the HTTP and the peer ports, a port already in use, a data directory that is a file): a clear
#     error, and every node keeps serving;
#   - kill -9 of the leader: a new leader, writes go on, the killed node restarts from its files and
#     catches up from a snapshot (the leader keeps few entries past its snapshots);
#   - SIGSTOP of the leader past the election timeout, then SIGCONT: it serves no stale read;
#   - the whole cluster stopped (SIGTERM, exit 0) and started again: every acknowledged write is
#     there.
# Runs "$RAFT_KV_BIN" (set by test/run.sh). Every wait is bounded; every process is killed and the
# temporary directory removed on every exit path.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "net_cluster.sh: $tool is missing (make deps-test)"; exit 1; }
done
tmp=$(mktemp -d)
declare -A pids=()
cleanup() {
    for id in "${!pids[@]}"; do
        kill -CONT "${pids[$id]}" 2>/dev/null
        kill -9 "${pids[$id]}" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}
# Under ThreadSanitizer every process runs several times slower: waits scale with it.
slow=1
case "${RAFT_KV_BUILD:-}" in *tsan* | *asan*) slow=4 ;; esac

# Free loopback ports: bound to port 0 by the kernel, then released.
read -r -a ports < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()')
conf=$tmp/cluster.toml
{
    echo '[trace]'
    echo 'level = "quiet"'
    echo '[raft]' # elections slower than the default: two cores shared with sanitizers and curl
    echo 'election_timeout_ms_min = 400'
    echo 'election_timeout_ms_max = 800'
    echo '[storage]' # small snapshots: a node that was down catches up by InstallSnapshot
    echo 'snapshot_threshold = 8'
    echo 'snapshot_trailing = 2'
    for id in 1 2 3; do
        echo
        echo '[[node]]'
        echo "id = $id"
        echo "raft = \"127.0.0.1:${ports[$((id - 1))]}\""
        echo "http = \"127.0.0.1:${ports[$((id + 2))]}\""
        echo "data_dir = \"$tmp/node$id\""
    done
} >"$conf"
url() { echo "http://127.0.0.1:${ports[$(($1 + 2))]}"; }

start() {
    "$bin" serve --node "$1" "$conf" >>"$tmp/node$1.log" 2>&1 &
    pids[$1]=$!
}
# status ID: the node's /status JSON, or nothing.
status() { curl -s --max-time 2 "$(url "$1")/status" 2>/dev/null; }
field() { python3 -c 'import json,sys
try: print(json.loads(sys.stdin.read())[sys.argv[1]])
except Exception: print("")' "$1"; }
# leader_of IDS...: the id of the one node among IDS that says it leads and that every other of
# IDS follows; nothing if there is none yet.
leader_of() {
    local id l="" agree=1
    for id in "$@"; do
        local s
        s=$(status "$id")
        if [ "$(echo "$s" | field role)" = leader ]; then l=$id; fi
    done
    [ -z "$l" ] && return
    for id in "$@"; do
        [ "$(status "$id" | field leader)" = "$l" ] || agree=0
    done
    [ $agree = 1 ] && echo "$l"
}
# wait_leader IDS...: waits (bounded) for leader_of IDS; prints it.
wait_leader() {
    local i l
    for ((i = 0; i < 200 * slow; i++)); do
        l=$(leader_of "$@")
        if [ -n "$l" ]; then
            echo "$l"
            return 0
        fi
        sleep 0.05
    done
    return 1
}
# req METHOD URL [BODY]: prints "CODE BODY" of one request (no redirect followed).
req() {
    local method=$1 u=$2
    shift 2
    local out code
    out=$(curl -s --max-time $((5 * slow)) -o "$tmp/body" -w '%{http_code}' -X "$method" \
        ${1+--data-binary "$1"} "$u" 2>/dev/null)
    code=$out
    echo "$code $(cat "$tmp/body" 2>/dev/null)"
}
expect() { # expect WHAT "CODE BODY" CODE [BODY-SUBSTRING]
    local what=$1 got=$2 code=$3 sub=${4:-}
    if [ "${got%% *}" != "$code" ] || [[ $got != *"$sub"* ]]; then
        fail "$what: expected $code${sub:+ with $sub}, got '$got'"
    fi
}
cli() { "$bin" "$@" --cluster "$conf" --timeout-ms $((10000 * slow)); }
# lreq METHOD PATH [BODY]: req at whichever node leads now. An answer that is not final (307,
# 503, 504: the leader changed under the request) is retried, a write with the same client id
# and seq, so it is applied once; prints the final answer (or the last one).
lreq() {
    local method=$1 path=$2 got="" l i sep="?"
    shift 2
    [[ $path == *"?"* ]] && sep="&"
    [ "$method" != GET ] && [[ $path != *client_id=* ]] && path="$path${sep}client_id=$((RANDOM * 32768 + RANDOM + 1))&seq=1"
    for ((i = 0; i < 20; i++)); do
        l=$(wait_leader 1 2 3) || continue
        got=$(req "$method" "$(url "$l")$path" "$@")
        case "${got%% *}" in 307 | 503 | 504 | 000) sleep 0.2 ;; *) break ;; esac
    done
    echo "$got"
}

for id in 1 2 3; do start "$id"; done
leader=$(wait_leader 1 2 3) || { fail "no leader elected among three new nodes"; exit 1; }
follower=$((leader % 3 + 1))
echo "leader: node $leader"

# --- the API ----------------------------------------------------------------------------------
expect "put of a new key" "$(lreq PUT "/kv/alpha" "one")" 200 '"result":"ok"'
expect "put of an existing key" "$(lreq PUT "/kv/alpha" "two")" 409 '"result":"exists"'
expect "get" "$(lreq GET "/kv/alpha")" 200 '"value":"one"'
expect "lease get" "$(lreq GET "/kv/alpha?consistency=lease")" 200 '"value":"one"'
expect "get of a missing key" "$(lreq GET "/kv/missing")" 404 '"result":"not_found"'
expect "delete" "$(lreq DELETE "/kv/alpha")" 200 '"result":"ok"'
expect "delete of a missing key" "$(lreq DELETE "/kv/alpha")" 404 '"result":"not_found"'
expect "a percent-encoded key" "$(lreq PUT "/kv/a%20b%2Fc" "v")" 200
expect "get of a percent-encoded key" "$(lreq GET "/kv/a%20b%2Fc")" 200 '"value":"v"'
# A follower redirects to the leader (asked again if the leader moved meanwhile).
ok=0
for ((i = 0; i < 10 && ok == 0; i++)); do
    leader=$(wait_leader 1 2 3) || continue
    follower=$((leader % 3 + 1))
    got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' "$(url "$follower")/kv/a%20b%2Fc")
    [ "$got" = "307 $(url "$leader")/kv/a%20b%2Fc" ] && ok=1
done
[ $ok = 1 ] || fail "a follower redirects: expected 307 to the leader, got '$got'"
got=$(curl -s -L --max-time 5 "$(url "$follower")/kv/a%20b%2Fc")
[[ $got == *'"value":"v"'* ]] || fail "following the redirect: got '$got'"
expect "a stale read at a follower" "$(req GET "$(url "$follower")/kv/a%20b%2Fc?consistency=stale")" 200
s=$(status "$leader")
for f in id role term leader commit_index last_applied last_index snapshot_index; do
    [ -n "$(echo "$s" | field "$f")" ] || fail "/status has no $f: $s"
done
# Exactly-once: the same (client_id, seq) twice is applied once.
expect "put (client 77, seq 1)" "$(lreq PUT "/kv/once?client_id=77&seq=1" "x")" 200 '"result":"ok"'
expect "the same put again" "$(lreq PUT "/kv/once?client_id=77&seq=1" "x")" 200 '"result":"ok"'
expect "a new put of that key" "$(lreq PUT "/kv/once?client_id=77&seq=2" "y")" 409 '"result":"exists"'
expect "the value" "$(lreq GET "/kv/once")" 200 '"value":"x"'

# The command-line client, asked at a follower first.
out=$(cli put cli-key cli-value --node "$follower") || fail "raft_kv put: exit $?"
[ "$out" = ok ] || fail "raft_kv put printed '$out'"
out=$(cli get cli-key) || fail "raft_kv get: exit $?"
[ "$out" = cli-value ] || fail "raft_kv get printed '$out'"
cli put cli-key other >/dev/null
[ $? = 1 ] || fail "raft_kv put of an existing key: expected exit 1"
cli get no-such-key >/dev/null
[ $? = 1 ] || fail "raft_kv get of a missing key: expected exit 1"
out=$(cli delete cli-key) || fail "raft_kv delete: exit $?"
cli delete cli-key >/dev/null
[ $? = 1 ] || fail "raft_kv delete of a missing key: expected exit 1"
"$bin" get >/dev/null 2>&1
[ $? = 2 ] || fail "raft_kv get without a key: expected exit 2"
"$bin" put k v --cluster "$tmp/none.toml" >/dev/null 2>&1
[ $? = 2 ] || fail "raft_kv put with a missing cluster file: expected exit 2"

# --- bad input --------------------------------------------------------------------------------
L=$(url "$leader") # any node checks a request's form before leadership matters
expect "POST" "$(req POST "$L/kv/k" "v")" 405 '"error"'
expect "unknown path" "$(req GET "$L/nope")" 404 '"error"'
expect "client_id without seq" "$(req PUT "$L/kv/k?client_id=5" "v")" 400 '"error"'
expect "seq 0" "$(req PUT "$L/kv/k?client_id=5&seq=0" "v")" 400 '"error"'
expect "bad consistency" "$(req GET "$L/kv/k?consistency=bogus")" 400 '"error"'
expect "empty key" "$(req GET "$L/kv/")" 400 '"error"'
long=$(head -c 300 /dev/zero | tr '\0' k)
expect "a key over 256 bytes" "$(req GET "$L/kv/$long")" 400 '"error"'
expect "bad UTF-8" "$(req PUT "$L/kv/k" "$(printf 'a\xffb')")" 400 '"error"'
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' v >"$tmp/big"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$tmp/big" "$L/kv/big")
case "$code" in 4*) ;; *) fail "a 2 MiB body: expected a 4xx, got $code" ;; esac
python3 - "${ports[$((leader + 2))]}" "${ports[$((leader - 1))]}" <<'EOF' || fail "garbage bytes"
import socket, sys
for port in sys.argv[1:]:
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    s.sendall(b"\x00\xffGARBAGE\r\n\r\n" * 50)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
EOF
expect "still serving after bad input" "$(lreq GET "/kv/once")" 200 '"value":"x"'
"$bin" serve --node "$leader" "$conf" >"$tmp/dup.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "in use" "$tmp/dup.log" || fail "a second node $leader: expected exit 1 saying its directory is in use, got $rc: $(cat "$tmp/dup.log")"
# Another cluster file whose node 1 has a fresh directory but the taken raft port.
sed "s#$tmp/node1\"#$tmp/fresh\"#" "$conf" >"$tmp/port.toml"
"$bin" serve --node 1 "$tmp/port.toml" >"$tmp/port.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "127.0.0.1:${ports[0]}.*in use\|in use.*127.0.0.1:${ports[0]}" "$tmp/port.log" ||
    fail "a port in use: expected exit 1 naming 127.0.0.1:${ports[0]}, got $rc: $(cat "$tmp/port.log")"
sed "s#$tmp/node1\"#$tmp/afile\"#" "$conf" >"$tmp/file.toml"
: >"$tmp/afile"
"$bin" serve --node 1 "$tmp/file.toml" >"$tmp/file.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "afile" "$tmp/file.log" || fail "a data directory that is a file: expected exit 1 naming it, got $rc: $(cat "$tmp/file.log")"
"$bin" serve --node 9 "$conf" >/dev/null 2>&1
[ $? = 2 ] || fail "serve --node 9 of 3: expected exit 2"

# --- kill -9 of the leader --------------------------------------------------------------------
acked=() # keys whose put was acknowledged; key i holds value v<i>
put_some() { # put_some FROM TO: puts k<i> = v<i> through the CLI
    local i
    for ((i = $1; i < $2; i++)); do
        if [ "$(cli put "k$i" "v$i")" = ok ]; then acked+=("$i"); fi
    done
}
put_some 0 20
old=$leader
{ kill -9 "${pids[$old]}"; wait "${pids[$old]}"; } 2>/dev/null
unset "pids[$old]"
rest=()
for id in 1 2 3; do [ "$id" != "$old" ] && rest+=("$id"); done
leader=$(wait_leader "${rest[@]}") || { fail "no new leader after kill -9 of node $old"; exit 1; }
echo "after kill -9 of node $old: leader node $leader"
put_some 20 40
start "$old"
# It catches up: its applied index reaches the leader's commit index.
target=$(status "$leader" | field commit_index)
ok=0
for ((i = 0; i < 200 * slow; i++)); do
    a=$(status "$old" | field last_applied)
    if [ -n "$a" ] && [ "$a" -ge "$target" ]; then ok=1; break; fi
    sleep 0.05
done
[ $ok = 1 ] || fail "node $old restarted but did not catch up to index $target"
# It missed 20 writes while the leader kept at most 10 entries past its snapshot: it caught up
# from a snapshot sent over TCP.
installed=$(status "$old" | field snapshots_installed)
[ "${installed:-0}" -ge 1 ] || fail "node $old caught up without a snapshot (snapshots_installed '$installed')"

# --- SIGSTOP of the leader ------------------------------------------------------------------------
expect "before the pause" "$(lreq PUT "/kv/paused" "before")" 200
old=$(wait_leader 1 2 3) || fail "no leader before the pause"
kill -STOP "${pids[$old]}"
rest=()
for id in 1 2 3; do [ "$id" != "$old" ] && rest+=("$id"); done
leader=$(wait_leader "${rest[@]}") || fail "no new leader while node $old is paused"
if [ -n "$leader" ]; then
    for ((i = 0; i < 10; i++)); do
        got=$(req DELETE "$(url "$leader")/kv/paused?client_id=991&seq=1")
        [ "${got%% *}" = 200 ] && break
        sleep 0.2
        leader=$(wait_leader "${rest[@]}") || break
    done
    expect "delete while paused" "$got" 200
    kill -CONT "${pids[$old]}"
    # The old leader, just resumed, must not answer the old value: a redirect, an error, or the
    # new state (not found) are all fine.
    got=$(req GET "$(url "$old")/kv/paused")
    [[ $got == *'"value":"before"'* ]] && fail "the resumed old leader served a stale read: $got"
    wait_leader 1 2 3 >/dev/null || fail "no single leader after node $old resumed"
else
    kill -CONT "${pids[$old]}"
fi

# --- the whole cluster restarted ------------------------------------------------------------------
for id in "${!pids[@]}"; do kill -TERM "${pids[$id]}"; done
for id in "${!pids[@]}"; do
    wait "${pids[$id]}"
    rc=$?
    [ $rc = 0 ] || fail "node $id exited $rc after SIGTERM"
    unset "pids[$id]"
done
for id in 1 2 3; do start "$id"; done
leader=$(wait_leader 1 2 3) || { fail "no leader after the whole cluster restarted"; exit 1; }
lost=0
for i in "${acked[@]}"; do
    got=$(cli get "k$i")
    [ "$got" = "v$i" ] || { lost=$((lost + 1)); echo "k$i: got '$got'"; }
done
[ $lost = 0 ] || fail "$lost of ${#acked[@]} acknowledged writes are missing after the restart"
[ ${#acked[@]} -ge 30 ] || fail "only ${#acked[@]} of 40 writes were acknowledged"
echo "${#acked[@]} acknowledged writes all there after kill -9, pause and a full restart"

# A sanitizer build reports into the node's log (and a node killed with SIGKILL never exits
# with the sanitizer's status): any report there fails the test.
if grep -l "Sanitizer\|runtime error:" "$tmp"/node*.log 2>/dev/null; then
    fail "a sanitizer reported in a node's log"
    grep -h -A20 "Sanitizer\|runtime error:" "$tmp"/node*.log | head -60
fi
if [ $failed -gt 0 ]; then
    for id in 1 2 3; do echo "--- node $id"; tail -n 20 "$tmp/node$id.log"; done
    exit 1
fi
echo "net_cluster: all checks passed"
