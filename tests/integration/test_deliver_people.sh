#!/usr/bin/env bash
# Alerts reach people (docs/delivery-slack.md, docs/delivery-email.md): the real daemon
# delivers to a local Slack-compatible webhook (tests/support/slack_receiver.py checks the
# Block Kit structurally and answers 429 + Retry-After, 500, then 200) and to a real SMTP
# server (tests/support/smtp_server.py on aiosmtpd): headers, multipart, Message-ID, HTML
# escaping of an entity named <script>, a 550 dead-letters, a 451 retries; the "Wrong" button
# of the Slack message records a label through the admin endpoint it links to.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_slack delivery_email)
python3 "$ROOT/tests/support/slack_receiver.py" --log "$T/slack.ndjson" --script "429/1,500" \
    >"$T/slack.port" 2>"$T/slack.err" &
SLACK_PID=$!
/usr/bin/python3 "$ROOT/tests/support/smtp_server.py" --dir "$T/mail" --log "$T/smtp.ndjson" \
    >"$T/smtp.port" 2>"$T/smtp.err" &
SMTP_PID=$!
trap 'kill $SLACK_PID $SMTP_PID 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$T/slack.port" || fail "slack receiver did not start"
wait_for 10 test -s "$T/smtp.port" || fail "smtp server did not start: $(cat "$T/smtp.err")"
export SLACK_URL="http://127.0.0.1:$(head -1 "$T/slack.port")/services/T000/B000/XXXX"
export FEEDBACK_SECRET=fb-secret-for-tests
SMTP_PORT=$(head -1 "$T/smtp.port")
ADMIN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export FB="http://127.0.0.1:$ADMIN/v1/feedback/"

