# Shared by the integration tests: temp dirs, bounded waits, a daemon in the background.
# Every wait is bounded; every test cleans up its processes on exit.
set -u
: "${SIGFLOW:?run through tests/run.sh (make test)}"
: "${PLUGIN_BUILD:?}" "${FIXTURES:?}" "${ROOT:?}"

# The plugin ABI the SDK header in this tree speaks ("1.1"), read from the header itself.
ABI="$(sed -n 's/^#define SF_ABI_MAJOR //p' "$ROOT/sdk/sigflow.h").$(sed -n 's/^#define SF_ABI_MINOR //p' "$ROOT/sdk/sigflow.h")"

T=$(mktemp -d /tmp/sigflow-test.XXXXXX)
DAEMON_PID=
RECV_PID=
# Everything a test started goes with it, however it ends: a helper left running keeps the
# caller's open files (a lock, a pipe) and its port.
cleanup() {
    [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
    [ -n "$RECV_PID" ] && { kill -9 "$RECV_PID" && wait "$RECV_PID"; } 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/daemon.log" ] && { echo "--- daemon log (tail)" >&2; tail -20 "$T/daemon.log" >&2; }
    exit 1
}

pass() { echo "ok - $*"; }

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
    local limit=$(($1 * 10))
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# A private plugin dir with copies of the named bundled plugins (mode 0755, owned by us).
plugin_dir_with() {
    local dir=$T/plugins
    mkdir -p "$dir"
    for p in "$@"; do install -m 0755 "$PLUGIN_BUILD/$p.so" "$dir/"; done
    echo "$dir"
}

# give_ports CONFIG: a config without `admin =` gets a free port for it, so tests running at
# once never share the default 127.0.0.1:9464 (a port taken makes `run` exit 1).
give_ports() {
    grep -q '^admin *=' "$1" || sed -i "0,/^\[sigflow\]/s//[sigflow]\nadmin = 127.0.0.1:$(free_port)/" "$1"
}

# start_daemon CONFIG: run `sigflow run` in the background, logging to $T/daemon.log.
start_daemon() {
    give_ports "$1"
    : >"$T/daemon.log" # emptied here: the background redirection may come after the first grep
    "$SIGFLOW" run --init -c "$1" >"$T/daemon.out" 2>"$T/daemon.log" &
    DAEMON_PID=$!
    # the start-up line ("sigflow VERSION running: config=..."), not the "running as root" warning
    wait_for 10 grep -q ' running: config=' "$T/daemon.log" || fail "daemon did not start"
}

# stop_daemon: SIGTERM and wait (bounded) for a clean exit; sets DAEMON_RC.
stop_daemon() {
    kill -TERM "$DAEMON_PID"
    for ((i = 0; i < 300; i++)); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$DAEMON_PID" 2>/dev/null && fail "daemon still running 30 s after SIGTERM"
    wait "$DAEMON_PID"
    DAEMON_RC=$?
    DAEMON_PID=
}

alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

count_lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# has_lines FILE N: FILE has at least N lines (for wait_for, which re-runs it each time; a
# "$(count_lines ...)" argument to wait_for would be counted once, before the wait).
has_lines() { [ "$(count_lines "$1")" -ge "$2" ]; }

# start_receiver [ARGS...]: the test HTTP receiver on a free port (RECV_PORT), logging every
# request to $T/received.ndjson; RECV_PID is its pid.
start_receiver() {
    rm -f "$T/receiver.port"
    python3 "$ROOT/tests/support/http_receiver.py" --log "$T/received.ndjson" "$@" \
        >"$T/receiver.port" 2>"$T/receiver.err" &
    RECV_PID=$!
    wait_for 10 test -s "$T/receiver.port" || fail "receiver did not start"
    RECV_PORT=$(head -1 "$T/receiver.port")
}

# receiver_control JSON: switch the receiver's mode while it runs.
receiver_control() {
    python3 - "$RECV_PORT" "$1" <<'PY'
import sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/_control" % sys.argv[1],
                             data=sys.argv[2].encode(), method="POST")
urllib.request.urlopen(req, timeout=5).read()
PY
}

