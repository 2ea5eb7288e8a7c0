#!/usr/bin/env bash
# SIGHUP with a changed decision: a change that keeps what the state means (threshold, explain
# text) keeps every entity's state; one that changes it (a new signal) rebuilds the state from
# the journal before going live, without re-sending the alerts of history. The log says which.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
# count of logins, cap 3, weight 6, bias -3: 1 login p=0.27, 2 logins p=0.73, 3 logins p=0.95.
write_ini() { # THRESHOLD EXPLAIN [EXTRA_SIGNAL]
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
[decision]
name = d
bias = -3
threshold = $1
rearm_below = 0.2
deliver = out
[signal logins]
event = login
measure = count
window = 30d
cap = 3
weight = 6
explain = $2
${3:-}
[connector in]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 50ms
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
}
ev() { echo "{\"entity\":\"$1\",\"type\":\"$2\",\"time\":\"2026-11-01T$3:00Z\"}" >>"$T/events.ndjson"; }

write_ini 0.9 "{{n}} logins"
: >"$T/events.ndjson"
start_daemon "$T/ini"
ev e1 login 10:00
ev e1 login 10:10
ev s login 10:20
ev s login 10:30
ev s login 10:40
ev e2 ticket 10:50 # no signal reads it (yet): journaled, no entity
ev x login 11:30 # runs the 11:00 boundary: s alerts (0.95), e1 does not (0.73 < 0.9)
wait_for 20 grep -q '"s"' "$T/alerts.ndjson" || fail "the first alert is missing"
grep -q '"e1"' "$T/alerts.ndjson" && fail "e1 alerted above its threshold"

# Only the threshold and the explain text change: e1's two logins must still count.
write_ini 0.6 "{{n}} logins seen"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'decision changed' "$T/daemon.log" || fail "reload not applied"
ev x login 12:30 # runs the 12:00 boundary under the new threshold
wait_for 20 grep -q '"e1"' "$T/alerts.ndjson" ||
    fail "e1 did not alert under the lowered threshold: its state was lost"
grep -q 'entity state kept' "$T/daemon.log" || fail "the log does not say the state was kept"
grep -q '"e1".*logins seen' "$T/alerts.ndjson" || fail "the new explain text is not used"
pass "a threshold/explain reload keeps every entity's state"

# A new signal changes what the state means: rebuilt from the journal (e2's ticket counts).
write_ini 0.6 "{{n}} logins seen" "[signal tickets]
event = ticket
measure = count
window = 30d
cap = 2
weight = 6"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'entity state rebuilt from the journal' "$T/daemon.log" ||
    fail "the log does not say the state was rebuilt"
ev e2 ticket 14:00 # with the one journaled before the reload: 2 tickets, p=0.95
ev x login 15:30
wait_for 20 grep -q '"e2"' "$T/alerts.ndjson" ||
    fail "e2's journaled ticket was not rebuilt into the new signal's state"
[ "$(grep -c '"s"' "$T/alerts.ndjson")" -eq 1 ] || fail "a rebuild re-sent an alert of history"
[ "$(grep -c '"e1"' "$T/alerts.ndjson")" -eq 1 ] || fail "a rebuild re-sent e1's alert"
pass "a reload that changes what the state means rebuilds it from the journal, sending no old alert"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit code $DAEMON_RC"
