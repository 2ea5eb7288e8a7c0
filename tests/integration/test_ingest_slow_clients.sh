#!/usr/bin/env bash
# Slow clients cannot take the listeners down (docs/reliability.md, "Ingest answers"): 300
# connections from one address (127.0.0.2) sending a header byte a second to the ingest
# listener, and 40 to the admin listener, while a legitimate client (127.0.0.1) posts events
# and probes /healthz. The per-client caps refuse most of them at once, the whole-request
# deadline closes the rest (a byte a second keeps an idle timeout from ever firing), and the
# legitimate requests are answered meanwhile.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook)
PORT=$(free_port)
ADMIN=$(free_port)
CLIENT="python3 $ROOT/tests/support/ingest_client.py"
webhook_ini fsync 5m # the defaults
start_daemon "$T/ini"
wait_for 10 grep -q "listening on http://127.0.0.1:$PORT/in" "$T/daemon.log" || fail "not routed"

$CLIENT slow 127.0.0.1 "$PORT" "$T/slow_ingest.out" --conns 300 --seconds 25 &
S1=$!
$CLIENT slow 127.0.0.1 "$ADMIN" "$T/slow_admin.out" --conns 40 --seconds 25 &
S2=$!
sleep 3 # every slow connection is open and dribbling

$CLIENT burst "$PORT" /in "$T/legit.out" --n 10 --prefix legit
ok=$(awk '$1 == 202' "$T/legit.out" | wc -l)
[ "$ok" -eq 10 ] || fail "legitimate posts during the slow-client attack: $(cut -d' ' -f1 "$T/legit.out" | sort | uniq -c | tr '\n' ' ')"
pass "ingest answers a legitimate client while 300 slow connections hold on"

python3 - "$ADMIN" <<'PY' || fail "/healthz not answered during the slow-client attack"
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/healthz" % sys.argv[1], timeout=5)
assert r.status == 200
PY
pass "/healthz answers while 40 slow connections hold on to the admin listener"

wait "$S1" "$S2"
read -r _ acc _ closed _ early <"$T/slow_ingest.out"
[ "$closed" -eq "$acc" ] || fail "ingest: $((acc - closed)) of $acc slow connections were never closed (no whole-request deadline)"
[ $((acc - early)) -le 128 ] || fail "ingest: $((acc - early)) slow connections from one address were served (cap 128)"
[ $((acc - early)) -ge 1 ] || fail "ingest: no slow connection was accepted at all"
read -r _ aacc _ aclosed _ aearly <"$T/slow_admin.out"
[ "$aclosed" -eq "$aacc" ] || fail "admin: $((aacc - aclosed)) of $aacc slow connections were never closed"
[ $((aacc - aearly)) -le 16 ] || fail "admin: $((aacc - aearly)) slow connections from one address were served (cap 16)"
metrics_text >"$T/metrics"
grep -q '^sigflow_http_deadline_closed_total{listener="ingest"} [1-9]' "$T/metrics" || fail "ingest deadline closes not counted"
grep -q '^sigflow_http_refused_total{listener="ingest",reason="per_client"} [1-9]' "$T/metrics" || fail "ingest per-client refusals not counted"
pass "slow connections: $((acc - early)) served then closed at the deadline, $early refused by the per-client cap (admin: $((aacc - aearly)) and $aearly)"
stop_daemon
