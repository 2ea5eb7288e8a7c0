#!/usr/bin/env bash
# An ingest listener that cannot be bound is said in /readyz (docs/reliability.md, Readiness):
# a reload that adds the first webhook connector while another process holds the `ingest`
# port makes GET /readyz 503 with a JSON reason naming the ingest listener and the address;
# once the port is free, the connector's restart binds it and /readyz is 200 again. (Before,
# /readyz stayed 200 while the connector could not listen.)
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook connector_file delivery_console)
ADMIN=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$T/held" &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$T/held" || fail "no port held"
HELD=$(cat "$T/held")
: >"$T/events.ndjson"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin = 127.0.0.1:$ADMIN
ingest = 127.0.0.1:$HELD
[connector in]
plugin = file
path = $T/events.ndjson
follow = true
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI

start_daemon "$T/ini"
wait_for 20 is_ready || fail "/readyz not 200 with the file connector only: $(cat "$T/readyz.body")"
cat >>"$T/ini" <<INI
[connector hook]
plugin = webhook
path = /in
INI
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q "cannot listen on 127.0.0.1:$HELD" "$T/daemon.log" ||
    fail "no line saying the ingest port cannot be bound"
wait_for 20 not_ready || fail "/readyz $(readyz) while the ingest port is taken: $(cat "$T/readyz.body")"
/usr/bin/python3 - "$T/readyz.body" "127.0.0.1:$HELD" <<'PY' || fail "/readyz body: $(cat "$T/readyz.body")"
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["reasons"] if x.get("component") == "ingest"]
assert r and sys.argv[2] in r[0]["reason"], d
PY
pass "a reload adding the first webhook connector on a taken port: /readyz 503 naming ingest and $HELD"

kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
wait_for 30 grep -q "instance=hook listening on http://127.0.0.1:$HELD/in" "$T/daemon.log" ||
    fail "the connector did not bind once the port was free"
wait_for 20 is_ready || fail "/readyz not 200 once ingest listens: $(cat "$T/readyz.body")"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"entity":"a","type":"login","time":"2026-11-01T10:00:00Z"}' "http://127.0.0.1:$HELD/in")
[ "$code" = 202 ] || fail "POST answered $code once bound"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "the port freed: the connector binds, /readyz 200, events accepted"
