#!/usr/bin/env bash
# One rule for relative paths: state_dir, plugin_dir, `file:` secrets and plugin paths
# (connector `path`, console `path`) are resolved against the config file's directory, so the
# daemon started from any working directory finds the same files (docs/config.md "Paths").
. "$(dirname "$0")/lib.sh"

S=$T/site
mkdir -p "$S/plugins"
install -m 0755 "$PLUGIN_BUILD/connector_file.so" "$PLUGIN_BUILD/delivery_console.so" "$S/plugins/"
echo 'admin-secret' >"$S/admin.token"
chmod 600 "$S/admin.token"
: >"$S/events.ndjson"
cat >"$S/sigflow.ini" <<INI
[sigflow]
plugin_dir = plugins
state_dir = var
admin = 127.0.0.1:$(free_port)
admin_token = file:admin.token
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
[connector in]
plugin = file
path = events.ndjson
follow = true
poll_interval = 50ms
[delivery out]
plugin = console
path = alerts.ndjson
INI

(cd / && "$SIGFLOW" check -c "$S/sigflow.ini") >"$T/check.out" 2>&1 ||
    fail "check from / refused relative paths: $(cat "$T/check.out")"
pass "check resolves every relative path against the config's directory"

cd / || fail "cd /"
start_daemon "$S/sigflow.ini"
echo '{"entity":"e1","type":"login","time":"2026-11-01T10:00:00Z"}' >>"$S/events.ndjson"
wait_for 20 grep -q '"e1"' "$S/alerts.ndjson" ||
    fail "no alert in the config dir's alerts.ndjson (paths resolved against the cwd?)"
[ -f "$S/var/sigflow.db" ] || fail "state_dir not in the config's directory"
pass "run from / reads and writes the config directory's files"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] || fail "exit code $DAEMON_RC"
