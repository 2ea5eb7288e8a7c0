#!/usr/bin/env bash
# Deliveries through outages (docs/durability.md): a receiver that answers 503 with
# Retry-After, then goes away entirely, gets every alert once it is back; a receiver that
# refuses for good dead-letters them, and `sigflow dlq retry` delivers them once it accepts.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_webhook)
EVENTS=$ROOT/conf/sample-events.ndjson

# --- 1. 503s with Retry-After, then the receiver process is gone, then back on its port.
start_receiver --mode refuse --status 503 --retry-after 1 --count 5
write_durable_ini "$PD"
"$SIGFLOW" replay -c "$T/ini" "$EVENTS" 2>/dev/null | wc -l >"$T/want.n"
want=$(cat "$T/want.n")
[ "$want" -gt 5 ] || fail "replay raises only $want alerts"
cp "$EVENTS" "$T/events.ndjson"
start_daemon "$T/ini"
wait_for 30 bash -c "[ \$(grep -c '\"mode\": \"refuse\"' '$T/received.ndjson') -ge 5 ]" ||
    fail "the receiver never saw its five refusals"
kill "$RECV_PID"
wait "$RECV_PID" 2>/dev/null
sleep 1 # deliveries now meet a closed port and are retried
grep -q 'retrying alert=' "$T/daemon.log" || fail "no retry logged while the receiver was away"
start_receiver --port "$RECV_PORT"
wait_for 60 bash -c "[ \$(grep -c '\"mode\": \"ok\"' '$T/received.ndjson') -ge $want ]" ||
    fail "after the outage the receiver has $(accepted_ids | sort -u | wc -l) of $want alerts"
[ "$(accepted_ids | sort -u | wc -l)" -eq "$want" ] || fail "not every alert arrived"
grep -q 'dead-lettered' "$T/daemon.log" && fail "an alert was dead-lettered during a short outage"
pass "503s and a receiver that was gone: all $want alerts delivered once it was back"
stop_daemon
kill "$RECV_PID"
wait "$RECV_PID" 2>/dev/null

# --- 2. Permanent refusals (400) go to the dead-letter queue; dlq retry delivers them.
rm -rf "$T/var" "$T/received.ndjson"
start_receiver --mode refuse --status 400
write_durable_ini "$PD" 3
start_daemon "$T/ini"
wait_for 30 bash -c "[ \$(grep -c 'dead-lettered' '$T/daemon.log') -ge $want ]" ||
    fail "400s were not dead-lettered"
"$SIGFLOW" dlq -c "$T/ini" list >"$T/dlq.out" 2>/dev/null || fail "dlq list failed"
[ "$(wc -l <"$T/dlq.out")" -eq "$want" ] || fail "dlq lists $(wc -l <"$T/dlq.out") of $want"
grep -q 'HTTP 400' "$T/dlq.out" || fail "dlq list does not show the last error: $(head -1 "$T/dlq.out")"
pass "permanent failures are dead-lettered with their last error"

receiver_control '{"mode": "ok"}'
"$SIGFLOW" dlq -c "$T/ini" retry --all >"$T/retry.out" || fail "dlq retry failed"
grep -q "^$want deliveries pending again" "$T/retry.out" || fail "dlq retry: $(cat "$T/retry.out")"
wait_for 30 bash -c "[ \$(grep -c '\"mode\": \"ok\"' '$T/received.ndjson') -ge $want ]" ||
    fail "the running daemon did not deliver the retried alerts"
"$SIGFLOW" dlq -c "$T/ini" list >"$T/dlq2.out" 2>/dev/null
[ ! -s "$T/dlq2.out" ] || fail "dead-letter queue not empty after delivery"
pass "dlq retry --all: the running daemon delivers them all"
stop_daemon
kill "$RECV_PID"
