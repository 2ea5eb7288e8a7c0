#!/usr/bin/env bash
# `make bench`, part 3: events/s through the whole daemon (`sigflow run`) and the delay of its
# alerts: tests/bench/bench_run.py (its header says what is measured). Environment:
#   BENCH_RUN_DURABILITY  levels to run (default "fsync": issue #14's target; "fsync batch off")
#   BENCH_RUN_RUNS        runs per level, the median is reported (default 3)
#   BENCH_BASELINE        another sigflow binary (with its plugins in BENCH_BASELINE_PLUGINS,
#                         default its directory's plugins/) run in turn: A/B ratios
#   BENCH_MAX_LOAD        1-minute load above which the run says NOT VALID (default 2.0)
#   BENCH_RUN_PERF=1      one more run per level under `perf record` (not counted): the
#                         daemon's self samples by thread, library and function
#   BENCH_RUN_RECEIVER    c (default: tests/bench/http_sink.c --log, the receiver costs next to
#                         nothing) or python (tests/support/http_receiver.py, the tests' one)
set -eu
BUILD=${BUILD:-build}
ROOT=$PWD
EVENTS=${BENCH_EVENTS:-$ROOT/build/bench/events_1m.ndjson}
OUT=$ROOT/build/bench/run
[ -s "$EVENTS" ] || { echo "bench_run: $EVENTS missing (tests/bench/run.sh generates it)"; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/plugins"
install -m 0755 "$ROOT/$BUILD/plugins/connector_file.so" "$ROOT/$BUILD/plugins/delivery_webhook.so" \
    "$OUT/plugins/"
if [ "${BENCH_RUN_RECEIVER:-c}" = python ]; then
    RECEIVER=$ROOT/tests/support/http_receiver.py
else
    RECEIVER=$ROOT/$BUILD/tests/bench/http_sink
    [ -x "$RECEIVER" ] || make -s "$BUILD/tests/bench/http_sink"
fi
args=()
if [ -n "${BENCH_BASELINE:-}" ]; then
    bp=${BENCH_BASELINE_PLUGINS:-$(dirname "$BENCH_BASELINE")/plugins}
    mkdir -p "$OUT/plugins.baseline"
    install -m 0755 "$bp/connector_file.so" "$bp/delivery_webhook.so" "$OUT/plugins.baseline/"
    args=(--baseline "$BENCH_BASELINE" --baseline-plugins "$OUT/plugins.baseline")
fi
exec /usr/bin/python3 "$ROOT/tests/bench/bench_run.py" --sigflow "$ROOT/$BUILD/sigflow" \
    --plugins "$OUT/plugins" --conf "$ROOT/tests/bench/bench.ini" --events "$EVENTS" \
    --out "$OUT" --receiver "$RECEIVER" \
    --durability "${BENCH_RUN_DURABILITY:-fsync}" --runs "${BENCH_RUN_RUNS:-3}" \
    --max-load "${BENCH_MAX_LOAD:-2.0}" ${BENCH_RUN_PERF:+--perf} "${args[@]}"
