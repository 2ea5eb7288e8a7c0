#!/usr/bin/env bash
# `sigflow check` is the gate before a deploy: one run reports every planted mistake (core
# keys, plugin options, mappings, what a plugin's create refuses) each at its FILE:LINE; a
# plugin missing from plugin_dir is a warning; --no-secrets validates without the secrets;
# subcommand slips get a did-you-mean; -V prints the version.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file connector_webhook delivery_console delivery_webhook)
cat >"$T/bad.ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin = 127.0.0.1:99999
log_level = verbose
durability = fsnyc
[decision]
name = churn
threshold = 1.5
deliver = hook, ftp, out, nosuch
[signal logins]
event = login
measure = dorp
weight = x
[connector stripe]
plugin = webhook
path = /stripe
secret = ENV:STRIPE_KEY
map.entity = data.object.customer
map.type = type
map.time = created
map.atr.plan = data.object.plan
[connector desk]
plugin = webhook
path = desk
[connector crm]
plugin = hubspot_poll
[delivery hook]
plugin = webhook
url = https://hooks.example.com/churn
timeout = 5x
[delivery ftp]
plugin = webhook
url = ftp://files.example.com/churn
[delivery out]
plugin = console
formt = text
INI
line_of() { grep -n -- "$1" "$T/bad.ini" | head -1 | cut -d: -f1; }
"$SIGFLOW" check -c "$T/bad.ini" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "check exit $rc, want 1: $(tail -40 "$T/err")"
expect() { # PLANTED_LINE_PATTERN MESSAGE_FRAGMENT
    local n
    n=$(line_of "$1")
    grep -qF -- "$T/bad.ini:$n: " "$T/err" && grep -F -- "$T/bad.ini:$n: " "$T/err" | grep -qF -- "$2" ||
        fail "not reported at line $n ($1): want \`$2\`; got: $(cat "$T/err")"
}
expect 'admin = 127.0.0.1:99999' 'admin'
expect 'log_level = verbose' 'log_level'
expect 'durability = fsnyc' 'durability'
expect 'threshold = 1.5' 'threshold'
expect 'deliver = hook' 'nosuch'
expect 'measure = dorp' 'did you mean `drop`'
expect 'weight = x' 'weight'
expect 'secret = ENV:STRIPE_KEY' 'did you mean `env:STRIPE_KEY`'
expect 'map.atr.plan' 'did you mean `map.attr.plan`'
expect '^\[connector desk\]' "must start with '/'"
expect 'timeout = 5x' 'timeout'
expect '^\[delivery ftp\]' 'http:// or https://'
expect 'formt = text' 'did you mean `format`'
grep -q "^$T/bad.ini:$(line_of 'plugin = hubspot_poll'): warning: no plugin named \`hubspot_poll\`" "$T/err" ||
    fail "a missing plugin is not a warning at its line"
tail -1 "$T/err" | grep -q 'invalid (13 problems)' || fail "not 13 problems: $(tail -1 "$T/err")"
pass "check reports all 13 planted mistakes in one run, each at its FILE:LINE, and warns of a missing plugin"

# --no-secrets: how a secret is written is checked, its value is not read.
cat >"$T/ci.ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin_token = file:/nonexistent/admin.token
[connector stripe]
plugin = webhook
path = /stripe
signature = stripe
secret = env:SF_TEST_UNSET_SECRET
map.entity = data.object.customer
map.type = type
map.time = created
[delivery out]
plugin = console
INI
unset SF_TEST_UNSET_SECRET
"$SIGFLOW" check -c "$T/ci.ini" >/dev/null 2>"$T/err" && fail "unset secrets pass check"
grep -q 'SF_TEST_UNSET_SECRET is not set' "$T/err" || fail "the unset variable is not named"
"$SIGFLOW" check --no-secrets -c "$T/ci.ini" >"$T/out" 2>"$T/err" ||
    fail "--no-secrets refused: $(cat "$T/err")"
sed -i 's|^secret = env:SF_TEST_UNSET_SECRET|secret = sk_live_literal|' "$T/ci.ini"
"$SIGFLOW" check --no-secrets -c "$T/ci.ini" >/dev/null 2>&1 && fail "--no-secrets let a literal secret pass"
pass "check --no-secrets validates how secrets are written without reading them"

"$SIGFLOW" chek -c "$T/ci.ini" >/dev/null 2>"$T/err"
[ $? -eq 64 ] || fail "an unknown command does not exit 64"
grep -q 'did you mean `check`?' "$T/err" || fail "no did-you-mean for chek"
"$SIGFLOW" -V | grep -q '^sigflow [0-9]' || fail "-V does not print the version"
pass "subcommand slips get a did-you-mean; -V prints the version"
