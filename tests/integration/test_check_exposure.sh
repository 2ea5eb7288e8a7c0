#!/usr/bin/env bash
# `sigflow check` warns when the admin listener is reachable beyond loopback with no
# admin_token, and when a webhook connector takes unsigned events on an ingest listener beyond
# loopback (docs/reliability.md, Delivery and hardening); loopback, a token and a signature
# each silence their warning. Warnings, not errors: check still exits 0.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
write_ini() { # ADMIN INGEST SIGNATURE_LINES TOKEN_LINE
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin = $1
ingest = $2
$4
[decision]
name = d
threshold = 0.5
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
[connector hooks]
plugin = webhook
path = /hooks/in
$3
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
}
check() {
    "$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || fail "check exit $rc: $(cat "$T/check.out")"
}

write_ini 0.0.0.0:9464 '[::]:8088' "" ""
check
grep -q 'warning: admin = 0.0.0.0:9464 listens beyond loopback with no admin_token' "$T/check.out" ||
    fail "no admin warning: $(cat "$T/check.out")"
grep -q 'warning: \[connector hooks\] takes events on ingest = \[::\]:8088, beyond loopback, with no signature' \
    "$T/check.out" || fail "no unsigned-connector warning: $(cat "$T/check.out")"
grep -q 'ok (.*) with warnings' "$T/check.out" || fail "not ok with warnings: $(cat "$T/check.out")"
pass "admin beyond loopback without a token and an unsigned webhook beyond loopback are warned about"

export EXPOSURE_TOKEN=t0k3n-for-the-test EXPOSURE_SECRET=whsec_for_the_test
write_ini 0.0.0.0:9464 0.0.0.0:8088 "signature = sigflow
secret = env:EXPOSURE_SECRET" "admin_token = env:EXPOSURE_TOKEN"
check
grep -q 'warning' "$T/check.out" && fail "warned despite a token and a signature: $(cat "$T/check.out")"
write_ini 127.0.0.1:9464 127.0.0.1:8088 "" ""
check
grep -q 'warning' "$T/check.out" && fail "warned about loopback listeners: $(cat "$T/check.out")"
pass "a token, a signature or loopback silences each warning"
