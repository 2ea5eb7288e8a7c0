#!/usr/bin/env bash
# The admin API's /v1 endpoints over real HTTP against the real daemon (docs/admin-api.md):
# refused without the token, with a wrong one, and entirely when no admin_token is set;
# POST /v1/feedback's 201/200/404/409/400/413 paths; signed links (built here in Python from
# the token format docs/admin-api.md specifies): a "Wrong" click ends as a recorded label seen
# in GET /v1/alerts and `sigflow explain`, forged and expired links are 403; labels survive
# kill -9 and restart; `sigflow feedback` through the daemon.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SF_TEST_ADMIN_TOKEN="adm-$RANDOM-$RANDOM-token"
export SF_TEST_FEEDBACK_SECRET="fb-secret-$RANDOM-0123456789"
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^clock = event|clock = event\nadmin = 127.0.0.1:$PORT|" "$T/ini"
sed -e "s|^state_dir = .*|state_dir = $T/var.off|" -e "s|alerts.ndjson|alerts.off.ndjson|" "$T/ini" >"$T/ini.off" # no admin_token: /v1 is off
sed -i "s|^clock = event|clock = event\nadmin_token = env:SF_TEST_ADMIN_TOKEN\npublic_url = http://127.0.0.1:$PORT/\nfeedback_secret = env:SF_TEST_FEEDBACK_SECRET|" "$T/ini"
{
    printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:00Z"}\n' e1 e2 e3 '<script>x</script>'
    printf '{"entity":"quiet","type":"page.view","time":"2026-11-01T10:00:00Z"}\n'
} >"$T/events.ndjson"

# http METHOD PATH [AUTH] [BODY|@FILE] -> "STATUS BODY" (AUTH: "-" none, "bad" wrong, "ok")
http() {
    python3 - "$PORT" "$@" <<'PY'
import os, sys, urllib.request, urllib.error
port, method, path = sys.argv[1:4]
auth = sys.argv[4] if len(sys.argv) > 4 else "-"
body = sys.argv[5] if len(sys.argv) > 5 else None
data = None
if body is not None:
    data = open(body[1:], "rb").read() if body.startswith("@") else body.encode()
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), method=method, data=data)
if auth == "ok":
    req.add_header("Authorization", "Bearer " + os.environ["SF_TEST_ADMIN_TOKEN"])
elif auth == "bad":
    req.add_header("Authorization", "Bearer " + os.environ["SF_TEST_ADMIN_TOKEN"] + "x")
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
code() {
    local r
    r=$(http "$@")
    echo "${r:0:3}"
}

# link_token ALERT_ID LABEL EXPIRY_S [SECRET]: a token as docs/admin-api.md specifies it.
link_token() {
    python3 - "$1" "$2" "$3" "${4:-$SF_TEST_FEEDBACK_SECRET}" <<'PY'
import base64, hashlib, hmac, struct, sys
alert_id, label, exp, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = bytes([1]) + struct.pack(">q", exp) + bytes([len(label)]) + label.encode() + alert_id.encode()
mac = hmac.new(secret.encode(), p, hashlib.sha256).digest()
print(base64.urlsafe_b64encode(p + mac).rstrip(b"=").decode())
PY
}
alert_of() { # ENTITY -> its alert id, from the console delivery's lines
    python3 -c '
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["entity"] == sys.argv[2]: print(a["alert_id"])' "$T/alerts.ndjson" "$1"
}
json_get() { # EXPR over the JSON body of "STATUS BODY" on stdin, e.g. 'd["label"]'
    python3 -c 'import json, sys; t = sys.stdin.read(); d = json.loads(t[4:]); print(eval(sys.argv[1]))' "$1"
}

# ---- no admin_token: /v1 is off, with a line at startup ---------------------------------------
start_daemon "$T/ini.off"
grep -q 'the /v1 admin API is off: set \[sigflow\] admin_token' "$T/daemon.log" ||
    fail "no startup line saying the admin API is off"
[ "$(code GET /v1/model ok)" = 403 ] || fail "/v1/model without admin_token: $(http GET /v1/model ok)"
[ "$(code POST /v1/feedback ok '{"alert_id":"x","label":"confirmed"}')" = 403 ] || fail "POST without admin_token not 403"
[ "$(code GET /v1/feedback/abc)" = 404 ] || fail "links without feedback_secret: $(http GET /v1/feedback/abc)"
[ "$(code GET /healthz)" = 200 ] || fail "/healthz needs no token"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC"
pass "without admin_token the /v1 endpoints answer 403 (links 404) and the log says why"

