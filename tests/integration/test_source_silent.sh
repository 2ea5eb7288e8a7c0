#!/usr/bin/env bash
# A login source silent for two days (docs/scoring.md "Stale signals"), under `sigflow run`
# with clock = event: exactly one `stale` health alert and one `recovered`, no decision alert
# that counted the stale signal, and the flood the same stream raises without the guard
# (everyone "silent for 2 days") does not come. The daemon's alerts are replay's. The alerts
# the stale signal suppressed are recorded one by one in the audit trail (GET /v1/alerts:
# `kind: suppressed`, no delivery), exactly replay's, and `sigflow explain` lists them.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
export SF_TEST_ADMIN_TOKEN="adm-$RANDOM-$RANDOM-token"
python3 "$ROOT/tests/support/gen_world.py" -o "$T/world.ndjson" --labels "$T/labels.json" \
    -c 60 -d 60 -s 11 --outage 35:2 --churn 0.1
SCORING='[decision]
name = churn
bias = -3
threshold = 0.7
rearm_below = 0.5
cooldown = 7d
tick = 1h
deliver = out
[signal login_drop]
event = login
measure = drop
recent = 3d
usual = 14d
relative = cohort
weight = 2.5
[signal quiet]
event = login
measure = absent
window = 2d
stale_below = 0.2
stale_window = 6h
stale_min = 20
weight = 4
[signal tickets]
event = ticket.opened
measure = count
window = 7d
cap = 3
weight = 1.5'
ADMIN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
admin = 127.0.0.1:$ADMIN
admin_token = env:SF_TEST_ADMIN_TOKEN
clock = event
$SCORING
[connector events]
plugin = file
path = $T/world.ndjson
follow = false
[delivery out]
plugin = console
format = json
path = $T/alerts.ndjson
INI
grep -v 'relative\|stale' "$T/ini" >"$T/unguarded.ini"
"$SIGFLOW" replay -c "$T/ini" "$T/world.ndjson" >"$T/want.ndjson" 2>/dev/null
"$SIGFLOW" replay -c "$T/unguarded.ini" "$T/world.ndjson" >"$T/unguarded.ndjson" 2>/dev/null
# suppressed alerts are recorded, never delivered: the console gets the others
grep -v '"kind":"suppressed"' "$T/want.ndjson" >"$T/want_sent.ndjson"
grep '"kind":"suppressed"' "$T/want.ndjson" >"$T/want_suppressed.ndjson" || true
want=$(wc -l <"$T/want_sent.ndjson")
start_daemon "$T/ini"
wait_for 60 grep -q "reached end of file" "$T/daemon.log" || fail "the stream was not read"
wait_for 60 has_lines "$T/alerts.ndjson" "$want" ||
    fail "$(count_lines "$T/alerts.ndjson") of $want alerts"
# /metrics: the judged signal's state (fresh again at the end) and the cohort's rho
metrics() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$ADMIN/metrics', timeout=5).read().decode())"; }
wait_for 20 bash -c "$(declare -f metrics); ADMIN=$ADMIN metrics | grep -q '^sigflow_signal_stale{signal=\"quiet\"} 0'" ||
    fail "no sigflow_signal_stale gauge for quiet: $(metrics | grep sigflow_signal)"
metrics | grep -q '^sigflow_signal_cohort_rho{signal="login_drop"} [0-9]' ||
    fail "no sigflow_signal_cohort_rho gauge: $(metrics | grep sigflow_signal)"
python3 - "$ADMIN" >"$T/audit.json" <<'PY' || fail "GET /v1/alerts failed"
import os, sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/v1/alerts?limit=1000" % sys.argv[1],
                             headers={"Authorization": "Bearer " + os.environ["SF_TEST_ADMIN_TOKEN"]})
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
stop_daemon
"$SIGFLOW" explain -c "$T/ini" "$(head -1 "$T/want_suppressed.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entity"])')" \
    >"$T/explain.txt" 2>&1 || fail "sigflow explain failed: $(cat "$T/explain.txt")"
