#!/usr/bin/env bash
# A WAL lost after a crash is not a silent loss of acknowledged events (docs/reliability.md,
# Storage): the daemon (durability = fsync, a checkpoint every second) journals events and
# checkpoints, is killed with -9, and its sigflow.db-wal is deleted: the next start is refused,
# naming the journal position the database holds and the one sigflow.hwm records. (Before the
# high-water mark, the start went on with an empty journal and the events were gone.)
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^clock = event|clock = event\ncheckpoint_interval = 1s\ndurability = fsync|" "$T/ini"
login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:%02dZ"}\n' "$1" "$2"; }
: >"$T/events.ndjson"
start_daemon "$T/ini"
for i in 1 2 3 4 5 6 7 8; do login "c$i" "$i" >>"$T/events.ndjson"; done
wait_for 20 grep -q '"entity":"c8"' "$T/alerts.ndjson" || fail "no alert for c8"
wait_for 20 grep -q 'scoring state saved: seq=8 ' "$T/daemon.log" || fail "no checkpoint covering the 8 events"
wait_for 10 test -s "$T/var/sigflow.hwm" || fail "no high-water mark after the checkpoint"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
[ -s "$T/var/sigflow.db-wal" ] || fail "no WAL to lose (the test needs the events in it)"
rm -f "$T/var/sigflow.db-wal" "$T/var/sigflow.db-shm"
timeout 30 "$SIGFLOW" run -c "$T/ini" >/dev/null 2>"$T/refused.log"
rc=$?
[ "$rc" -eq 1 ] || fail "a start after the WAL was lost: exit $rc, expected 1: $(tail -3 "$T/refused.log")"
grep -q 'went backwards: it holds journal position [0-7] but .*sigflow.hwm records that 8' "$T/refused.log" ||
    fail "no line naming both positions: $(tail -3 "$T/refused.log")"
pass "kill -9, then the WAL lost: the start is refused naming both journal positions"
