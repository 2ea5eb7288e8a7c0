#!/usr/bin/env bash
# The noise guards (docs/scoring.md "Noise guards") cross-checked against
# tests/golden/reference.py, which evaluates every entity at every tick and sums the
# population over every event: generated worlds (tests/support/gen_world.py) with a
# population-wide dip (a holiday) and a two-day outage of the login feed, made harder by
# perturb.py (late events, equal times, boundary times, bad lines), through 1 and 3 shards;
# then the daemon under clock = event over the same stream in two halves across a
# checkpointed restart gives exactly replay's alerts, health alerts included, and stores
# exactly replay's suppressed alerts (docs/scoring.md "Suppressed alerts") in its outbox.
. "$(dirname "$0")/lib.sh"

G=$ROOT/tests/golden
CONF=$G/guards.ini
UNTIL=2026-02-28T00:00:00Z
for seed in 3 8; do
    python3 "$ROOT/tests/support/gen_world.py" -o "$T/ev.ndjson" -c 40 -d 50 -s "$seed" \
        --holiday 20:7:0.5 --outage 33:2 --churn 0.15
    python3 "$G/perturb.py" "$T/ev.ndjson" "$T/evp.ndjson" "$seed"
    python3 "$G/reference.py" "$CONF" "$T/evp.ndjson" --until "$UNTIL" >"$T/ref.out" 2>/dev/null
    grep -q '"state": "stale", "signal": "login_drop"' "$T/ref.out" ||
        fail "seed $seed: the reference judged no outage: the check would prove little"
    grep -q '"state": "recovered", "signal": "quiet"' "$T/ref.out" ||
        fail "seed $seed: the reference saw no recovery"
    [ "$(grep -c '"kind": "decision"' "$T/ref.out")" -ge 3 ] ||
        fail "seed $seed: the reference raised too few decision alerts"
    grep -q '"kind": "suppressed"' "$T/ref.out" ||
        fail "seed $seed: the reference recorded no suppressed alert: the check would prove little"
    for shards in 1 3; do
        "$SIGFLOW" replay -c "$CONF" --shards "$shards" --until "$UNTIL" "$T/evp.ndjson" \
            >"$T/out" 2>"$T/err" || fail "replay failed: $(tail -3 "$T/err")"
        python3 "$G/compare.py" "$T/ref.out" "$T/out" >"$T/cmp" ||
            fail "seed $seed shards $shards: $(head -5 "$T/cmp")"
        pass "seed $seed shards $shards: $(tail -1 "$T/cmp") (reference, guards)"
    done
done

# Across a checkpointed restart: the last seed's stream (unperturbed: the file connector
# reads it in order) in two halves, clock = event, console into a file.
PD=$(plugin_dir_with connector_file delivery_console)
python3 "$ROOT/tests/support/gen_world.py" -o "$T/world.ndjson" -c 40 -d 50 -s 5 \
    --holiday 20:7:0.5 --outage 33:2 --churn 0.15
total=$(wc -l <"$T/world.ndjson")
# the half falls inside the outage, while the login signals are stale
half=$(grep -n '"2026-02-08T' "$T/world.ndjson" | head -1 | cut -d: -f1)
[ -n "$half" ] || fail "no event on 2026-02-08 in the generated world"
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
$(sed -n '/^\[decision\]/,$p' "$CONF" | sed 's/^\[decision\]/[decision]\ndeliver = out/')

[connector events]
plugin = file
path = $T/events.ndjson
follow = false

[delivery out]
plugin = console
format = json
path = $T/alerts.ndjson
INI
"$SIGFLOW" replay -c "$T/ini" "$T/world.ndjson" >"$T/want.ndjson" 2>/dev/null
grep -q '"kind":"health"' "$T/want.ndjson" || fail "replay printed no health alert"
grep '"kind":"suppressed"' "$T/want.ndjson" >"$T/want_suppressed.ndjson" ||
    fail "replay recorded no suppressed alert"
grep -v '"kind":"suppressed"' "$T/want.ndjson" >"$T/want_sent.ndjson"
mv "$T/want_sent.ndjson" "$T/want.ndjson" # suppressed alerts are stored, never delivered
head -n "$half" "$T/world.ndjson" >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 60 grep -q "reached end of file: $half events" "$T/daemon.log" || fail "first half not read"
stop_daemon
grep -q "scoring state saved: seq=$half " "$T/daemon.log" || fail "no checkpoint on stop"
mv "$T/daemon.log" "$T/daemon1.log"
tail -n +"$((half + 1))" "$T/world.ndjson" >>"$T/events.ndjson"
start_daemon "$T/ini"
grep -q "scoring state loaded: seq=$half " "$T/daemon.log" || fail "checkpoint not loaded"
want=$(wc -l <"$T/want.ndjson")
wait_for 60 has_lines "$T/alerts.ndjson" "$want" ||
    fail "$(count_lines "$T/alerts.ndjson") of $want alerts after the restart"
wait_for 60 grep -q "reached end of file: $((total - half)) events" "$T/daemon.log" ||
    fail "second half not read"
stop_daemon
python3 "$G/compare.py" "$T/want.ndjson" "$T/alerts.ndjson" >"$T/cmp" ||
    fail "two halves across a restart (cut in the outage) differ from replay: $(head -5 "$T/cmp")"
pass "two halves across a checkpointed restart in the outage: $(tail -1 "$T/cmp")"
/usr/bin/python3 - "$T/var/sigflow.db" "$T/want_suppressed.ndjson" <<'PY' ||
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stored = sorted(json.loads(j)["id"] for (j,) in db.execute(
    "SELECT json FROM outbox_alert WHERE json LIKE '%\"kind\":\"suppressed\"%'"))
no_delivery = db.execute("SELECT COUNT(*) FROM outbox_delivery d JOIN outbox_alert a"
                         " ON a.alert_id = d.alert_id WHERE a.json LIKE '%suppressed%'").fetchone()[0]
want = sorted(json.loads(l)["alert_id"] for l in open(sys.argv[2]))
assert stored == want, ("stored suppressed alerts differ from replay's", len(stored), len(want))
assert no_delivery == 0, "a suppressed alert got a delivery"
print(len(want))
PY
    fail "the suppressed alerts stored across the restart are not replay's"
pass "the suppressed alerts stored across the restart (checkpoint in the outage) are replay's"
