#!/usr/bin/env bash
# `make bench`, part 3: events/s through the whole daemon (`sigflow run`): the file connector
# reads gen_events.py's 1M-event stream, every event is journaled (group commit, cursor in the
# same transaction) at each durability level, scored, and the alerts stored in the outbox and
# delivered to a local HTTP receiver by the webhook delivery. Wall time from start to the end
# of a clean stop, so start-up and the drain are included. Not a pass/fail test.
set -eu
BUILD=${BUILD:-build}
ROOT=$PWD
SIGFLOW=$ROOT/$BUILD/sigflow
EVENTS=${BENCH_EVENTS:-$ROOT/build/bench/events_1m.ndjson}
OUT=$ROOT/build/bench/run
[ -s "$EVENTS" ] || { echo "bench_run: $EVENTS missing (tests/bench/run.sh generates it)"; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/plugins"
install -m 0755 "$ROOT/$BUILD/plugins/connector_file.so" "$ROOT/$BUILD/plugins/delivery_webhook.so" \
    "$OUT/plugins/"
python3 "$ROOT/tests/support/http_receiver.py" --log "$OUT/received.ndjson" >"$OUT/port" 2>/dev/null &
RECV=$!
trap 'kill $RECV 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$OUT/port")
N=$(wc -l <"$EVENTS")

for durability in fsync batch off; do
    rm -rf "$OUT/var" "$OUT/received.ndjson"
    {
        cat "$ROOT/tests/bench/bench.ini"
        printf 'deliver = hook\n'
        printf '[sigflow]\nplugin_dir = %s\nstate_dir = %s\nclock = event\ndurability = %s\n' \
            "$OUT/plugins" "$OUT/var" "$durability"
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print("admin = 127.0.0.1:%d" % s.getsockname()[1])'
        printf '[connector events]\nplugin = file\npath = %s\nfollow = false\n' "$EVENTS"
        printf '[delivery hook]\nplugin = webhook\nurl = http://127.0.0.1:%s/hook\n' "$PORT"
    } | sed '/^deliver = hook/d; s/^tick        = 1h/tick        = 1h\ndeliver     = hook/' \
        >"$OUT/run.ini"
    start=$(date +%s.%N)
    "$SIGFLOW" run --init -c "$OUT/run.ini" >/dev/null 2>"$OUT/log" &
    pid=$!
    until grep -q 'reached end of file' "$OUT/log"; do sleep 0.05; done
    read_done=$(date +%s.%N)
    if [ "$durability" = fsync ]; then
        # Alerts/s through the outbox to the receiver, once everything is scored.
        want=-1 # scoring may still be draining the queue: wait for the count to settle
        while [ "$want" != "$(grep -c 'component=score msg="alert ' "$OUT/log" || true)" ]; do
            want=$(grep -c 'component=score msg="alert ' "$OUT/log" || true)
            sleep 0.3
        done
        for _ in $(seq 1200); do
            [ "$(grep -c '"mode": "ok"' "$OUT/received.ndjson" 2>/dev/null || echo 0)" -ge "$want" ] && break
            sleep 0.1
        done
        delivered_at=$(date +%s.%N)
        python3 -c "import sys; t0, t1, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); print('outbox: %d alerts delivered to a local receiver %.2fs after the stream was read (%.0f alerts/s overall)' % (n, t1 - t0, n / (t1 - float(sys.argv[4]))))" "$read_done" "$delivered_at" "$want" "$start"
    fi
    kill -TERM "$pid"
    wait "$pid"
    end=$(date +%s.%N)
    alerts=$(grep -c 'component=score msg="alert ' "$OUT/log" || true)
    delivered=$(grep -c 'delivered alert=' "$OUT/log" || true)
    python3 - "$durability" "$N" "$start" "$read_done" "$end" "$alerts" "$delivered" <<'PY'
import sys
d, n, t0, t1, t2, alerts, delivered = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:6]), sys.argv[6], sys.argv[7]
print("run durability=%-5s events=%d read+journal=%.2fs (%.0f events/s) total=%.2fs (%.0f events/s) alerts=%s delivered_before_stop=%s"
      % (d, n, t1 - t0, n / (t1 - t0), t2 - t0, n / (t2 - t0), alerts, delivered))
PY
done
