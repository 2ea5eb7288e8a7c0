#!/usr/bin/env bash
# The README's first command, `make run`, prints the same alerts every time: the demo starts
# from an empty state (a second run used to journal the sample again onto the first run's
# state and print nothing). The expected alerts are replay's over the same sample.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL # a make of our own, not a job of `make test`'s

"$SIGFLOW" replay -c "$ROOT/conf/sigflow.ini" "$ROOT/conf/sample-events.ndjson" \
    >"$T/expected.ndjson" 2>/dev/null || fail "replay of the sample failed"
want=$(count_lines "$T/expected.ndjson")
[ "$want" -gt 0 ] || fail "the sample produces no alert"

# The demo's admin endpoints are on the default 127.0.0.1:9464, which another test's daemon
# may hold for a moment: a run that exits for that is tried again (bounded).
started_or_done() { has_lines "$1" "$want" || ! kill -0 "$2" 2>/dev/null; }
make_run() { # OUT: `make run` until it printed $want alerts, then Ctrl-C (the process group)
    local pid
    for ((try = 0; try < 60; try++)); do
        setsid make -s -C "$ROOT" run SANITIZE="${SANITIZE:-}" >"$1" 2>"$T/daemon.log" &
        pid=$!
        wait_for 120 started_or_done "$1" "$pid" || { kill -9 -- -"$pid"; fail "$1: $(count_lines "$1") of $want alerts"; }
        has_lines "$1" "$want" && break
        wait "$pid"
        grep -q 'cannot listen on 127.0.0.1:9464' "$T/daemon.log" || fail "make run failed"
        sleep 2
    done
    has_lines "$1" "$want" || fail "127.0.0.1:9464 stayed taken"
    kill -INT -- -"$pid"
    wait "$pid"
}
make_run "$T/run1.ndjson"
make_run "$T/run2.ndjson"
cmp -s "$T/run1.ndjson" "$T/run2.ndjson" || fail "the second make run printed other alerts"
cmp -s "$T/run1.ndjson" "$T/expected.ndjson" || fail "make run's alerts differ from replay's"
pass "make run prints the same $want alerts twice in a row"
