#!/usr/bin/env bash
# Events pushed over HTTP to the core's ingest listener (docs/connector-webhook.md):
# signed requests are accepted with 202 only once journaled (a kill -9 right after the answer
# loses nothing), bad signatures get 401, malformed bodies 400 naming the line, and the events
# are scored like any others.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HOOK_SECRET=whsec_test_only
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal tickets]
event = ticket.opened
measure = count
window = 1d
cap = 2
weight = 5
[connector billing]
plugin = webhook
path = /hooks/billing
signature = sigflow
secret = env:HOOK_SECRET
map.entity = data.customer
map.type = =ticket.opened
map.time = created
map.time_unit = s
map.id = id
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
"$SIGFLOW" check -c "$T/ini" >/dev/null || fail "config: $("$SIGFLOW" check -c "$T/ini" 2>&1)"
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/hooks/billing" "$T/daemon.log" ||
    fail "webhook connector not routed"

# post BODY [SECRET] -> prints "status body"
post() {
    python3 - "$PORT" "$1" "${2:-$HOOK_SECRET}" <<'PY'
import hashlib, hmac, sys, time, urllib.request, urllib.error
port, body, secret = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
t = str(int(time.time()))
sig = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
req = urllib.request.Request("http://127.0.0.1:%s/hooks/billing" % port, data=body,
                             headers={"X-Sigflow-Signature": "t=%s,v1=%s" % (t, sig),
                                      "Content-Type": "application/x-ndjson"})
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}

out=$(post '{"id":"evt_1","created":1793491200,"data":{"customer":"cus_A"}}' wrong_secret)
[ "${out%% *}" = 401 ] || fail "bad signature answered: $out"
pass "a request signed with the wrong secret gets 401"

out=$(post '{"id":"evt_1","created":1793491200,"data":{"customer":"cus_A"}}
{"id":"evt_2","created":1793491260,"data":{}}')
[ "${out%% *}" = 400 ] || fail "a batch with a bad line answered: $out"
echo "$out" | grep -q 'line 2' || fail "400 does not name the line: $out"
pass "a batch with an unmappable line is refused whole with 400 naming the line"

out=$(post '{"id":"evt_1","created":1793491200,"data":{"customer":"cus_A"}}
{"id":"evt_2","created":1793491260,"data":{"customer":"cus_A"}}')
[ "$out" = '202 {"accepted":2}' ] || fail "good batch answered: $out"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/var/sigflow.db').execute('select count(*) from journal').fetchone()[0])")
[ "$rows" -eq 2 ] || fail "202 was answered but the journal holds $rows of 2 events"
pass "202 only after the events are journaled: a kill -9 right after loses nothing"

start_daemon "$T/ini"
wait_for 10 grep -q '"entity":"cus_A"' "$T/alerts.ndjson" || fail "no alert for cus_A"
# A sender retrying the same event ids is acknowledged but not counted twice.
out=$(post '{"id":"evt_2","created":1793491260,"data":{"customer":"cus_A"}}')
[ "${out%% *}" = 202 ] || fail "retry answered: $out"
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/var/sigflow.db').execute('select count(*) from journal').fetchone()[0])")
[ "$rows" -eq 2 ] || fail "a retried event id was journaled again ($rows rows)"
pass "events are scored; a retried event id is acknowledged, not counted twice"
stop_daemon
