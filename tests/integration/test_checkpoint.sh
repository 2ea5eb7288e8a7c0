#!/usr/bin/env bash
# Scoring-state checkpoints (docs/durability.md): a clean stop saves the state with the journal
# position it covers; a restart loads it and replays only what came after, so running a stream
# in two halves across a restart raises exactly the alerts one replay of the whole stream
# raises; retention may then drop the journal the checkpoint covers.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
EVENTS=$ROOT/conf/sample-events.ndjson
total=$(wc -l <"$EVENTS")
half=$((total / 2))
sed -e "s|^plugin_dir .*|plugin_dir = $PD|" -e "s|^state_dir .*|state_dir = $T/var\njournal_retention = 0s|" \
    -e "s|^path .*|path = $T/events.ndjson|" -e "/^checkpoint = false/d" \
    -e "s|^follow = true|follow = false|" \
    -e "s|^format = json|format = json\npath = $T/alerts.ndjson|" \
    "$ROOT/conf/sigflow.ini" >"$T/ini"
"$SIGFLOW" replay -c "$T/ini" "$EVENTS" >"$T/want.ndjson" 2>/dev/null
[ "$(wc -l <"$T/want.ndjson")" -gt 5 ] || fail "replay raises too few alerts for this test"

head -n "$half" "$EVENTS" >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 30 grep -q "reached end of file: $half events" "$T/daemon.log" || fail "first half not read"
stop_daemon
grep -q "scoring state saved: seq=$half " "$T/daemon.log" || fail "no checkpoint at seq $half on stop"
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/var/sigflow.db').execute('select count(*) from journal').fetchone()[0])")
[ "$rows" -eq 0 ] || fail "journal_retention = 0s kept $rows covered events"
pass "a clean stop checkpoints at seq $half and retention retires the covered journal"

mv "$T/daemon.log" "$T/daemon1.log"
tail -n +"$((half + 1))" "$EVENTS" >>"$T/events.ndjson"
start_daemon "$T/ini"
grep -q "scoring state loaded: seq=$half " "$T/daemon.log" || fail "checkpoint not loaded"
wait_for 30 grep -q "reached end of file: $((total - half)) events" "$T/daemon.log" ||
    fail "the connector did not resume at its cursor"
grep -q 'recovered .* events from the journal' "$T/daemon.log" && fail "replayed a journal the checkpoint covers"
want=$(wc -l <"$T/want.ndjson")
wait_for 60 has_lines "$T/alerts.ndjson" "$want" ||
    fail "$(count_lines "$T/alerts.ndjson") of $want alerts after the restart"
stop_daemon
cmp -s "$T/want.ndjson" "$T/alerts.ndjson" || {
    diff <(cut -c1-120 "$T/want.ndjson") <(cut -c1-120 "$T/alerts.ndjson") | head >&2
    fail "two halves across a checkpointed restart differ from one replay"
}
pass "the stream in two halves across a restart gives exactly replay's $want alerts"
