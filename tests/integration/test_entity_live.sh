#!/usr/bin/env bash
# GET /v1/entities/ID shows the scoring engine's live state of the entity (docs/admin-api.md):
# after each event its features, each signal's x, weight, contribution and sentence, and the
# score now change, with no alert raised and none stored. Expected figures from
# docs/scoring.md by hand: signal `tickets` = count, cap 4, weight 2; bias -3.
#   one ticket:  x = 1/4, z = -3 + 0.5 = -2.5, p = 1/(1 + e^2.5) = 0.0758582
#   two tickets: x = 2/4, z = -2,              p = 1/(1 + e^2)   = 0.1192029
# The threshold (0.9) is never reached.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
PORT=$(free_port)
export SF_TEST_ADMIN_TOKEN="live-$RANDOM-$RANDOM"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$PORT
admin_token = env:SF_TEST_ADMIN_TOKEN
[decision]
name = d
bias = -3
threshold = 0.9
deliver = out
[signal tickets]
event = ticket.opened
measure = count
window = 7d
cap = 4
weight = 2
explain = {{n}} tickets in {{window}}
[connector in]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 50ms
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
: >"$T/events.ndjson"
entity() {
    curl -s -H "Authorization: Bearer $SF_TEST_ADMIN_TOKEN" "http://127.0.0.1:$PORT/v1/entities/$1"
}
# live_is ENTITY X P SENTENCE: the engine's state shows x and score p (7 digits) and the sentence
live_is() {
    entity "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
x, p, sentence = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
assert d.get("explained_by") == "engine", d
assert abs(d["score"] - p) < 5e-8, d["score"]
assert d["features"] == {"tickets": x}, d["features"]
s = d["signals"]
assert len(s) == 1 and s[0]["signal"] == "tickets" and s[0]["x"] == x and s[0]["weight"] == 2, s
assert abs(s[0]["contribution"] - 2 * x) < 1e-12 and s[0]["sentence"] == sentence, s
assert d["retired"] is False and d["armed"] is True and d["last_alert"] is None, d
assert d["model_version"] == 1 and d["alerts"] == [], d
' "$2" "$3" "$4"
}

start_daemon "$T/ini"
echo '{"entity":"c1","type":"ticket.opened","time":"2026-11-02T10:00:00Z"}' >>"$T/events.ndjson"
wait_for 30 live_is c1 0.25 0.0758582 "1 tickets in 7d" ||
    fail "live state after one ticket: $(entity c1)"
echo '{"entity":"c1","type":"ticket.opened","time":"2026-11-03T10:00:00Z"}' >>"$T/events.ndjson"
wait_for 30 live_is c1 0.5 0.1192029 "2 tickets in 7d" ||
    fail "live state after two tickets: $(entity c1)"
[ "$(count_lines "$T/alerts.ndjson")" = 0 ] || fail "an alert was raised: $(cat "$T/alerts.ndjson")"
pass "GET /v1/entities/ID: the score, x, contribution and sentence follow each event, no alert"

# an entity the journal holds but no signal reads: known to the store, not to the engine
echo '{"entity":"quiet","type":"page.view","time":"2026-11-03T11:00:00Z"}' >>"$T/events.ndjson"
wait_for 30 bash -c "curl -s -H 'Authorization: Bearer $SF_TEST_ADMIN_TOKEN' http://127.0.0.1:$PORT/v1/entities/quiet | grep -q live_state" ||
    fail "quiet: $(entity quiet)"
entity quiet | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["explained_by"] is None and d["score"] is None, d
assert d["live_state"] == "the scoring engine holds no state for this entity", d
' || fail "quiet: $(entity quiet)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/entities/c1")" = 401 ] ||
    fail "live state without the token"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC"
pass "an entity the engine does not hold falls back to the store (said in live_state); 401 without the token"
