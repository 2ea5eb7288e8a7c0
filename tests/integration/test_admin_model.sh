#!/usr/bin/env bash
# GET /v1/model serves the engine's model as learning changes it (docs/admin-api.md): on a
# generated history with outcome events (tests/bench/gen_events.py --cancel) the daemon
# refits, and /v1/model shows a model_version past 1, the refits in `history` (the last one's
# new weights are the weights in use), the configured weights as the INI has them; /metrics
# counts retired entities.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SF_TEST_ADMIN_TOKEN="model-$RANDOM"
python3 "$ROOT/tests/bench/gen_events.py" -n 20000 -c 300 -d 40 -s 7 --cancel -o "$T/events.ndjson" ||
    fail "generator failed"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$PORT
admin_token = env:SF_TEST_ADMIN_TOKEN
$(sed -n '/^\[decision\]/,/^\[connector/p' "$ROOT/conf/sigflow.ini" | sed '$d' |
        sed 's/^tick .*/&\noutcome = subscription.canceled\nhorizon = 14d\nrefit = 7d/')
[connector events]
plugin = file
path = $T/events.ndjson
[delivery console]
plugin = console
path = $T/alerts.ndjson
INI
model() {
    curl -s -H "Authorization: Bearer $SF_TEST_ADMIN_TOKEN" "http://127.0.0.1:$PORT/v1/model"
}
refitted() { model | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin).get("model_version", 0) >= 2 else 1)'; }

start_daemon "$T/ini"
wait_for 120 refitted || fail "no refit seen in /v1/model: $(model)"
model | python3 -c '
import json, sys
d = json.load(sys.stdin)
conf = {"login_drop": 2.5, "tickets": 2.0, "downgrade": 1.5, "usage_drop": 1.5}
assert d["model_source"] == "engine", d
assert d["configured"]["weights"] == conf, d["configured"]
assert d["outcome"] == "subscription.canceled" and d["learning"] is True, d
h = d["history"]
assert h and all(c["cause"].startswith("refit") for c in h), h
assert h[-1]["new"]["weights"] == d["weights"] and h[-1]["new"]["bias"] == d["bias"], (h[-1], d)
assert h[0]["old"]["weights"] == conf, h[0]
assert d["weights"] != conf, "learning changed no weight"
assert set(d["lift"]) == set(conf), d["lift"]
' || fail "model: $(model)"
wait_for 30 bash -c "curl -s http://127.0.0.1:$PORT/metrics | grep -Eq '^sigflow_entities\{state=\"retired\"\} [1-9]'" ||
    fail "no retired entity in /metrics: $(curl -s "http://127.0.0.1:$PORT/metrics" | grep entities)"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC"
pass "GET /v1/model shows the engine's refits, weights in use and configured; retired entities counted"
