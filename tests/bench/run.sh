#!/usr/bin/env bash
# `make bench`: replay throughput and memory on tests/bench/gen_events.py's workload (docs/performance.md).
#   1. 1,000,000 events over 10,000 customers, ticks on (1h), four signals (bench.ini)
#   2. the same event count over 1,000,000 customers (-c 1000000): state for ~630k entities
# Prints events/s, ticks, alerts, peak RSS and bytes of state per entity for each run.
# Not a pass/fail test: the figures go into docs/performance.md by hand.
set -eu
BUILD=${BUILD:-build}
ROOT=$PWD
SIGFLOW=$ROOT/$BUILD/sigflow
GEN=$ROOT/tests/bench/gen_events.py
CONF=$ROOT/tests/bench/bench.ini
OUT=$ROOT/build/bench
SHARDS=${BENCH_SHARDS:-"1 2"}
mkdir -p "$OUT"

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

# run LABEL FILE SHARDS: one replay, measured by getrusage on the child
run() {
    python3 - "$SIGFLOW" "$CONF" "$2" "$3" "$1" <<'PY'
import re, resource, subprocess, sys, time
sigflow, conf, events, shards, label = sys.argv[1:6]
t0 = time.monotonic()
p = subprocess.run([sigflow, "replay", "-c", conf, "--shards", shards, events],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.exit("bench: replay failed: " + p.stderr)
line = [l for l in p.stderr.splitlines() if l.startswith("replay: events=")][-1]
kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
ents = int(kv["entities"])
print("%-22s shards=%s events=%s ticks=%s alerts=%s entities=%d events/s=%s wall=%.2fs "
      "cpu=%.2fs peak_rss=%.0fMB state=%.1fMB bytes/entity=%.0f" % (
          label, shards, kv["events"], kv["ticks"], kv["alerts"], ents, kv["events_per_s"],
          wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0,
          int(kv["state_bytes"]) / 1e6, int(kv["state_bytes"]) / max(ents, 1)))
PY
}

echo "bench: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SHARDS; do
    run "1M events, 10k ents" "$OUT/events_1m.ndjson" "$s"
done
for s in $SHARDS; do
    run "1M events, 1M custs" "$OUT/events_1m_1me.ndjson" "$s"
done

# 3. The whole daemon: file connector -> journal -> scoring -> outbox -> webhook delivery.
"$ROOT/tests/bench/bench_run.sh"

# 4. The journal alone: group commit at each durability level (bench_journal.c).
for b in "$ROOT/$BUILD"/tests/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "=== $(basename "$b")"
    "$b"
done
