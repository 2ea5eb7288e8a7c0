#!/usr/bin/env bash
# A plugin's create or start runs off the daemon's loop, and stop and reload give up on a
# stuck instance naming it (docs/reliability.md, Plugins), with the fixture start_hangs:
#  1. start hangs: the daemon runs meanwhile (SIGHUP answered, alerts delivered), /readyz
#     names the instance as starting; past plugin_timeout the start is abandoned, the log and
#     /readyz name the instance and the callback, and SIGTERM still stops the daemon;
#  2. create hangs 3 s, then returns: SIGHUP is answered meanwhile, the instance starts
#     afterwards and /readyz is 200 again;
#  3. stop hangs: a reload that removes the instance gives up on it at plugin_timeout,
#     naming it, and the daemon goes on delivering.
# (Before, create+start held the loop up to plugin_timeout: no line said it was still
# starting, and a SIGHUP sent meanwhile was answered only after it was abandoned.)
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/start_hangs.so" "$PD/"
ADMIN=$(free_port)
slow_ini() { # HANG_IN HANG_FOR PLUGIN_TIMEOUT
    write_login_ini "$PD" "$T/alerts.ndjson" "[delivery slow]
plugin = start_hangs
hang_in = $1
hang_for = $2"
    sed -i "s|^clock = event|clock = event\nplugin_timeout = $3\nadmin = 127.0.0.1:$ADMIN|" "$T/ini"
}
readyz_names() { # INSTANCE TEXT: /readyz is 503 and names INSTANCE with TEXT in its reason
    [ "$(readyz)" = 503 ] && /usr/bin/python3 - "$T/readyz.body" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(r.get("instance") == sys.argv[2] and r.get("plugin") == "start_hangs"
           and sys.argv[3] in r["reason"] for r in d["reasons"]), d
PY
}
first() { grep -n "$1" "$T/daemon.log" | head -1 | cut -d: -f1; }
login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:0%s Z"}\n' "$1" "$2" | tr -d ' ' >>"$T/events.ndjson"; }

# 1. start hangs past plugin_timeout.
: >"$T/events.ndjson"
slow_ini start 600s 6s
start_daemon "$T/ini"
wait_for 20 grep -q 'instance=slow plugin=start_hangs: create/start has not returned after' "$T/daemon.log" ||
    fail "no line saying the start is still running (the loop waited for it)"
wait_for 10 readyz_names slow starting || fail "/readyz does not name the starting instance: $(readyz) $(cat "$T/readyz.body")"
kill -HUP "$DAEMON_PID"
login a 1
wait_for 20 grep -q '"entity":"a"' "$T/alerts.ndjson" || fail "no alert while slow starts"
wait_for 20 grep -q 'reloaded' "$T/daemon.log" || fail "SIGHUP not answered while slow starts"
wait_for 30 grep -q 'instance=slow plugin=start_hangs did not start within 6000 ms (stuck in callback=start): abandoned' "$T/daemon.log" ||
    fail "no line naming the start abandoned at plugin_timeout"
[ "$(first reloaded)" -lt "$(first 'did not start within')" ] ||
    fail "the reload was answered only after the start was abandoned: the loop waited"
wait_for 10 readyz_names slow 'did not start within 6000 ms (stuck in callback=start)' ||
    fail "/readyz does not name the abandoned start: $(readyz) $(cat "$T/readyz.body")"
alive || fail "daemon died"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "a start that hangs runs off the loop (SIGHUP, alerts, /readyz meanwhile), is abandoned at plugin_timeout naming instance and callback"

# 2. create hangs 3 s, then returns.
rm -rf "$T/var" "$T/alerts.ndjson"
: >"$T/events.ndjson"
slow_ini create 3s 60s
start_daemon "$T/ini"
wait_for 20 grep -q 'instance=slow plugin=start_hangs: create/start has not returned after' "$T/daemon.log" ||
    fail "no line saying create is still running"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'reloaded' "$T/daemon.log" || fail "SIGHUP not answered while create ran"
wait_for 30 grep -q 'instance=slow plugin=start_hangs started' "$T/daemon.log" ||
    fail "the instance did not start once create returned"
[ "$(first reloaded)" -lt "$(first 'instance=slow plugin=start_hangs started')" ] ||
    fail "the reload was answered only after create returned"
wait_for 10 is_ready || fail "/readyz not 200 once the instance started: $(cat "$T/readyz.body")"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "a create that takes 3 s: SIGHUP answered meanwhile, started afterwards, /readyz 200"

# 3. stop hangs: a reload removing the instance names it and goes on.
rm -rf "$T/var" "$T/alerts.ndjson"
: >"$T/events.ndjson"
slow_ini stop 600s 2s
start_daemon "$T/ini"
wait_for 20 grep -q 'instance=slow plugin=start_hangs started' "$T/daemon.log" || fail "slow did not start"
sed -i '/^\[delivery slow\]/,$d' "$T/ini"
kill -HUP "$DAEMON_PID"
wait_for 30 grep -q 'instance=slow plugin=start_hangs did not stop within 2000 ms (stuck in callback=stop)' "$T/daemon.log" ||
    fail "no line naming the instance whose stop hangs"
wait_for 20 grep -q 'reloaded: .* 1 stopped' "$T/daemon.log" || fail "the reload did not finish"
login b 2
wait_for 20 grep -q '"entity":"b"' "$T/alerts.ndjson" || fail "no alert after the reload"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "a reload that stops an instance whose stop hangs names it at plugin_timeout and goes on"

# 4. A connector whose poll ignores should_stop: SIGTERM names it and the daemon exits.
rm -rf "$T/var" "$T/alerts.ndjson"
install -m 0755 "$FIXTURES/poll_ignores_stop.so" "$PD/"
slow_ini none 1s 2s
cat >>"$T/ini" <<INI
[connector deaf]
plugin = poll_ignores_stop
INI
start_daemon "$T/ini"
wait_for 20 grep -q 'instance=deaf plugin=poll_ignores_stop started' "$T/daemon.log" || fail "deaf did not start"
stop_daemon
grep -q 'instance=deaf plugin=poll_ignores_stop did not stop within 2000 ms (stuck in callback=poll)' "$T/daemon.log" ||
    fail "no line naming the connector whose poll ignores should_stop: $(grep deaf "$T/daemon.log" | tail -3)"
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
pass "SIGTERM with a connector whose poll ignores should_stop: named at plugin_timeout, the daemon exits 0"
