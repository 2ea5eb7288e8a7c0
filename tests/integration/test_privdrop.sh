#!/usr/bin/env bash
# `user = NAME` in [sigflow] (docs/reliability.md, Storage): started as root, the daemon binds
# its listeners and opens its store, hands state_dir to NAME, then becomes NAME for good:
# every uid and gid in /proc/PID/status is NAME's, its only group is NAME's group, and the
# daemon still journals, scores, delivers, reloads and checkpoints. Plugin code runs only
# after the drop: a plugin's init at start-up (fixture init_whoami) logs NAME's ids, never
# root's (before, the start-up scan ran init as root), and so does a plugin dropped in later. Root without `user =` is
# warned about; an unknown user stops the start. Needs root (exit 77 otherwise: skipped).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to drop privileges"; exit 77; }
id nobody >/dev/null 2>&1 || fail "no user nobody on this system"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

chmod 0755 "$T" # nobody reads the config (SIGHUP) and the events file in it
PD=$(plugin_dir_with connector_file delivery_console)
install -m 0755 "$FIXTURES/init_whoami.so" "$PD/"
mkdir -m 0755 "$T/out" && chown nobody "$T/out"
write_login_ini "$PD" "$T/out/alerts.ndjson" "[delivery who]
plugin = init_whoami"
sed -i "0,/^\[sigflow\]/s//[sigflow]\nuser = nobody/" "$T/ini"
chmod 0644 "$T/ini"
login() { printf '{"entity":"%s","type":"login","time":"2026-11-01T10:00:%02dZ"}\n' "$1" "$2"; }
login a 1 >"$T/events.ndjson"
chmod 0644 "$T/events.ndjson"

start_daemon "$T/ini"
wait_for 10 grep -q "running as user=nobody uid=$NOBODY_UID gid=$NOBODY_GID" "$T/daemon.log" ||
    fail "no line saying the daemon became nobody"
status=/proc/$DAEMON_PID/status
grep -Eq "^Uid:\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID\s+$NOBODY_UID$" "$status" ||
    fail "uids: $(grep ^Uid "$status")"
grep -Eq "^Gid:\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID\s+$NOBODY_GID$" "$status" ||
    fail "gids: $(grep ^Gid "$status")"
groups=$(sed -n 's/^Groups:\s*//p' "$status" | xargs)
[ "$groups" = "$(id -G nobody | xargs)" ] || fail "supplementary groups '$groups', expected nobody's"
grep -Eq '^CapEff:\s+0+$' "$status" || fail "capabilities left: $(grep ^Cap "$status")"
grep -q 'running as root without `user =`' "$T/daemon.log" && fail "warned about root despite user ="
pass "after binding, every uid and gid is nobody's, with nobody's groups and no capability"

whoami="init ran as uid=$NOBODY_UID euid=$NOBODY_UID gid=$NOBODY_GID egid=$NOBODY_GID"
grep -q "plugin=init_whoami .*$whoami" "$T/daemon.log" ||
    fail "a plugin's init at start-up did not run as nobody: $(grep 'init ran as' "$T/daemon.log")"
grep 'init ran as' "$T/daemon.log" | grep -vq "$whoami" &&
    fail "a plugin's init ran with other ids: $(grep 'init ran as' "$T/daemon.log")"
[ "$(grep -n 'running as user=nobody' "$T/daemon.log" | cut -d: -f1)" -lt \
    "$(grep -n 'init ran as' "$T/daemon.log" | head -1 | cut -d: -f1)" ] ||
    fail "a plugin's init ran before the daemon became nobody"
pass "a plugin's init at start-up runs as nobody, after the drop"

bad=$(find "$T/var" ! -user nobody | head -3)
[ -z "$bad" ] || fail "state_dir entries not handed to nobody: $bad"
wait_for 20 grep -q '"entity":"a"' "$T/out/alerts.ndjson" || fail "no alert as nobody"
login b 2 >>"$T/events.ndjson"
wait_for 20 grep -q '"entity":"b"' "$T/out/alerts.ndjson" || fail "no alert for a later event"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'reloaded' "$T/daemon.log" || fail "no reload as nobody"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
grep -q 'scoring state saved' "$T/daemon.log" || fail "no checkpoint at stop as nobody"
pass "as nobody the daemon journals, delivers, reloads and checkpoints into the state_dir it was handed"

# Restarted as root over nobody's store: handed over again, runs.
start_daemon "$T/ini"
wait_for 10 grep -q "running as user=nobody" "$T/daemon.log" || fail "second start did not drop"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "second run exit $DAEMON_RC"

# Root without user =: warned. An unknown user: the start fails, naming it.
sed -i '/^user = nobody$/d' "$T/ini"
start_daemon "$T/ini"
grep -q 'running as root without `user =`' "$T/daemon.log" || fail "no warning about root"
stop_daemon
sed -i "0,/^\[sigflow\]/s//[sigflow]\nuser = no-such-user-here/" "$T/ini"
"$SIGFLOW" run -c "$T/ini" >/dev/null 2>"$T/nouser.log" &
pid=$!
wait_for 20 bash -c "! kill -0 $pid" || { kill -9 $pid; fail "run with an unknown user did not stop"; }
wait $pid
rc=$?
[ "$rc" -eq 1 ] || fail "unknown user: exit $rc"
grep -q 'cannot run as user no-such-user-here: user = no-such-user-here: no such user' "$T/nouser.log" ||
    fail "unknown user not named: $(tail -3 "$T/nouser.log")"
pass "root without user = is warned about; an unknown user stops the start with its name"
