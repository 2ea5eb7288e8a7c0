#!/usr/bin/env bash
# log_level = debug says what was scored without a line per event (docs/operating.md "Logs"):
# one line per alert (score, threshold, the strongest reasons) and one per re-arm, the two
# evaluations that can change the output; events scored while nothing changes add none.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
# a login scores sigmoid(-2 + 5) = 0.9526 >= 0.5: alert; a day later sigmoid(-2) = 0.1192 < 0.5:
# re-armed at the next tick boundary. {{n}} at the cap (1) reads "1+" (docs/scoring.md).
write_ini() { # LOG_LEVEL
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
log_level = $1
[decision]
name = d
bias = -2
threshold = 0.5
cooldown = 1h
tick = 1h
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
explain = {{n}} logins in {{window}}
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
ev() { echo "{\"entity\":\"$1\",\"type\":\"login\",\"time\":\"$2\"}" >>"$T/events.ndjson"; }

write_ini debug
: >"$T/events.ndjson"
start_daemon "$T/ini"
ev e1 2026-11-01T10:00:00Z
for m in 10 20 30 40 50; do ev e1 "2026-11-01T10:$m:00Z"; done # disarmed: nothing changes
ev e2 2026-11-03T10:00:00Z                                         # time moves on: e1 re-arms
ev e1 2026-11-03T11:00:00Z                                         # alerts again
three_alerts() { [ "$(grep -c 'level=info component=score msg="alert ' "$T/daemon.log")" -ge 3 ]; }
wait_for 20 three_alerts || fail "want 3 alerts"
stop_daemon
grep 'level=debug component=score' "$T/daemon.log" >"$T/debug"
grep -q 'entity=e1 msg="scored 0.9526 >= threshold 0.5000 (model_version 1); top reasons: logins +5.00 (x=1.00: 1+ logins in 1d)"' "$T/debug" ||
    fail "no alert line with score, threshold and reasons: $(cat "$T/debug")"
[ "$(grep -c 'msg="scored ' "$T/debug")" -eq 3 ] || fail "want 3 scored lines (e1, e2, e1): $(cat "$T/debug")"
grep -q 'entity=e1 msg="re-armed: score 0.1192 below rearm_below 0.5000 at 2026-11-0[23]T' "$T/debug" ||
    fail "no re-arm line for e1: $(cat "$T/debug")"
[ "$(wc -l <"$T/debug")" -eq 4 ] || fail "want 4 debug lines (3 alerts, 1 re-arm) for 8 events: $(cat "$T/debug")"
pass "debug: a line per alert (score, threshold, reasons) and per re-arm; none for the other events"

rm -rf "$T/var" "$T/alerts.ndjson"
write_ini info
: >"$T/events.ndjson"
start_daemon "$T/ini"
ev e1 2026-11-01T10:00:00Z
wait_for 20 grep -q 'level=info component=score msg="alert ' "$T/daemon.log" || fail "no alert at info"
stop_daemon
grep -q 'level=debug' "$T/daemon.log" && fail "debug lines at log_level = info"
pass "info: no debug lines"
