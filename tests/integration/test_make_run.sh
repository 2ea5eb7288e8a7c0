#!/usr/bin/env bash
# The README's first command, `make run`, prints the same alerts every time: the demo starts
# from an empty state (a second run used to journal the sample again onto the first run's
# state and print nothing). The expected alerts are replay's over the same sample. It runs in
# a copy of the source tree whose demo config has only its admin port swapped for a free one
# (tests running at once, or a demo left running, would otherwise share 127.0.0.1:9464).
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL # a make of our own, not a job of `make test`'s

mkdir -p "$T/src"
(cd "$ROOT" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$T/src" && tar -xf -) ||
    fail "cannot copy the source tree"
mkdir -p "$T/src/$(dirname "$BUILD")"
cp -a "$ROOT/$BUILD" "$T/src/$BUILD" || fail "cannot copy the build"
# The demo config names build/plugins: a sanitizer build ($BUILD = build/san) runs its binary
# with the plain build's plugins, as `make run SANITIZE=1` does in the tree.
if [ "$BUILD" != build ] && ! [ -d "$ROOT/build/plugins" ]; then
    echo "skip: the sanitizer run of the demo needs the plain build's plugins (make first)"
    exit 77
fi
if [ "$BUILD" != build ]; then
    mkdir -p "$T/src/build" && cp -a "$ROOT/build/plugins" "$T/src/build/plugins" ||
        fail "cannot copy the plugins"
fi
sed -i "s|^log_level  = info|log_level  = info\nadmin = 127.0.0.1:$(free_port)|" "$T/src/conf/sigflow.ini"
grep -q '^admin = ' "$T/src/conf/sigflow.ini" || fail "the demo config changed: no log_level line"

"$SIGFLOW" replay -c "$ROOT/conf/sigflow.ini" "$ROOT/conf/sample-events.ndjson" \
    >"$T/expected.ndjson" 2>/dev/null || fail "replay of the sample failed"
want=$(count_lines "$T/expected.ndjson")
[ "$want" -gt 0 ] || fail "the sample produces no alert"

alerts_in() { grep -c '^{' "$1" 2>/dev/null || true; } # a first run's build lines aside
has_alerts() { [ "$(alerts_in "$1")" -ge "$2" ]; }
RUN_PID=
trap '[ -n "$RUN_PID" ] && kill -9 -- -"$RUN_PID" 2>/dev/null; cleanup' EXIT
make_run() { # OUT: `make run` until it printed $want alerts, then Ctrl-C (the process group)
    setsid make -s -C "$T/src" run SANITIZE="${SANITIZE:-}" >"$1" 2>"$T/daemon.log" &
    RUN_PID=$!
    wait_for 120 has_alerts "$1" "$want" || fail "$1: $(alerts_in "$1") of $want alerts"
    kill -INT -- -"$RUN_PID"
    wait "$RUN_PID"
    RUN_PID=
}
make_run "$T/run1.out"
make_run "$T/run2.out"
grep '^{' "$T/run1.out" >"$T/run1.ndjson"
grep '^{' "$T/run2.out" >"$T/run2.ndjson"
cmp -s "$T/run1.ndjson" "$T/run2.ndjson" || fail "the second make run printed other alerts"
cmp -s "$T/run1.ndjson" "$T/expected.ndjson" || fail "make run's alerts differ from replay's"
pass "make run prints the same $want alerts twice in a row"
