#!/usr/bin/env bash
# A failing instance is restarted with doubling backoff on its own while the others run on
# (docs/sdk.md, Lifecycle, collectd's rule): the plugin's own error text is in the log.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/create_fails.so" "$PD/"
write_login_ini "$PD" "$T/alerts.ndjson" "[connector broken]
plugin = create_fails"
: >"$T/events.ndjson"
start_daemon "$T/ini"
grep -q 'instance=broken plugin=create_fails failed to start: create_fails: refusing to create' \
    "$T/daemon.log" || fail "the plugin's own error is not in the log"
wait_for 10 grep -q 'instance=broken will be restarted in 2000 ms' "$T/daemon.log" ||
    fail "no doubling backoff (1000 ms, then 2000 ms)"
grep -q 'instance=broken will be restarted in 1000 ms' "$T/daemon.log" || fail "first backoff not 1 s"
echo '{"entity":"ok1","type":"login","time":"2026-11-01T10:00:00Z"}' >>"$T/events.ndjson"
wait_for 10 grep -q '"entity":"ok1"' "$T/alerts.ndjson" || fail "the other instances stopped working"
pass "a failing instance backs off 1 s, 2 s, ... while the others run on"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
