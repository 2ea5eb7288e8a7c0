#!/usr/bin/env bash
# guard_figures.sh [SEED]: the figures of docs/scoring.md "Noise guards: measured". A
# generated world (tests/support/gen_world.py: 1000 customers, 100 days, 8% churners, a
# holiday week at day 45 with logins at half rate, the login feed dead on days 70-71) is
# replayed through tests/support/guard_figures.ini with and without its guard keys; false
# alerts per day (alerts for customers who do not cancel within the next 45 days) in the
# holiday, the outage and the week after it, and on ordinary days; churners caught (an alert
# in the 45 days before their cancel).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIGFLOW=${SIGFLOW:-$ROOT/build/sigflow}
seed=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$ROOT/tests/support/gen_world.py" -o "$tmp/ev.ndjson" --labels "$tmp/labels.json" \
    -c 1000 -d 100 -s "$seed" --holiday 45:7:0.5 --outage 70:2 --churn 0.08
grep -v '^relative\|^stale' "$ROOT/tests/support/guard_figures.ini" >"$tmp/unguarded.ini"
"$SIGFLOW" replay -c "$ROOT/tests/support/guard_figures.ini" "$tmp/ev.ndjson" \
    >"$tmp/guarded.out" 2>/dev/null
"$SIGFLOW" replay -c "$tmp/unguarded.ini" "$tmp/ev.ndjson" >"$tmp/unguarded.out" 2>/dev/null
python3 - "$tmp/labels.json" "$tmp/unguarded.out" "$tmp/guarded.out" <<'PY'
import datetime, json, sys
DAY = 86400000
lab = json.load(open(sys.argv[1]))
churn = {e: t for e, t in lab["churners"].items()}
hol, out = lab["holiday"], lab["outage"]
t0 = hol[0] - 45 * DAY

def ms(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)

periods = {  # name: (from, to) in ms, to exclusive
    "holiday week": (hol[0], hol[1]),
    "outage (2 days)": (out[0], out[1]),
    "7 days after the outage": (out[1], out[1] + 7 * DAY),
}
def ordinary(t):  # from day 30 on, outside the holiday (+3d) and the outage (+7d)
    return t >= t0 + 30 * DAY and not (hol[0] <= t < hol[1] + 3 * DAY) and \
        not (out[0] <= t < out[1] + 7 * DAY)
n_ord = sum(1 for d in range(100) if ordinary(t0 + d * DAY))
rows = []
for name in sys.argv[2:]:
    alerts = [json.loads(l) for l in open(name)]
    dec = [a for a in alerts if a["kind"] == "decision"]
    health = [a for a in alerts if a["kind"] == "health"]
    def false(a):  # alerts after a churner's cancel are late, not false (retiring is #9's)
        c = churn.get(a["entity"])
        return c is None or ms(a["time"]) < c - 45 * DAY
    fa = [ms(a["time"]) for a in dec if false(a)]
    caught = sum(1 for e, c in churn.items()
                 if any(a["entity"] == e and c - 45 * DAY <= ms(a["time"]) <= c for a in dec))
    r = {"ordinary": sum(1 for t in fa if ordinary(t)) / n_ord}
    for p, (a, b) in periods.items():
        r[p] = sum(1 for t in fa if a <= t < b) / ((b - a) / DAY)
    rows.append(("guarded" if "guarded.out" in name and "un" not in name.split("/")[-1]
                 else "unguarded", r, caught, len(dec), len(health)))
print("| config | false alerts/day: ordinary | holiday week | outage (2 days) | "
      "7 days after the outage | churners caught (of %d) | decision alerts | health alerts |"
      % len(churn))
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for who, r, caught, nd, nh in rows:
    print("| %s | %.2f | %.2f | %.2f | %.2f | %d | %d | %d |" % (
        who, r["ordinary"], r["holiday week"], r["outage (2 days)"],
        r["7 days after the outage"], caught, nd, nh))
PY
