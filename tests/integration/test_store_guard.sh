#!/usr/bin/env bash
# Damaged or missing storage is refused, never silently replaced by an empty store
# (docs/reliability.md, Storage): a missing state_dir or sigflow.db needs an explicit first
# start; an empty (truncated) database, a damaged one and one behind its fsync'd journal
# high-water mark are refused with a clear message; state_dir is private, the database 0600.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson"
give_ports "$T/ini"
login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:%02dZ"}\n' "$1" "$2"; }

# run_refused WHAT PATTERN: `sigflow run` (no --init) exits 1 at once with PATTERN in its log.
run_refused() {
    timeout 30 "$SIGFLOW" run -c "$T/ini" >/dev/null 2>"$T/refused.log"
    local rc=$?
    [ "$rc" -eq 1 ] || fail "$1: run exit $rc, expected 1: $(tail -3 "$T/refused.log")"
    grep -q "$2" "$T/refused.log" || fail "$1: no line saying why: $(tail -3 "$T/refused.log")"
}

# A first start must be explicit.
run_refused "no state_dir" "does not exist: a new store needs an explicit first start"
[ -e "$T/var" ] && fail "a refused run created state_dir"
out=$("$SIGFLOW" init -c "$T/ini") || fail "sigflow init failed"
echo "$out" | grep -q 'sigflow.db: created' || fail "init says: $out"
[ "$(stat -c %a "$T/var")" = 700 ] || fail "state_dir mode $(stat -c %a "$T/var")"
[ "$(stat -c %a "$T/var/sigflow.db")" = 600 ] || fail "sigflow.db mode $(stat -c %a "$T/var/sigflow.db")"
"$SIGFLOW" init -c "$T/ini" | grep -q 'already initialised, checked: ok' || fail "second init"
pass "a missing store is refused; sigflow init creates it private (0700/0600), twice is harmless"

login a 1 >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 20 grep -q '"entity":"a"' "$T/alerts.ndjson" || fail "no alert"
stop_daemon
[ -s "$T/var/sigflow.hwm" ] || fail "no high-water mark after a clean stop"
for f in "$T"/var/sigflow.db*; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
pass "a clean stop records the journal high-water mark; every database file is 0600"

# Deleting the database (state_dir kept): refused, and even run --init refuses it, because
# the high-water mark says events were stored.
cp -a "$T/var" "$T/var.good"
rm -f "$T"/var/sigflow.db*
run_refused "deleted db" "sigflow.db does not exist: a new store needs an explicit first start"
timeout 30 "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>"$T/refused.log" && fail "run --init over a deleted db ran"
grep -q 'went backwards: it holds journal position 0 but .*sigflow.hwm records that [1-9]' "$T/refused.log" ||
    fail "run --init over a deleted db: $(tail -2 "$T/refused.log")"
pass "a deleted sigflow.db is refused, also by run --init (the high-water mark remembers)"

# Truncated to 0 bytes: refused.
rm -rf "$T/var" && cp -a "$T/var.good" "$T/var"
: >"$T/var/sigflow.db"
rm -f "$T/var/sigflow.db-wal" "$T/var/sigflow.db-shm"
run_refused "empty db" "sigflow.db is empty (0 bytes)"
pass "a database truncated to 0 bytes is refused"

# Went backwards: the store copied before more events were stored, put back.
rm -rf "$T/var" && cp -a "$T/var.good" "$T/var"
start_daemon "$T/ini"
for i in 2 3 4; do login "b$i" "$i" >>"$T/events.ndjson"; done
wait_for 20 grep -q '"entity":"b4"' "$T/alerts.ndjson" || fail "no alert for b4"
stop_daemon
rm -f "$T"/var/sigflow.db*
cp -a "$T"/var.good/sigflow.db* "$T/var/"
run_refused "older copy" "went backwards: it holds journal position 1 but"
pass "a database restored from an older copy is refused, naming both positions"

# Damaged pages: quick_check at start.
rm -rf "$T/var" && cp -a "$T/var.good" "$T/var"
rm -f "$T/var/sigflow.db-wal" "$T/var/sigflow.db-shm" "$T/var/sigflow.hwm"
size=$(stat -c %s "$T/var/sigflow.db")
[ "$size" -gt 8192 ] || fail "database too small to damage ($size)"
# Overwrite the second page onwards with garbage, keeping the header.
/usr/bin/python3 - "$T/var/sigflow.db" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096)
    f.write(b"\xa5" * 8192)
PY
run_refused "damaged db" "is damaged\|malformed\|not a database"
pass "a damaged database is refused at start"

# A state_dir others can write to.
rm -rf "$T/var" && cp -a "$T/var.good" "$T/var"
chmod 0777 "$T/var"
run_refused "world-writable state_dir" "writable by group or others"
pass "a state_dir writable by group or others is refused"
