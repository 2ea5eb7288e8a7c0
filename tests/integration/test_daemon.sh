#!/usr/bin/env bash
# The daemon end to end: the file connector feeds events through the journal and a tiny queue
# (so the journal's committer waits on scoring), scoring in event time, the console delivery writes alerts. With clock = event
# `run` must raise exactly the alerts `replay` raises on the same events (docs/scoring.md, Time), none
# lost to back-pressure; SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
EVENTS=$ROOT/conf/sample-events.ndjson
sed -e "s|^plugin_dir .*|plugin_dir = $PD|" -e "s|^state_dir .*|state_dir = $T/var|" \
    -e "s|^path .*|path = $EVENTS\nfollow = false|" -e "/^follow = true/d" \
    -e "s|^format = json|format = json\npath = $T/alerts.ndjson|" \
    -e "s|^log_level .*|log_level = info\nqueue_size = 16|" \
    "$ROOT/conf/sigflow.ini" >"$T/run.ini"
"$SIGFLOW" check -c "$T/run.ini" >/dev/null || fail "test config invalid"

"$SIGFLOW" replay -c "$T/run.ini" "$EVENTS" >"$T/replay.ndjson" 2>"$T/replay.err" ||
    fail "replay failed: $(cat "$T/replay.err")"
want=$(count_lines "$T/replay.ndjson")
[ "$want" -gt 0 ] || fail "the sample raises no alert in replay: the test would prove nothing"

start_daemon "$T/run.ini"
wait_for 60 grep -q 'reached end of file' "$T/daemon.log" || fail "connector never reached EOF"
wait_for 30 has_lines "$T/alerts.ndjson" "$want" ||
    fail "daemon delivered $(count_lines "$T/alerts.ndjson") of $want alerts"
alive || fail "daemon died"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exit code $DAEMON_RC after SIGTERM"
pass "SIGTERM drains and exits 0"

cmp -s "$T/replay.ndjson" "$T/alerts.ndjson" || {
    diff <(head -5 "$T/replay.ndjson") <(head -5 "$T/alerts.ndjson") >&2
    fail "run (clock = event) and replay disagree"
}
pass "run with clock = event delivers exactly replay's $want alerts, in order"

lines=$(wc -l <"$EVENTS")
grep -q "events_in=$lines " "$T/daemon.log" || fail "not every event was accepted (want $lines)"
pass "a 16-event queue slowed the connector and lost nothing ($lines events)"
