#!/usr/bin/env bash
# replay's outcome as a script sees it: every line bad exits 2 (it used to exit 0), the bad
# lines come before the summary, which is the last line; a config with several connectors
# replays a canonical multi-source history (what `sigflow journal` prints) without --connector.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file connector_webhook delivery_console)
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
[decision]
name = d
threshold = 0.5
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
[signal tickets]
event = ticket.opened
measure = count
window = 1d
cap = 1
weight = 5
[connector logins]
plugin = file
path = logins.ndjson
[connector desk]
plugin = webhook
path = /desk
map.entity = ticket.requester.org
map.type = type
map.time = ticket.created_at
[delivery out]
plugin = console
INI

printf 'not json\n{"entity":"a"}\n{"type":"login"}\n' >"$T/bad.ndjson"
"$SIGFLOW" replay -c "$T/ini" "$T/bad.ndjson" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 2 ] || fail "every line bad: exit $rc, want 2"
[ "$(grep -c '^replay: bad line' "$T/err")" -eq 3 ] || fail "not every bad line is named"
tail -1 "$T/err" | grep -q 'every line was bad' || fail "no closing word on an all-bad input"
tail -2 "$T/err" | head -1 | grep -q '^replay: events=0 .*bad_lines=3' ||
    fail "the summary does not follow the bad lines"
pass "every line bad: exit 2, bad lines first, then the summary"

cat >"$T/history.ndjson" <<'EOF2'
{"entity":"a","type":"login","time":"2026-11-01T10:00:00Z","connector":"logins"}
{"entity":"b","type":"ticket.opened","time":"2026-11-01T10:05:00Z","connector":"desk"}
oops
{"entity":"z","type":"login","time":"2026-11-01T12:00:00Z","connector":"logins"}
EOF2
"$SIGFLOW" replay -c "$T/ini" "$T/history.ndjson" >"$T/out" 2>"$T/err" ||
    fail "a multi-source history with one bad line: exit $? ($(cat "$T/err"))"
grep -q '"entity":"a"' "$T/out" && grep -q '"entity":"b"' "$T/out" ||
    fail "the multi-source history did not alert for both sources: $(cat "$T/out")"
tail -1 "$T/err" | grep -q '^replay: events=3 .*bad_lines=1' || fail "summary not last"
pass "a canonical multi-source history replays on a config with several connectors"
