#!/usr/bin/env bash
# guard_figures.sh [SEED]: the figures of docs/scoring.md "Noise guards: measured". A
# generated world (tests/support/gen_world.py: 1000 customers, 160 days from Monday
# 2026-01-05, 8% churners, a holiday week from Monday day 49 with logins at half rate, the
# login feed dead on days 70-71, Monday and Tuesday) goes through `sigflow backtest` with
# tests/support/guard_figures.ini three ways: unguarded (its guard keys removed), guarded
# but with `absent` on the wall clock (no `relative` on it), and guarded. The backtest's
# weekly table gives false alerts per week (labels: the world's cancels, horizon 45d); the
# summary below it gives false alerts a day in the holiday week, the outage week, the week
# after each, and on ordinary weeks (the others from day 28 on whose alerts' 45-day horizon
# closed within the data, the same weeks for every config).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIGFLOW=${SIGFLOW:-$ROOT/build/sigflow}
seed=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$ROOT/tests/support/gen_world.py" -o "$tmp/ev.ndjson" --labels "$tmp/labels.json" \
    -c 1000 -d 160 -s "$seed" --holiday 49:7:0.5 --outage 70:2 --churn 0.08
python3 - "$tmp/labels.json" >"$tmp/labels.csv" <<'PY'
import json, sys
print("entity,churn_time")
for e, t in sorted(json.load(open(sys.argv[1]))["churners"].items()):
    print("%s,%d" % (e, t))
PY
CONF=$ROOT/tests/support/guard_figures.ini
grep -v '^relative\|^stale' "$CONF" >"$tmp/unguarded.ini"
awk '/^\[/ { sec = $0 } !(sec == "[signal quiet]" && /^relative/)' "$CONF" >"$tmp/wallclock.ini"
for c in unguarded wallclock; do
    "$SIGFLOW" backtest -c "$tmp/$c.ini" --labels "$tmp/labels.csv" "$tmp/ev.ndjson" \
        >"$tmp/$c.txt" 2>&1
done
"$SIGFLOW" backtest -c "$CONF" --labels "$tmp/labels.csv" "$tmp/ev.ndjson" >"$tmp/guarded.txt" 2>&1
for c in unguarded wallclock guarded; do
    echo "== $c"
    cat "$tmp/$c.txt"
done
python3 - "$tmp/labels.json" "$tmp"/unguarded.txt "$tmp"/wallclock.txt "$tmp"/guarded.txt <<'PY'
import datetime, json, sys
DAY = 86400000
lab = json.load(open(sys.argv[1]))
hol, out = lab["holiday"], lab["outage"]
t0 = hol[0] - 49 * DAY
def week_ms(s):
    return int(datetime.datetime.fromisoformat(s + "T00:00:00+00:00").timestamp() * 1000)
def weeks(path):
    rows = {}
    for line in open(path):
        p = line.split()
        if len(p) == 5 and p[0][:2] == "20" and p[1].isdigit():
            rows[week_ms(p[0])] = (int(p[2]), int(p[3]), int(p[4]))  # right, false, open
    return rows
def week_of(t):
    return t - (t - t0) % (7 * DAY)
special = {"holiday week": week_of(hol[0]), "week after the holiday": week_of(hol[0]) + 7 * DAY,
           "outage week": week_of(out[0]), "week after the outage": week_of(out[0]) + 7 * DAY}
print("| config | false alerts/day: ordinary weeks | holiday week | week after | "
      "outage week | week after | open in those weeks |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for path in sys.argv[2:]:
    w = weeks(path)
    ordinary = [k for k in w if k >= t0 + 28 * DAY and k not in special.values() and
                k + 7 * DAY + 45 * DAY <= t0 + 160 * DAY]
    r = [sum(w[k][1] for k in ordinary) / (7.0 * len(ordinary))]
    r += [w[special[n]][1] / 7.0 for n in special]
    opened = sum(w[special[n]][2] for n in special)
    name = path.rsplit("/", 1)[1][:-4]
    print("| %s | %.2f (%d weeks) | %.2f | %.2f | %.2f | %.2f | %d |" % (
        (name, r[0], len(ordinary)) + tuple(r[1:]) + (opened,)))
PY
