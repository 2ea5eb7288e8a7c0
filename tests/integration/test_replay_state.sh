#!/usr/bin/env bash
# `sigflow replay --state` (docs/scoring.md, Time): history is replayed into a new instance's store in
# event time, so `run` goes live already knowing each entity's usual: the live half of a stream
# raises exactly the alerts a replay of the whole stream raises after the history, and none of
# history's alerts again.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
EVENTS=$ROOT/conf/sample-events.ndjson
total=$(wc -l <"$EVENTS")
half=$((total / 2))
head -n "$half" "$EVENTS" >"$T/history.ndjson"
tail -n +"$((half + 1))" "$EVENTS" >"$T/live.ndjson"
sed -e "s|^plugin_dir .*|plugin_dir = $PD|" -e "s|^state_dir .*|state_dir = $T/var|" \
    -e "s|^path .*|path = $T/live.ndjson|" -e "s|^follow = true|follow = false|" \
    -e "s|^format = json|format = json\npath = $T/alerts.ndjson|" \
    "$ROOT/conf/sigflow.ini" >"$T/ini"

"$SIGFLOW" replay -c "$T/ini" "$EVENTS" >"$T/full.ndjson" 2>/dev/null
"$SIGFLOW" replay -c "$T/ini" --state "$T/history.ndjson" >"$T/history_alerts.ndjson" 2>"$T/state.err" ||
    fail "replay --state failed: $(cat "$T/state.err")"
grep -q 'scoring state saved' "$T/state.err" || fail "replay --state does not say it saved"
h=$(wc -l <"$T/history_alerts.ndjson")
tail -n +"$((h + 1))" "$T/full.ndjson" >"$T/want.ndjson"
want=$(wc -l <"$T/want.ndjson")
[ "$want" -gt 0 ] && [ "$h" -gt 0 ] || fail "split gives $h history and $want live alerts: too weak"

start_daemon "$T/ini"
wait_for 30 grep -q "reached end of file: $((total - half)) events" "$T/daemon.log" ||
    fail "live half not read"
wait_for 30 has_lines "$T/alerts.ndjson" "$want" ||
    fail "$(count_lines "$T/alerts.ndjson") of $want live alerts"
sleep 0.5
stop_daemon
cmp -s "$T/want.ndjson" "$T/alerts.ndjson" ||
    fail "live alerts differ from the whole replay's after history ($(count_lines "$T/alerts.ndjson") vs $want)"
pass "after replay --state, run raises exactly the whole replay's $want later alerts, none of history's $h"

"$SIGFLOW" replay -c "$T/ini" --state "$T/history.ndjson" >/dev/null 2>"$T/again.err" &&
    fail "a second --state over a used store was accepted"
grep -q 'seeds a new instance only' "$T/again.err" || fail "refusal does not say why: $(cat "$T/again.err")"
pass "replay --state refuses a store that already has state"
