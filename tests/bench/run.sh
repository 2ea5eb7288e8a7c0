#!/usr/bin/env bash
# `make bench`: the benchmarks of docs/performance.md on tests/bench/gen_events.py's workload.
#   1. replay: 1,000,000 events over 10,000 customers, ticks on (1h), four signals (bench.ini)
#   2. replay: the same event count over 1,000,000 customers (-c 1000000): ~630k entities
#   3. the whole daemon, `sigflow run` (bench_run.sh)   4. the journal   5. HTTP ingest
# Each part records the load average and says VALID or NOT VALID against BENCH_MAX_LOAD
# (1-minute load, default 2.0). BENCH_ONLY=replay|run|http runs one part. Not a pass/fail
# test: the figures go into docs/performance.md by hand.
set -eu
BUILD=${BUILD:-build}
ROOT=$PWD
SIGFLOW=$ROOT/$BUILD/sigflow
GEN=$ROOT/tests/bench/gen_events.py
CONF=$ROOT/tests/bench/bench.ini
OUT=$ROOT/build/bench
SHARDS=${BENCH_SHARDS:-"1 2"}
mkdir -p "$OUT"
# BENCH_ONLY=http: just the HTTP ingest matrix (part 5).
if [ "${BENCH_ONLY:-}" = http ]; then
    exec "$ROOT/tests/bench/bench_http.sh"
fi

# Generated once per version of the generator (it is deterministic); a changed generator
# writes new files instead of reusing old ones.
GEN_SUM=$(md5sum "$GEN" | cut -c1-8)
gen() { # file args...
    local f=$1
    shift
    [ -s "$f" ] && [ "$(cat "$f.gen" 2>/dev/null)" = "$GEN_SUM $*" ] && return 0
    python3 "$GEN" "$@" -o "$f"
    echo "$GEN_SUM $*" >"$f.gen"
}
gen "$OUT/events_1m.ndjson" -n 1000000
gen "$OUT/events_1m_1me.ndjson" -n 1000000 -c 1000000
# Files just written are still being written back to the disk: without this the first replay
# cell ran beside that writeback (963k events/s where the next run made 1.32M, 2026-12-02).
sync
if [ "${BENCH_ONLY:-}" = run ]; then
    exec "$ROOT/tests/bench/bench_run.sh"
fi

# 1-2. Replay: medians of BENCH_RUNS runs (default 3), alert streams compared across shards;
# BENCH_BASELINE=OTHER_SIGFLOW also runs that binary in turn and prints CPU ratios.
echo "bench: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
base=()
[ -n "${BENCH_BASELINE:-}" ] && base=(--baseline "$BENCH_BASELINE")
/usr/bin/python3 "$ROOT/tests/bench/bench_replay.py" --sigflow "$SIGFLOW" --conf "$CONF" \
    --file "1M events, 10k ents=$OUT/events_1m.ndjson" \
    --file "1M events, 1M custs=$OUT/events_1m_1me.ndjson" --shards "$SHARDS" \
    --runs "${BENCH_RUNS:-3}" --max-load "${BENCH_MAX_LOAD:-2.0}" "${base[@]}"

[ "${BENCH_ONLY:-}" = replay ] && exit 0

# 3. The whole daemon: file connector -> journal -> scoring -> outbox -> webhook delivery.
"$ROOT/tests/bench/bench_run.sh"

# 4. The journal alone: group commit at each durability level (bench_journal.c).
for b in "$ROOT/$BUILD"/tests/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "=== $(basename "$b")"
    "$b"
done

# 5. HTTP ingest: sigflow's webhook connector against a bare loopback sink (bench_http.sh).
"$ROOT/tests/bench/bench_http.sh"
