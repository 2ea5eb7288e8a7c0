#!/usr/bin/env bash
# The file connector following a log like a shipper (docs/connector-file.md): rotation (the
# path names another inode: the old file is finished, then the new one read from its start),
# truncation (read from the start again), a kill -9 in the middle of a burst, and a rotation
# while the daemon is down (the rotated file is found by its inode and finished first). The
# offset commits with the events, so at the end `sigflow journal` holds every line exactly
# once, in the order written.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
EV=$T/events.ndjson
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
[decision]
name = d
threshold = 0.99
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 50
weight = 1
[connector events]
plugin = file
path = $EV
follow = true
poll_interval = 20ms
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI

# lines FROM TO [FILE]: append records FROM..TO (n = the record's number) to FILE.
lines() {
    python3 - "$1" "$2" "${3:-$EV}" <<'PY'
import json, sys
a, b, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "a") as f:
    for n in range(a, b + 1):
        f.write(json.dumps({"entity": "e%d" % (n % 7), "type": "login",
                            "time": 1793491200000 + n * 1000, "n": n}) + "\n")
PY
}
rows() {
    python3 -c "import sqlite3; print(sqlite3.connect('file:$T/var/sigflow.db?mode=ro', uri=True).execute('select count(*) from journal').fetchone()[0])" 2>/dev/null || echo 0
}
has() { [ "$(rows)" -ge "$1" ]; }
kill9() {
    kill -9 "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    cat "$T/daemon.log" >>"$T/daemon.all.log"
}

lines 1 50
start_daemon "$T/ini"
wait_for 30 has 50 || fail "the first 50 lines were not journaled ($(rows))"

# Rotation: the writer adds to the old file, renames it away and starts a new one at once.
lines 51 80
mv "$EV" "$EV.1"
lines 81 100
wait_for 30 has 100 || fail "rotation: not all 100 lines journaled ($(rows))"
grep -q 'rotated; finishing the old file' "$T/daemon.log" || fail "rotation not noticed"
pass "rotation: the old file finished, the new one read from its start"

# Truncation (copytruncate): emptied in place, then written again once it was noticed.
: >"$EV"
wait_for 30 grep -q 'truncated to 0 bytes' "$T/daemon.log" || fail "truncation not noticed"
lines 101 120
wait_for 30 has 120 || fail "truncation: lines after it not journaled ($(rows))"
pass "truncation: read from the start again"

# kill -9 while a writer is still appending (a line every ~ms), then a restart resumes at the
# committed offset; the writer goes on meanwhile.
python3 - "$EV" <<'PY' &
import json, sys, time
with open(sys.argv[1], "a") as f:
    for n in range(121, 3121):
        f.write(json.dumps({"entity": "e%d" % (n % 7), "type": "login",
                            "time": 1793491200000 + n * 1000, "n": n}) + "\n")
        f.flush()
        time.sleep(0.001)
PY
WRITER=$!
mid() { [ "$(rows)" -gt 300 ]; }
wait_for 30 mid || fail "the writer's lines are not being journaled"
kill9
pass "kill -9 with $(rows) lines journaled while the writer appends"
sleep 0.3
start_daemon "$T/ini"
wait "$WRITER" || fail "the writer failed"
wait_for 60 has 3120 || fail "after the restart not all 3120 lines journaled ($(rows))"

# Rotation while the daemon is down: the unread end of the rotated file comes first.
kill9
lines 3121 3150
mv "$EV" "$EV-20261201"
lines 3151 3170
start_daemon "$T/ini"
wait_for 30 has 3170 || fail "rotation while down: not all lines journaled ($(rows))"
grep -q "rotated to $EV-20261201 while stopped" "$T/daemon.log" || fail "the rotated file was not found"
pass "rotation while stopped: the rotated file is finished first, found by its inode"
sleep 0.5 # a few more polls must read nothing twice
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "daemon exit $DAEMON_RC"

"$SIGFLOW" journal -c "$T/ini" >"$T/journal.ndjson" 2>/dev/null || fail "sigflow journal"
python3 - "$T/journal.ndjson" 3170 <<'PY' || fail "the journal does not hold lines 1..3170 exactly once, in order"
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
want = list(range(1, int(sys.argv[2]) + 1))
if ns != want:
    print("got %d; doubled %s; missing %s" % (len(ns), sorted({n for n in ns if ns.count(n) > 1})[:10],
          sorted(set(want) - set(ns))[:10]), file=sys.stderr)
    sys.exit(1)
PY
pass "sigflow journal holds lines 1..3170 exactly once, in the order written"
