#!/usr/bin/env bash
# The ingest listener runs one event loop per CPU the daemon may run on (core/base/cpus.c,
# docs/connector-webhook.md "Throughput"): started under an affinity mask of one CPU (as
# taskset, systemd's CPUAffinity= or a container's cpuset would) it runs one loop, and that
# one loop serves many concurrent senders with every 202 in the journal; unpinned it runs one
# per online CPU.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook)
PORT=$(free_port)
webhook_ini batch 5m "log_level = info"
loops_logged() { sed -n 's/.*listening on .*(port [0-9]*, \([0-9]*\) event loops).*/\1/p' "$T/daemon.log"; }

ONLINE=$(getconf _NPROCESSORS_ONLN)
MASK=$(taskset -c -p $$ | sed 's/.*: //')
if [ "$ONLINE" -ge 2 ] && [ "$(nproc)" -ge 2 ]; then
    start_daemon "$T/ini"
    wait_for 10 grep -q 'event loops' "$T/daemon.log" || fail "no 'listening on' line"
    want=$(nproc)
    [ "$want" -gt 8 ] && want=8
    [ "$(loops_logged)" = "$want" ] || fail "unpinned: $(loops_logged) event loops, want $want"
    stop_daemon
    [ "$DAEMON_RC" -eq 0 ] || fail "unpinned: exit $DAEMON_RC"
    pass "unpinned on $want CPUs: $want event loops"
else
    echo "# not checked here: the unpinned case needs 2 CPUs, this test may use 1 (mask $MASK)"
fi

FIRST=$(taskset -c -p $$ | sed 's/.*: //; s/[-,].*//')
taskset -c -p "$FIRST" $$ >/dev/null || fail "cannot pin the test shell to CPU $FIRST"
start_daemon "$T/ini"
taskset -c -p "$MASK" $$ >/dev/null # the senders below run anywhere
wait_for 10 grep -q 'event loops' "$T/daemon.log" || fail "no 'listening on' line"
[ "$(loops_logged)" = 1 ] || fail "pinned to CPU $FIRST: $(loops_logged) event loops, want 1"
pass "pinned to one CPU: one event loop"
# Every thread is named (docs/operating.md, "Threads"): one sf-ingest here, and the rest.
cat /proc/"$DAEMON_PID"/task/*/comm | sort >"$T/threads"
[ "$(grep -cx sf-ingest "$T/threads")" = 1 ] || fail "threads: $(tr '\n' ' ' <"$T/threads")"
for name in sf-journal sf-checkpoint sf-score sf-outbox sf-guard sf-linger; do
    grep -qx "$name" "$T/threads" || fail "no thread named $name: $(tr '\n' ' ' <"$T/threads")"
done
[ "$(grep -cvx 'sf-.*\|MHD-single' "$T/threads")" -le 1 ] ||
    fail "unnamed threads besides main: $(tr '\n' ' ' <"$T/threads")"
pass "threads named: $(sort -u "$T/threads" | tr '\n' ' ')"

python3 "$ROOT/tests/support/ingest_client.py" flood "$PORT" /in "$T/sent" --threads 16 \
    --seconds 2 --prefix a || fail "senders failed"
alive || fail "daemon died under 16 senders"
awk '$1 == 202 {print $2}' "$T/sent" | sort >"$T/accepted"
[ "$(wc -l <"$T/accepted")" -ge 100 ] || fail "only $(wc -l <"$T/accepted") requests answered 202"
[ "$(awk '$1 != 202' "$T/sent" | wc -l)" -eq 0 ] || fail "answers other than 202: $(awk '$1 != 202' "$T/sent" | head -3)"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "pinned: exit $DAEMON_RC"
journal_ids >"$T/journaled" || fail "cannot read the journal"
cmp -s "$T/accepted" "$T/journaled" || fail "journal != answered 202: $(comm -3 "$T/accepted" "$T/journaled" | head -3)"
pass "one loop, 16 senders: $(wc -l <"$T/accepted") requests answered 202, each in the journal once"
