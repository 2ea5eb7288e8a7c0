#!/usr/bin/env bash
# The daemon's WAL is checkpointed by the store's checkpointer thread, not by a commit
# (docs/reliability.md, "The WAL stays bounded"): 40,000 events journaled through the file
# connector (several MB of WAL, past the 1,000-page threshold) show checkpoints in /metrics
# (sigflow_store_checkpoints_total, _pages_total), a WAL far under its 16,000-page hard bound
# and no inline checkpoint; /readyz stays 200; after a clean stop the WAL is gone and
# `sigflow journal` prints every event.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
ADMIN=$(free_port)
write_login_ini "$PD" "$T/alerts.ndjson"
sed -i "s|^clock = event|clock = event\nadmin = 127.0.0.1:$ADMIN|" "$T/ini"
N=40000
# five entities, one login a second each: a few alerts, many journal rows
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"entity\":\"c%d\",\"type\":\"login\",\"time\":\"2026-11-01T%02d:%02d:%02dZ\",\"pad\":\"%080d\"}\n",
        i % 5, int(i / 3600) % 24, int(i / 60) % 60, i % 60, i }' >"$T/events.ndjson"
start_daemon "$T/ini"
metric() { curl -s "http://127.0.0.1:$ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_for 60 bash -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^sigflow_journal_events_total $N\$'" ||
    fail "the $N events were not journaled: $(metric sigflow_journal_events_total)"
wait_for 20 bash -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -Eq '^sigflow_store_checkpoints_total [1-9]'" ||
    fail "no checkpoint by the checkpointer thread: $(curl -s "http://127.0.0.1:$ADMIN/metrics" | grep sigflow_store_)"
pages=$(metric sigflow_store_checkpoint_pages_total)
[ "${pages%.*}" -ge 1000 ] || fail "checkpoints copied $pages pages, expected the threshold's 1000 at least"
wal=$(metric sigflow_store_wal_pages)
[ -n "$wal" ] && [ "${wal%.*}" -lt 16000 ] || fail "the WAL holds $wal pages (hard bound 16000)"
[ "$(metric sigflow_store_checkpoints_inline_total)" = 0 ] ||
    fail "a commit checkpointed the WAL itself: $(metric sigflow_store_checkpoints_inline_total)"
[ "$(metric sigflow_store_checkpoint_failures_total)" = 0 ] || fail "checkpoint failures"
is_ready || fail "not ready: $(cat "$T/readyz.body")"
pass "$N events: the thread checkpointed $pages pages, the WAL holds $wal, no commit checkpointed, ready"

stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
[ -e "$T/var/sigflow.db-wal" ] && fail "the WAL is still there after a clean stop"
"$SIGFLOW" journal -c "$T/ini" >"$T/journal.ndjson" 2>"$T/journal.err" || fail "sigflow journal: $(cat "$T/journal.err")"
[ "$(count_lines "$T/journal.ndjson")" -eq "$N" ] ||
    fail "sigflow journal printed $(count_lines "$T/journal.ndjson") events, expected $N"
pass "a clean stop removes the WAL; sigflow journal prints all $N events"
