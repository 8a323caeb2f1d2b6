#!/usr/bin/env bash
# run.sh - run every test of one build tree and print "N passed, N failed".
# A test is a test binary (unit, integration), a fuzz-corpus replay or a test/scripts/*.sh script;
# each counts once, and each runs with the sanitizer options of its build mode.
#
# Usage: test/run.sh BUILD_DIR     (e.g. build/release, build/tsan, build/asan)
set -u
build=${1:?usage: test/run.sh BUILD_DIR}
mode=$(basename "$build")
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2

# Sanitizer reports fail the test: a nonzero exit code, no recovery, and leaks checked at exit.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=66:${UBSAN_OPTIONS:-}"
export RAFT_KV_BUILD="$build"
export RAFT_KV_BIN="$here/$build/raft_kv"

# ThreadSanitizer (gcc 12) cannot map its shadow memory under the high mmap randomisation of
# recent kernels ("unexpected memory mapping"); running without ASLR avoids that.
launcher=()
if [ "$mode" = tsan ] && command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
    launcher=(setarch "$(uname -m)" -R)
fi

passed=0
failed=0
failures=()
log_dir="$build/test-logs"
mkdir -p "$log_dir"

run_one() {
    local name=$1
    shift
    local log="$log_dir/$name.log"
    local start=$SECONDS
    if "${launcher[@]}" "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf '  ok    %-40s %3ds\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '  FAIL  %-40s %3ds  (log: %s)\n' "$name" $((SECONDS - start)) "$log"
        tail -n 40 "$log" | sed 's/^/        | /'
    fi
}

# Under TSan, a test that runs on one thread only is skipped when it is long: TSan checks the
# accesses of threads to each other, and there are none to check. test_sim_planted sweeps the
# single-threaded simulator for each planted bug (about a minute in release, half an hour under
# TSan's 30x slowdown); it runs in release and under ASan/UBSan (make asan).
tsan_skip=" test_sim_planted "
skipped=0

echo "== tests ($mode)"
for bin in "$build"/test/test_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    if [ "$mode" = tsan ] && [[ $tsan_skip == *" $name "* ]]; then
        printf '  skip  %-40s      (one thread: nothing for TSan; runs in release)\n' "$name"
        skipped=$((skipped + 1))
        continue
    fi
    run_one "$name" "$bin"
done
for replay in "$build"/test/fuzz_*_replay; do
    [ -x "$replay" ] || continue
    target=$(basename "$replay" _replay)
    corpus="test/fuzz/corpus/${target#fuzz_}"
    [ -d "$corpus" ] || { echo "  FAIL  $target: no corpus at $corpus"; failed=$((failed + 1)); continue; }
    run_one "$target-corpus" "$replay" "$corpus"
done
for script in test/scripts/*.sh; do
    [ -f "$script" ] || continue
    run_one "$(basename "$script" .sh)" bash "$script"
done

# Each cmocka binary printed its own summary into its log; this line is the whole run's.
skip_note=""
[ "$skipped" -gt 0 ] && skip_note=", $skipped skipped"
echo "$mode: $passed passed, $failed failed$skip_note"
if [ "$failed" -ne 0 ]; then
    echo "failed: ${failures[*]}"
    exit 1
fi
if [ "$passed" -eq 0 ]; then
    echo "no tests ran" >&2
    exit 1
fi
exit 0
