#!/usr/bin/env bash
# Crash containment (docs/sdk.md): a plugin that crashes the daemon is named, with its
# callback, in the last log line; after it crashed the daemon twice in a row its instances
# start disabled (safe mode) and the daemon runs on.
. "$(dirname "$0")/lib.sh"

# Under ASan the daemon's own handler must see the SIGSEGV, as in a plain build.
[ "${SANITIZE:-}" = 1 ] && export ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0:handle_sigbus=0"
PD=$(plugin_dir_with delivery_console)
install -m 0755 "$FIXTURES/crash_on_start.so" "$PD/"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
[connector boom]
plugin = crash_on_start
[delivery out]
plugin = console
INI
give_ports "$T/ini"

for run in 1 2; do
    "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>"$T/crash$run.log" &
    pid=$!
    wait_for 20 bash -c "! kill -0 $pid" || fail "run $run: daemon did not crash"
    wait "$pid"
    rc=$?
    [ "$rc" -gt 128 ] || fail "run $run: exit $rc, expected death by signal"
    tail -1 "$T/crash$run.log" | grep -q 'level=fatal.*plugin=crash_on_start.*callback=start' ||
        fail "run $run: last line does not name the plugin: $(tail -1 "$T/crash$run.log")"
done
pass "a crash names the plugin and callback in the last log line"

start_daemon "$T/ini"
grep -q 'SAFE MODE: plugin crash_on_start crashed the daemon 2 times' "$T/daemon.log" ||
    fail "no safe-mode line"
sleep 1
alive || fail "daemon died in safe mode"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
[ -f "$T/var/crashes" ] || fail "a clean stop in safe mode must keep the crash records"
pass "after two crashes the plugin starts disabled and the daemon runs on"

# Once the operator removes the plugin from the config, a clean stop forgets the records.
sed -i '/^\[connector boom\]/,/^plugin = crash_on_start/d' "$T/ini"
start_daemon "$T/ini"
stop_daemon
[ -f "$T/var/crashes" ] && fail "a clean stop without safe mode should forget the crash records"
pass "a clean run without the crashing plugin clears the records"
