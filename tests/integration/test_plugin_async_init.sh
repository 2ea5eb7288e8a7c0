#!/usr/bin/env bash
# A hot-dropped plugin whose init sleeps does not hold the daemon's loop (docs/reliability.md,
# Plugins): while its init runs, another plugin dropped in is loaded and its instance started,
# and a SIGHUP is answered; the sleeper is loaded when its init returns. An init that sleeps
# past plugin_timeout is refused with a line naming the plugin, and the daemon goes on.
# (Before, the loop waited for init: the other drop and the reload came after it.)
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file)
write_login_ini "$PD" "$T/alerts.ndjson" "[delivery sleepy]
plugin = init_sleeps"
sed -i 's/^deliver = out$/deliver = out, sleepy/' "$T/ini"
sed -i "s|^clock = event|clock = event\nplugin_timeout = 60s|" "$T/ini"
: >"$T/events.ndjson"
export SIGFLOW_TEST_INIT_SLEEP_MS=8000
start_daemon "$T/ini"
install -m 0755 "$FIXTURES/init_sleeps.so" "$PD/"
wait_for 20 grep -q 'plugin init_sleeps: init has not returned after' "$T/daemon.log" ||
    fail "no line saying init is still running"
# Meanwhile: a second plugin dropped in, and a reload.
install -m 0755 "$PLUGIN_BUILD/delivery_console.so" "$PD/"
wait_for 20 grep -q 'instance=out plugin=console started' "$T/daemon.log" ||
    fail "the console drop was not acted on while init_sleeps' init ran"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'reloaded' "$T/daemon.log" || fail "SIGHUP not answered while init ran"
grep -q 'plugin init_sleeps .* loaded' "$T/daemon.log" &&
    fail "init_sleeps was loaded before the other drop and the reload: the loop waited"
wait_for 30 grep -q 'instance=sleepy plugin=init_sleeps started' "$T/daemon.log" ||
    fail "init_sleeps was not loaded once its init returned"
# Order in the log: console started and reload answered before the sleeper was loaded.
first() { grep -n "$1" "$T/daemon.log" | head -1 | cut -d: -f1; }
[ "$(first 'instance=out plugin=console started')" -lt "$(first 'plugin init_sleeps .* loaded')" ] &&
    [ "$(first 'reloaded')" -lt "$(first 'plugin init_sleeps .* loaded')" ] ||
    fail "log order: $(grep -n 'console started\|reloaded\|init_sleeps' "$T/daemon.log")"
printf '{"entity":"a","type":"login","time":"2026-11-01T10:00:01Z"}\n' >>"$T/events.ndjson"
wait_for 20 grep -q '"entity":"a"' "$T/alerts.ndjson" || fail "no alert"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "an init that sleeps runs off the loop: another drop and a SIGHUP are answered meanwhile"

# Past plugin_timeout: refused, named; the daemon goes on.
rm -rf "$T/var" "$PD/init_sleeps.so"
sed -i 's/^plugin_timeout = 60s$/plugin_timeout = 2s/' "$T/ini"
start_daemon "$T/ini"
install -m 0755 "$FIXTURES/init_sleeps.so" "$PD/"
wait_for 30 grep -q 'init_sleeps.so: init: did not return within 2000 ms, expected it to: plugin init_sleeps refused' \
    "$T/daemon.log" || fail "no refusal naming the plugin past plugin_timeout"
printf '{"entity":"b","type":"login","time":"2026-11-01T10:00:02Z"}\n' >>"$T/events.ndjson"
wait_for 20 grep -q '"entity":"b"' "$T/alerts.ndjson" || fail "no alert after the refusal"
alive || fail "daemon died"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "an init past plugin_timeout is refused naming the plugin, and the daemon goes on"
