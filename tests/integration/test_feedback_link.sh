#!/usr/bin/env bash
# A click on a feedback link in a real message ends as a recorded label (#8 with #9): the
# webhook delivery posts the message model to a real receiver; its feedback.false_positive
# and feedback.confirm URLs (PUBLIC_URL/v1/feedback/TOKEN, signed with feedback_secret) are
# opened as a person's browser would, without any admin token; the labels show in
# GET /v1/alerts and `sigflow explain`, via = link. A link of this message signed by another
# daemon's secret is refused.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_webhook)
start_receiver
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SF_TEST_ADMIN_TOKEN="link-$RANDOM-token"
export SF_TEST_FEEDBACK_SECRET="link-secret-$RANDOM-0123456789"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$PORT
admin_token = env:SF_TEST_ADMIN_TOKEN
public_url = http://127.0.0.1:$PORT
feedback_secret = env:SF_TEST_FEEDBACK_SECRET
[decision]
name = d
question = Is this customer about to churn?
threshold = 0.5
deliver = hook
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
[connector in]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 50ms
[delivery hook]
plugin = webhook
url = http://127.0.0.1:$RECV_PORT/hook
timeout = 2s
INI
printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:00Z"}\n' acme globex >"$T/events.ndjson"

start_daemon "$T/ini"
wait_for 20 has_lines "$T/received.ndjson" 2 || fail "the receiver got $(count_lines "$T/received.ndjson") messages"
# The links as the messages carry them: entity alert_id confirm_url false_positive_url
python3 - "$T/received.ndjson" >"$T/links" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = json.loads(r["body"])
    print(m["entity"], m["alert_id"], m["feedback"]["confirm"], m["feedback"]["false_positive"])
PY
read -r E1 A1 C1 W1 < <(grep '^acme ' "$T/links")
read -r E2 A2 C2 W2 < <(grep '^globex ' "$T/links")
[ -n "$W1" ] && [ -n "$C2" ] || fail "messages without feedback links: $(cat "$T/links")"
case "$W1" in "http://127.0.0.1:$PORT/v1/feedback/"*) ;; *) fail "link not under public_url: $W1" ;; esac

# A person clicks "Wrong" on acme's message and "Right" on globex's: no token, just the URL.
page=$(curl -s -w '\n%{http_code}' "$W1")
[ "${page##*$'\n'}" = 200 ] || fail "the Wrong link: $page"
echo "$page" | grep -q 'marked <b>wrong (false positive)</b>' || fail "the page does not say what was recorded: $page"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$C2")" = 200 ] || fail "the Right link"
# the other link of a message already labelled is a conflict, not a silent change
[ "$(curl -s -o /dev/null -w '%{http_code}' "$C1")" = 409 ] || fail "Right after Wrong is not 409"

auth="Authorization: Bearer $SF_TEST_ADMIN_TOKEN"
curl -s -H "$auth" "http://127.0.0.1:$PORT/v1/alerts" | python3 -c '
import json, sys
want = {sys.argv[1]: "false_positive", sys.argv[2]: "confirmed"}
got = {a["alert_id"]: (a["label"]["label"], a["label"]["via"], a["label"]["source"])
       for a in json.load(sys.stdin)["alerts"] if a["label"]}
assert got == {k: (v, "link", "person") for k, v in want.items()}, got' "$A1" "$A2" ||
    fail "GET /v1/alerts: $(curl -s -H "$auth" "http://127.0.0.1:$PORT/v1/alerts")"
"$SIGFLOW" explain -c "$T/ini" acme | grep -q "label false_positive by person via link" ||
    fail "explain: $("$SIGFLOW" explain -c "$T/ini" acme)"

# The same message's link re-signed with another secret: forged, refused, nothing recorded.
forged=$(python3 - "$W1" <<'PY'
import base64, hashlib, hmac, sys
tok = sys.argv[1].rsplit("/", 1)[1]
raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
p = raw[:-32]
mac = hmac.new(b"another-secret-0123456789", p, hashlib.sha256).digest()
print(sys.argv[1].rsplit("/", 1)[0] + "/" + base64.urlsafe_b64encode(p + mac).rstrip(b"=").decode())
PY
)
[ "$(curl -s -o /dev/null -w '%{http_code}' "$forged")" = 403 ] || fail "a re-signed link is not 403"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC"
pass "a Wrong/Right click on the links of a delivered message records the label (GET /v1/alerts, explain)"
