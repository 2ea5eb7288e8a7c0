#!/usr/bin/env bash
# Generic HMAC signatures on the webhook connector (docs/connector-webhook.md): requests shaped
# as GitHub and Shopify document their deliveries, signed here with python3's hmac from the
# documented recipe (GitHub: "sha256=" + hex HMAC-SHA256 of the raw body in
# X-Hub-Signature-256; Shopify: base64 HMAC-SHA256 of the raw body in X-Shopify-Hmac-Sha256),
# posted to the real daemon. Correct -> 202 and journaled; wrong secret, tampered body,
# missing header, wrong encoding and missing prefix -> 401 each, naming the reason, nothing
# journaled.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export GH_SECRET="It's a Secret to Everybody"
export SHOP_SECRET=shpss_test_only_0123456789
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal issues]
event = issues.opened
measure = count
window = 1d
cap = 2
weight = 5
[connector github]
plugin = webhook
path = /hooks/github
signature = hmac-sha256
signature_header = X-Hub-Signature-256
signature_prefix = sha256=
secret = env:GH_SECRET
map.entity = repository.owner.login
map.type = =issues.opened
map.time = issue.created_at
map.id = issue.node_id
[connector shopify]
plugin = webhook
path = /hooks/shopify
signature = hmac-sha256
signature_header = X-Shopify-Hmac-Sha256
signature_encoding = base64
secret = env:SHOP_SECRET
map.entity = customer.id
map.type = =order.created
map.time = created_at
map.attr.total_price = total_price
map.id = id
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
"$SIGFLOW" check -c "$T/ini" >/dev/null || fail "config: $("$SIGFLOW" check -c "$T/ini" 2>&1)"
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/hooks/shopify" "$T/daemon.log" ||
    fail "webhook connectors not routed"

# An issues.opened delivery as GitHub documents it (headers and the payload's shape).
cat >"$T/github.json" <<'JSON'
{"action":"opened","issue":{"url":"https://api.github.com/repos/acme/widgets/issues/1347","id":1,"node_id":"MDU6SXNzdWUx","number":1347,"title":"Found a bug","state":"open","created_at":"2026-11-30T10:00:00Z","user":{"login":"octocat","id":1}},"repository":{"id":1296269,"node_id":"MDEwOlJlcG9zaXRvcnkxMjk2MjY5","name":"widgets","full_name":"acme/widgets","owner":{"login":"acme","id":42}},"sender":{"login":"octocat","id":1}}
JSON
# An orders/create delivery as Shopify documents it (trimmed order payload).
cat >"$T/shopify.json" <<'JSON'
{"id":820982911946154508,"email":"jon@example.com","created_at":"2026-11-30T10:05:00-05:00","currency":"USD","total_price":"398.00","financial_status":"paid","customer":{"id":115310627314723954,"email":"john@example.com","first_name":"John","last_name":"Smith"}}
JSON

# send WHICH MODE: POST the fixture with its tool's headers; MODE: good | wrong_secret |
# tampered | missing | hex_for_base64 | base64_for_hex | no_prefix. Prints "status body".
send() {
    python3 - "$PORT" "$1" "$2" "$T/$1.json" <<'PY'
import base64, hashlib, hmac, os, sys, urllib.error, urllib.request
port, which, mode, path = sys.argv[1:5]
body = open(path, "rb").read()
secret = os.environ["GH_SECRET" if which == "github" else "SHOP_SECRET"].encode()
if mode == "wrong_secret":
    secret = b"not-the-secret"
mac = hmac.new(secret, body, hashlib.sha256)
if mode == "tampered":
    body = body.replace(b"Found a bug", b"Found a bag").replace(b"398.00", b"1.00")
if which == "github":
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
               "X-GitHub-Event": "issues", "X-GitHub-Hook-ID": "292430182",
               "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
               "X-GitHub-Hook-Installation-Target-Type": "repository",
               "X-GitHub-Hook-Installation-Target-ID": "79929171"}
    value = "sha256=" + mac.hexdigest()
    if mode == "base64_for_hex":
        value = "sha256=" + base64.b64encode(mac.digest()).decode()
    if mode == "no_prefix":
        value = mac.hexdigest()
    name = "X-Hub-Signature-256"
    url = "/hooks/github"
else:
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
               "X-Shopify-Shop-Domain": "acme.myshopify.com", "X-Shopify-API-Version": "2025-10",
               "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
               "X-Shopify-Triggered-At": "2026-11-30T15:05:00.000Z"}
    value = base64.b64encode(mac.digest()).decode()
    if mode == "hex_for_base64":
        value = mac.hexdigest()
    name = "X-Shopify-Hmac-Sha256"
    url = "/hooks/shopify"
if mode != "missing":
    headers[name] = value
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, url), data=body, headers=headers)
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
PY
}

# The documented test vector (GitHub's "Validating webhook deliveries"): this secret and
# "Hello, World!" sign to 757107ea...e17. Passing the signature check, the body is then
# refused by the mapper (400), not by the signature (401).
printf 'Hello, World!' >"$T/vector.txt"
out=$(python3 - "$PORT" "$T/vector.txt" <<'PY'
import sys, urllib.error, urllib.request
port, path = sys.argv[1:3]
req = urllib.request.Request("http://127.0.0.1:%s/hooks/github" % port, data=open(path, "rb").read(),
    headers={"X-Hub-Signature-256":
             "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"})
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)
[ "$out" = 400 ] || fail "GitHub's documented test vector: got $out, want 400 (signature ok, body not an event)"
pass "GitHub's documented signature test vector passes the check"

expect() { # WHICH MODE STATUS TEXT
    local out
    out=$(send "$1" "$2")
    [ "${out%% *}" = "$3" ] || fail "$1 $2: got '$out', want $3"
    [ -z "$4" ] || echo "$out" | grep -q -- "$4" || fail "$1 $2: '$out' does not say '$4'"
    pass "$1 $2 -> $3${4:+ ($4)}"
}
for which in github shopify; do
    expect "$which" wrong_secret 401 "does not match"
    expect "$which" tampered 401 "does not match"
    expect "$which" missing 401 "missing signature header"
done
expect github base64_for_hex 401 "encoding"
expect github no_prefix 401 "prefix"
expect shopify hex_for_base64 401 "encoding"

rows() { python3 -c "import sqlite3; print(sqlite3.connect('$T/var/sigflow.db').execute('select count(*) from journal').fetchone()[0])"; }
[ "$(rows)" = 0 ] || fail "refused requests were journaled: $(rows) rows"
pass "nothing of the refused requests was journaled"

expect github good 202 '"accepted":1'
expect shopify good 202 '"accepted":1'
python3 - "$T/var/sigflow.db" <<'PY' || fail "journaled events are not the two deliveries"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "select entity, type, time_ms, attrs, source_id from journal order by seq").fetchall()
want = [("acme", "issues.opened", 1796032800000, None, "MDU6SXNzdWUx"),
        ("115310627314723954", "order.created", 1796051100000, '{"total_price":"398.00"}',
         "820982911946154508")]
assert rows == want, rows
PY
pass "the GitHub and Shopify deliveries were journaled, mapped"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "daemon exit $DAEMON_RC"