# ---- with the token -----------------------------------------------------------------------------
start_daemon "$T/ini"
wait_for 10 has_lines "$T/alerts.ndjson" 4 || fail "alerts missing"
A1=$(alert_of e1) A2=$(alert_of e2) A3=$(alert_of e3) AS=$(alert_of '<script>x</script>')
[ -n "$A1" ] && [ -n "$A2" ] && [ -n "$AS" ] || fail "alert ids not found"
for p in "POST /v1/feedback" "GET /v1/entities/e1" "GET /v1/alerts" "GET /v1/model" "GET /v1/nosuch"; do
    set -- $p
    [ "$(code "$1" "$2" - '{}')" = 401 ] || fail "$p without a token: $(http "$1" "$2" - '{}')"
    [ "$(code "$1" "$2" bad '{}')" = 401 ] || fail "$p with a wrong token: $(http "$1" "$2" bad '{}')"
done
[ "$(code GET /metrics)" = 200 ] || fail "/metrics needs no token"
grep -q "$SF_TEST_ADMIN_TOKEN" "$T/daemon.log" && fail "the admin token is in the log"
grep -q "$SF_TEST_FEEDBACK_SECRET" "$T/daemon.log" && fail "the feedback secret is in the log"
pass "every /v1 endpoint refuses a request without the token and with a wrong one (401)"

r=$(http POST /v1/feedback ok "{\"alert_id\":\"$A1\",\"label\":\"confirmed\"}")
[ "${r:0:3}" = 201 ] || fail "label: $r"
[ "$(echo "$r" | json_get 'd["label"], d["source"], d["entity"], d["result"]')" = "('confirmed', 'person', 'e1', 'created')" ] ||
    fail "stored label: $r"
