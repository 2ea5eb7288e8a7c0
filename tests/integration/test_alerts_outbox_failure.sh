#!/usr/bin/env bash
# Alerts are not lost when the outbox cannot be written (docs/reliability.md, "Alerts and a
# full disk"):
#  1. another process makes every outbox insert fail (a SQLite trigger raising an error) while
#     events keep being journaled and checkpoints keep being due: scoring waits and retries the
#     write instead of dropping the alert and checkpointing over it; once the outbox can be
#     written again every alert is stored and delivered;
#  2. state_dir on a small tmpfs filled to the last byte while events arrive: after space
#     comes back and a restart, every journaled entity has its alert in the outbox.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson" "checkpoint_interval = 1s"
# checkpoint_interval belongs to [sigflow]: move it there.
python3 - "$T/ini" <<'PY'
import sys
p = sys.argv[1]
lines = [l for l in open(p).read().splitlines() if l != "checkpoint_interval = 1s"]
i = lines.index("[sigflow]")
lines.insert(i + 1, "checkpoint_interval = 1s")
open(p, "w").write("\n".join(lines) + "\n")
PY
logins() { # PREFIX N: N login events for entities PREFIX1..PREFIXN
    for i in $(seq "$2"); do
        printf '{"entity":"%s%d","type":"login","time":%d000}\n' "$1" "$i" $((1793491200 + i))
    done >>"$T/events.ndjson"
}
sql() { /usr/bin/python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=30); r=c.execute(sys.argv[2]).fetchall(); c.commit(); [print(*x) for x in r]" "$1" "$2"; }

: >"$T/events.ndjson"
start_daemon "$T/ini"
logins a 5
wait_for 20 has_lines "$T/alerts.ndjson" 5 || fail "the first 5 alerts did not arrive"

sql "$T/var/sigflow.db" "CREATE TRIGGER refuse BEFORE INSERT ON outbox_alert BEGIN SELECT RAISE(ABORT, 'injected: outbox write refused'); END"
logins b 20
wait_for 20 grep -q 'not stored in the outbox' "$T/daemon.log" || fail "the outbox failure was not met"
sleep 3 # three checkpoint intervals: none may cover the alerts that are not stored
alive || fail "the daemon died while the outbox could not be written"
sql "$T/var/sigflow.db" "DROP TRIGGER refuse"
wait_for 30 has_lines "$T/alerts.ndjson" 25 || fail "after the outbox recovered, $(count_lines "$T/alerts.ndjson") of 25 alerts were delivered"
n=$(sql "$T/var/sigflow.db" "SELECT count(*) FROM outbox_alert")
[ "$n" -eq 25 ] || fail "the outbox holds $n of 25 alerts"
pass "while outbox writes fail, scoring retries instead of dropping: all 25 alerts stored and delivered"
stop_daemon

# 2. A full disk.
[ "$(id -u)" -eq 0 ] || fail "this test mounts a tmpfs: run as root (CI does)"
mkdir -p "$T/small"
mount -t tmpfs -o size=16m tmpfs "$T/small" || fail "cannot mount a tmpfs"
cleanup_mount() {
    [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    [ -n "${KEEP_LOG:-}" ] && cp "$T/daemon.log" "$KEEP_LOG"
    umount "$T/small" 2>/dev/null
    cleanup
}
trap cleanup_mount EXIT
sed -i "s|^state_dir = .*|state_dir = $T/small/var|" "$T/ini"
: >"$T/events.ndjson"
rm -f "$T/alerts.ndjson"
start_daemon "$T/ini"
logins c 50
wait_for 20 has_lines "$T/alerts.ndjson" 50 || fail "alerts before the disk filled"
# Fill the disk to the last byte while events keep coming.
logins d 300
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null
logins e 300
sleep 3
alive || fail "the daemon died on a full disk"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
rm -f "$T/small/filler"
df -k "$T/small" | tail -1 >&2
start_daemon "$T/ini"
missing_alerts() {
    sql "$T/small/var/sigflow.db" "SELECT count(DISTINCT entity) FROM journal WHERE entity NOT IN (SELECT entity FROM outbox_alert)"
}
no_missing_alerts() { [ "$(missing_alerts)" -eq 0 ]; }
wait_for 60 no_missing_alerts || true
stop_daemon
missing=$(missing_alerts)
journaled=$(sql "$T/small/var/sigflow.db" "SELECT count(DISTINCT entity) FROM journal")
[ "$missing" -eq 0 ] || fail "$missing of $journaled journaled entities have no alert in the outbox after the disk was full"
pass "a full disk, then space and a restart: all $journaled journaled entities have their alert"
