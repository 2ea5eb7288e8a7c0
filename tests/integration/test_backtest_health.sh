#!/usr/bin/env bash
# sigflow backtest keeps health alerts apart (docs/scoring.md "Backtest"): on a generated
# world with a two-day login outage (tests/support/gen_world.py) and the guard config of the
# reference cross-check (tests/golden/guards.ini, whose replay test_replay_guards checks
# against tests/golden/reference.py), the backtest counts exactly replay's decision alerts
# and lists exactly replay's health alerts, `health TIME STATE SIGNAL`, in stream order.
. "$(dirname "$0")/lib.sh"

CONF=$ROOT/tests/golden/guards.ini
python3 "$ROOT/tests/support/gen_world.py" -o "$T/ev.ndjson" --labels "$T/labels.json" \
    -c 40 -d 50 -s 3 --holiday 20:7:0.5 --outage 33:2 --churn 0.15
python3 - "$T/labels.json" >"$T/labels.csv" <<'PY'
import json, sys
for e, t in sorted(json.load(open(sys.argv[1]))["churners"].items()):
    print("%s,%d" % (e, t))
PY
"$SIGFLOW" replay -c "$CONF" "$T/ev.ndjson" >"$T/replay.out" 2>/dev/null || fail "replay failed"
"$SIGFLOW" backtest -c "$CONF" --labels "$T/labels.csv" "$T/ev.ndjson" >"$T/bt.out" 2>"$T/err" ||
    fail "backtest failed: $(tail -3 "$T/err")"
python3 - "$T/replay.out" "$T/bt.out" <<'PY' || fail "backtest and replay disagree"
import json, re, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
want_h = ["health %s %s %s" % (a["time"], a["state"], a["signal"])
          for a in alerts if a["kind"] == "health"]
want_n = sum(1 for a in alerts if a["kind"] == "decision")
out = open(sys.argv[2]).read().splitlines()
got_h = [l for l in out if l.startswith("health ")]
m = [re.match(r"alerts (\d+) ", l) for l in out]
got_n = [int(x.group(1)) for x in m if x]
assert len(want_h) >= 2, "the world should make the login signals stale and recover: %r" % want_h
assert got_h == want_h, "health lines %r, replay's %r" % (got_h, want_h)
assert got_n == [want_n], "alerts %r, replay's decision alerts %d" % (got_n, want_n)
weeks = [l.split() for l in out if re.match(r"\d{4}-\d\d-\d\d +\d+", l)]
assert sum(int(w[1]) for w in weeks) == want_n, "the weekly table counts health alerts"
print("ok %d decision alerts, %d health alerts" % (want_n, len(want_h)))
PY
pass "backtest lists $(grep -c '^health ' "$T/bt.out") health alerts apart and counts replay's $(grep -c '"kind":"decision"' "$T/replay.out") decision alerts"
