#!/usr/bin/env bash
# replay's input edge cases: CRLF and blank lines, a line over the 64 KiB limit, a line over
# the 1 MiB read chunk, no newline at the end, line numbers across many chunks, and the
# same alerts whatever the line layout (tests/golden events reformatted).
set -eu
ROOT=${ROOT:-$PWD}
SIGFLOW=${SIGFLOW:-$ROOT/build/sigflow}
G=$ROOT/tests/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 - "$G/events.ndjson" "$tmp/in.ndjson" <<'PY'
import json, sys
src = [l.rstrip("\n") for l in open(sys.argv[1])]
out = []
pad = '{"entity":"p%d","type":"page.view","time":"2026-11-01T00:00:00Z"}'
# 30000 filler events of an unused type first: the golden lines then sit in later chunks
out += [pad % i for i in range(30000)]
out.append("")                                        # blank line: ignored
out.append('{"entity":"x","type":"t","time":1,"pad":"' + "a" * 70000 + '"}')  # > 64 KiB
out.append('{"entity":"y","type":"t","time":1,"pad":"' + "b" * 1200000 + '"}')  # > chunk
out += src
data = "\r\n".join(out[:-1]) + "\r\n" + out[-1]       # CRLF, and no final newline
open(sys.argv[2], "w", newline="").write(data)
PY
"$SIGFLOW" replay -c "$G/golden.ini" --shards 2 --until 2026-11-13T00:00:00Z "$tmp/in.ndjson" \
    >"$tmp/out" 2>"$tmp/err" || fail "replay exit $?: $(cat "$tmp/err")"
python3 "$G/compare.py" "$G/expected.ndjson" "$tmp/out" || fail "alerts differ"
grep -q "bad line 30002: line longer than 65536 bytes" "$tmp/err" || fail "64K line: $(cat "$tmp/err")"
grep -q "bad line 30003: line longer than 65536 bytes" "$tmp/err" || fail "1M line"
grep -q "bad line 30009:" "$tmp/err" || fail "golden line 6 numbering"
grep -q "bad line 30015: missing entity" "$tmp/err" || fail "golden line 12 numbering"
grep -q "events=30014 " "$tmp/err" || fail "event count: $(cat "$tmp/err")"
# Lines are parsed in batches as one JSON array written over the input itself: a line that
# is two documents, or one that closes the array early, is still one bad line, and blank
# lines of spaces, tabs and CRs between the lines of a batch change nothing.
python3 - "$tmp/batch.ndjson" <<'PY'
import sys
ev = '{"entity":"b%d","type":"t","time":1}'
lines = []
for i in range(200):
    lines.append(ev % i)
    if i % 7 == 3:
        lines.append(" \t\r")                            # blank: skipped, not a bad line
lines[10] = ev % 1000 + "," + ev % 1001              # line 11: two documents on one line
lines[50] = ev % 1002 + "]"                          # line 51: closes the batch's array
lines[120] = "[" + ev % 1003                         # line 121: opens another
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
"$SIGFLOW" replay -c "$G/golden.ini" "$tmp/batch.ndjson" >/dev/null 2>"$tmp/err" ||
    fail "batch replay exit $?: $(cat "$tmp/err")"
for n in 11 51 121; do
    grep -q "bad line $n: " "$tmp/err" || fail "line $n is not reported bad: $(cat "$tmp/err")"
done
grep -q "events=197 .* bad_lines=3 " "$tmp/err" || fail "batch counts: $(cat "$tmp/err")"
# --strict on a pipe whose writer stays open: exit 2 at once, not when the writer closes.
mkfifo "$tmp/fifo"
(cat "$G/events.ndjson"; exec sleep 30) >"$tmp/fifo" &
writer=$!
set +e
timeout 10 "$SIGFLOW" replay -c "$G/golden.ini" --strict "$tmp/fifo" >/dev/null 2>"$tmp/err"
rc=$?
set -e
kill "$writer" 2>/dev/null || true
[ "$rc" = 2 ] || fail "--strict on an open pipe: exit $rc (124 = hung)"
echo "input: ok"