[ "$(code POST /v1/feedback ok "{\"alert_id\":\"$A1\",\"label\":\"confirmed\"}")" = 200 ] || fail "the same label again is not 200"
r=$(http POST /v1/feedback ok "{\"alert_id\":\"$A1\",\"label\":\"false_positive\"}")
[ "${r:0:3}" = 409 ] || fail "a second, different label: $r"
[ "$(echo "$r" | json_get 'd["label"]["label"]')" = confirmed ] || fail "409 does not show the stored label: $r"
r=$(http POST /v1/feedback ok "{\"alert_id\":\"$A1\",\"label\":\"false_positive\",\"replace\":true}")
[ "${r:0:3}" = 201 ] && [ "$(echo "$r" | json_get 'd["result"]')" = replaced ] || fail "replace: $r"
[ "$(code POST /v1/feedback ok '{"alert_id":"0123abcd","label":"confirmed"}')" = 404 ] || fail "unknown alert not 404"
[ "$(code POST /v1/feedback ok '{"entity":"nobody","label":"missed"}')" = 404 ] || fail "unknown entity not 404"
r=$(http POST /v1/feedback ok '{"entity":"quiet","label":"missed","time":"2026-11-20T00:00:00Z"}')
[ "${r:0:3}" = 201 ] && [ "$(echo "$r" | json_get 'd["time"]')" = 2026-11-20T00:00:00.000Z ] || fail "missed: $r"
for bad in '{"alert_id":"x","label":"wrong"}' '{"alert_id":"x"}' '{"entity":"e1","label":"confirmed"}' \
    "{\"alert_id\":\"$A2\",\"label\":\"missed\"}" '{"entity":"e1","label":"missed","time":"yesterday"}' \
    '{"alert_id":"x","label":"confirmed","extra":1}' '{"alert_id":' '[1,2]' '' 'null'; do
    [ "$(code POST /v1/feedback ok "$bad")" = 400 ] || fail "bad body $bad: $(http POST /v1/feedback ok "$bad")"
done
head -c 20000 /dev/zero | tr '\0' ' ' >"$T/big"
[ "$(code POST /v1/feedback ok @"$T/big")" = 413 ] || fail "a 20 kB body is not 413"
[ "$(code GET /v1/feedback ok)" = 405 ] || fail "GET /v1/feedback is not 405"
pass "POST /v1/feedback: 201 stored, 200 unchanged, 409 conflict, replace, 404 unknown, 400 bad body, 413 too large"

# ---- the one-click link --------------------------------------------------------------------------
now=$(date +%s)
tok=$(link_token "$A2" false_positive $((now + 3600)))
r=$(http GET "/v1/feedback/$tok")
[ "${r:0:3}" = 200 ] || fail "a good link: $r"
echo "$r" | grep -q 'marked <b>wrong (false positive)</b>' || fail "the page does not say what was recorded: $r"
r=$(http GET /v1/alerts?label=false_positive ok)
echo "$r" | grep -q "\"alert_id\":\"$A2\"" || fail "the clicked label is not in GET /v1/alerts: $r"
[ "$(echo "$r" | json_get '[a["label"]["via"] for a in d["alerts"] if a["entity"] == "e2"][0]')" = link ] ||
    fail "label not recorded via link: $r"
[ "$(code GET "/v1/feedback/$tok")" = 200 ] || fail "a second click is not 200"
tok=$(link_token "$AS" confirmed $((now + 3600)))
r=$(http GET "/v1/feedback/$tok")
echo "$r" | grep -q '&lt;script&gt;x&lt;/script&gt;' || fail "the entity is not HTML-escaped: $r"
echo "$r" | grep -q '<script>x' && fail "the entity is in the page unescaped"
forged=$(link_token "$A3" false_positive $((now + 3600)) "another-secret-0123456789")
expired=$(link_token "$A3" false_positive $((now - 5)))
tampered=$(link_token "$A3" confirmed $((now + 3600)))
tampered="${tampered%?}$([ "${tampered: -1}" = A ] && echo B || echo A)"
for t in "$forged" "$expired" "$tampered" abc "$(printf 'A%.0s' $(seq 300))"; do
    [ "$(code GET "/v1/feedback/$t")" = 403 ] || fail "link ${t:0:20}... not 403: $(http GET "/v1/feedback/$t")"
done
http GET "/v1/feedback/$expired" | grep -q 'expired' || fail "the expired page does not say so"
r=$(http GET /v1/entities/e3 ok)
[ "$(echo "$r" | json_get 'd["alerts"][0]["label"]')" = None ] || fail "a refused link recorded a label: $r"
pass "a \"Wrong\" link records false_positive (GET /v1/alerts shows it); forged, tampered, expired, malformed links are 403"

# ---- reads -----------------------------------------------------------------------------------------
r=$(http GET /v1/entities/e2 ok)
[ "${r:0:3}" = 200 ] || fail "entity: $r"
[ "$(echo "$r" | json_get 'd["signals"][0]["signal"], d["signals"][0]["x"], d["signals"][0]["weight"], d["signals"][0]["contribution"]')" = "('logins', 1.0, 5.0, 5.0)" ] ||
    fail "entity signals: $r"
[ "$(echo "$r" | json_get 'round(d["score"], 4), d["features"]["logins"]')" = "(0.9933, 1.0)" ] || fail "entity score: $r"
[ "$(echo "$r" | json_get 'd["alerts"][0]["deliveries"][0]["target"], d["alerts"][0]["deliveries"][0]["state"], d["alerts"][0]["deliveries"][0]["attempts"]')" = "('out', 'delivered', 1)" ] ||
    fail "entity deliveries: $r"
[ "$(code GET /v1/entities/nobody ok)" = 404 ] || fail "unknown entity not 404"
r=$(http GET /v1/entities/quiet ok)
[ "$(echo "$r" | json_get 'd["score"], len(d["alerts"]), d["missed"][0]["label"]')" = "(None, 0, 'missed')" ] || fail "quiet entity: $r"
r=$(http GET "/v1/alerts?entity=e1" ok)
[ "$(echo "$r" | json_get 'len(d["alerts"]), d["alerts"][0]["label"]["label"]')" = "(1, 'false_positive')" ] || fail "alerts by entity: $r"
[ "$(http GET "/v1/alerts?label=none" ok | json_get 'sorted(a["entity"] for a in d["alerts"])')" = "['e3']" ] || fail "unlabelled alerts"
[ "$(http GET "/v1/alerts?since=2026-11-02T00:00:00Z" ok | json_get 'len(d["alerts"])')" = 0 ] || fail "since"
[ "$(http GET "/v1/alerts?limit=2" ok | json_get 'len(d["alerts"]), d["more"]')" = "(2, True)" ] || fail "limit"
for q in "since=yesterday" "label=missed" "label=maybe" "limit=0" "bogus=1"; do
    [ "$(code GET "/v1/alerts?$q" ok)" = 400 ] || fail "alerts?$q not 400"
done
r=$(http GET /v1/model ok)
[ "$(echo "$r" | json_get 'd["weights"]["logins"], d["threshold"], d["configured"]["bias"], d["labels"]["person"]')" = "(5.0, 0.5, 0.0, 4)" ] ||
    fail "model: $r"
# the engine's model (published by the scorer thread), not a copy of the config
[ "$(echo "$r" | json_get 'd["model_source"], d["model_version"], d["configured"]["weights"]["logins"], d["history"]')" = "('engine', 1, 5.0, [])" ] ||
    fail "model from the engine: $r"
m=$(http GET /metrics)
echo "$m" | grep -q '^sigflow_labels_total{label="false_positive",source="person"} 2$' || fail "labels metric: $m"
echo "$m" | grep -q '^sigflow_labels_total{label="missed",source="person"} 1$' || fail "missed metric"
echo "$m" | grep -q '^sigflow_manual_interventions_total 5$' || fail "interventions: $(echo "$m" | grep interv)"
# 5 events, all at 2026-11-01T10:00:00Z (1793527200 s); 4 entities whose events a signal
# reads (page.view is read by none); 4 alerts, each stored and delivered. The engine also
# scored the daemon's sigflow.label events: one per person label on an alert created or
# replaced (the 5 interventions above less the missed one; docs/scoring.md "People's labels").
[ "$(grep -c 'label journaled for the refits' "$T/daemon.log")" = 4 ] ||
    fail "journaled labels: $(grep 'label journaled' "$T/daemon.log")"
m=$(http GET /metrics)
echo "$m" | grep -q '^sigflow_events_scored_total 9$' || fail "events scored: $(echo "$m" | grep scored)"
echo "$m" | grep -q '^sigflow_engine_time_seconds 1793527200$' || fail "engine time: $(echo "$m" | grep engine_time)"
echo "$m" | grep -q '^sigflow_entities{state="live"} 4$' || fail "entities: $(echo "$m" | grep entities)"
echo "$m" | grep -q '^sigflow_entities{state="retired"} 0$' || fail "retired entities: $(echo "$m" | grep entities)"
echo "$m" | grep -q '^sigflow_event_to_alert_seconds_count 4$' || fail "event_to_alert: $(echo "$m" | grep event_to)"
echo "$m" | grep -q '^sigflow_event_to_alert_seconds_bucket{le="+Inf"} 4$' || fail "event_to_alert buckets"
echo "$m" | grep -q '^sigflow_alert_to_delivery_seconds_count 4$' || fail "alert_to_delivery: $(echo "$m" | grep alert_to)"
pass "GET /v1/entities/ID, /v1/alerts (since, entity, label, limit), /v1/model; labels, scoring and latency in /metrics"

# ---- the CLI, kill -9, restart ----------------------------------------------------------------------
"$SIGFLOW" feedback -c "$T/ini" "$A3" confirmed >"$T/fb.out" || fail "sigflow feedback: $(cat "$T/fb.out")"
grep -q "created: confirmed alert $A3" "$T/fb.out" || fail "feedback output: $(cat "$T/fb.out")"
"$SIGFLOW" feedback -c "$T/ini" "$A3" false_positive 2>"$T/fb.err" && fail "a conflicting label was accepted"
grep -q -- '--replace' "$T/fb.err" || fail "the conflict does not say how to replace: $(cat "$T/fb.err")"
"$SIGFLOW" feedback -c "$T/ini" --missed e1 --time 2026-11-21T00:00:00Z >/dev/null || fail "feedback --missed"
"$SIGFLOW" feedback -c "$T/ini" --missed nobody 2>/dev/null && fail "missed for an unknown entity was accepted"
"$SIGFLOW" feedback -c "$T/ini" "$A3" 2>/dev/null; [ $? = 64 ] || fail "a bad command line is not 64"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon "$T/ini"
r=$(http GET /v1/alerts?label=false_positive ok)
[ "$(echo "$r" | json_get 'sorted(a["entity"] for a in d["alerts"])')" = "['e1', 'e2']" ] || fail "labels lost by kill -9: $r"
"$SIGFLOW" explain -c "$T/ini" e2 >"$T/explain.out" || fail "explain failed"
grep -q "score 0.9933 at 2026-11-01T10:00:00.000Z (latest alert $A2)" "$T/explain.out" || fail "explain score: $(cat "$T/explain.out")"
grep -Eq '^  logins +1\.000 +5\.000 +5\.000' "$T/explain.out" || fail "explain contributions: $(cat "$T/explain.out")"
grep -q "delivery out: delivered at" "$T/explain.out" || fail "explain deliveries: $(cat "$T/explain.out")"
grep -q "label false_positive by person via link" "$T/explain.out" || fail "explain label: $(cat "$T/explain.out")"
"$SIGFLOW" explain -c "$T/ini" e1 | grep -q "2026-11-21T00:00:00.000Z label missed by person via api" || fail "explain missed"
"$SIGFLOW" explain -c "$T/ini" nobody 2>/dev/null && fail "explain of an unknown entity succeeded"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC: $(tail -5 "$T/daemon.log")"
pass "sigflow feedback goes through the daemon; labels survive kill -9; sigflow explain shows the click"
