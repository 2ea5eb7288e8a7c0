#!/usr/bin/env bash
# Real-world mapping on one Stripe-shaped endpoint (docs/config.md "Choosing event types"):
# `types` keeps only the listed event types (the others are answered 2xx and counted, never
# 400, or Stripe disables the endpoint), `type.SOURCE = TYPE` renames, `on_unmapped = ignore`
# acknowledges documents without the mapped fields; only kept events are journaled.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(free_port)
ADMIN=$(free_port)
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
admin = 127.0.0.1:$ADMIN
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal cancels]
event = subscription.cancel
measure = count
window = 30d
cap = 1
weight = 5
[connector stripe]
plugin = webhook
path = /stripe
map.entity = data.object.customer
map.type = type
map.time = created
map.time_unit = s
types = subscription.cancel, invoice.payment_failed
type.customer.subscription.deleted = subscription.cancel
on_unmapped = ignore
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
"$SIGFLOW" check -c "$T/ini" >"$T/check" 2>&1 || fail "config: $(cat "$T/check")"
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/stripe" "$T/daemon.log" || fail "not routed"

post() { # BODY -> HTTP status
    python3 - "$PORT" "$1" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:%s/stripe" % sys.argv[1], data=sys.argv[2].encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
ev() { echo "{\"id\":\"evt_$RANDOM\",\"type\":\"$1\",\"created\":$3,\"data\":{\"object\":{\"customer\":\"$2\"}}}"; }

for body in "$(ev customer.subscription.deleted cus_A 1764000000)" \
    "$(ev invoice.payment_failed cus_B 1764000060)" \
    "$(ev charge.succeeded cus_C 1764000120)" \
    "$(ev customer.updated cus_D 1764000180)" \
    '{"type":"ping","data":{}}' \
    "$(ev invoice.payment_failed cus_E 1764090000)"; do
    st=$(post "$body")
    case "$st" in 2??) ;; *) fail "answered $st to $body" ;; esac
done
pass "every Stripe event type is answered 2xx, listed or not, mapped or not"

"$SIGFLOW" journal -c "$T/ini" >"$T/journal.ndjson" 2>"$T/journal.err" || fail "journal: $(cat "$T/journal.err")"
[ "$(wc -l <"$T/journal.ndjson")" -eq 3 ] || fail "journaled: $(cat "$T/journal.ndjson")"
grep -q '"entity":"cus_A","type":"subscription.cancel"' "$T/journal.ndjson" || fail "rename not journaled"
grep -q 'cus_C\|cus_D\|ping' "$T/journal.ndjson" && fail "an unlisted or unmapped event was journaled"
pass "only the listed types are journaled, renamed"

wait_for 20 grep -q '"cus_A"' "$T/alerts.ndjson" || fail "the renamed cancel did not score"
metrics() { curl -s "http://127.0.0.1:$ADMIN/metrics"; }
wait_for 10 bash -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^sigflow_mapping_dropped_total{connector=\"stripe\",reason=\"type\"} 2\$'" ||
    fail "filtered types not counted: $(metrics | grep dropped)"
wait_for 10 bash -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^sigflow_mapping_dropped_total{connector=\"stripe\",reason=\"unmapped\"} 1\$'" ||
    fail "the ignored unmapped document is not counted: $(metrics | grep dropped)"
pass "dropped documents are counted per reason in /metrics"
stop_daemon
