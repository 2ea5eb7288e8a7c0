#!/usr/bin/env bash
# A plugin cannot crash or hold the daemon unattributed (docs/reliability.md, Plugins): `cp`
# over a loaded .so changes nothing; a crash in init is named, recorded and ends in safe mode,
# while `check` and `plugins` report it instead of dying; a hanging init, deliver or stop
# meets a deadline that names the instance; a poison alert is dead-lettered after two crashes;
# plugin metric names Prometheus would refuse are dropped.
. "$(dirname "$0")/lib.sh"

# Our crash handler, not ASan's, must see the fault (it names the plugin and writes the record).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0"

login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:%02dZ"}\n' "$1" "$2"; }

# ---- cp over a loaded delivery plugin ------------------------------------------------------
PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson"
login a 1 >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 20 grep -q '"entity":"a"' "$T/alerts.ndjson" || fail "no first alert"
# Same inode rewritten, as cp(1) does: the daemon's code must not be the file's.
cp "$PLUGIN_BUILD/delivery_webhook.so" "$PD/delivery_console.so"
for i in 2 3 4 5; do login "b$i" "$i" >>"$T/events.ndjson"; done
wait_for 20 grep -q '"entity":"b5"' "$T/alerts.ndjson" || fail "no alert after cp over the plugin"
alive || fail "cp over a loaded plugin took the daemon down"
grep -q 'plugin console was replaced on disk' "$T/daemon.log" || fail "no replaced-on-disk line"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC after cp over a plugin"
pass "cp over a loaded .so: the daemon runs on with its private copy"

# ---- a crash inside init -------------------------------------------------------------------
rm -rf "$T/var" "$T/alerts.ndjson" "$T/plugins"
PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/init_crashes.so" "$PD/"
write_login_ini "$PD" "$T/alerts.ndjson" "[delivery boom]
plugin = init_crashes"
give_ports "$T/ini"
for run in 1 2; do
    "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>"$T/crash$run.log" &
    pid=$!
    wait_for 30 bash -c "! kill -0 $pid" || fail "run $run: daemon did not crash"
    wait "$pid"
    rc=$?
    [ "$rc" -gt 128 ] || fail "run $run: exit $rc, expected death by signal"
    tail -1 "$T/crash$run.log" | grep -q 'level=fatal.*plugin=init_crashes.*callback=init' ||
        fail "run $run: last line does not name the plugin: $(tail -1 "$T/crash$run.log")"
done
[ "$(grep -cx init_crashes "$T/var/crashes")" -eq 2 ] || fail "crashes file: $(cat "$T/var/crashes")"
pass "a crash in init names the plugin and callback and is recorded in state_dir/crashes"

