#!/usr/bin/env bash
# Nothing accepted is lost (docs/durability.md): the daemon is killed with SIGKILL again and
# again while events stream in; after the last restart the receiver has exactly the alerts an
# uninterrupted `replay` of the same events raises (clock = event), each at least once, and
# duplicates only of alerts that were in flight at a kill.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_webhook)
start_receiver
write_durable_ini "$PD"
"$SIGFLOW" check -c "$T/ini" >/dev/null || fail "test config invalid: $("$SIGFLOW" check -c "$T/ini" 2>&1)"
EVENTS=$ROOT/conf/sample-events.ndjson
"$SIGFLOW" replay -c "$T/ini" "$EVENTS" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin: print(json.loads(line)["alert_id"])' | sort >"$T/want.ids"
want=$(wc -l <"$T/want.ids")
[ "$want" -gt 5 ] || fail "replay raises only $want alerts: the test would prove little"

: >"$T/events.ndjson"
total=$(wc -l <"$EVENTS")
kills=0
give_ports "$T/ini"
for start in 1 1001 2001 3001 4001 5001; do
    sed -n "${start},$((start + 999))p" "$EVENTS" >>"$T/events.ndjson"
    "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>>"$T/daemon.log" &
    pid=$!
    # From before recovery ends to after the chunk is read: kills land at every stage.
    delays=(0.01 0.03 0.06 0.1 0.2 0.4)
    sleep "${delays[$((RANDOM % 6))]}"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
done
pass "killed the daemon $kills times while $total events streamed in"

start_daemon "$T/ini"
wait_for 60 bash -c "[ \$(python3 - <<'PY'
import json
n=set()
for l in open('$T/received.ndjson'):
    r=json.loads(l)
    if r['mode']=='ok': n.add(json.loads(r['body'])['alert_id'])
print(len(n))
PY
) -ge $want ]" || fail "receiver has $(accepted_ids | sort -u | wc -l) of $want alerts"
sleep 1 # anything still in flight would show up now
# Counted before the clean stop, whose checkpoint lets retention retire old events.
journaled=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/var/sigflow.db').execute('select count(*) from journal').fetchone()[0])")
[ "$journaled" -eq "$total" ] || fail "journal holds $journaled events for $total sent"
pass "the journal holds each of the $total events exactly once"
stop_daemon
accepted_ids | sort -u >"$T/got.ids"
diff "$T/want.ids" "$T/got.ids" >"$T/ids.diff" || fail "delivered alerts differ from replay: $(cat "$T/ids.diff")"
dups=$(($(accepted_ids | wc -l) - want))
[ "$dups" -le "$kills" ] || fail "$dups duplicate deliveries after $kills kills"
pass "every alert of replay delivered ($want), $dups duplicates after $kills kills"

kill "$RECV_PID"
