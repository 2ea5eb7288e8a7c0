#!/usr/bin/env bash
# People's labels reach the refits, the same in `run` and in replay/backtest of the journal
# (docs/scoring.md "People's labels"): the daemon (clock = event, weekly refits) scores the
# first 21 days of a generated history with outcome events; a person marks, through POST
# /v1/feedback, the alerts of the last 13 days in which `tickets` was high as false_positive;
# then the rest of the history arrives. The daemon journals each label as a sigflow.label
# event (a connector's own sigflow.label line is refused), so:
#  - backtest of the journal shows the same refits as the events file alone up to the labels,
#    and at the first refit after them a lower `tickets` weight than the file alone;
#  - the model the daemon ends with is the one backtest of the journal ends with;
#  - `run` raised exactly the alerts `replay --journal` raises (ids and model_version).
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file delivery_console)
PORT=$(free_port)
export SF_TEST_ADMIN_TOKEN="labels-$RANDOM-$RANDOM"
python3 "$ROOT/tests/bench/gen_events.py" -n 20000 -c 300 -d 40 -s 7 --cancel -o "$T/all.ndjson" ||
    fail "generator failed"
python3 - "$T/all.ndjson" "$T/part1.ndjson" "$T/part2.ndjson" <<'PY'
import sys
src, a, b = sys.argv[1:]
with open(a, "w") as fa, open(b, "w") as fb:
    for line in open(src):
        (fa if line.split('"time":"')[1] < "2026-11-22" else fb).write(line)
PY
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
clock = event
admin = 127.0.0.1:$PORT
admin_token = env:SF_TEST_ADMIN_TOKEN
$(sed -n '/^\[decision\]/,/^\[connector/p' "$ROOT/conf/sigflow.ini" | sed '$d' |
        sed -e 's/^tick .*/&\noutcome = subscription.canceled\nhorizon = 14d\nrefit = 7d/' -e 's/^threshold .*/threshold = 0.2/' -e 's/^rearm_below .*/rearm_below = 0.1/')
[connector events]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 50ms
[delivery console]
plugin = console
path = $T/alerts.ndjson
INI
api() { # METHOD PATH [BODY]
    curl -s -X "$1" -H "Authorization: Bearer $SF_TEST_ADMIN_TOKEN" ${3:+-d "$3"} "http://127.0.0.1:$PORT$2"
}
scored_at_least() {
    local n
    n=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^sigflow_events_scored_total \([0-9]*\).*/\1/p')
    [ -n "$n" ] && [ "$n" -ge "$1" ]
}

cp "$T/part1.ndjson" "$T/events.ndjson"
start_daemon "$T/ini"
n1=$(wc -l <"$T/part1.ndjson")
wait_for 120 scored_at_least "$n1" || fail "the first part was not scored"
api GET '/v1/alerts?since=2026-11-09T00:00:00Z&limit=1000' >"$T/alerts1.json"
python3 - "$T/alerts1.json" >"$T/to_label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["alerts"]:
    if any(r["signal"] == "tickets" and r["x"] >= 0.5 for r in a["reasons"]):
        print(a["alert_id"])
PY
labelled=$(wc -l <"$T/to_label")
[ "$labelled" -ge 3 ] || fail "only $labelled alerts to label: $(head -c 600 "$T/alerts1.json")"
while read -r id; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SF_TEST_ADMIN_TOKEN" \
        -d "{\"alert_id\":\"$id\",\"label\":\"false_positive\"}" "http://127.0.0.1:$PORT/v1/feedback")
    [ "$code" = 201 ] || fail "feedback on $id answered $code"
done <"$T/to_label"
grep -c 'label journaled for the refits' "$T/daemon.log" | grep -qx "$labelled" ||
    fail "not every label was journaled: $(grep -c 'label journaled' "$T/daemon.log") of $labelled"
