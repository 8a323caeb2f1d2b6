#!/usr/bin/env bash
# toml_conformance.sh - runs test/toml_decode over test/toml/{valid,invalid}: every valid document
# must decode to JSON semantically equal to its .json, every invalid one must fail cleanly (exit 1
# with a FILE:LINE:COL: message, no crash). Prints each failure; exits 1 if there is any.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 2
decode="${RAFT_KV_BUILD:-build/release}/test/toml_decode"
[ -x "$decode" ] || { echo "toml_conformance: no decoder at $decode (make tests first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Compares decoder output with the expected JSON: same structure, same type tags, and values
# equal as numbers for integers and floats (nan equals nan), as text otherwise.
cat >"$tmp/cmp.py" <<'PY'
import json, math, sys
def norm(x):
    if isinstance(x, dict) and set(x) == {"type", "value"} and isinstance(x["value"], str):
        t, v = x["type"], x["value"]
        if t == "integer":
            return (t, int(v))
        if t == "float":
            f = float(v)
            return (t, "nan" if math.isnan(f) else f)
        return (t, v)
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return [norm(v) for v in x]
    raise ValueError("unexpected JSON value %r" % (x,))
failed = 0
for line in open(sys.argv[1], encoding="utf-8"):
    got_path, want_path = line.rstrip("\n").split("\t")
    try:
        with open(got_path, encoding="utf-8") as f:
            got = json.load(f)
        with open(want_path, encoding="utf-8") as f:
            want = json.load(f)
        ok = norm(got) == norm(want)
        why = "output differs"
    except Exception as e:
        ok, why = False, str(e)
    if not ok:
        failed += 1
        with open(got_path, encoding="utf-8", errors="replace") as f:
            print("FAIL valid %s: %s from %s:\n  %s" % (want_path[:-5] + ".toml", why, want_path,
                                                      f.read(600)))
print(failed)
PY
pass=0
fail=0
# Valid documents: decode each, then compare all outputs in one python run.
: >"$tmp/pairs"
n=0
for toml in test/toml/valid/*.toml; do
    n=$((n + 1))
    if ! "$decode" <"$toml" >"$tmp/out$n.json" 2>"$tmp/err"; then
        echo "FAIL valid $toml: rejected: $(head -c 300 "$tmp/err")"
        fail=$((fail + 1))
    else
        printf '%s\t%s\n' "$tmp/out$n.json" "${toml%.toml}.json" >>"$tmp/pairs"
    fi
done
python3 "$tmp/cmp.py" "$tmp/pairs" >"$tmp/cmp.out" 2>&1
differ=$(tail -n 1 "$tmp/cmp.out")
case "$differ" in
'' | *[!0-9]*)
    cat "$tmp/cmp.out"
    differ=$(wc -l <"$tmp/pairs")
    ;;
*) head -n -1 "$tmp/cmp.out" ;;
esac
fail=$((fail + differ))
pass=$((pass + $(wc -l <"$tmp/pairs") - differ))
for toml in test/toml/invalid/*.toml; do
    "$decode" <"$toml" >"$tmp/out.json" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then
        echo "FAIL invalid $toml: exit code $rc, expected 1"
        head -c 300 "$tmp/err"
        fail=$((fail + 1))
    elif ! grep -qE '^<stdin>:[0-9]+:[0-9]+: .+' "$tmp/err"; then
        echo "FAIL invalid $toml: no FILE:LINE:COL message: $(head -c 300 "$tmp/err")"
        fail=$((fail + 1))
    elif [ -s "$tmp/out.json" ]; then
        echo "FAIL invalid $toml: printed output although the document is invalid"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done
echo "toml_conformance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
