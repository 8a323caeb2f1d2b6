#!/usr/bin/env bash
# planted_absent.sh - production code holds no planted bug (issue 10). The known bugs of
# raft/raft.h (RAFT_BUG_*) are compiled only into the test build (-DRAFT_PLANTED_BUGS:
# BUILD/planted/ and BUILD/lib*_planted.a; see the Makefile). ./raft_kv and every production
# object of this build must not name a planted bug anywhere: not in a symbol (the test build
# renames raft_init to raft_init_planted), not in its debug information (the planted_bugs field
# of raft_options and sim_options, the RAFT_BUG_* constants), not in an assertion's text (the
# test build's asserts name planted_bugs). No production code can read a field its structs do
# not have. (A bare "planted" would match the checkout's directory in the debug info.) The same
# search over the test build must find each of these, so the check is not vacuous; and every
# test links one build of the core only, the planted tests the test build.
# Reads "$RAFT_KV_BUILD" (set by test/run.sh, or `make check-planted`).
set -u
build=${RAFT_KV_BUILD:?RAFT_KV_BUILD must name the build directory (test/run.sh sets it)}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 2
failed=0
checks=0
pattern='planted_bugs|raft_init_planted|RAFT_BUG_|RAFT_PLANTED'

fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

# defines FILE SYMBOL: FILE (an object, library or program) defines SYMBOL.
defines() {
    nm --defined-only "$1" 2>/dev/null | awk '{print $NF}' | grep -qx "$2"
}

# mentions FILE: the bytes of FILE (symbols, strings, uncompressed debug names) match $pattern.
mentions() {
    grep -qaiE "$pattern" "$1"
}

[ -f "$build/raft_kv" ] || { echo "FAIL: no $build/raft_kv"; exit 1; }
[ -f "$build/libraft.a" ] || { echo "FAIL: no $build/libraft.a"; exit 1; }
[ -f "$build/libraft_planted.a" ] || { echo "FAIL: no $build/libraft_planted.a"; exit 1; }

# Production: the program, every library but the planted ones, every object outside planted/
# and test/ (test sources may say "planted" for their own reasons).
production=("$build/raft_kv")
while IFS= read -r f; do
    production+=("$f")
done < <(find "$build" \( -path "$build/planted" -o -path "$build/test" \) -prune -o \
    \( -name '*.o' -o -name '*.a' \) -not -name '*_planted.a' -print | sort)
for f in "${production[@]}"; do
    checks=$((checks + 1))
    if mentions "$f"; then
        fail "$f mentions a planted bug:"
        { nm -A "$f" 2>/dev/null; strings -a "$f"; } | grep -iE "$pattern" | sort -u | head -n 10 |
            sed 's/^/    /'
    fi
done

# The debug information, decompressed if the toolchain compressed it.
checks=$((checks + 1))
if readelf --debug-dump=info "$build/raft_kv" 2>/dev/null | grep -qiE "$pattern"; then
    fail "$build/raft_kv: its debug information names a planted bug"
fi
checks=$((checks + 1))
defines "$build/raft_kv" raft_init || fail "$build/raft_kv does not define raft_init"

# Not vacuous: the test build of the core holds what the search looks for.
checks=$((checks + 1))
defines "$build/libraft_planted.a" raft_init_planted ||
    fail "$build/libraft_planted.a does not define raft_init_planted"
checks=$((checks + 1))
grep -qa 'planted_bugs' "$build/libraft_planted.a" ||
    fail "$build/libraft_planted.a does not say planted_bugs (the search would miss it)"
checks=$((checks + 1))
readelf --debug-dump=info "$build/planted/raft/core.o" 2>/dev/null | grep -q planted_bugs ||
    fail "$build/planted/raft/core.o: no planted_bugs in its debug information"
checks=$((checks + 1))
defines "$build/libraft.a" raft_init || fail "$build/libraft.a does not define raft_init"

# Each test links one build of the core: the planted tests the test build, the others production.
n_planted=0
for bin in "$build"/test/test_*; do
    [ -x "$bin" ] || continue
    checks=$((checks + 1))
    name=$(basename "$bin")
    if defines "$bin" raft_init && defines "$bin" raft_init_planted; then
        fail "$name links both builds of the core"
    elif [[ $name == *_planted* ]]; then
        n_planted=$((n_planted + 1))
        defines "$bin" raft_init_planted || fail "$name does not link the test build of the core"
    elif defines "$bin" raft_init_planted; then
        fail "$name is not a planted test but links the test build of the core"
    fi
done
checks=$((checks + 1))
[ "$n_planted" -gt 0 ] || fail "no planted test built in $build/test"

echo "$checks checks over ${#production[@]} production files and $n_planted planted tests, $failed failed"
[ "$failed" -eq 0 ]