out=$("$SIGFLOW" check -c "$T/ini" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "check exit $rc (139 is a crash): $out"
echo "$out" | grep -q 'plugin `init_crashes` refused: .*init_crashes.so: init: crashed with SIGSEGV' ||
    fail "check does not say why: $out"
out=$("$SIGFLOW" plugins --dir "$PD" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "plugins exit $rc: $out"
echo "$out" | grep -q '^console ' || fail "plugins lists nothing: $out"
echo "$out" | grep -q '^init_crashes ' && fail "plugins lists the crashing plugin: $out"
pass "check and plugins report a crashing init instead of dying with it"

start_daemon "$T/ini"
grep -q 'SAFE MODE: init_crashes crashed the daemon 2 times; its init is not run again' \
    "$T/daemon.log" || fail "no safe-mode refusal"
login c 6 >>"$T/events.ndjson"
wait_for 20 grep -q '"entity":"c"' "$T/alerts.ndjson" || fail "no alert in safe mode"
stop_daemon
[ -f "$T/var/crashes" ] || fail "safe mode must keep the crash records over a clean stop"
pass "after two crashes in init the plugin is not loaded and the daemon runs"

# ---- hanging init, deliver and stop ---------------------------------------------------------
rm -rf "$T/var" "$T/alerts.ndjson" "$T/plugins"
PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/init_hangs.so" "$FIXTURES/deliver_hangs.so" "$PD/"
write_login_ini "$PD" "$T/alerts.ndjson" "[delivery slow]
plugin = deliver_hangs
hang_stop = true"
sed -i 's/^deliver = out$/deliver = out, slow/' "$T/ini"
sed -i "s|^clock = event|clock = event\nplugin_timeout = 1s\ndeliver_timeout = 1s\nretry_base = 100ms\nretry_max = 200ms|" "$T/ini"
login stuck 1 >"$T/events.ndjson"
start_daemon "$T/ini"
grep -q 'init_hangs.so: init: did not return within 1000 ms' "$T/daemon.log" ||
    fail "no line for the hanging init"
wait_for 30 grep -q 'deliver of alert=.* did not return within 1000 ms: the attempt counts as a retry' \
    "$T/daemon.log" || fail "no deliver_timeout line"
login fine 2 >>"$T/events.ndjson"
wait_for 30 grep -q 'plugin=deliver_hangs instance=slow msg="delivered entity=fine"' "$T/daemon.log" ||
    fail "the target stopped delivering after a stuck attempt"
wait_for 30 grep -q 'alert=.*stuck.*attempt=2\|retrying alert=.*attempt=2' "$T/daemon.log" ||
    fail "the stuck alert was not tried again"
alive || fail "daemon died"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
grep -q 'instance=slow plugin=deliver_hangs did not stop within 1000 ms (stuck in callback=' \
    "$T/daemon.log" || fail "no line naming the instance that did not stop"
pass "a hanging init, deliver and stop each meet a deadline that names them; delivery goes on"

# ---- a poison alert, and metric names --------------------------------------------------------
rm -rf "$T/var" "$T/alerts.ndjson" "$T/plugins"
PD=$(plugin_dir_with connector_file)
install -m 0755 "$FIXTURES/deliver_crashes.so" "$PD/"
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i 's/^plugin = console$/plugin = deliver_crashes/; /^path = .*alerts.ndjson$/d' "$T/ini"
login poison 1 >"$T/events.ndjson"
login fine 2 >>"$T/events.ndjson"
give_ports "$T/ini"
for run in 1 2; do
    "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>"$T/poison$run.log" &
    pid=$!
    wait_for 30 bash -c "! kill -0 $pid" || fail "poison run $run: daemon did not crash"
    wait "$pid"
    # Other threads may still log a line after the fatal one: look for it anywhere.
    grep -q 'level=fatal.*plugin=deliver_crashes.*callback=deliver' "$T/poison$run.log" ||
        fail "poison run $run: $(tail -3 "$T/poison$run.log")"
done
start_daemon "$T/ini"
wait_for 30 grep -q 'dead-lettered alert=.* entity=poison .*crashed the daemon 2 times: poison alert' \
    "$T/daemon.log" || fail "the poison alert was not dead-lettered"
wait_for 30 grep -q 'delivered entity=fine' "$T/daemon.log" || fail "the other alert was not delivered"
grep -q SAFE "$T/daemon.log" && fail "one poison alert must not disable the target"
stop_daemon
"$SIGFLOW" dlq -c "$T/ini" list 2>/dev/null | grep -q poison || fail "dlq list does not show the poison alert"
pass "a poison alert is dead-lettered after two crashes; the target keeps delivering"

rm -rf "$T/var" "$T/plugins"
PD=$(plugin_dir_with connector_file)
install -m 0755 "$FIXTURES/bad_metric.so" "$PD/"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s/^plugin = console$/plugin = bad_metric/; /^path = .*alerts.ndjson$/d" "$T/ini"
sed -i "s|^clock = event|clock = event\nadmin = 127.0.0.1:$PORT|" "$T/ini"
login m1 1 >"$T/events.ndjson"
login m2 2 >>"$T/events.ndjson"
start_daemon "$T/ini"
metrics() { python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$PORT/metrics', timeout=5).read().decode())"; }
wait_for 20 bash -c "$(declare -f metrics); PORT=$PORT; metrics | grep -q '^sigflow_plugin_bad_metric_sent_total{target=\"out\"} 2'" ||
    fail "no valid plugin metric: $(metrics)"
metrics | grep -q 'http-errors\|latency ms' && fail "an invalid metric name reached /metrics"
[ "$(grep -c 'metric name .* refused' "$T/daemon.log")" -eq 1 ] || fail "bad names not logged once"
stop_daemon
pass "plugin metric names Prometheus would refuse are dropped, logged once"
