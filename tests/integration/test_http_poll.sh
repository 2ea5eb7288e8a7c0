#!/usr/bin/env bash
# The http_poll connector (docs/connector-http-poll.md) against a test API on loopback
# (tests/support/poll_api.py) in three paging shapes at once: Zendesk's cursor export
# (after_cursor, end_of_stream, Bearer auth), Stripe's lists (has_more, starting_after from
# the last record's id) and HubSpot-style next links. The API keeps adding records while the
# test runs and injects 429 with Retry-After (seconds and HTTP date), 500s, 502s and a hang
# past the timeout; the daemon is killed with kill -9 twice mid-run and restarted. At the end
# `sigflow journal` holds every record exactly once, in order, per connector. Also: a 401 is
# logged and counted, Retry-After is waited out, ETags are sent back, /metrics has the counts.
. "$(dirname "$0")/lib.sh"

TOTAL=150
PD=$(plugin_dir_with connector_http_poll delivery_console)
APORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$ROOT/tests/support/poll_api.py" --log "$T/api.ndjson" --initial 10 --total $TOTAL \
    --add-every 0.04 --hang 2.5 --token zd-test-token >"$T/api.port" 2>"$T/api.err" &
API_PID=$!
trap 'kill $API_PID 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$T/api.port" || fail "test API did not start"
P=$(head -1 "$T/api.port")
export ZD_TOKEN=zd-test-token WRONG_TOKEN=not-the-token

common="interval = 200ms
timeout = 1s
retry_base = 100ms
retry_max = 400ms"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$APORT
[decision]
name = d
threshold = 0.99
deliver = out
[signal tickets]
event = ticket.updated
measure = count
window = 1d
cap = 50
weight = 1
[connector zendesk]
plugin = http_poll
url = http://127.0.0.1:$P/zendesk/api/v2/incremental/tickets/cursor.json?start_time=0&cursor={cursor}
items = tickets
cursor = response.after_cursor
end = end_of_stream
auth = env:ZD_TOKEN
headers.Accept = application/json
$common
map.entity = requester_id
map.type = =ticket.updated
map.time = updated_at
map.attr.n = id
[connector stripe]
plugin = http_poll
url = http://127.0.0.1:$P/stripe/v1/customers?limit=5&starting_after={cursor}
items = data
cursor = last.id
more = has_more
$common
map.entity = id
map.type = =customer.updated
map.time = created
map.time_unit = s
map.attr.n = metadata.n
[connector hub]
plugin = http_poll
url = http://127.0.0.1:$P/hub/crm/v3/objects/contacts?after=0
items = results
next_url = paging.next.link
$common
map.entity = properties.email
map.type = =contact.updated
map.time = properties.lastmodifieddate
map.id = id
map.attr.n = id
[connector locked_out]
plugin = http_poll
url = http://127.0.0.1:$P/zendesk/api/v2/incremental/tickets/cursor.json?cursor={cursor}
items = tickets
cursor = response.after_cursor
end = end_of_stream
auth = env:WRONG_TOKEN
$common
map.entity = requester_id
map.type = =ticket.updated
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
"$SIGFLOW" check -c "$T/ini" >/dev/null 2>&1 || fail "config: $("$SIGFLOW" check -c "$T/ini" 2>&1)"

rows() {
    python3 -c "import sqlite3; print(sqlite3.connect('file:$T/var/sigflow.db?mode=ro', uri=True).execute('select count(*) from journal').fetchone()[0])" 2>/dev/null || echo 0
}
at_least() { [ "$(rows)" -ge "$1" ]; }
kill9() {
    date +%s.%N >>"$T/kills"
    kill -9 "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    cat "$T/daemon.log" >>"$T/daemon.all.log"
}

start_daemon "$T/ini"
wait_for 60 at_least 60 || fail "fewer than 60 records journaled in 60 s ($(rows))"
kill9
pass "kill -9 with $(rows) records journaled"
start_daemon "$T/ini"
wait_for 60 at_least 200 || fail "fewer than 200 records journaled in 60 s after a restart ($(rows))"
kill9
pass "kill -9 again with $(rows) records journaled"
start_daemon "$T/ini"

