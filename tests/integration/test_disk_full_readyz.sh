#!/usr/bin/env bash
# A full disk is said, not hidden (docs/reliability.md, Readiness): with state_dir on a small
# tmpfs filled to the last byte while webhook senders keep posting,
#  - GET /readyz is 503 with JSON reasons naming the store (the journal's commits failing and
#    state_dir's file system full), and 200 "ready" again once space is back;
#  - the error log stays quiet: the failures are logged once, then summed up at most every
#    few seconds, not once per request (the code before logged 90-181 lines a second);
#  - senders are told 503, the daemon stays up and stops cleanly.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || fail "this test mounts a tmpfs: run as root (CI does)"
PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(free_port)
ADMIN=$(free_port)
CLIENT="python3 $ROOT/tests/support/ingest_client.py"
mkdir -p "$T/small"
mount -t tmpfs -o size=16m tmpfs "$T/small" || fail "cannot mount a tmpfs"
cleanup_mount() {
    [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    umount "$T/small" 2>/dev/null
    cleanup
}
trap cleanup_mount EXIT
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/small/var
ingest = 127.0.0.1:$PORT
admin = 127.0.0.1:$ADMIN
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
[connector hook]
plugin = webhook
path = /in
tolerance = 5m
map.id = id
map.entity = c
map.type = t
map.time = ts
map.time_unit = s
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI

start_daemon "$T/ini"
wait_for 20 is_ready || fail "/readyz not 200 before the disk filled: $(cat "$T/readyz.body")"
$CLIENT flood "$PORT" /in "$T/before" --threads 2 --seconds 1 --prefix a >/dev/null
grep -q '^202 ' "$T/before" || fail "nothing accepted before the disk filled"

# Fill the disk to the last byte, then keep posting for 6 s.
dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null
dd if=/dev/zero of="$T/small/filler2" bs=512 2>/dev/null
before=$(count_lines "$T/daemon.log")
$CLIENT flood "$PORT" /in "$T/full" --threads 4 --seconds 6 --prefix b >/dev/null
after=$(count_lines "$T/daemon.log")
alive || fail "the daemon died on a full disk"
n503=$(awk '$1 == 503' "$T/full" | wc -l)
nreq=$(wc -l <"$T/full")
[ "$n503" -gt 0 ] || fail "no request answered 503 while the disk was full ($(cut -d' ' -f1 "$T/full" | sort | uniq -c | tr '\n' ' '))"
lines=$((after - before))
echo "disk full for 6 s: $nreq requests, $n503 answered 503, $lines log lines" >&2
# Logged once, then at most one summary every 5 s per kind of failure (journal, outbox,
# checkpoint, readiness changes): a handful, not one per request.
[ "$lines" -le 30 ] || {
    sed -n "$((before + 1)),\$p" "$T/daemon.log" | cut -c1-160 | sort | uniq -c | sort -rn | head >&2
    fail "$lines log lines in 6 s of a full disk ($nreq requests): the error log is not rate-limited"
}
pass "a full disk for 6 s: $n503 of $nreq requests answered 503, $lines log lines (rate-limited)"

code=$(readyz)
[ "$code" = 503 ] || fail "/readyz $code while the disk is full: $(cat "$T/readyz.body")"
/usr/bin/python3 - "$T/readyz.body" <<'PY' || fail "/readyz body while the disk is full: $(cat "$T/readyz.body")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "not ready", d
what = {r.get("component") for r in d["reasons"]}
assert "journal" in what, d  # the commits failing
assert "state_dir" in what, d  # the file system full
for r in d["reasons"]:
    assert r["reason"], r
PY
pass "/readyz is 503 naming the journal's failing commits and the full state_dir"

rm -f "$T/small/filler" "$T/small/filler2"
$CLIENT flood "$PORT" /in "$T/after" --threads 2 --seconds 2 --prefix c >/dev/null
grep -q '^202 ' "$T/after" || fail "nothing accepted once space was back"
wait_for 30 is_ready || fail "/readyz not 200 once space was back: $(cat "$T/readyz.body")"
grep -q 'ready again: journal' "$T/daemon.log" ||
    fail "no line saying the store works again"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC after the disk was full"
pass "space back: 202 again, /readyz 200, a clean stop"

# What the senders were told while the disk was full is what was stored: every id answered
# 202 is in the journal, none answered otherwise is.
/usr/bin/python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(\"select source_id from journal where source_id like 'b-%'\")]" \
    "$T/small/var/sigflow.db" | sort >"$T/journal.ids"
awk '$1 == 202 {print $2}' "$T/full" | sort >"$T/accepted.ids"
missing=$(comm -23 "$T/accepted.ids" "$T/journal.ids" | wc -l)
extra=$(comm -13 "$T/accepted.ids" "$T/journal.ids" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing events answered 202 while the disk was full are not in the journal"
[ "$extra" -eq 0 ] || fail "$extra events answered 503 while the disk was full were journaled anyway"
pass "while the disk was full: $(wc -l <"$T/accepted.ids") answered 202 and journaled, none answered 503 journaled"
