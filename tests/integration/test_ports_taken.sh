#!/usr/bin/env bash
# A port already taken (admin or ingest) is a failure to start: exit 1 with the address in the
# message, so systemd reports it (it used to run deaf, retrying the ingest bind forever).
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
# hold a port: a listening socket in a helper process
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$T/held" &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; cleanup' EXIT
wait_for 10 test -s "$T/held" || fail "no port held"
HELD=$(cat "$T/held")

write_ini() { # ADMIN INGEST
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin = 127.0.0.1:$1
ingest = 127.0.0.1:$2
[connector hook]
plugin = webhook
path = /events
[delivery out]
plugin = console
INI
}
run_expect_fail() { # WHAT
    timeout 30 "$SIGFLOW" run --init -c "$T/ini" >/dev/null 2>"$T/run.log"
    local rc=$?
    [ "$rc" -eq 1 ] || fail "$1 taken: exit $rc, want 1 ($(tail -2 "$T/run.log"))"
    grep -q "$1.*127.0.0.1:$HELD" "$T/run.log" || fail "$1 taken: the address is not in the message"
}
write_ini "$HELD" "$(free_port)"
run_expect_fail admin
pass "an admin port already taken: exit 1 naming 127.0.0.1:$HELD"
write_ini "$(free_port)" "$HELD"
run_expect_fail ingest
pass "an ingest port already taken: exit 1 naming 127.0.0.1:$HELD"
