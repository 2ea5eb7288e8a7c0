#!/usr/bin/env bash
# Type=notify without libsystemd: with NOTIFY_SOCKET set, `sigflow run` sends READY=1 only once
# its admin listener answers, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on SIGTERM,
# and WATCHDOG=1 when WATCHDOG_USEC asks for it (docs/operating.md "systemd"). The receiver is
# a Unix datagram socket, as systemd's is.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
write_login_ini "$PD" "$T/alerts.ndjson"
: >"$T/events.ndjson"
give_ports "$T/ini"
ADMIN=$(sed -n 's/^admin = //p' "$T/ini")

# One line per datagram (newlines as '|'); on READY=1 the receiver also notes whether the
# admin listener already accepts a connection (READY=1 must come after the bind).
/usr/bin/python3 -c '
import socket, sys
host, port = sys.argv[2].rsplit(":", 1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[3], "a") as out:
    print("bound", file=out, flush=True)
    while True:
        msg = s.recv(4096).decode()
        line = msg.replace("\n", "|")
        if msg.startswith("READY=1"):
            c = socket.socket()
            line += " admin=" + ("up" if c.connect_ex((host, int(port))) == 0 else "down")
            c.close()
        print(line, file=out, flush=True)
' "$T/notify.sock" "$ADMIN" "$T/msgs" &
RECV_PID=$!
wait_for 10 grep -q bound "$T/msgs" || fail "the datagram receiver did not start"

NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 start_daemon "$T/ini"
wait_for 10 grep -q '^READY=1' "$T/msgs" || fail "no READY=1: $(cat "$T/msgs")"
grep -q '^READY=1.* admin=up$' "$T/msgs" || fail "READY=1 before the listener: $(cat "$T/msgs")"
pass "READY=1 arrives once the admin listener accepts connections"

wait_for 10 grep -q '^WATCHDOG=1$' "$T/msgs" || fail "no WATCHDOG=1 with WATCHDOG_USEC set"
pass "WATCHDOG=1 is sent when WATCHDOG_USEC asks for it"

kill -HUP "$DAEMON_PID"
wait_for 10 grep -q 'reloaded' "$T/daemon.log" || fail "reload did not happen"
two_ready() { [ "$(grep -c '^READY=1' "$T/msgs")" -ge 2 ]; }
wait_for 10 two_ready || fail "no READY=1 after the reload"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit code $DAEMON_RC"
wait_for 10 grep -q '^STOPPING=1' "$T/msgs" || fail "no STOPPING=1: $(cat "$T/msgs")"
# the order, watchdog pings left out: READY, RELOADING (with MONOTONIC_USEC), READY, STOPPING
grep -v '^WATCHDOG=1$' "$T/msgs" | grep -v '^bound$' | cut -d'|' -f1 >"$T/order"
printf 'READY=1\nRELOADING=1\nREADY=1\nSTOPPING=1\n' >"$T/want"
diff "$T/want" "$T/order" >/dev/null || fail "order: $(tr '\n' ' ' <"$T/order")"
grep '^RELOADING=1' "$T/msgs" | grep -q '|MONOTONIC_USEC=[0-9][0-9]*' ||
    fail "RELOADING=1 without MONOTONIC_USEC: $(grep RELOADING "$T/msgs")"
pass "READY=1, RELOADING=1, READY=1, STOPPING=1 arrive in that order"

# without NOTIFY_SOCKET nothing changes (no warning, a normal run)
start_daemon "$T/ini"
stop_daemon
grep -q 'NOTIFY_SOCKET' "$T/daemon.log" && fail "a run without NOTIFY_SOCKET mentions it"
pass "without NOTIFY_SOCKET the daemon runs as before"
