#!/usr/bin/env bash
# timeline_golden.sh - `raft_kv timeline` on each scene of test/golden/timeline/ (NAME.trace.jsonl,
# and NAME.history.jsonl when there is one) gives byte for byte the page NAME.html and the
# Perfetto file NAME.perfetto.json kept beside it.
#
# After a change to the renderer that is meant to change the picture, regenerate them on purpose
# with `make timeline-golden` (this script with --update), look at the diff and at a page or two
# in a browser, and commit them with the change.
#
# The scenes: hand_*.trace.jsonl are written by hand; sim_*.trace.jsonl and their histories are
# simulator runs of sim_*.toml (--trace-level=messages), kept as files so that a change to Raft
# does not change the renderer's test; --traces runs them again (after a change to the trace
# format; then --update). sim_nonlinear is sim_leader_crash's run with one read of its history
# changed to miss a write the checker knows about (history line 21: "found" made "not_found").
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${RAFT_KV_BIN:-$here/build/release/raft_kv}
dir=$here/test/golden/timeline
update=0
[ "${1:-}" = "--update" ] && update=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${1:-}" = "--traces" ]; then
    for toml in "$dir"/sim_*.toml; do
        name=$(basename "$toml" .toml)
        "$bin" --simulate "$toml" --trace-format=jsonl --trace-level=messages \
            --history "$dir/$name.history.jsonl" >"$dir/$name.trace.jsonl" 2>"$tmp/summary" ||
            { echo "FAIL: $name: the simulation failed"; cat "$tmp/summary"; exit 1; }
        echo "ran $name: $(wc -l <"$dir/$name.trace.jsonl") trace lines"
    done
    cp "$dir/sim_leader_crash.trace.jsonl" "$dir/sim_nonlinear.trace.jsonl"
    sed '21s/"value":"\([^"]*\)","result":"found"/"result":"not_found"/' \
        "$dir/sim_leader_crash.history.jsonl" >"$dir/sim_nonlinear.history.jsonl"
    exit 0
fi
failed=0
scenes=0
for trace in "$dir"/*.trace.jsonl; do
    name=$(basename "$trace" .trace.jsonl)
    hist=()
    [ -f "$dir/$name.history.jsonl" ] && hist=("$dir/$name.history.jsonl")
    out_html=$tmp/$name.html
    out_json=$tmp/$name.perfetto.json
    if ! "$bin" timeline "$trace" "${hist[@]}" -o "$out_html" --perfetto "$out_json" 2>"$tmp/err"; then
        echo "FAIL: $name: raft_kv timeline failed: $(cat "$tmp/err")"
        failed=$((failed + 1))
        continue
    fi
    scenes=$((scenes + 1))
    if [ "$update" = 1 ]; then
        cp "$out_html" "$dir/$name.html"
        cp "$out_json" "$dir/$name.perfetto.json"
        echo "updated $name ($(wc -c <"$out_html") bytes of page, $(wc -c <"$out_json") of Perfetto)"
        continue
    fi
    for f in html perfetto.json; do
        if ! cmp -s "$tmp/$name.$f" "$dir/$name.$f"; then
            echo "FAIL: $name.$f differs from the golden file (make timeline-golden regenerates it):"
            diff "$dir/$name.$f" "$tmp/$name.$f" | head -20
            failed=$((failed + 1))
        fi
    done
done
[ "$scenes" -eq 0 ] && { echo "FAIL: no scene in $dir"; exit 1; }

# The command line: 2 for a bad one, 1 for bad input (the message names the file and line).
expect() { # STATUS ARGS...: raft_kv timeline ARGS exits STATUS
    local want=$1
    shift
    "$bin" timeline "$@" >/dev/null 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: raft_kv timeline $*: exit $rc, expected $want ($(cat "$tmp/err"))"
        failed=$((failed + 1))
    fi
}
[ "$update" = 1 ] || {
    t=$dir/hand_basic.trace.jsonl
    expect 2
    expect 2 "$t"
    expect 2 "$t" -o
    expect 2 "$t" -o "$tmp/a.html" -o "$tmp/b.html"
    expect 2 "$t" "$t" "$t" -o "$tmp/a.html"
    expect 2 "$t" --bogus -o "$tmp/a.html"
    expect 1 "$tmp/absent.jsonl" -o "$tmp/a.html"
    printf '{"t_ms":1,"event":"x"}\n{"t_ms":"soon"}\n' >"$tmp/bad.jsonl"
    expect 1 "$tmp/bad.jsonl" -o "$tmp/a.html"
    grep -q "bad.jsonl:2: " "$tmp/err" || { echo "FAIL: no file:line in: $(cat "$tmp/err")"; failed=$((failed + 1)); }
    expect 0 "$t" --perfetto "$tmp/only.json"
}
echo "timeline golden: $scenes scenes, $failed differences"
[ "$failed" -eq 0 ]
