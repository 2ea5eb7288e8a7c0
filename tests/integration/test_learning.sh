#!/usr/bin/env bash
# Outcomes and learning (docs/scoring.md "Outcomes and learning") on a generated world with
# fixed seeds (tests/support/churn_world.py): logins fade before a customer cancels, page
# views are pure noise. The test counts precision against its own labels file.
#  - replay with learning on vs off: the noise weight falls, the predictive one rises, the
#    precision of later alerts rises; no alert for a customer after its cancellation;
#  - `run` with clock = event raises exactly replay's alerts (ids and model_version), also
#    across a kill -9 after a checkpoint: the learned model and its tables survive;
#  - outcome labels reach the store (source = outcome) and `sigflow model` shows the model;
#  - backtest reads the same history from the journal as from the file.
. "$(dirname "$0")/lib.sh"

python3 "$ROOT/tests/support/churn_world.py" 7 "$T/all.ndjson" "$T/labels.csv" 200 120
PD=$(plugin_dir_with connector_file delivery_console)

decision() { # $1: learning on|off
    cat <<INI
[decision]
name = churn
bias = -3
threshold = auto
target_precision = 0.6
rearm_below = 0.3
cooldown = 14d
tick = 1d
outcome = subscription.canceled
horizon = 30d
fit_horizon = 14d
refit = 7d
prior = 10
learning = $1
deliver = out

[signal login_drop]
event = login
measure = drop
recent = 7d
usual = 28d
weight = 1

[signal busy_pages]
event = page.view
measure = count
window = 7d
cap = 20
weight = 3
INI
}