grep -q " suppressed alert .* (stale quiet)" "$T/explain.txt" ||
    fail "sigflow explain does not list the suppressed alert: $(cat "$T/explain.txt")"
python3 "$ROOT/tests/golden/compare.py" "$T/want_sent.ndjson" "$T/alerts.ndjson" >"$T/cmp" ||
    fail "the daemon's alerts differ from replay's: $(head -3 "$T/cmp")"
pass "clock = event: the daemon's $want alerts (health included) are replay's; /metrics shows the guards"

python3 - "$T/alerts.ndjson" "$T/unguarded.ndjson" "$T/labels.json" "$T/want_suppressed.ndjson" \
    "$T/audit.json" <<'PY' || fail "see above"
import datetime, json, sys

def ms(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)

got = [json.loads(l) for l in open(sys.argv[1])]
unguarded = [json.loads(l) for l in open(sys.argv[2])]
out_from, out_to = json.load(open(sys.argv[3]))["outage"]
health = [a for a in got if a["kind"] == "health"]
states = [(a["state"], a["signal"]) for a in health]
assert states == [("stale", "quiet"), ("recovered", "quiet")], states
stale_at, back_at = ms(health[0]["time"]), ms(health[1]["time"])
assert out_from < stale_at <= out_from + 6 * 3600000, ("stale judged late", health[0])
assert out_to < back_at <= out_to + 6 * 3600000, ("recovery judged late", health[1])
assert "quiet is stale" in health[0]["text"] and health[0]["figures"]["events"] < \
    0.2 * health[0]["figures"]["expected"], health[0]
# no decision alert counted the stale signal
for a in got:
    if a["kind"] == "decision" and stale_at <= ms(a["time"]) < back_at:
        q = [r for r in a["reasons"] if r["signal"] == "quiet"]
        assert q and q[0]["x"] == 0, ("counted a stale signal", a)

def in_outage(alerts):  # the outage and the four days after it
    return sum(1 for a in alerts if a.get("kind") == "decision" and
               out_from <= ms(a["time"]) <= out_to + 4 * 86400000)

# the suppressed alerts: each an alert that quiet's real x would have fired while it was stale,
# recorded once per customer in the spell, with the score it would have had; the audit trail
# (GET /v1/alerts) holds exactly replay's, with no delivery
sup = [json.loads(l) for l in open(sys.argv[4])]
assert len(sup) >= 20, ("too few suppressed alerts recorded", len(sup))
assert len({a["entity"] for a in sup}) == len(sup), "one record per customer in the spell"
for a in sup:
    assert stale_at <= ms(a["time"]) < back_at, ("recorded outside the stale spell", a)
    assert a["suppressed"] == "stale quiet" and a["score"] >= 0.7, a
    q = [r for r in a["reasons"] if r["signal"] == "quiet"]
    assert q and q[0]["x"] == 1, ("the record must show quiet's real x", a)
    assert a["entity"] not in {d["entity"] for d in got if d["kind"] == "decision" and
                               ms(d["time"]) == ms(a["time"])}, ("also fired", a)
audit = json.load(open(sys.argv[5]))
stored = [(a["alert_id"], a["entity"], ms(a["time"])) for a in audit["alerts"]
          if a.get("kind") == "suppressed"]
assert sorted(stored) == sorted((a["alert_id"], a["entity"], ms(a["time"])) for a in sup), \
    ("the audit trail's suppressed alerts are not replay's", stored[:3], len(stored), len(sup))
for a in audit["alerts"]:
    if a.get("kind") == "suppressed":
        assert a["deliveries"] == [] and a["suppressed"] == "stale quiet", a
print("suppressed alerts recorded: %d (audit trail = replay)" % len(sup))

g, u = in_outage(got), in_outage(unguarded)
print("decision alerts from the outage's start to 4 days after it: %d guarded, %d unguarded"
      % (g, u))
assert u >= 30, "the unguarded config should flood here (the test would prove nothing)"
assert g * 6 <= u, (g, u)
PY
pass "one stale and one recovered for quiet; no decision alert counted it; no flood after the outage; the suppressed alerts are in the audit trail"
