#!/usr/bin/env bash
# layout.sh - the folders' include graph has no cycle (issue 10): each folder is one module or
# one host, and a folder that includes another's header depends on it, never the other way too.
# Reads every "folder/file.h" include of every .c and .h in a top-level folder; exits nonzero
# naming the folders of a cycle (tsort's report) if there is one.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 2
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
n=0
for dir in */; do
    dir=${dir%/}
    case $dir in build | test | bench | tools | docs) continue ;; esac
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        grep -oE '^#include "[a-z_]+/' "$f" | sed -E 's/^#include "//; s|/$||' | while read -r to; do
            [ "$to" != "$dir" ] && echo "$dir $to"
        done
    done
done | sort -u >"$edges"
n=$(wc -l <"$edges")
if [ "$n" -lt 10 ]; then
    echo "layout: only $n include edges found; the scan is broken"
    exit 1
fi
if ! out=$(tsort "$edges" 2>&1 >/dev/null) || [ -n "$out" ]; then
    echo "layout: the folders' includes form a cycle:"
    echo "$out"
    exit 1
fi
echo "layout: $n include edges between folders, no cycle"
