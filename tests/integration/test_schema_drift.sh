#!/usr/bin/env bash
# Schema drift (docs/scoring.md "Schema drift"): a webhook sender renames the field the
# entity is mapped from. The daemon raises exactly one `drift` health alert naming the
# connector, the field path, the share and the keys-only shape of a recent document (never
# its values), to health_deliver and not to the decision's targets; the refused documents are
# never scored (no decision alert); once the field is back, exactly one `recovered`.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
clock = event
health_deliver = ops
drift_window = 100
drift_threshold = 0.2
[decision]
name = d
bias = -3
threshold = 0.5
deliver = out
[signal tickets]
event = ticket.opened
measure = count
window = 1d
cap = 1
weight = 5
[signal quiet]
event = login
measure = absent
window = 1h
weight = 5
[connector app]
plugin = webhook
path = /hooks/app
map.entity = user.id
map.type = event
map.time = ts
map.time_unit = s
[delivery out]
plugin = console
path = $T/alerts.ndjson
[delivery ops]
plugin = console
path = $T/health.ndjson
INI
"$SIGFLOW" check -c "$T/ini" >/dev/null || fail "config: $("$SIGFLOW" check -c "$T/ini" 2>&1)"
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/hooks/app" "$T/daemon.log" ||
    fail "webhook connector not routed"

# send KIND N START: N documents, one request each, times START.. (seconds, 10 s apart);
# prints the count of each HTTP status. good: {"user":{"id"}}; renamed: {"user":{"uid"}}.
send() {
    python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import collections, json, sys, urllib.error, urllib.request
port, kind, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = collections.Counter()
for i in range(n):
    t = start + 10 * i
    user = {"id": "u%d" % (i % 7), "plan": "pro"} if kind != "renamed" else \
        {"uid": "u%d" % (i % 7), "plan": "v4lue-never-shown"}
    doc = {"user": user, "event": "ticket.opened" if kind == "ticket" else "login", "ts": t}
    req = urllib.request.Request("http://127.0.0.1:%s/hooks/app" % port,
                                 data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        seen[urllib.request.urlopen(req, timeout=10).status] += 1
    except urllib.error.HTTPError as e:
        seen[e.code] += 1
print(" ".join("%s:%d" % kv for kv in sorted(seen.items())))
PY
}

T0=1767225600 # 2026-01-01T00:00:00Z
[ "$(send good 120 $T0)" = "202:120" ] || fail "good documents not all accepted"
[ "$(send renamed 60 $((T0 + 1200)))" = "400:60" ] || fail "renamed documents not refused"
wait_for 20 has_lines "$T/health.ndjson" 1 || fail "no drift alert after 60 renamed documents"
pass "renamed field: the documents are refused (400) and a drift alert is raised"
# the sender fixes it: logins resume at the same times (the watermark never moved on)
[ "$(send good 150 $((T0 + 1200)))" = "202:150" ] || fail "fixed documents not accepted"
wait_for 20 has_lines "$T/health.ndjson" 2 || fail "no recovered alert once the field is back"
[ "$(send ticket 1 $((T0 + 3000)))" = "202:1" ] || fail "ticket not accepted"
wait_for 20 has_lines "$T/alerts.ndjson" 1 || fail "the ticket raised no decision alert"
sleep 1
stop_daemon

python3 - "$T/health.ndjson" "$T/alerts.ndjson" <<'PY' || fail "health or decision alerts wrong"
import json, sys
health = [json.loads(l) for l in open(sys.argv[1])]
alerts = [json.loads(l) for l in open(sys.argv[2])]
assert [h["state"] for h in health] == ["drift", "recovered"], health
for h in health:
    assert h["kind"] == "health" and h["connector"] == "app" and h["field"] == "user.id", h
d = health[0]
assert 0.2 < d["figures"]["share"] <= 0.22, d  # tipped over at the 21st miss in 100
shape = d["figures"]["shape"]
assert '"uid"' in shape and '"plan"' in shape and "v4lue" not in shape and "u1" not in shape, d
assert "user.id" in d["text"] and "app" in d["text"], d
assert health[1]["figures"]["share"] <= 0.1, health[1]
# decision alerts: only the ticket's; the refused documents scored nothing
assert len(alerts) == 1 and alerts[0]["kind"] == "decision", alerts
assert alerts[0]["reasons"][0]["signal"] == "tickets", alerts
assert not any(a.get("kind") == "health" for a in alerts)
PY
pass "exactly one drift (connector, field, share, keys-only shape) and one recovered, to health_deliver only"
pass "no decision alert from the refused documents; the ticket still alerts"
