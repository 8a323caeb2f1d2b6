#!/usr/bin/env bash
# run.sh - builds every test/fuzz/fuzz_<module>_<what>.c with libFuzzer (clang, ASan, UBSan) into
# build/fuzz/ and runs each for SECONDS over test/fuzz/corpus/<module>_<what>/, adding new inputs
# there, then minimizes the corpus. Exits nonzero if a target fails to build or the fuzzer finds a
# crash (the input is left in build/fuzz/artifacts/<module>_<what>/).
#
# Usage: test/fuzz/run.sh SECONDS
#        test/fuzz/run.sh --minimize    rewrites each corpus as a minimal set covering the same
#                                       code edges (libFuzzer -merge=1 without counters)
set -u
seconds=${1:?usage: test/fuzz/run.sh SECONDS | --minimize}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 2
out=build/fuzz
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
# shellcheck disable=SC2054 # the commas belong to -fsanitize
FLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1
       -std=c11 -D_POSIX_C_SOURCE=200809L -I. -Wall -Wextra -Wno-unused-parameter)

# The sources a module's fuzz target links: the module and what it depends on.
sources_for() {
    case "$1" in
    config) echo config/*.c common/*.c ;;
    wire) echo wire/*.c raft/*.c common/*.c ;; # raft/ is pure: the core only
    *) echo "$1"/*.c common/*.c ;;
    esac
}

# Read-only seed inputs beside the corpus (new inputs are only ever written to the corpus).
seeds_for() {
    case "$1" in
    config_toml) echo test/toml/valid test/toml/invalid ;;
    esac
}

# Replaces the corpus of target by a minimal subset with the same edge coverage.
minimize() {
    local target=$1 corpus=$2 tmp
    tmp=$(mktemp -d)
    if ! "$out/$target" -merge=1 -use_counters=0 -use_value_profile=0 -max_len=4096 "$tmp" \
        "$corpus" >"$out/$target.merge.log" 2>&1; then
        echo "fuzz: merging $corpus failed; see $out/$target.merge.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    find "$corpus" -maxdepth 1 -type f -delete
    cp "$tmp"/* "$corpus"/ 2>/dev/null
    rm -rf "$tmp"
    echo "fuzz: $corpus minimized to $(find "$corpus" -maxdepth 1 -type f | wc -l) inputs"
}

status=0
for src in test/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    module=${name%%_*}
    corpus=test/fuzz/corpus/$name
    mkdir -p "$corpus" "$out/artifacts/$name"
    # shellcheck disable=SC2046
    if ! "$CC" "${FLAGS[@]}" -o "$out/$target" "$src" $(sources_for "$module") -lm; then
        echo "fuzz: $target does not build" >&2
        status=1
        continue
    fi
    if [ "$seconds" = --minimize ]; then
        minimize "$target" "$corpus" || status=1
        continue
    fi
    dict=()
    [ -f "test/fuzz/$name.dict" ] && dict=(-dict="test/fuzz/$name.dict")
    echo "fuzz: $target for ${seconds}s over $corpus"
    # shellcheck disable=SC2046 # seeds_for lists directories, one word each
    "$out/$target" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$name/" "$corpus" $(seeds_for "$name") \
        >"$out/$target.log" 2>&1
    rc=$?
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done' "$out/$target.log"
    if [ "$rc" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY' "$out/$target.log"; then
        echo "fuzz: $target found a failure (exit $rc); see $out/$target.log and $out/artifacts/$name/" >&2
        status=1
        continue
    fi
    minimize "$target" "$corpus" || status=1 # keep the committed corpus small
done
exit $status
