#!/usr/bin/env bash
# `make bench`, part 5: HTTP ingest (docs/performance.md "HTTP ingest"). wrk (-t1, keep-alive)
# posts to sigflow's webhook connector at durability = batch and fsync, and to a bare
# loopback HTTP sink (tests/bench/http_sink.c) in the same run: single-event POSTs at
# c = 1, 16, 64 and 1,000-event NDJSON batches at c = 16. For each: requests/s, events/s,
# p50/p99 latency, server CPU per request, journal commits per event, non-2xx answers; the
# ratio of sigflow's requests/s to the sink's; sigflow's peak RSS; the load average before and
# after. Above BENCH_MAX_LOAD (default 2.0) the run is reported as NOT VALID: the machine is
# shared, and only ratios measured in one quiet run mean anything.
#   BENCH_HTTP_SECONDS (default 5) per cell; BENCH_HTTP_CONC (default "1 16 64").
set -eu
BUILD=${BUILD:-build}
ROOT=$PWD
SIGFLOW=$ROOT/$BUILD/sigflow
SINK=$ROOT/$BUILD/tests/bench/http_sink
SECS=${BENCH_HTTP_SECONDS:-5}
CONC=${BENCH_HTTP_CONC:-"1 16 64"}
MAX_LOAD=${BENCH_MAX_LOAD:-2.0}
OUT=$ROOT/build/bench/http
command -v wrk >/dev/null || { echo "bench_http: wrk not installed (apt-get install wrk)"; exit 1; }
[ -x "$SINK" ] || { echo "bench_http: $SINK missing (make bench builds it)"; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/plugins"
install -m 0755 "$ROOT/$BUILD/plugins/connector_webhook.so" "$OUT/plugins/"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT

cat >"$OUT/one.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"c":"cust-1","t":"login","ts":1700000000}'
wrk.headers["Content-Type"] = "application/json"
LUA
python3 - "$OUT/batch.ndjson" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        f.write('{"c":"cust-%d","t":"login","ts":%d}\n' % (i % 100, 1700000000 + i))
PY
cat >"$OUT/batch.lua" <<LUA
local f = io.open("$OUT/batch.ndjson", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { # ADMIN_PORT NAME
    python3 -c "import sys,urllib.request; t=urllib.request.urlopen('http://127.0.0.1:%s/metrics' % sys.argv[1]).read().decode(); print(sum(float(l.split()[-1]) for l in t.splitlines() if l.startswith(sys.argv[2] + ' ')) or 0)" "$1" "$2"
}
# cell LABEL PID URL SCRIPT CONC EVENTS_PER_REQ [ADMIN_PORT]: one wrk run, one result line.
cell() {
    local label=$1 pid=$2 url=$3 script=$4 c=$5 per=$6 admin=${7:-}
    local t0 c0 e0 t1 c1 e1
    t0=$(cpu_ticks "$pid")
    c0=0 e0=0
    [ -n "$admin" ] && c0=$(metric "$admin" sigflow_journal_commits_total) && e0=$(metric "$admin" sigflow_journal_events_total)
    wrk -t1 -c"$c" -d"${SECS}s" --latency -s "$script" "$url" >"$OUT/wrk.out" 2>&1
    t1=$(cpu_ticks "$pid")
    c1=0 e1=0
    if [ -n "$admin" ]; then
        sleep 1.2 # /metrics is refreshed every second
        c1=$(metric "$admin" sigflow_journal_commits_total)
        e1=$(metric "$admin" sigflow_journal_events_total)
    fi
    python3 - "$label" "$c" "$per" "$((t1 - t0))" "$(getconf CLK_TCK)" "$c0" "$c1" "$e0" "$e1" \
        "$OUT/wrk.out" >>"$OUT/results" <<'PY'
import re, sys
label, c, per, ticks, hz, c0, c1, e0, e1, path = sys.argv[1:]
t = open(path).read()
def lat(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, t, re.M)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
reqs = int(re.search(r"(\d+) requests in", t).group(1))
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", t) or [0, 0])[1])
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
cpu_us = int(ticks) / float(hz) * 1e6 / max(reqs, 1)
events = float(e1) - float(e0)
cpe = (float(c1) - float(c0)) / events if events > 0 else float("nan")
print("%s\t%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.0f\t%s\t%d\t%d" % (
    label, c, rps, rps * int(per), lat(50), lat(99), cpu_us,
    "-" if cpe != cpe else "%.3f" % cpe, non2xx, errs))
PY
}

start_sigflow() { # DURABILITY -> SF_PID, SF_PORT, SF_ADMIN
    SF_PORT=$(free_port)
    SF_ADMIN=$(free_port)
    rm -rf "$OUT/var"
    cat >"$OUT/$1.ini" <<INI
[sigflow]
plugin_dir = $OUT/plugins
state_dir = $OUT/var
ingest = 127.0.0.1:$SF_PORT
admin = 127.0.0.1:$SF_ADMIN
durability = $1
log_level = warn
[connector hook]
plugin = webhook
path = /hook
map.entity = c
map.type = t
map.time = ts
map.time_unit = s
INI
    "$SIGFLOW" run --init -c "$OUT/$1.ini" 2>"$OUT/$1.log" &
    SF_PID=$!
    PIDS+=("$SF_PID")
    for _ in $(seq 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$SF_ADMIN/healthz')" 2>/dev/null && return 0
        kill -0 "$SF_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench_http: sigflow ($1) did not start; its log:" >&2
    cat "$OUT/$1.log" >&2
    exit 1
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_http: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ); load before: $LOAD0; ${SECS}s per cell; wrk -t1"
: >"$OUT/results"
"$SINK" >"$OUT/sink.port" &
SINK_PID=$!
PIDS+=("$SINK_PID")
for _ in $(seq 50); do [ -s "$OUT/sink.port" ] && break; sleep 0.1; done
SINK_PORT=$(head -1 "$OUT/sink.port")
for c in $CONC; do
    cell sink "$SINK_PID" "http://127.0.0.1:$SINK_PORT/hook" "$OUT/one.lua" "$c" 1
done
cell sink-ndjson1000 "$SINK_PID" "http://127.0.0.1:$SINK_PORT/hook" "$OUT/batch.lua" 16 1000
for d in batch fsync; do
    start_sigflow "$d"
    for c in $CONC; do
        cell "sigflow-$d" "$SF_PID" "http://127.0.0.1:$SF_PORT/hook" "$OUT/one.lua" "$c" 1 "$SF_ADMIN"
    done
    cell "sigflow-$d-ndjson1000" "$SF_PID" "http://127.0.0.1:$SF_PORT/hook" "$OUT/batch.lua" 16 1000 "$SF_ADMIN"
    echo "sigflow-$d peak_rss_kb $(awk '/VmHWM/ {print $2}' "/proc/$SF_PID/status")" >>"$OUT/rss"
    kill "$SF_PID"
    wait "$SF_PID" 2>/dev/null || true
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$OUT/results" "$OUT/rss" "$LOAD0" "$LOAD1" "$MAX_LOAD" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
sink = {(r[1], r[0].endswith("ndjson1000")): float(r[2]) for r in rows if r[0].startswith("sink")}
print("%-24s %4s %9s %10s %8s %8s %9s %10s %7s %6s %9s" % (
    "target", "c", "req/s", "events/s", "p50 ms", "p99 ms", "cpu us/req", "commits/ev",
    "non2xx", "errors", "vs sink"))
for r in rows:
    label, c, rps = r[0], r[1], float(r[2])
    ratio = rps / sink[(c, label.endswith("ndjson1000"))] if not label.startswith("sink") else 1.0
    print("%-24s %4s %9s %10s %8s %8s %9s %10s %7s %6s %8.0f%%" % (
        label, c, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], 100 * ratio))
for l in open(sys.argv[2]):
    print(l.strip())
load0, load1, mx = float(sys.argv[3].split()[0]), float(sys.argv[4].split()[0]), float(sys.argv[5])
print("load average: before %s, after %s" % (sys.argv[3], sys.argv[4]))
if max(load0, load1) > mx:
    print("NOT VALID: 1-minute load above BENCH_MAX_LOAD=%s (other work on the machine);"
          " the ratios are indicative only" % mx)
else:
    print("valid: 1-minute load at most BENCH_MAX_LOAD=%s" % mx)
PY
