#!/usr/bin/env bash
# timeline_browser.sh - the timeline pages in a real browser: headless Chromium (Debian's
# `chromium`, installed by tools/deps.sh test) opens each golden scene's page with every toggle on
# (#fit&fold&hb&jump), and the test checks that the script ran to its end (body data-ready), that
# no JavaScript error was logged (console or the page's own error box), that the DOM still holds
# every arrow the program drew, and takes a screenshot (build/MODE/timeline-NAME.png); then the
# state panel of a node at a time.
# About 1-2 s per page. Skipped, saying so, where chromium is not installed.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${RAFT_KV_BIN:-$here/build/release/raft_kv}
build=${RAFT_KV_BUILD:-build/release}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "skip: chromium is not installed (tools/deps.sh test installs it)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checked=0
run_browser() { # URL OUT_DOM ERR_LOG [extra flags...]
    local url=$1 dom=$2 log=$3
    shift 3
    HOME=$tmp timeout 120 "$browser" --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 "$@" "$url" >"$dom" 2>"$log"
}
for trace in "$here"/test/golden/timeline/*.trace.jsonl; do
    name=$(basename "$trace" .trace.jsonl)
    hist=()
    [ -f "${trace%.trace.jsonl}.history.jsonl" ] && hist=("${trace%.trace.jsonl}.history.jsonl")
    page=$tmp/$name.html
    if ! "$bin" timeline "$trace" "${hist[@]}" -o "$page" 2>"$tmp/err"; then
        echo "FAIL: $name: raft_kv timeline failed: $(cat "$tmp/err")"
        failed=$((failed + 1))
        continue
    fi
    url="file://$page#fit&fold&hb&jump"
    if ! run_browser "$url" "$tmp/dom" "$tmp/log" --dump-dom; then
        echo "FAIL: $name: chromium did not load the page"; tail -5 "$tmp/log"
        failed=$((failed + 1))
        continue
    fi
    checked=$((checked + 1))
    if ! grep -q '<body [^>]*data-ready="[1-9]' "$tmp/dom"; then
        echo "FAIL: $name: the script did not run to its end (no data-ready on body)"
        failed=$((failed + 1))
    fi
    if ! grep -q '<div id="jserr"></div>' "$tmp/dom"; then
        echo "FAIL: $name: the page reports a script error: $(grep -o '<div id="jserr">[^<]*' "$tmp/dom")"
        failed=$((failed + 1))
    fi
    if grep -E 'CONSOLE.*(Uncaught|Error)' "$tmp/log"; then
        echo "FAIL: $name: a JavaScript error was logged"
        failed=$((failed + 1))
    fi
    drawn=$(grep -o '<line class="m ' "$page" | wc -l)
    shown=$(grep -o '<line class="m ' "$tmp/dom" | wc -l)
    if [ "$drawn" -ne "$shown" ]; then
        echo "FAIL: $name: $drawn arrows drawn, $shown in the DOM after the script"
        failed=$((failed + 1))
    fi
    run_browser "file://$page#fit" /dev/null "$tmp/log2" --hide-scrollbars --window-size=1400,700 \
        --screenshot="$here/$build/timeline-$name.png" || true
    echo "$name: ok ($drawn arrows; screenshot $build/timeline-$name.png)"
done
# A node at a time (#at=NODE:MS, what a click on a lane does): node 1 of the leader-crash scene is
# down at 500 ms, and back as a follower of term 2 at 900 ms.
page=$tmp/crash.html
"$bin" timeline "$here/test/golden/timeline/sim_leader_crash.trace.jsonl" -o "$page" 2>/dev/null
for at in "1:500=DOWN (crashed)" "1:900=term 2, follower"; do
    run_browser "file://$page#at=${at%%=*}" "$tmp/dom" "$tmp/log" --dump-dom
    if ! grep -q "<span id=\"panel\">node 1 at [0-9.]* ms: ${at#*=}" "$tmp/dom"; then
        echo "FAIL: the state panel at ${at%%=*} does not say \"${at#*=}\": $(grep -o '<span id="panel">[^<]*' "$tmp/dom")"
        failed=$((failed + 1))
    fi
done
echo "timeline in chromium: $checked pages, $failed failures"
[ "$failed" -eq 0 ] && [ "$checked" -gt 0 ]