write_ini() { # $1 learning, $2 ini path
    cat >"$2" <<INI
$(decision "$1")

[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
durability = off
checkpoint_interval = 1s

[connector events]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 20ms

[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
}
write_ini on "$T/on.ini"
write_ini off "$T/off.ini"
"$SIGFLOW" check -c "$T/on.ini" >/dev/null || fail "config: $("$SIGFLOW" check -c "$T/on.ini" 2>&1)"

"$SIGFLOW" replay -c "$T/on.ini" "$T/all.ndjson" >"$T/on.out" 2>/dev/null || fail "replay on"
"$SIGFLOW" replay -c "$T/off.ini" "$T/all.ndjson" >"$T/off.out" 2>/dev/null || fail "replay off"

# Precision of the alerts of days 60..90 (their 30-day horizon closes inside the 120 days),
# counted here from the labels file: right when the customer cancels within 30 days after.
python3 - "$T/labels.csv" "$T/on.out" "$T/off.out" <<'PY' || fail "learning did not help"
import json, sys
from datetime import datetime
D = 86400000; H = 30 * D; S = 1767225600000; A, B = S + 60 * D, S + 90 * D
churn = {}
for line in open(sys.argv[1]).read().split("\n")[1:]:
    if line:
        e, t = line.split(","); churn[e] = int(t)
def ms(s): return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)
def judge(path):
    alerts = [json.loads(l) for l in open(path)]
    n = right = 0
    for a in alerts:
        t, c = ms(a["time"]), churn.get(a["entity"])
        # retired entities raise nothing: no alert after the customer's cancellation
        assert c is None or t <= c, "alert for %s after its cancellation" % a["entity"]
        if A <= t <= B:
            n += 1
            right += c is not None and t <= c <= t + H
    last = {r["signal"]: r["weight"] for r in alerts[-1]["reasons"]}
    return n, right / max(n, 1), last, alerts[-1]["model_version"]
n_on, p_on, w_on, v_on = judge(sys.argv[2])
n_off, p_off, w_off, v_off = judge(sys.argv[3])
print("learning on: %d later alerts, precision %.3f, weights %s, model_version %d" % (n_on, p_on, w_on, v_on))
print("learning off: %d later alerts, precision %.3f, weights %s, model_version %d" % (n_off, p_off, w_off, v_off))
assert v_off == 1 and w_off == {"login_drop": 1, "busy_pages": 3}, "learning = off changed the model"
assert v_on > 5, "too few refits"
assert w_on["login_drop"] > 3, "the predictive weight did not rise"
assert w_on["busy_pages"] < 1, "the noise weight did not fall"
assert n_on >= 10 and p_on > p_off + 0.1, "later precision did not rise"
PY
pass "learning: the noise weight falls, the predictive one rises, later precision rises"
pass "no alert for a customer after its cancellation (retired)"

alert_keys() { # unique "id model_version" of an alerts file
    python3 - "$1" <<'PY'
import json, sys
seen = set()
for l in open(sys.argv[1]):
    a = json.loads(l)
    seen.add("%s %d" % (a["alert_id"], a["model_version"]))
print("\n".join(sorted(seen)))
PY
}
alert_keys "$T/on.out" >"$T/want.keys"
want=$(wc -l <"$T/want.keys")

# run: the first 55% of the events, a checkpoint, kill -9, then the rest and a restart.
total=$(wc -l <"$T/all.ndjson")
half=$((total * 55 / 100))
head -n "$half" "$T/all.ndjson" >"$T/events.ndjson"
start_daemon "$T/on.ini"
wait_for 120 bash -c "'$SIGFLOW' model -c '$T/on.ini' 2>/dev/null | grep -q 'as of the checkpoint' &&
    [ \$('$SIGFLOW' model -c '$T/on.ini' | sed -n 's/^model_version \([0-9]*\).*/\1/p') -ge 3 ]" ||
    fail "no checkpoint with a learned model"
before=$("$SIGFLOW" model -c "$T/on.ini" | sed -n 's/^model_version \([0-9]*\).*/\1/p')
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
pass "a checkpoint holds learned model_version $before; daemon killed with SIGKILL"
tail -n +"$((half + 1))" "$T/all.ndjson" >>"$T/events.ndjson"
start_daemon "$T/on.ini"
wait_for 180 bash -c "[ \$(python3 -c '
import json,sys
print(len({json.loads(l)[\"alert_id\"] for l in open(\"$T/alerts.ndjson\")}))') -ge $want ]" ||
    fail "daemon raised $(alert_keys "$T/alerts.ndjson" | wc -l) of $want alerts"
sleep 1
stop_daemon
alert_keys "$T/alerts.ndjson" >"$T/got.keys"
diff "$T/want.keys" "$T/got.keys" >"$T/keys.diff" ||
    fail "run (clock = event, killed once) differs from replay: $(head -5 "$T/keys.diff")"
pass "run with clock = event, killed once, raised replay's $want alerts with their model_version"

# The model survived: what the daemon holds now is what replay ended with.
"$SIGFLOW" model -c "$T/on.ini" >"$T/model.txt" || fail "sigflow model failed"
grep -q "as of the checkpoint" "$T/model.txt" || fail "model not read from the checkpoint"
v_end=$(sed -n 's/^model_version \([0-9]*\).*/\1/p' "$T/model.txt")
v_replay=$(tail -1 "$T/on.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["model_version"])')
[ "$v_end" -ge "$v_replay" ] || fail "model_version $v_end after restart, replay reached $v_replay"
grep -q "^login_drop" "$T/model.txt" && grep -q "refit: bias" "$T/model.txt" ||
    fail "model output lacks weights or history: $(cat "$T/model.txt")"
pass "sigflow model shows model_version $v_end with weights and history after the restart"

# backtest on the daemon's journal sees what the events file shows (truth: outcome events).
"$SIGFLOW" backtest -c "$T/on.ini" "$T/all.ndjson" 2>/dev/null | grep '^alerts' >"$T/bt.file" ||
    fail "backtest on the file"
"$SIGFLOW" backtest -c "$T/on.ini" --journal 2>/dev/null | grep '^alerts' >"$T/bt.journal" ||
    fail "backtest --journal"
diff "$T/bt.file" "$T/bt.journal" >/dev/null || fail "journal $(cat "$T/bt.journal") file $(cat "$T/bt.file")"
grep -q "^alerts $want " "$T/bt.file" || fail "backtest counts $(cat "$T/bt.file"), replay $want"
pass "backtest on the journal = on the file: $(cat "$T/bt.file")"

# Outcome labels are in the store with source = outcome.
python3 - "$T/var/sigflow.db" <<'PY' || fail "outcome labels not stored"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = dict(db.execute("select label, count(*) from labels where source = 'outcome' group by label"))
print("outcome labels:", rows)
assert rows.get("confirmed", 0) > 5 and rows.get("missed", 0) > 5 and rows.get("false_positive", 0) > 5
PY
pass "outcome labels (confirmed, false_positive, missed) stored with source = outcome"