# Three customers cross the threshold: "<script>" (owner ann), one whose owner's mailbox
# bounces (550) and one whose mailbox is busy once (451).
for e in '<script>:ann@example.com' 'c-bounce:bounce@example.com' 'c-busy:busy@example.com'; do
    id=${e%%:*} mail=${e#*:}
    for t in 1000 2000; do
        printf '{"entity":"%s","type":"ticket.opened","time":%d,"plan":"pro","owner_email":"%s"}\n' \
            "$id" "$t" "$mail"
    done
done >"$T/events.ndjson"

cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
retry_base = 200ms
admin = 127.0.0.1:$ADMIN
public_url = http://127.0.0.1:$ADMIN
feedback_secret = env:FEEDBACK_SECRET
[decision]
name = churn
question = Is this customer about to churn?
bias = -3
threshold = 0.5
deliver = team_slack, owner_email
[signal tickets]
event = ticket.opened
measure = count
window = 14d
cap = 2
weight = 4
explain = {{n}} support tickets in {{window}}
[signal logins]
event = login
measure = recent
window = 1d
weight = 1
[connector in]
plugin = file
path = $T/events.ndjson
[delivery team_slack]
plugin = slack
url = env:SLACK_URL
link.crm = https://crm.example.com/accounts/{{entity}}
[delivery owner_email]
plugin = email
url = smtp://127.0.0.1:$SMTP_PORT
tls = off
from = sigflow <sigflow@example.com>
to = {{attr.owner_email}}
INI
"$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1 || fail "config refused: $(cat "$T/check.out")"
start_daemon "$T/ini"

# ---- Slack ----
slack_ok() { [ "$(grep -c '"status": 200' "$T/slack.ndjson" 2>/dev/null)" -ge 3 ]; }
wait_for 60 slack_ok || fail "slack got $(count_lines "$T/slack.ndjson") posts, not 3 answered 200"
python3 - "$T/slack.ndjson" "$T/wrong.url" <<'PY' || fail "Slack messages are not what Block Kit and the issue ask"
import json, os, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
statuses = [p["status"] for p in posts]
assert statuses[:2] == [429, 500], statuses          # answered 429, then 500, then 200s
assert statuses.count(200) == 3 and len(posts) == 5, statuses
for p in posts:
    assert p["errors"] == [], p["errors"]             # structurally valid Block Kit
def alert_of(p):                                      # the context block names the alert
    return json.loads(p["body"])["blocks"][-1]["elements"][0]["text"].split(" ")[3]
for refused in posts[:2]:
    again = [p for p in posts[2:] if alert_of(p) == alert_of(refused)]
    assert len(again) == 1 and again[0]["status"] == 200, statuses
    assert json.loads(again[0]["body"]) == json.loads(refused["body"])   # the same message
    if refused["status"] == 429:                      # Retry-After: 1 was honoured
        assert again[0]["time"] - refused["time"] >= 0.9, again[0]["time"] - refused["time"]
bodies = [json.loads(p["body"]) for p in posts if p["status"] == 200]
m = next(b for b in bodies if "&lt;script&gt;" in json.dumps(b))
types = [b["type"] for b in m["blocks"]]
assert types == ["header", "section", "section", "section", "actions", "context"], types
assert m["blocks"][0]["text"]["text"] == "Is this customer about to churn?"
fields = [f["text"] for f in m["blocks"][1]["fields"]]
assert fields[0] == "*Entity*\n&lt;script&gt;", fields
assert fields[1] == "*Score*\n73%", fields            # 1/(1+e^-(4-3)) = 0.731
assert "*plan*\npro" in fields, fields
why = m["blocks"][2]["text"]["text"]
assert why == "*Why*\n\u2022 2+ support tickets in 14d (+4.00)", why  # logins gave nothing
assert m["blocks"][3]["text"]["text"] == "<https://crm.example.com/accounts/%3Cscript%3E|crm>"
buttons = m["blocks"][4]["elements"]
assert [b["text"]["text"] for b in buttons] == ["Right", "Wrong"]
for b in buttons:
    assert b["url"].startswith(os.environ["FB"]), b["url"]
assert buttons[0]["url"] != buttons[1]["url"]
open(sys.argv[2], "w").write(buttons[1]["url"])       # "Wrong", clicked below
assert m["text"] == "Is this customer about to churn? &lt;script&gt; (73%)", m["text"]
PY
pass "slack: Block Kit with title, entity, score, attrs, contributing reasons, links, Right/Wrong; 429 and 500 retried"

# ---- e-mail ----
mail_done() { [ "$(ls "$T/mail" 2>/dev/null | wc -l)" -ge 2 ] && grep -q '"answer": 550' "$T/smtp.ndjson"; }
wait_for 60 mail_done || fail "smtp: $(cat "$T/smtp.ndjson" 2>/dev/null)"
/usr/bin/python3 - "$T/mail" "$T/smtp.ndjson" <<'PY' || fail "the e-mails are not right"
import email, email.policy, glob, json, re, sys
log = [json.loads(l) for l in open(sys.argv[2])]
assert [e["answer"] for e in log if e.get("rcpt") == "busy@example.com"] == [451], log
msgs = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    msgs[str(m["To"])] = m
assert set(msgs) == {"ann@example.com", "busy@example.com"}, msgs.keys()   # bounce never accepted
m = msgs["ann@example.com"]
assert str(m["From"]) == "sigflow <sigflow@example.com>"
assert str(m["Subject"]) == "[sigflow] Is this customer about to churn? <script> (73%)", m["Subject"]
assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", str(m["Message-ID"])), m["Message-ID"]
assert m["Date"] is not None and m["Date"].datetime is not None
assert m.get_content_type() == "multipart/alternative"
parts = {p.get_content_type(): p.get_content() for p in m.iter_parts()}
assert set(parts) == {"text/plain", "text/html"}, parts.keys()
text, html = parts["text/plain"], parts["text/html"]
assert "<script> scored 73%." in text and "- 2+ support tickets in 14d (+4.00)" in text, text
assert "Wrong: http://127.0.0.1:" in text and "/v1/feedback/" in text, text
assert "<script>" not in html and "<b>&lt;script&gt;</b>" in html, html
assert 'href="http://127.0.0.1:' in html and "/v1/feedback/" in html
assert "logins" not in text                                  # contributed nothing
PY
pass "email: headers, Message-ID <alert-id@domain>, multipart text+HTML, <script> escaped in HTML; 451 retried"

wait_for 30 bash -c "'$SIGFLOW' dlq -c '$T/ini' list owner_email 2>/dev/null | grep -q 'c-bounce'" ||
    fail "the 550 was not dead-lettered: $("$SIGFLOW" dlq -c "$T/ini" list 2>&1)"
"$SIGFLOW" dlq -c "$T/ini" list owner_email 2>/dev/null | grep 'c-bounce' | grep -q '550' ||
    fail "the dead letter does not carry the server's 550"
[ "$("$SIGFLOW" dlq -c "$T/ini" list 2>/dev/null | wc -l)" = 1 ] || fail "more than the bounce is dead"
pass "email: a 550 is dead-lettered at once with the server's answer"

# A person clicks "Wrong" in the Slack message: the label is recorded (a second click finds
# it recorded).
wrong=$(cat "$T/wrong.url")
code=$(curl -s -o "$T/click.html" -w '%{http_code}' "$wrong")
[ "$code" = 200 ] && grep -q 'marked <b>wrong (false positive)</b>' "$T/click.html" ||
    fail "the Wrong link did not record a label: $code $(cat "$T/click.html")"
grep -q '&lt;script&gt;' "$T/click.html" || fail "the page does not name the entity (escaped)"
curl -s "$wrong" | grep -q 'Already recorded' || fail "a second click did not find the label"
pass "the Wrong button of a real message records a false_positive label"
stop_daemon
