#!/usr/bin/env bash
# A section its plugin refuses (a rejected option value) is bound again every supervise tick
# (500 ms) so that a fix is picked up; its refusal is logged once, not at every tick, and the
# count of ticks that met it is said once it binds (docs/reliability.md, Plugins).
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file)
write_login_ini "$PD" "$T/alerts.ndjson" "bogus_key = 3"
: >"$T/events.ndjson"
start_daemon "$T/ini"
grep -q 'instance=out waits for plugin console' "$T/daemon.log" || fail "no wait line"
# The plugin arrives: its options refuse the section.
install -m 0755 "$PLUGIN_BUILD/delivery_console.so" "$PD/"
wait_for 20 grep -q 'unknown key `bogus_key` for plugin console' "$T/daemon.log" ||
    fail "the refusal was never logged"
sleep 3 # six supervise ticks
n=$(grep -c 'unknown key `bogus_key`' "$T/daemon.log")
[ "$n" -eq 1 ] || fail "the refusal was logged $n times in 3 s, expected once"
grep -q 'instance=out is not started until its section is fixed' "$T/daemon.log" ||
    fail "no line saying the instance waits for a fix"
pass "a refused option value is logged once, not every 500 ms"

sed -i '/^bogus_key = 3$/d' "$T/ini"
login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:%02dZ"}\n' "$1" "$2"; }
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'instance=out plugin=console started' "$T/daemon.log" ||
    fail "the fixed section did not start"
login a 1 >>"$T/events.ndjson"
wait_for 20 grep -q '"entity":"a"' "$T/alerts.ndjson" || fail "no alert once fixed"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "once fixed by a SIGHUP the instance starts and delivers"
