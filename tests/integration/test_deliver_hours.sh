#!/usr/bin/env bash
# Delivery hours and digests against a controllable clock (clock = event: the largest event
# time seen is the delivery clock), across the 2026 DST change in two zones
# (docs/config.md "Delivery hours"): an alert on a Saturday waits in the outbox, shown as held
# by `sigflow dlq list` and counted in /metrics, until Monday 09:00 Berlin time (the first
# Monday of summer time); an urgent one goes at once; a New York digest sends the alerts
# since the last one as one message at 09:00 EDT.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_slack)
python3 "$ROOT/tests/support/slack_receiver.py" --log "$T/slack.ndjson" >"$T/slack.port" \
    2>"$T/slack.err" &
SLACK_PID=$!
trap 'kill $SLACK_PID 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$T/slack.port" || fail "slack receiver did not start"
export OFFICE_URL="http://127.0.0.1:$(head -1 "$T/slack.port")/office"
export DIGEST_URL="http://127.0.0.1:$(head -1 "$T/slack.port")/digest"
ADMIN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

ms() { python3 -c "import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp()*1000))" "$1"; }
ev() { printf '{"entity":"%s","type":"%s","time":%s}\n' "$1" "$2" "$(ms "$3")" >>"$T/events.ndjson"; }

# Saturday 2026-03-28: two customers cross the threshold (10:00Z, 11:00Z); one cancels (urgent).
: >"$T/events.ndjson"
ev acme ticket.opened 2026-03-28T09:00:00Z
ev acme ticket.opened 2026-03-28T10:00:00Z
ev globex ticket.opened 2026-03-28T10:30:00Z
ev globex ticket.opened 2026-03-28T11:00:00Z
ev initech cancel.requested 2026-03-28T12:00:00Z

cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$ADMIN
[decision]
name = churn
question = Is this customer about to churn?
bias = -3
threshold = 0.5
rearm_below = 0.1
deliver = office, ny_digest
[signal tickets]
event = ticket.opened
measure = count
window = 14d
cap = 2
weight = 4
[signal cancel]
event = cancel.requested
measure = recent
window = 14d
weight = 10
[connector in]
plugin = file
path = $T/events.ndjson
follow = true
[delivery office]
plugin = slack
url = env:OFFICE_URL
hours = Mon-Fri 09:00-18:00
timezone = Europe/Berlin
urgent_above = 0.99
[delivery ny_digest]
plugin = slack
url = env:DIGEST_URL
mode = digest
every = 1d
at = 09:00
timezone = America/New_York
INI
"$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1 || fail "config refused: $(cat "$T/check.out")"
start_daemon "$T/ini"

posts() { grep -c "\"path\": \"$1\"" "$T/slack.ndjson" 2>/dev/null || true; }
held() { "$SIGFLOW" dlq -c "$T/ini" list "$1" 2>/dev/null | grep -c $'\theld\t' || true; }

# The urgent cancel goes at once, on a Saturday.
wait_for 30 bash -c "[ \"\$(grep -c '\"path\": \"/office\"' '$T/slack.ndjson' 2>/dev/null)\" = 1 ]" ||
    fail "the urgent alert was not sent at once"
grep '"path": "/office"' "$T/slack.ndjson" | grep -q 'initech' || fail "the urgent one was not initech's"
wait_for 30 bash -c "[ \"\$('$SIGFLOW' dlq -c '$T/ini' list office 2>/dev/null | grep -c held)\" = 2 ]" ||
    fail "office holds $(held office), not 2: $("$SIGFLOW" dlq -c "$T/ini" list 2>&1)"
# Monday 2026-03-30 09:00 CEST (the clocks went forward on Sunday) is 07:00Z.
"$SIGFLOW" dlq -c "$T/ini" list office 2>/dev/null | grep acme |
    grep -q 'until=2026-03-30T07:00:00.000Z.*outside hours (Europe/Berlin)' ||
    fail "acme is not held until Monday 09:00 Berlin: $("$SIGFLOW" dlq -c "$T/ini" list office 2>&1)"
# New York has been on summer time since March 8: the next 09:00 is 13:00Z.
"$SIGFLOW" dlq -c "$T/ini" list ny_digest 2>/dev/null | grep acme |
    grep -q 'until=2026-03-28T13:00:00.000Z.*digest' ||
    fail "acme is not held for the 09:00 New York digest: $("$SIGFLOW" dlq -c "$T/ini" list ny_digest 2>&1)"
metric() { curl -s "http://127.0.0.1:$ADMIN/metrics" | grep -q "^sigflow_outbox_held{target=\"$1\"} $2\$"; }
wait_for 20 metric office 2 || fail "/metrics does not count 2 held for office: $(curl -s "http://127.0.0.1:$ADMIN/metrics" | grep held)"
[ "$(posts /digest)" = 0 ] || fail "the digest went out before 09:00"
pass "outside hours: held in the outbox, shown by dlq list and /metrics; urgent goes at once"

# Event time reaches 14:00Z: the New York digest (3 alerts) goes as one message.
ev other login 2026-03-28T14:00:00Z
wait_for 30 bash -c "grep -q '\"path\": \"/digest\"' '$T/slack.ndjson'" || fail "no digest at 09:00 New York"
python3 - "$T/slack.ndjson" <<'PY' || fail "the digest is not one valid message listing the 3 alerts"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if '"/digest"' in l]
assert len(d) == 1 and d[0]["errors"] == [] and d[0]["status"] == 200, d
blocks = json.loads(d[0]["body"])["blocks"]
assert blocks[0]["text"]["text"] == "3 alerts: Is this customer about to churn?", blocks[0]
names = [b["text"]["text"].split("*")[1] for b in blocks[1:]]
assert sorted(names) == ["acme", "globex", "initech"], names
PY
[ "$(posts /office)" = 1 ] || fail "office sent during the weekend"
pass "digest: one message with every alert since the last, at 09:00 New York time"

# Monday 07:00:01Z = 09:00:01 CEST: the office window opens and both held alerts go.
ev other login 2026-03-30T07:00:01Z
wait_for 30 bash -c "[ \"\$(grep -c '\"path\": \"/office\"' '$T/slack.ndjson')\" = 3 ]" ||
    fail "the held alerts did not go when the window opened: $(posts /office) posts"
[ "$(held office)" = 0 ] || fail "still held after the window opened"
pass "held deliveries go when the window opens (Monday 09:00 Berlin, after the DST change)"
stop_daemon
