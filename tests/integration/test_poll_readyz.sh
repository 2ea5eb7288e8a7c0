#!/usr/bin/env bash
# /readyz names a poller the API refuses (docs/reliability.md, Readiness; docs/connector-http-poll.md):
# an http_poll connector answered 401 makes GET /readyz 503 with JSON naming the connector
# and the status; once the API answers 200 again, /readyz is 200 "ready" by itself. The test
# API is a small python http.server on loopback that answers 401 until the test lets it in.
. "$(dirname "$0")/lib.sh"

cat >"$T/api.py" <<'PY'
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
allow = sys.argv[1]
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(allow):
            body = json.dumps([{"entity": "acme", "type": "login", "time": "2026-11-01T10:00:00Z"}])
            code = 200
        else:
            body, code = '{"error":"invalid token"}', 401
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
/usr/bin/python3 "$T/api.py" "$T/allow" >"$T/api.port" 2>"$T/api.err" &
RECV_PID=$! # lib.sh's cleanup ends it
wait_for 10 test -s "$T/api.port" || fail "test API did not start"
API_PORT=$(head -1 "$T/api.port")

PD=$(plugin_dir_with connector_http_poll delivery_console)
ADMIN=$(free_port)
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "0,/^\[sigflow\]/s//[sigflow]\nadmin = 127.0.0.1:$ADMIN/" "$T/ini"
sed -i "s|^\[connector in\]|[connector tickets]|; s|^plugin = file$|plugin = http_poll|; s|^path = $T/events.ndjson$|url = http://127.0.0.1:$API_PORT/api/tickets?token=x|; /^follow = true$/d; s|^poll_interval = 50ms$|interval = 200ms|" "$T/ini"
export POLL_TOKEN=wrong
sed -i "s|^interval = 200ms$|interval = 200ms\nretry_base = 100ms\nretry_max = 200ms\nauth = env:POLL_TOKEN|" "$T/ini"
"$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1 || fail "config refused: $(cat "$T/check.out")"

start_daemon "$T/ini"
wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ADMIN/readyz)\" = 503 ]" ||
    fail "/readyz never said 503 while the API answers 401: $(readyz) $(cat "$T/readyz.body")"
code=$(readyz)
[ "$code" = 503 ] || fail "/readyz $code"
/usr/bin/python3 - "$T/readyz.body" <<'PY' || fail "/readyz body: $(cat "$T/readyz.body")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "not ready", doc
r = [x for x in doc["reasons"] if x["instance"] == "tickets"]
assert len(r) == 1 and r[0]["plugin"] == "http_poll", doc
assert "answered 401" in r[0]["reason"] and "/api/tickets" in r[0]["reason"], doc
assert "token=x" not in r[0]["reason"] and "wrong" not in r[0]["reason"], doc  # no query, no secret
PY
pass "/readyz is 503 with JSON naming the connector and the 401 while the API refuses it"

touch "$T/allow"
wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ADMIN/readyz)\" = 200 ]" ||
    fail "/readyz did not come back to 200 after a successful poll: $(readyz) $(cat "$T/readyz.body")"
code=$(readyz)
[ "$code" = 200 ] && [ "$(cat "$T/readyz.body")" = ready ] ||
    fail "/readyz once ready: $code $(cat "$T/readyz.body")"
wait_for 20 grep -q '"entity":"acme"' "$T/alerts.ndjson" || fail "the polled event was not scored"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "after a successful poll /readyz is 200 ready again and the records flow"