# a connector may not send people's labels: this line is refused, not journaled
echo '{"entity":"c00001","type":"sigflow.label","time":"2026-11-20T00:00:00Z","value":1}' >>"$T/events.ndjson"
cat "$T/part2.ndjson" >>"$T/events.ndjson"
n_all=$(($(wc -l <"$T/all.ndjson") + labelled))
wait_for 180 scored_at_least "$n_all" || fail "the rest was not scored"
sleep 2.5 # the scorer publishes its model every 2 s
api GET /v1/model >"$T/model.json"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited $DAEMON_RC"
pass "$labelled false_positive labels given through POST /v1/feedback, each journaled"
"$SIGFLOW" journal -c "$T/ini" >"$T/journal.ndjson" 2>/dev/null || fail "sigflow journal"
[ "$(grep -c '"type":"sigflow.label"' "$T/journal.ndjson")" = "$labelled" ] ||
    fail "journaled label events: $(grep -c sigflow.label "$T/journal.ndjson"), want $labelled"
grep -q 'instance=events sent a `sigflow.label` event: refused' "$T/daemon.log" ||
    fail "the connector's sigflow.label line was not refused"
pass "the labels are in the journal in order; a connector's own sigflow.label line is refused"

"$SIGFLOW" backtest -c "$T/ini" --history --fit --journal >"$T/bt.journal" 2>"$T/bt.err" ||
    fail "backtest --journal: $(cat "$T/bt.err")"
"$SIGFLOW" backtest -c "$T/ini" --history --fit "$T/all.ndjson" >"$T/bt.file" 2>"$T/bt.err" ||
    fail "backtest of the file: $(cat "$T/bt.err")"
python3 - "$T/bt.file" "$T/bt.journal" <<'PY' || fail "refits: file $(grep ' v[0-9]' "$T/bt.file") journal $(grep ' v[0-9]' "$T/bt.journal")"
import re, sys
def refits(path):
    out = []
    for l in open(path):
        m = re.match(r"^(\d{4}-\d\d-\d\d) v\d+ .* tickets \S+ -> (\S+)", l)
        if m:
            out.append((m.group(1), float(m.group(2))))
    return out
f, j = refits(sys.argv[1]), refits(sys.argv[2])
assert f and len(f) == len(j), (f, j)
before = [k for k in range(len(f)) if f[k][0] <= "2026-11-22"]
after = [k for k in range(len(f)) if f[k][0] > "2026-11-22"]
assert before and after, f
for k in before:
    assert f[k] == j[k], ("a refit before the labels changed", f[k], j[k])
k = after[0]
assert f[k][0] == j[k][0] and j[k][1] < f[k][1], ("tickets weight at the next refit", f[k], j[k])
print("tickets at %s: %.3g without the labels, %.3g with them" % (f[k][0], f[k][1], j[k][1]))
PY
pass "backtest of the journal: refits before the labels unchanged, tickets' weight lower at the next"

python3 - "$T/model.json" "$T/bt.journal" <<'PY' || fail "the daemon's model is not the journal's: $(cat "$T/model.json")"
import json, sys
m = json.load(open(sys.argv[1]))
fit = open(sys.argv[2]).read().split("; fitted by sigflow backtest")[1]
sig = None
want = {}
for l in fit.splitlines():
    if l.startswith("[signal "):
        sig = l[8:-1]
    elif l.startswith("weight = "):
        want[sig] = float(l.split("=")[1])
    elif l.startswith("bias = "):
        want["bias"] = float(l.split("=")[1])
assert float("%.6g" % m["bias"]) == want.pop("bias"), (m["bias"], fit)
for s, w in want.items():
    assert float("%.6g" % m["weights"][s]) == w, (s, m["weights"][s], w)
assert m["model_version"] >= 3, m
PY
pass "the model the daemon ended with is the one backtest of the journal ends with"

"$SIGFLOW" replay -c "$T/ini" --journal >"$T/replay.out" 2>"$T/replay.err" || fail "replay --journal: $(cat "$T/replay.err")"
keys() {
    python3 - "$1" <<'PY'
import json, sys
print("\n".join(sorted({"%s %d" % (a["alert_id"], a["model_version"])
                        for a in map(json.loads, open(sys.argv[1])) if a.get("kind", "decision") == "decision"})))
PY
}
keys "$T/replay.out" >"$T/want.keys"
keys "$T/alerts.ndjson" >"$T/got.keys"
[ -s "$T/want.keys" ] || fail "replay --journal raised nothing"
diff "$T/want.keys" "$T/got.keys" >"$T/keys.diff" || fail "run differs from replay --journal: $(head -5 "$T/keys.diff")"
pass "run raised exactly replay --journal's $(wc -l <"$T/want.keys") alerts (ids and model_version)"
