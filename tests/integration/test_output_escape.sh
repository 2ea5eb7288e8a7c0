#!/usr/bin/env bash
# Output that a sender's bytes reach is escaped (docs/reliability.md, Untrusted input): an
# entity holding ESC sequences, a newline and a tab (and a receiver's error text holding an OSC
# title sequence, which the webhook plugin already blanks) reach `sigflow dlq list` and `dlq
# show` as \x1b, \n and \t: one
# row per dead delivery with its seven columns, nothing a terminal would act on. `check`
# messages quoting the INI are escaped the same way.
. "$(dirname "$0")/lib.sh"

ESC=$'\x1b'
start_receiver --mode refuse --status 400 --body "$(printf 'refused\033]0;owned\007\nforged row')"
PD=$(plugin_dir_with connector_file delivery_webhook)
write_login_ini "$PD" "$T/unused" "[delivery hook]
plugin = webhook
url = http://127.0.0.1:$RECV_PORT/hook
timeout = 2s"
sed -i 's/^deliver = out$/deliver = hook/; /^\[delivery out\]$/,/^path = /d' "$T/ini"
printf '{"entity":"ev\\u001b[2Jil\\nforged\\trow","type":"login","time":"2026-11-01T10:00:01Z"}\n' \
    >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 30 bash -c "'$SIGFLOW' dlq -c '$T/ini' list 2>/dev/null | grep -q ." ||
    fail "no dead delivery: $(tail -5 "$T/daemon.log")"
stop_daemon

"$SIGFLOW" dlq -c "$T/ini" list >"$T/list.out" 2>"$T/list.err" || fail "dlq list failed"
[ "$(wc -l <"$T/list.out")" -eq 1 ] || fail "one dead delivery printed as $(wc -l <"$T/list.out") lines: $(cat -A "$T/list.out")"
[ "$(awk -F'\t' '{print NF}' "$T/list.out")" -eq 7 ] || fail "columns shifted: $(cat -A "$T/list.out")"
grep -q "$ESC" "$T/list.out" && fail "a raw ESC reached the terminal: $(cat -A "$T/list.out")"
grep -qF 'ev\x1b[2Jil\nforged\trow' "$T/list.out" || fail "entity not shown escaped: $(cat -A "$T/list.out")"
grep -qF 'HTTP 400: refused' "$T/list.out" || fail "no error column: $(cat -A "$T/list.out")"
pass "dlq list: one row, seven columns, ESC/newline/tab shown as \\x1b \\n \\t"

id=$(cut -f1 "$T/list.out")
"$SIGFLOW" dlq -c "$T/ini" show "$id" >"$T/show.out" 2>&1 || fail "dlq show failed: $(cat "$T/show.out")"
grep -q "$ESC" "$T/show.out" && fail "a raw ESC in dlq show: $(cat -A "$T/show.out")"
grep -q '^forged' "$T/show.out" && fail "a forged line in dlq show: $(cat -A "$T/show.out")"
grep -qF '  entity    ev\x1b[2Jil\nforged\trow' "$T/show.out" || fail "dlq show entity: $(cat -A "$T/show.out")"
pass "dlq show: every field on its own line, escaped"

# check quotes the INI: a plugin name holding an ESC sequence is shown escaped.
sed -i "s/^plugin = webhook\$/plugin = web${ESC}]0;owned${ESC}\\\\hook/" "$T/ini"
"$SIGFLOW" check -c "$T/ini" >"$T/check.out" 2>&1
grep -q "$ESC" "$T/check.out" && fail "a raw ESC in check's output: $(cat -A "$T/check.out")"
grep -qF 'bad plugin name `web\x1b]0;owned\x1b\\hook`' "$T/check.out" ||
    fail "check does not show the name escaped: $(cat -A "$T/check.out")"
pass "check messages quoting the INI are escaped"