api_done() {
    python3 - "$P" <<'PY'
import json, sys, urllib.request
st = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_state" % sys.argv[1], timeout=5))
sys.exit(0 if all(v["done"] for v in st.values()) else 1)
PY
}
wait_for 60 api_done || fail "the test API did not finish adding records"
all_in() { [ "$(rows)" -ge $((3 * TOTAL)) ]; }
wait_for 90 all_in || fail "not every record journaled within 90 s ($(rows) of $((3 * TOTAL)))"
# A few more polls find nothing new (and must not double anything).
sleep 1.5

curl -s "http://127.0.0.1:$APORT/metrics" >"$T/metrics.txt" || fail "no /metrics"
stop_daemon
cat "$T/daemon.log" >>"$T/daemon.all.log"
[ "$DAEMON_RC" = 0 ] || fail "daemon exit $DAEMON_RC"

for c in zendesk stripe hub; do
    "$SIGFLOW" journal -c "$T/ini" --connector $c >"$T/$c.ndjson" 2>/dev/null || fail "journal $c"
    python3 - "$T/$c.ndjson" $TOTAL <<'PY' || fail "$c: the journal does not hold records 1..$TOTAL exactly once, in order"
import json, sys
ns = [int(json.loads(l)["n"]) for l in open(sys.argv[1])]
want = list(range(1, int(sys.argv[2]) + 1))
if ns != want:
    dup = sorted({n for n in ns if ns.count(n) > 1})
    miss = sorted(set(want) - set(ns))
    print("got %d records; doubled %s; missing %s; first out of order at %s" % (
        len(ns), dup[:10], miss[:10],
        next((i for i, (a, b) in enumerate(zip(ns, want)) if a != b), None)), file=sys.stderr)
    sys.exit(1)
PY
    pass "$c: sigflow journal holds records 1..$TOTAL exactly once, in order"
done
[ "$("$SIGFLOW" journal -c "$T/ini" --connector locked_out 2>/dev/null | wc -l)" = 0 ] ||
    fail "the connector answered 401 journaled something"

python3 - "$T/api.ndjson" "$T/kills" <<'PY' || fail "the API log does not show the faults handled"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
kills = [float(l) for l in open(sys.argv[2])]
by = {}
for r in reqs:
    by.setdefault((r["shape"], r["auth"]), []).append(r)  # one client each
faults = {r["fault"] for r in reqs if r["fault"]}
assert {"429", "500", "hang", "503date", "502"} <= faults, "faults met: %s" % faults
# Retry-After: the request after a 429 (1 s) or a 503 with a date (>= 1 s ahead) comes no
# sooner (a lower bound only: a loaded machine makes it later, never sooner).
for shape, rs in by.items():
    rs.sort(key=lambda r: r["time"])
    for a, b in zip(rs, rs[1:]):
        restarted = any(a["time"] <= k <= b["time"] for k in kills)
        if a["fault"] in ("429", "503date") and a["status"] in (429, 503) and not restarted:
            assert b["time"] - a["time"] >= 0.9, "%s: retried %.2fs after %s" % (
                shape, b["time"] - a["time"], a["fault"])
zd = by[("zendesk", "Bearer zd-test-token")]
assert all(r["accept"] == "application/json" for r in zd), "Accept header missing"
assert all(r["status"] == 401 for r in by[("zendesk", "Bearer not-the-token")])
assert by[("stripe", None)] and by[("hub", None)], "auth sent where none is configured"
assert any(r["if_none_match"] and r["status"] == 304 for r in reqs), "no ETag revalidation"
PY
pass "429/503 Retry-After waited out, 500/502/hang retried, Bearer and headers.* sent, ETag 304s"

grep -q 'instance=locked_out.*answered 401: not authorized' "$T/daemon.all.log" ||
    fail "a 401 is not logged as such"
for m in 'sigflow_plugin_http_poll_requests_200_total{instance="zendesk"}' \
    'sigflow_plugin_http_poll_requests_401_total{instance="locked_out"}' \
    'sigflow_plugin_http_poll_auth_failures_total{instance="locked_out"}' \
    'sigflow_plugin_http_poll_pages_total{instance="stripe"}' \
    'sigflow_plugin_http_poll_records_total{instance="hub"}' \
    'sigflow_plugin_http_poll_up{instance="locked_out"} 0' \
    'sigflow_plugin_http_poll_seconds_since_success{instance="zendesk"}' \
    'sigflow_plugin_http_poll_last_success_timestamp_seconds{instance="stripe"}'; do
    grep -qF "$m" "$T/metrics.txt" || fail "/metrics lacks $m"
done
pass "a 401 is logged and counted; /metrics has requests by status, pages, records, last success"
