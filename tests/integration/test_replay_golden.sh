#!/usr/bin/env bash
# `sigflow replay` against tests/golden/expected.ndjson, written by hand from docs/scoring.md
# (tests/golden/golden.md shows the arithmetic), through 1 and 3 shards; plus the command's
# contract: bad lines counted with line numbers, --strict exit 2, usage/config exit 1, stdin.
set -eu
ROOT=${ROOT:-$PWD}
SIGFLOW=${SIGFLOW:-$ROOT/build/sigflow}
G=$ROOT/tests/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for shards in 1 3; do
    "$SIGFLOW" replay -c "$G/golden.ini" --shards "$shards" --until 2026-11-13T00:00:00Z \
        "$G/events.ndjson" >"$tmp/out" 2>"$tmp/err" || fail "replay exit $?"
    python3 "$G/compare.py" "$G/expected.ndjson" "$tmp/out" || fail "shards $shards differ"
    grep -q "bad_lines=2" "$tmp/err" || fail "bad lines not counted: $(cat "$tmp/err")"
    grep -q "bad line 6:" "$tmp/err" || fail "line 6 not named"
    grep -q "bad line 12: missing entity" "$tmp/err" || fail "line 12 not named"
done

# Without --until no boundary after the last event runs: gamma's alert (tick 11-13) is absent.
"$SIGFLOW" replay -c "$G/golden.ini" - <"$G/events.ndjson" >"$tmp/out" 2>/dev/null
head -n 3 "$G/expected.ndjson" >"$tmp/want3"
python3 "$G/compare.py" "$tmp/want3" "$tmp/out" || fail "stdin replay without --until"

# --strict: the first bad line is fatal with exit 2 and is named.
set +e
"$SIGFLOW" replay -c "$G/golden.ini" --strict "$G/events.ndjson" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--strict exit $rc, want 2"
grep -q "line 6" "$tmp/err" || fail "--strict did not name line 6"

# Usage and config errors: exit 1.
set +e
"$SIGFLOW" replay "$G/events.ndjson" >/dev/null 2>&1; rc1=$?
printf '[decision]\nname = x\nthreshold = 2\n' >"$tmp/bad.ini"
"$SIGFLOW" replay -c "$tmp/bad.ini" "$G/events.ndjson" >/dev/null 2>"$tmp/err"; rc2=$?
"$SIGFLOW" replay -c "$G/golden.ini" "$tmp/missing.ndjson" >/dev/null 2>&1; rc3=$?
set -e
[ "$rc1" = 1 ] || fail "missing -c: exit $rc1"
[ "$rc2" = 1 ] || fail "bad config: exit $rc2"
grep -q "bad.ini:3" "$tmp/err" || fail "config error without file:line: $(cat "$tmp/err")"
[ "$rc3" = 1 ] || fail "missing input file: exit $rc3"

# --connector: the same events in a tool's own shape, through map.* keys.
cp "$G/golden.ini" "$tmp/mapped.ini"
cat >>"$tmp/mapped.ini" <<'INI'

[connector src]
plugin     = file
map.entity = account.id
map.type   = kind
map.time   = at
map.value  = amount
INI
python3 - "$G/events.ndjson" >"$tmp/src.ndjson" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        print(line, end="")
        continue
    s = {"kind": o.get("type"), "at": o.get("time")}
    if "entity" in o:
        s["account"] = {"id": o["entity"]}
    if "value" in o:
        s["amount"] = o["value"]
    print(json.dumps(s))
PY
"$SIGFLOW" replay -c "$tmp/mapped.ini" --connector src --until 2026-11-13T00:00:00Z \
    "$tmp/src.ndjson" >"$tmp/out" 2>"$tmp/err" || fail "connector replay: $(cat "$tmp/err")"
python3 "$G/compare.py" "$G/expected.ndjson" "$tmp/out" || fail "connector mapping differs"
echo "golden: ok"
