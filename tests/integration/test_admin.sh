#!/usr/bin/env bash
# The operator's endpoints (docs/design.md): /healthz, /readyz, /metrics in Prometheus text
# with the events each connector accepted and what waits in the outbox; GET only.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^clock = event|clock = event\nadmin = 127.0.0.1:$PORT|" "$T/ini"
printf '{"entity":"e%d","type":"login","time":"2026-11-01T10:00:00Z"}\n' 1 2 3 >"$T/events.ndjson"
echo '{"entity":"e4","kind":"login","time":"2026-11-01T10:00:00Z"}' >>"$T/events.ndjson" # no type

get() { # PATH [METHOD] -> "status body"
    python3 - "$PORT" "$1" "${2:-GET}" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]),
                             method=sys.argv[3], data=b"x" if sys.argv[3] == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=5)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}

start_daemon "$T/ini"
[ "$(get /healthz)" = "200 ok" ] || fail "/healthz: $(get /healthz)"
[ "$(get /readyz)" = "200 ready" ] || fail "/readyz: $(get /readyz)"
pass "/healthz and /readyz answer 200 once running"

wait_for 10 has_lines "$T/alerts.ndjson" 3 || fail "alerts missing"
wait_for 5 bash -c "$(declare -f get); PORT=$PORT; get /metrics | grep -q '^sigflow_events_in_total{connector=\"in\"} 3\$'" ||
    fail "/metrics does not count 3 events: $(get /metrics)"
m=$(get /metrics)
m=${m#200 } # the status, then the body
echo "$m" | grep -q "^sigflow_alerts_total 3$" || fail "no alert count in /metrics: $m"
echo "$m" | grep -q '^sigflow_journal_events_total 3$' || fail "no journal count in /metrics"
echo "$m" | grep -q '^sigflow_outbox_dead{target="out"} 0$' || fail "no outbox gauge in /metrics"
echo "$m" | grep -q '^sigflow_mapping_documents_total{connector="in"} 4$' || fail "documents not counted: $m"
echo "$m" | grep -q '^sigflow_mapping_misses_total{connector="in",field="type"} 1$' ||
    fail "the line without a type is not a mapping miss: $m"
pass "/metrics counts events, mapping misses, journal, alerts and the outbox"

[ "$(get /metrics POST | cut -d' ' -f1)" = 405 ] || fail "POST /metrics was not refused"
[ "$(get /nosuch | cut -d' ' -f1)" = 404 ] || fail "unknown path not 404"
pass "only GET on known paths"
stop_daemon
