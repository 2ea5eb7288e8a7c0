#!/usr/bin/env bash
# SIGHUP: an invalid new config is refused whole and the old one keeps running; a valid one is
# applied, restarting only the instance that changed (docs/design.md).
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/a.ndjson"
: >"$T/events.ndjson"
start_daemon "$T/ini"
echo '{"entity":"e1","type":"login","time":"2026-11-01T10:00:00Z"}' >>"$T/events.ndjson"
wait_for 10 grep -q '"e1"' "$T/a.ndjson" || fail "first alert missing"

cp "$T/ini" "$T/good.ini"
echo 'bogus_key = 1' >>"$T/ini"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q 'reload refused' "$T/daemon.log" || fail "bad reload not refused"
grep -q 'bogus_key' "$T/daemon.log" || fail "the reason for the refusal is not logged"
echo '{"entity":"e2","type":"login","time":"2026-11-01T11:00:00Z"}' >>"$T/events.ndjson"
wait_for 10 grep -q '"e2"' "$T/a.ndjson" || fail "old config stopped working after a bad reload"
pass "an invalid config is refused and the old one keeps running"

write_login_ini "$PD" "$T/b.ndjson"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q 'reloaded: 1 instances kept, 1 stopped, 1 started' "$T/daemon.log" ||
    fail "reload did not restart exactly the changed instance"
echo '{"entity":"e3","type":"login","time":"2026-11-01T12:00:00Z"}' >>"$T/events.ndjson"
wait_for 10 grep -q '"e3"' "$T/b.ndjson" || fail "alert not sent to the new path"
grep -q '"e3"' "$T/a.ndjson" && fail "alert still sent to the old path"
pass "a valid reload restarts only the changed delivery"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit code $DAEMON_RC"
