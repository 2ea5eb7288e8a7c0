#!/usr/bin/env bash
# What a webhook sender is told is what was stored (docs/reliability.md, "Ingest answers"):
#  - during a SIGTERM drain and a SIGHUP that restarts the connector, no request gets 404
#    (the path is held: 503 + Retry-After), and every 202 is in the journal;
#  - requests waiting for the journal together are committed together (group commit), and
#    the wait shows in sigflow_journal_commit_seconds;
#  - a commit that fails (another process holds the database's write lock past the busy
#    timeout) answers 503 and leaves nothing behind: after the lock goes, the journal holds
#    exactly the events answered 202, not the ones answered 503;
#  - past SIGFLOW_MAX_INGEST_WAITING requests waiting for the journal, 503 + Retry-After comes at
#    once, not after the wait.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook)
PORT=$(free_port)
ADMIN=$(free_port)
CLIENT="python3 $ROOT/tests/support/ingest_client.py"
# check_stored RESULTS: the journal holds exactly the ids answered 202 (none answered otherwise).
check_stored() {
    journal_ids >"$T/journal.ids"
    ids_with "$1" 202 >"$T/accepted.ids"
    [ -s "$T/accepted.ids" ] || fail "no request was accepted at all"
    local missing extra
    missing=$(comm -23 "$T/accepted.ids" "$T/journal.ids" | wc -l)
    extra=$(comm -13 "$T/accepted.ids" "$T/journal.ids" | wc -l)
    [ "$missing" -eq 0 ] || fail "$missing events answered 202 are not in the journal"
    [ "$extra" -eq 0 ] || fail "$extra events in the journal were not answered 202 (e.g. $(comm -13 "$T/accepted.ids" "$T/journal.ids" | head -1), answered: $(grep -F " $(comm -13 "$T/accepted.ids" "$T/journal.ids" | head -1)" "$1"))"
}
no_404() {
    local n
    n=$(awk '$1 == 404' "$1" | wc -l)
    [ "$n" -eq 0 ] || fail "$n requests were answered 404 ($2)"
}

# 1. SIGTERM while senders are busy.
webhook_ini batch 5m
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/in" "$T/daemon.log" || fail "not routed"
$CLIENT flood "$PORT" /in "$T/drain.out" --threads 8 --seconds 20 --prefix drain &
FLOOD=$!
wait_for 10 grep -q '^202 ' "$T/drain.out" || fail "no 202 yet"
sleep 1
stop_daemon
wait "$FLOOD"
[ "$DAEMON_RC" -eq 0 ] || fail "daemon exited $DAEMON_RC"
no_404 "$T/drain.out" "during the SIGTERM drain"
check_stored "$T/drain.out"
pass "SIGTERM under load: no 404, every 202 journaled and nothing else ($(ids_with "$T/drain.out" 202 | wc -l) accepted, $(ids_with "$T/drain.out" 503 | wc -l) answered 503)"

# 2. SIGHUPs that restart the connector while senders are busy.
start_daemon "$T/ini"
$CLIENT flood "$PORT" /in "$T/reload.out" --threads 8 --seconds 6 --prefix reload &
FLOOD=$!
for tol in 6m 7m 8m; do
    sleep 1
    webhook_ini batch "$tol"
    kill -HUP "$DAEMON_PID"
done
wait "$FLOOD"
[ "$(grep -c 'instances kept, 1 stopped, 1 started' "$T/daemon.log")" -ge 3 ] ||
    fail "the reloads did not restart the connector"
no_404 "$T/reload.out" "during SIGHUP reloads"
pass "SIGHUP restarting the connector under load: no 404 ($(ids_with "$T/reload.out" 503 | wc -l) answered 503)"

