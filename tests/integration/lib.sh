# Shared by the integration tests: temp dirs, bounded waits, a daemon in the background.
# Every wait is bounded; every test cleans up its processes on exit.
set -u
: "${SIGFLOW:?run through tests/run.sh (make test)}"
: "${PLUGIN_BUILD:?}" "${FIXTURES:?}" "${ROOT:?}"

T=$(mktemp -d /tmp/sigflow-test.XXXXXX)
DAEMON_PID=
cleanup() {
    [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
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

# start_daemon CONFIG: run `sigflow run` in the background, logging to $T/daemon.log.
start_daemon() {
    "$SIGFLOW" run -c "$1" >"$T/daemon.out" 2>"$T/daemon.log" &
    DAEMON_PID=$!
    wait_for 10 grep -q 'running' "$T/daemon.log" || fail "daemon did not start"
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
