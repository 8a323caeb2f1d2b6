#!/usr/bin/env bash
# cli.sh - the raft_kv command line end to end: exit codes (0 ok, 1 bad config, 2 bad command
# line), messages that name the problem and its place, and config.toml matching the defaults.
# Runs "$RAFT_KV_BIN" (set by test/run.sh); exits nonzero listing every failed check.
set -u
bin=${RAFT_KV_BIN:?RAFT_KV_BIN must name the raft_kv binary (test/run.sh sets it)}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checks=0

fail() {
    echo "FAIL: $*"
    echo "  stdout: $(head -c 600 "$tmp/out")"
    echo "  stderr: $(head -c 600 "$tmp/err")"
    failed=$((failed + 1))
}

# conf NAME TEXT: writes a config file $tmp/NAME.toml (printf format, so \n works).
conf() {
    printf "$2" >"$tmp/$1.toml"
}

# expect NAME RC STREAM TEXT ARGS...: runs raft_kv ARGS; the exit code must be RC and STREAM
# (out or err) must contain TEXT (a fixed string; empty TEXT checks nothing). A failed run
# (RC 1 or 2) must print nothing on stdout: it stopped before starting anything.
expect() {
    local name=$1 want_rc=$2 stream=$3 text=$4
    shift 4
    checks=$((checks + 1))
    (cd "$here" && "$bin" "$@") >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name: exit code $rc, expected $want_rc (raft_kv $*)"
        return
    fi
    if [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/$stream"; then
        fail "$name: std$stream lacks '$text' (raft_kv $*)"
        return
    fi
    if [ "$want_rc" -ne 0 ] && [ -s "$tmp/out" ]; then
        fail "$name: a failed run printed on stdout (raft_kv $*)"
    fi
}

# --- good command lines --------------------------------------------------------------------
expect version 0 out "raft_kv 0.1.0" --version
[ "$(cat "$tmp/out")" = "raft_kv 0.1.0" ] || fail "version: stdout is not exactly 'raft_kv 0.1.0'"
expect help 0 out "usage: raft_kv [OPTIONS] [CONFIG]" --help
expect help-short 0 out "--set KEY=VALUE" -h
expect default-config 0 out "verdict: consistent"
grep -qE '^seed [0-9]+ \(repeat this run with --seed [0-9]+\)$' "$tmp/out" ||
    fail "default-config: no 'seed N (repeat this run with --seed N)' line"
expect seed-flag 0 out "seed 42" --seed 42 config.toml
grep -qx 'seed 42 (repeat this run with --seed 42)' "$tmp/out" ||
    fail "seed-flag: 'seed 42 (repeat ...)' is not a line of its own"
conf seed 'seed = 9\n'
expect seed-file 0 out "seed 9" "$tmp/seed.toml"
expect seed-flag-wins 0 out "seed 7" --seed=7 "$tmp/seed.toml"
expect seed-max 0 out "seed 9223372036854775807" --seed 9223372036854775807 --set num_clients=0
# The largest seed prints as a configuration that reads back (TOML integers are signed 64-bit).
expect seed-max-print 0 out "seed = 9223372036854775807" --print-config --seed 9223372036854775807
cp "$tmp/out" "$tmp/seed-max.toml"
expect seed-max-reprint 0 out "" --print-config "$tmp/seed-max.toml"
cmp -s "$tmp/out" "$tmp/seed-max.toml" ||
    fail "seed-max-reprint: --print-config --seed 9223372036854775807 does not read back to itself"
expect summary 0 out "5 nodes, 3 clients x 5 requests, 5 keys (a b c d e)" config.toml
# In JSON Lines mode stdout holds only trace objects; the human summary goes to stderr.
expect trace-format 0 err "trace: info, jsonl" --trace-format=jsonl
grep -vq '^{"t_ms":' "$tmp/out" && fail "trace-format: stdout has a line that is not a trace object"
grep -q '"event":"role"' "$tmp/out" || fail "trace-format: no role change in the JSON trace"
expect trace-format-2 0 err "verdict: consistent" --trace-format jsonl
expect set-nodes 0 out "3 nodes" --set num_nodes=3
expect set-keys 0 out "2 keys (x y)" --set 'client.keys=["x", "y"]'
expect set-dotted 0 out "heartbeat 20 ms" --set raft.heartbeat_ms=20
expect history 0 out "history: $tmp/h.jsonl" --history "$tmp/h.jsonl"
[ "$(grep -c '"type":"invoke"' "$tmp/h.jsonl")" -eq 15 ] ||
    fail "history: $tmp/h.jsonl does not hold 15 invokes (3 clients x 5 requests)"
# --check-history: the verdict on a history file, and its exit codes.
expect check-history 0 out "linearizable: 15 ops (" --check-history "$tmp/h.jsonl"
printf '%s\n' '{"process":1,"type":"invoke","f":"get","key":"a","time":1}' \
    '{"process":1,"type":"ok","f":"get","key":"a","result":"found","value":"zz","time":2}' \
    >"$tmp/bad.jsonl"
# (a verdict, not a failed run: it is printed on stdout with exit status 1)
checks=$((checks + 1))
(cd "$here" && "$bin" --check-history "$tmp/bad.jsonl") >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -qF 'NOT linearizable: key "a"' "$tmp/out" ||
    fail "check-history-violation: exit code $rc, or no 'NOT linearizable' verdict on stdout"
expect check-history-missing 1 err "cannot open" --check-history "$tmp/none.jsonl"
expect help-config 0 out "election_timeout_ms_min" --help-config
expect print-config 0 out "heartbeat_ms = 20" --print-config --set raft.heartbeat_ms=20
# --simulate and --sweep: the deterministic simulator; a seed replays its standard output byte
# for byte (the wall-clock speed goes to standard error).
expect simulate 0 out "verdict: consistent" --simulate --seed 3 --color never
grep -qF "simulated: " "$tmp/out" || fail "simulate: no 'simulated:' line"
grep -qE "^speed: .* virtual s in .* wall s" "$tmp/err" || fail "simulate: no 'speed:' on stderr"
cp "$tmp/out" "$tmp/sim1"
expect simulate-again 0 out "verdict: consistent" --simulate --seed 3 --color never
checks=$((checks + 1))
cmp -s "$tmp/out" "$tmp/sim1" || fail "simulate: two runs of seed 3 differ on stdout"
expect simulate-other 0 out "verdict: consistent" --simulate --seed 4 --color never
checks=$((checks + 1))
cmp -s "$tmp/out" "$tmp/sim1" && fail "simulate: seeds 3 and 4 print the same"
expect simulate-history 0 out "history: $tmp/s.jsonl" --simulate --seed 3 --history "$tmp/s.jsonl"
[ "$(grep -c '"type":"invoke"' "$tmp/s.jsonl")" -eq 15 ] ||
    fail "simulate-history: $tmp/s.jsonl does not hold 15 invokes"
expect sweep 0 out "20 seeds, 0 failures (0 safety, 0 liveness)" --sweep 20 --seed 1
expect sweep-replay 0 out "configuration drawn from the seed" --sweep 1 --seed 5 --color never
# The replay of one seed takes the trace settings: quiet prints no trace line.
expect sweep-replay-quiet 0 out "verdict: consistent" --sweep 1 --seed 5 --set 'trace.level="quiet"'
grep -q 'ms node ' "$tmp/out" && fail "sweep-replay-quiet: trace lines printed at trace.level quiet"

# config.toml is the documented default: it prints exactly like an empty file, and it mentions
# every setting that --print-config knows.
expect print-default 0 out "" --print-config --seed 1 config.toml
cp "$tmp/out" "$tmp/from-config-toml"
: >"$tmp/empty.toml"
expect print-empty 0 out "" --print-config --seed 1 "$tmp/empty.toml"
cmp -s "$tmp/out" "$tmp/from-config-toml" ||
    fail "config.toml: its settings differ from the defaults: $(diff "$tmp/out" "$tmp/from-config-toml")"
for key in $(sed -n 's/^\(#\s*\)\?\([a-z_]*\) = .*/\2/p' "$tmp/out"); do
    checks=$((checks + 1))
    grep -qE "^(# )?$key = " "$here/config.toml" || fail "config.toml: no line for setting '$key'"
done

# --- control characters in keys: escaped in the trace and the summary, so no line splits -----
expect key-newline 0 out '1 keys (nl\n)' --seed 1 --set 'client.keys=["nl\n"]' \
    --set num_clients=1 --set client.requests=4 --color never
grep -qF '(nl\n)' "$tmp/out" || fail "key-newline: no request on key 'nl\\n' in the trace"
# Every line from the fourth to the blank line before the summary is one trace line.
sed -n '4,/^$/p' "$tmp/out" | sed '$d' >"$tmp/trace"
checks=$((checks + 1))
[ -s "$tmp/trace" ] || fail "key-newline: no trace lines"
if grep -vqE '^ *[0-9]+\.[0-9]{3}ms [a-z]+( [0-9]+)? +[^ ]' "$tmp/trace"; then
    fail "key-newline: a trace line is broken: $(grep -vE '^ *[0-9]+\.[0-9]{3}ms ' "$tmp/trace" | head -n 2)"
fi
# --print-config writes such keys as TOML strings that read back to the same configuration.
expect keys-print 0 out 'keys = ["nl\u000a", ' --print-config --seed 1 \
    --set 'client.keys=["nl\n", "tab\t", "bs\\", "q\"", "esc\u001b", "del\u007f"]'
cp "$tmp/out" "$tmp/keys-printed.toml"
expect keys-reprint 0 out "" --print-config --seed 1 "$tmp/keys-printed.toml"
cmp -s "$tmp/out" "$tmp/keys-printed.toml" ||
    fail "keys-reprint: --print-config output with control characters does not read back to itself"

# --- bad command lines: exit 2 with a message and the usage ---------------------------------
expect bad-option 2 err "raft_kv: unknown option '--bogus'" --bogus
grep -qF "usage: raft_kv" "$tmp/err" || fail "bad-option: no usage on stderr"
expect bad-seed 2 err "--seed 'abc': expected a decimal number" --seed abc
expect seed-overflow 2 err "--seed '9223372036854775808': expected a decimal number 0..9223372036854775807" \
    --seed 9223372036854775808
grep -qF "0..2^63-1" "$tmp/err" || fail "seed-overflow: the usage does not give the seed's range"
expect seed-overflow-print 2 err "expected a decimal number 0..9223372036854775807" \
    --print-config --seed 9223372036854775808
expect sweep-seed-overflow 2 err "--sweep 2 from seed 9223372036854775807: the seeds S..S+N-1 must be at most 9223372036854775807" \
    --sweep 2 --seed 9223372036854775807
expect sweep-set-seed-overflow 2 err "--sweep 3 from seed 9223372036854775806:" \
    --sweep 3 --set seed=9223372036854775806
expect seed-missing 2 err "option '--seed' needs an argument (N)" --seed
expect bad-trace-format 2 err "--trace-format 'xml': expected one of text, jsonl" --trace-format=xml
expect bad-set-shape 2 err "--set 'num_nodes': expected KEY=VALUE" --set num_nodes
expect two-configs 2 err "more than one config file: 'a.toml' and 'b.toml'" a.toml b.toml
expect flag-value 2 err "option '--help' takes no argument" --help=yes
expect bad-sweep 2 err "--sweep 'x': expected a number of seeds, 1..1000000000" --sweep x
expect bad-sweep-zero 2 err "--sweep '0': expected a number of seeds" --sweep 0

# --- one action at a time, and no option silently ignored -----------------------------------
expect two-actions 2 err "--check-history cannot be combined with --simulate: they are two actions" \
    --check-history "$tmp/h.jsonl" --simulate
expect two-actions-sweep 2 err "--simulate cannot be combined with --sweep: they are two actions" \
    --simulate --sweep 2
expect print-help-config 2 err "--print-config cannot be combined with --help-config" \
    --print-config --help-config
expect help-wins 0 out "usage: raft_kv" --check-history "$tmp/h.jsonl" --simulate --help
grep -qF -- "--help and --version win over every other option" "$tmp/out" ||
    fail "help-wins: the usage does not say that --help and --version win"
expect check-history-seed 2 err "--check-history cannot be combined with --seed: it reads only its history file" \
    --check-history "$tmp/h.jsonl" --seed 3
expect check-history-config 2 err "--check-history cannot be combined with the config file 'config.toml'" \
    --check-history "$tmp/h.jsonl" config.toml
expect help-config-set 2 err "--help-config cannot be combined with --set 'num_nodes=3'" \
    --help-config --set num_nodes=3
expect sweep-history 2 err "--sweep 3 cannot be combined with --history: a sweep of several seeds writes no history" \
    --sweep 3 --history "$tmp/F"
[ -e "$tmp/F" ] && fail "sweep-history: $tmp/F was written"
expect sweep-trace 2 err "--sweep 3 cannot be combined with --trace-format=jsonl" \
    --sweep 3 --trace-format jsonl
expect sweep-set 2 err "--sweep cannot be combined with --set 'num_nodes=3': the sweep draws each configuration from its seed" \
    --sweep 1 --seed 5 --set num_nodes=3
expect sweep-config 2 err "--sweep cannot be combined with the config file 'config.toml'" \
    --sweep 2 config.toml
expect sweep-one-history 0 out "history: $tmp/sw.jsonl" --sweep 1 --seed 5 --history "$tmp/sw.jsonl"
[ -s "$tmp/sw.jsonl" ] || fail "sweep-one-history: $tmp/sw.jsonl is empty"
# The sweep reads no config file: it runs where there is no config.toml.
mkdir "$tmp/empty"
checks=$((checks + 1))
(cd "$tmp/empty" && "$bin" --sweep 3 --seed 1) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && grep -qF "3 seeds, 0 failures" "$tmp/out" ||
    fail "sweep-no-config: exit code $rc, or no '3 seeds, 0 failures' without a config.toml"
checks=$((checks + 1))
(cd "$tmp/empty" && "$bin" --sweep 1 --seed 5 --trace-level quiet --set seed=5) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && grep -qF "configuration drawn from the seed" "$tmp/out" ||
    fail "sweep-one-no-config: exit code $rc, or no replay without a config.toml"

# --- bad configurations: exit 1 with FILE:LINE:COL and the key -------------------------------
expect missing-file 1 err "raft_kv: cannot open '$tmp/none.toml': No such file or directory" \
    "$tmp/none.toml"
mkdir "$tmp/dir.toml"
expect directory 1 err "raft_kv: cannot read '$tmp/dir.toml': Is a directory" "$tmp/dir.toml"
if [ "$(id -u)" -ne 0 ]; then
    conf secret 'num_nodes = 3\n'
    chmod 000 "$tmp/secret.toml"
    expect unreadable 1 err "cannot open '$tmp/secret.toml': Permission denied" "$tmp/secret.toml"
fi
conf zero '# a cluster\nnum_nodes = 0\n'
expect range 1 err "$tmp/zero.toml:2:13: num_nodes = 0 is out of range (1..255)" "$tmp/zero.toml"
conf clients 'num_clients = 1001\n'
expect clients 1 err "$tmp/clients.toml:1:15: num_clients = 1001 is out of range (0..1000)" \
    "$tmp/clients.toml"
conf typo 'num_clients = 1\n\nnum_node = 3\n'
expect unknown-key 1 err "$tmp/typo.toml:3:1: unknown key 'num_node'; did you mean 'num_nodes'?" \
    "$tmp/typo.toml"
conf table '[rafts]\n'
expect unknown-table 1 err "$tmp/table.toml:1:2: unknown table 'rafts'; did you mean 'raft'?" \
    "$tmp/table.toml"
conf type '[raft]\nheartbeat_ms = "50"\n'
expect type 1 err "$tmp/type.toml:2:16: raft.heartbeat_ms must be an integer, not a string" \
    "$tmp/type.toml"
conf minmax '[raft]\nelection_timeout_ms_min = 300\n'
expect min-max 1 err "$tmp/minmax.toml:2:27: raft.election_timeout_ms_min = 300 must be less than raft.election_timeout_ms_max = 300" \
    "$tmp/minmax.toml"
conf heartbeat '[raft]\nheartbeat_ms = 200\n'
expect heartbeat 1 err "$tmp/heartbeat.toml:2:16: raft.heartbeat_ms = 200 must be less than raft.election_timeout_ms_min = 150" \
    "$tmp/heartbeat.toml"
conf level '[trace]\nlevel = "loud"\n'
expect word 1 err "$tmp/level.toml:2:9: trace.level = \"loud\" is not one of quiet, info, debug" \
    "$tmp/level.toml"
conf keys '[client]\nkeys = ["a", "b", "a"]\n'
expect dup-keys 1 err "$tmp/keys.toml:2:19: client.keys[2] = \"a\" repeats client.keys[0]" \
    "$tmp/keys.toml"
conf syntax 'num_nodes = 3\nnum_clients = = 2\n'
expect syntax 1 err "raft_kv: $tmp/syntax.toml:2:" "$tmp/syntax.toml"
expect set-range 1 err "raft_kv: --set 'num_nodes=0': num_nodes = 0 is out of range (1..255)" \
    --set num_nodes=0
expect set-unknown 1 err "--set 'raft.heartbeat=5': unknown key 'raft.heartbeat'; did you mean 'raft.heartbeat_ms'?" \
    --set raft.heartbeat=5
expect set-syntax 1 err "raft_kv: --set 'num_nodes=[1,': " --set 'num_nodes=[1,'
expect set-type 1 err "--set 'client.keys=\"a\"': client.keys must be an array, not a string" \
    --set 'client.keys="a"'

# --- issue 5 settings: [network], [[fault]], [nemesis], [check] ------------------------------
expect set-network 0 out "delay_ms = [0, 20]" --print-config --set network.drop=0.1 \
    --set 'network.delay_ms=[0,20]' --set nemesis.interval_ms=200 --set 'nemesis.kinds=["crash"]'
grep -qx 'drop = 0.1' "$tmp/out" || fail "set-network: no 'drop = 0.1' line"
grep -qx 'kinds = \["crash"\]' "$tmp/out" || fail "set-network: no 'kinds = [\"crash\"]' line"
grep -qx 'interval_ms = 200' "$tmp/out" || fail "set-network: no 'interval_ms = 200' line"
# The [[fault]] examples of config.toml (up to the blank line after them), uncommented, load and
# print back to themselves.
sed -n '/^# \[\[fault\]\]/,/^$/p' "$here/config.toml" | sed 's/^# \{0,1\}//' >"$tmp/faults.toml"
expect fault-examples 0 out 'groups = [[1, 2], [3, 4, 5]]' --print-config --seed 1 "$tmp/faults.toml"
[ "$(grep -c '^\[\[fault\]\]$' "$tmp/out")" -eq 7 ] ||
    fail "fault-examples: config.toml's commented examples do not give 7 [[fault]] entries"
grep -q '^kind = "add"$' "$tmp/out" || fail "fault-examples: no add among config.toml's examples"
cp "$tmp/out" "$tmp/faults-printed.toml"
expect fault-reprint 0 out "" --print-config --seed 1 "$tmp/faults-printed.toml"
cmp -s "$tmp/out" "$tmp/faults-printed.toml" ||
    fail "fault-reprint: --print-config output does not read back to itself"
expect fault-set-nodes 1 err "$tmp/faults.toml:14:26: fault[2].groups[1][2] = 5 is out of range (1..num_nodes = 4, from --set 'num_nodes=4')" \
    --print-config --set num_nodes=4 "$tmp/faults.toml"
conf faultnode '[[fault]]\nat_ms = 1\nkind = "crash"\nnode = 4\n'
expect fault-node 1 err "$tmp/faultnode.toml:4:8: fault[0].node = 4 is out of range (1..num_nodes = 3, from --set 'num_nodes=3')" \
    --set num_nodes=3 "$tmp/faultnode.toml"
conf faultkey '[[fault]]\nat_ms = 1\nkind = "crash"\nnode = 1\ngroups = [[1]]\n'
expect fault-key 1 err "$tmp/faultkey.toml:5:1: fault[0].groups is not a key of a crash fault (it takes at_ms, kind, node)" \
    "$tmp/faultkey.toml"
conf faultdup '[[fault]]\nat_ms = 1\nkind = "partition"\ngroups = [[1, 2], [2]]\n'
expect fault-dup 1 err "$tmp/faultdup.toml:4:20: fault[0].groups[1][0] = 2 repeats fault[0].groups[0][1]" \
    "$tmp/faultdup.toml"
conf faultorder '[[fault]]\nat_ms = 9\nkind = "heal"\n[[fault]]\nat_ms = 8\nkind = "heal"\n'
expect fault-order 1 err "$tmp/faultorder.toml:5:9: fault[1].at_ms = 8 is before fault[0].at_ms = 9" \
    "$tmp/faultorder.toml"
expect set-fault 1 err "--set 'fault.at_ms=1': fault cannot be set with --set" --set fault.at_ms=1
expect set-drop-nan 1 err "--set 'network.drop=nan': network.drop = nan is out of range (0..1)" \
    --set network.drop=nan
expect set-kinds 1 err "nemesis.kinds[0] = \"restart\" is not one of crash, partition, isolate, slow" \
    --set 'nemesis.kinds=["restart"]'
expect set-delay 1 err "network.delay_ms = [20, 10]: min must not be above max" \
    --set 'network.delay_ms=[20,10]'

echo "cli.sh: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
