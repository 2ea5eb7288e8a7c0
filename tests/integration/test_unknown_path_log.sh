#!/usr/bin/env bash
# Requests to ingest paths no connector serves are answered 404 and logged (a sender pointed
# at the wrong URL shows up), once per path a minute, naming the method, the client and the
# paths that are served (docs/operating.md "Logs"). Over real HTTP; the minute window and the
# line budget are in unit/test_path_log.c with injected time.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(free_port)
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
[connector hook]
plugin = webhook
path = /events
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
start_daemon "$T/ini"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
for i in 1 2 3 4 5; do
    [ "$(code -X POST -d '{}' "http://127.0.0.1:$PORT/evnts")" = 404 ] || fail "POST /evnts not 404"
done
[ "$(code "http://127.0.0.1:$PORT/wp-login.php")" = 404 ] || fail "GET /wp-login.php not 404"
[ "$(code -X POST -H 'Content-Type: application/json' \
    -d '{"entity":"c1","type":"login","time":"2026-11-01T10:00:00Z"}' \
    "http://127.0.0.1:$PORT/events")" = 202 ] || fail "the served path does not accept"
wait_for 10 grep -q 'path=/wp-login.php' "$T/daemon.log" || fail "no line for /wp-login.php"
n=$(grep -c 'path=/evnts ' "$T/daemon.log")
[ "$n" -eq 1 ] || fail "$n lines for 5 requests to /evnts within a minute, want 1"
grep 'path=/evnts ' "$T/daemon.log" | grep -q 'level=warn .*method=POST client=127.0.0.1 suppressed=0 ' ||
    fail "the line: $(grep 'path=/evnts ' "$T/daemon.log")"
grep 'path=/evnts ' "$T/daemon.log" | grep -q 'connector paths: /events' ||
    fail "the line does not name the served path"
grep 'path=/wp-login.php' "$T/daemon.log" | grep -q 'method=GET' || fail "GET not named"
grep -q 'path=/events ' "$T/daemon.log" && fail "the served path was logged as unknown"
stop_daemon
pass "unknown paths: 404, one warn line per path (method, client, the served paths), not per request"