# 3. Group commit: requests that wait for the journal together go into one commit. Another
#    process holds the write lock while 32 senders post at once, and lets it go 0.5 s after
#    the last request was sent: every one is answered 202, in at most 4 commits (the first
#    may have taken only the first requests; a loop may still have been reading one), and
#    the commit that waited for the lock shows in sigflow_journal_commit_seconds.
sleep 1.1 # /metrics is refreshed every second
c0=$(metric sigflow_journal_commits_total)
slow0=$(metric 'sigflow_journal_commit_seconds_bucket{le="0.25"}')
n0=$(metric sigflow_journal_commit_seconds_count)
lock_db 4 "$T/release" >"$T/lock.out" & # under the busy timeout (5 s): nothing fails
LOCK=$!
wait_for 10 grep -q locked "$T/lock.out" || fail "could not take the write lock"
$CLIENT burst "$PORT" /in "$T/group.out" --n 32 --prefix group --sent "$T/sent" &
BURST=$!
wait_for 10 test -e "$T/sent" || fail "the 32 requests were not sent"
sleep 0.5
touch "$T/release"
wait "$BURST"
wait "$LOCK"
[ "$(ids_with "$T/group.out" 202 | wc -l)" -eq 32 ] ||
    fail "not every sender was answered 202: $(cut -d' ' -f1 "$T/group.out" | sort | uniq -c | tr '\n' ' ')"
sleep 1.1
commits=$(($(metric sigflow_journal_commits_total) - c0))
[ "$commits" -ge 1 ] && [ "$commits" -le 4 ] || fail "32 waiting requests took $commits commits"
slow=$(($(metric sigflow_journal_commit_seconds_count) - n0 - ($(metric 'sigflow_journal_commit_seconds_bucket{le="0.25"}') - slow0)))
[ "$slow" -ge 1 ] || fail "no commit over 0.25 s in sigflow_journal_commit_seconds after waiting 1 s for the lock"
pass "32 senders waiting for a locked journal: all 202, in $commits commits ($slow over 0.25 s)"

# 4. Another process holds the write lock past the busy timeout (5 s): the requests waiting
#    then are answered 503, and what they sent must not be stored later.
lock_db 7 >"$T/lock.out" &
LOCK=$!
wait_for 10 grep -q locked "$T/lock.out" || fail "could not take the write lock"
$CLIENT burst "$PORT" /in "$T/locked.out" --n 20 --prefix locked
wait "$LOCK"
n503=$(awk '$1 == 503' "$T/locked.out" | wc -l)
[ "$n503" -ge 1 ] || fail "no request failed while the lock was held: $(cut -d' ' -f1 "$T/locked.out" | sort | uniq -c)"
sleep 1 # an intake's background commit would store leftovers by now (linger: 5 ms)
cat "$T/drain.out" "$T/reload.out" "$T/group.out" "$T/locked.out" >"$T/all.out"
check_stored "$T/all.out"
pass "a commit that fails answers 503 and leaves nothing behind ($n503 answered 503, none stored)"

# 5. Load shedding: more requests than may wait for the journal, while it is locked.
lock_db 6 >"$T/lock.out" &
LOCK=$!
wait_for 10 grep -q locked "$T/lock.out" || fail "could not take the write lock"
$CLIENT burst "$PORT" /in "$T/shed.out" --n 120 --prefix shed
wait "$LOCK"
grep -q '503-without-retry-after' "$T/shed.out" && fail "a 503 came without Retry-After"
grep -q "^error" "$T/shed.out" && fail "a request could not connect or got no answer: $(grep -c "^error" "$T/shed.out") of 120; $(sort "$T/shed.out" | cut -d" " -f1 | uniq -c | tr "\n" " ")"
# The lock outlives the busy timeout (5 s): an answer before 3 s can only be a shed one.
fast=$(awk '$1 == 503 && $3 < 3.0' "$T/shed.out" | wc -l)
[ "$fast" -ge 1 ] || fail "no 503 came before the journal's wait ended: $(sort "$T/shed.out" | awk '{print $1}' | uniq -c)"
metrics_text |
    grep -q '^sigflow_ingest_shed_total [1-9]' ||
    fail "sigflow_ingest_shed_total not counted"
sleep 1
cat "$T/all.out" "$T/shed.out" >"$T/all2.out"
check_stored "$T/all2.out"
pass "past the waiting bound, 503 + Retry-After at once ($fast of 120), and only 202s stored"
stop_daemon
