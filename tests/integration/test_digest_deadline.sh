#!/usr/bin/env bash
# A digest send (`mode = digest`) honours deliver_timeout as a single send does
# (docs/reliability.md, Plugins): a digest whose deliver never returns is given up on after
# deliver_timeout with a line naming it, every alert of the digest gets its attempt recorded
# as a retry, and the daemon stops promptly.
. "$(dirname "$0")/lib.sh"

login() { printf '{"entity":"%s","type":"login","time":"2026-11-02T10:%s","value":1}\n' "$1" "$2"; }

PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/deliver_hangs.so" "$PD/"
write_login_ini "$PD" "$T/alerts.ndjson" "[delivery slow]
plugin = deliver_hangs
mode = digest
every = 1m"
sed -i 's/^deliver = out$/deliver = out, slow/' "$T/ini"
sed -i "s|^clock = event|clock = event\ndeliver_timeout = 1s\nretry_base = 100ms\nretry_max = 200ms|" "$T/ini"
# Two alerts held for the 10:01 slot ("stuck" first), then an event past it: the digest is due.
{
    login stuck 00:10Z
    login other 00:20Z
} >"$T/events.ndjson"
"$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1 || fail "config refused: $(cat "$T/check.out")"
start_daemon "$T/ini"
wait_for 20 grep -q '"entity":"other"' "$T/alerts.ndjson" || fail "no alert to the console"
login later 03:00Z >>"$T/events.ndjson"
wait_for 30 grep -q 'instance=slow plugin=deliver_hangs: deliver of alert=digest-.* did not return within 1000 ms' \
    "$T/daemon.log" || fail "a hanging digest send was never given up on"
grep -q 'target=slow msg="retrying alert=digest-.* digest_alerts=2 attempt=1 .*error=\\"deliver did not return within 1000 ms' \
    "$T/daemon.log" || fail "no retry line for the digest's two alerts: $(grep retrying "$T/daemon.log")"
# Both rows are pending again (a retry), so both are held for the next digest slot.
for e in stuck other; do
    wait_for 10 grep -q "target=slow msg=\"held alert=.* entity=$e why=.*10:04:00" "$T/daemon.log" ||
        fail "the digest's alert $e was not retried"
done
alive || fail "daemon died"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "a digest send that hangs meets deliver_timeout: named, each alert retried, the daemon stops"
