#!/usr/bin/env bash
# `sigflow dlq show ID`: one dead delivery with its alert and every attempt made for it; an
# unknown ID exits 1; `dlq list TARGET` refuses a target the config does not have.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_webhook)
start_receiver --mode refuse --status 400
write_durable_ini "$PD" 3
printf '{"entity":"e1","type":"subscription.downgrade","time":"2026-11-0%dT10:00:00Z"}\n' 1 >"$T/events.ndjson"
sed -i "s/^threshold .*/threshold = 0.1/; s/^rearm_below .*/rearm_below = 0.05/" "$T/ini"
start_daemon "$T/ini"
wait_for 30 grep -q 'dead-lettered' "$T/daemon.log" || fail "no dead letter"
"$SIGFLOW" dlq -c "$T/ini" list >"$T/list.out" 2>/dev/null || fail "dlq list failed"
id=$(head -1 "$T/list.out" | cut -f1)
alert=$(head -1 "$T/list.out" | cut -f3)
[ -n "$id" ] || fail "no dead delivery listed"
"$SIGFLOW" dlq -c "$T/ini" show "$id" >"$T/show.out" 2>"$T/show.err" || fail "dlq show: $(cat "$T/show.err")"
grep -q "^delivery $id (dead)" "$T/show.out" || fail "show does not name the delivery"
grep -q "alert     $alert" "$T/show.out" || fail "show does not name the alert"
grep -q '"entity":"e1"' "$T/show.out" || fail "show does not print the alert JSON"
[ "$(grep -c ' hook  *\(retry\|dead\) .*400' "$T/show.out")" -ge 1 ] ||
    fail "show does not list the attempts: $(cat "$T/show.out")"
pass "dlq show prints the dead delivery, its alert and its attempts"
"$SIGFLOW" dlq -c "$T/ini" show 999999 >/dev/null 2>"$T/err" && fail "an unknown id exits 0"
grep -q 'no dead delivery 999999' "$T/err" || fail "an unknown id is not named"
"$SIGFLOW" dlq -c "$T/ini" list hokk >/dev/null 2>"$T/err" && fail "an unknown target exits 0"
grep -q 'no \[delivery hokk\].*did you mean `hook`' "$T/err" || fail "unknown target: $(cat "$T/err")"
pass "dlq refuses an unknown id and an unknown target (with a did-you-mean)"
stop_daemon
# the receiver goes with the test (lib.sh cleanup)
