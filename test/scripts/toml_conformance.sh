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
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        got = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        want = json.load(f)
    ok = norm(got) == norm(want)
except Exception as e:
    print("  %s" % e)
    ok = False
sys.exit(0 if ok else 1)
PY

pass=0
fail=0
for toml in test/toml/valid/*.toml; do
    want="${toml%.toml}.json"
    if ! "$decode" <"$toml" >"$tmp/out.json" 2>"$tmp/err"; then
        echo "FAIL valid $toml: rejected: $(head -c 300 "$tmp/err")"
        fail=$((fail + 1))
    elif ! python3 "$tmp/cmp.py" "$tmp/out.json" "$want"; then
        echo "FAIL valid $toml: output differs from $want:"
        head -c 600 "$tmp/out.json"
        echo
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done
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
