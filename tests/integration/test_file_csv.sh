#!/usr/bin/env bash
# The file connector reads CSV exports (format = csv): a header line names the columns, each
# row is mapped like a JSON document; a bad row is a bad line naming the reason; after a
# restart at the checkpoint the header is read again, so the rows appended meanwhile map too.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^path = $T/events.ndjson|path = $T/export.csv\nformat = csv\nmap.entity = user_id\nmap.type = event\nmap.time = ts\nmap.attr.plan = plan|" "$T/ini"
printf 'user_id,event,ts,plan\n' >"$T/export.csv"
printf '12345,login,2026-11-01T10:00:00Z,pro\n' >>"$T/export.csv"
printf 'u2,login,"2026-11-01T10:05:00Z",basic\n' >>"$T/export.csv"
printf 'u3,login\n' >>"$T/export.csv"
"$SIGFLOW" check -c "$T/ini" >"$T/check" 2>&1 || fail "config: $(cat "$T/check")"
start_daemon "$T/ini"
wait_for 20 grep -q '"entity":"u2"' "$T/alerts.ndjson" || fail "no alert from the CSV rows"
grep -q '"entity":"12345"' "$T/alerts.ndjson" || fail "a numeric id was not mapped as the entity"
"$SIGFLOW" journal -c "$T/ini" >"$T/journal.ndjson" 2>/dev/null || fail "journal failed"
grep -q '"entity":"12345".*"plan":"pro"' "$T/journal.ndjson" ||
    fail "map.attr.plan did not read its column: $(cat "$T/journal.ndjson")"
wait_for 10 grep -q 'export.csv:4: row has 2 cells, the header 4' "$T/daemon.log" ||
    fail "the short row is not a bad line with its reason"
pass "CSV rows are mapped by the header's column names; a bad row says why"
stop_daemon

printf 'u4,login,2026-11-01T11:00:00Z,pro\n' >>"$T/export.csv"
start_daemon "$T/ini"
wait_for 20 grep -q '"entity":"u4"' "$T/alerts.ndjson" || fail "the row appended during the stop is lost"
grep -q 'resuming at byte offset' "$T/daemon.log" || fail "the restart did not resume at the checkpoint"
[ "$(grep -c '"entity":"u2"' "$T/alerts.ndjson")" -eq 1 ] || fail "rows before the checkpoint read again"
pass "a restart reads the header again and maps only the new rows"
stop_daemon