# accepted_ids: the alert ids the receiver answered 200 to, one per line, in arrival order.
accepted_ids() {
    [ -f "$T/received.ndjson" ] || return 0
    python3 - "$T/received.ndjson" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["mode"] == "ok":
        body = json.loads(r["body"])
        assert r["headers"]["idempotency-key"] == body["alert_id"], "idempotency key"
        print(body["alert_id"])
PY
}

# A config for the durability tests: file connector following $T/events.ndjson, the webhook
# delivery to the receiver, clock = event so the alerts are replay's.
write_durable_ini() {
    cat >"$T/ini" <<INI
$(sed -n '/^\[decision\]/,/^\[connector/p' "$ROOT/conf/sigflow.ini" | sed '$d' |
        sed 's/^deliver .*/deliver = hook/')

[sigflow]
plugin_dir = $1
state_dir = $T/var
clock = event
durability = fsync
retry_base = 100ms
retry_max = 400ms
max_attempts = ${2:-50}

[connector events]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 20ms

[delivery hook]
plugin = webhook
url = http://127.0.0.1:$RECV_PORT/hook
timeout = 2s
INI
}

# write_login_ini PLUGIN_DIR ALERTS_PATH [EXTRA_LINES]: a one-signal config (any login fires
# at once, score 0.993) with the file connector following $T/events.ndjson and the console
# delivery writing to ALERTS_PATH; EXTRA_LINES (e.g. another section) are appended.
write_login_ini() {
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $1
state_dir = $T/var
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
path = $T/events.ndjson
follow = true
poll_interval = 50ms
[delivery out]
plugin = console
path = $2
${3:-}
INI
}

# free_port: a TCP port on 127.0.0.1 nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# webhook_ini DURABILITY TOLERANCE [SIGFLOW_LINES]: $T/ini with the webhook connector `hook`
# at /in on 127.0.0.1:$PORT (admin on $ADMIN when it is set, plugins from $PD), mapping the
# {"id", "c", "t", "ts"} events tests/support/ingest_client.py sends.
webhook_ini() {
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
${ADMIN:+admin = 127.0.0.1:$ADMIN}
durability = $1
${3:-}
[connector hook]
plugin = webhook
path = /in
tolerance = $2
map.id = id
map.entity = c
map.type = t
map.time = ts
map.time_unit = s
INI
}

# metrics_text: the daemon's /metrics on 127.0.0.1:$ADMIN.
metrics_text() {
    python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$ADMIN/metrics').read().decode())"
}

# metric SERIES: the value of SERIES (its whole name, labels included) in /metrics; 0 if absent.
metric() {
    metrics_text | awk -v s="$1" '$1 == s {v = $2} END {print v == "" ? 0 : v}'
}

# ids_with FILE STATUS: the ids FILE's "STATUS ID" lines (ingest_client.py's) answered STATUS.
ids_with() { awk -v s="$2" '$1 == s {print $2}' "$1" | sort; }

# journal_ids: the source ids (`map.id`) of every event in $T/var/sigflow.db's journal, sorted,
# one per line (a duplicate shows twice); read with Debian's sqlite3 module.
journal_ids() {
    /usr/bin/python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('select source_id from journal')]" "$T/var/sigflow.db" | sort
}

# lock_db SECONDS [UNTIL]: another process holds $T/var/sigflow.db's write lock (BEGIN
# IMMEDIATE) for SECONDS, or until the file UNTIL exists if that comes first; prints "locked"
# once it holds it.
lock_db() {
    /usr/bin/python3 - "$T/var/sigflow.db" "$1" "${2:-}" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end and not (sys.argv[3] and os.path.exists(sys.argv[3])):
    time.sleep(0.01)
db.execute("ROLLBACK")
PY
}

# readyz: GET /readyz on the admin port $ADMIN, the body in $T/readyz.body, the status printed;
# is_ready / not_ready: whether it answers 200 / 503 (for wait_for).
readyz() { curl -s -m 5 -o "$T/readyz.body" -w '%{http_code}' "http://127.0.0.1:$ADMIN/readyz"; }
is_ready() { [ "$(readyz)" = 200 ]; }
not_ready() { [ "$(readyz)" = 503 ]; }
