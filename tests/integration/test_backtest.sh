#!/usr/bin/env bash
# `sigflow backtest` (docs/scoring.md "Backtest") on a small labelled history whose figures
# are worked out by hand below; --compare, --fit and bad input (test_learning.sh runs it on
# the journal and on outcome events).
. "$(dirname "$0")/lib.sh"

# absent(login, 3d) weight 4, bias -2: p = sigmoid(2) = 0.88 >= 0.5 once the latest login is
# 3 days old, checked at each daily boundary. Day N = 2026-03-02 (a Monday) + N days.
cat >"$T/a.ini" <<INI
[sigflow]
state_dir = $T/var
[decision]
name = churn
bias = -2
threshold = 0.5
cooldown = 30d
tick = 1d
[signal quiet]
event = login
measure = absent
window = 3d
weight = 4
INI
sed 's/^threshold = 0.5/threshold = 0.95/' "$T/a.ini" >"$T/b.ini"

python3 - "$T/events.ndjson" <<'PY'
import json, sys
T0 = 1772409600000  # 2026-03-02T00:00:00Z
D, H = 86400000, 3600000
ev = []
for e in ("a", "b", "c"):
    ev.append((T0 + H, e, "login"))          # alert at the boundary of day 4
for d in range(20):
    ev.append((T0 + d * D + H, "d", "login"))  # logs in daily: never alerts
ev.append((T0 + 10 * D + H, "e", "login"))   # alert at day 14
ev.append((T0 + 15 * D + H, "g", "login"))   # alert at day 19
ev.append((T0 + 20 * D + 12 * H, "zz", "noise"))  # the end: runs the boundaries to day 20
with open(sys.argv[1], "w") as f:
    for t, e, typ in sorted(ev):
        f.write(json.dumps({"entity": e, "type": typ, "time": t}) + "\n")
PY
cat >"$T/labels.csv" <<'CSV'
entity,churn_time
# a churns 4 days after its alert (right), b 12 days after (wrong with a 10-day horizon)
a,2026-03-10T00:00:00Z
b,2026-03-18T00:00:00Z
d,1773705600000
e,2026-03-21T00:00:00Z
f,2026-04-01T00:00:00Z
z,2026-03-04T00:00:00Z
CSV

# By hand (horizon 10d, end = day 20 12:00):
#  alerts: a, b, c at day 4; e at day 14; g at day 19 -> 5.
#  judged (churned within 10d after, or the 10 days passed by the end): a right, b wrong
#  (churn 12 days later), c wrong, e right (5 days later); g open (day 19 + 10d > end).
#  precision 2/4 = 0.500.
#  churners within the data (day 0 01:00 .. day 20 12:00): a (8), b (16), d (12), e (19),
#  z (2); f (day 30) is after the end. Caught (an alert in the 10 days before): a, e.
#  recall 2/5 = 0.400. Lead times 4d and 5d: median 4.5d.
#  weeks: 03-02: 3 alerts, 1 right, 2 false; 03-09: none; 03-16: e right, g open.
"$SIGFLOW" backtest -c "$T/a.ini" --labels "$T/labels.csv" --horizon 10d "$T/events.ndjson" \
    >"$T/out" 2>"$T/err" || fail "backtest exit $?: $(cat "$T/err")"
expect() { grep -qF -- "$1" "$T/out" || fail "missing \`$1\` in: $(cat "$T/out")"; }
expect "alerts 5 (1.7 a week), precision 0.500 (2/4), recall 0.400 (2/5), median lead time 4.5d"
expect "2026-03-02       3      1      2     0"
expect "2026-03-09       0      0      0     0"
expect "2026-03-16       2      1      0     1"
pass "precision, recall, median lead time and weeks as computed by hand"

# --compare: threshold 0.95 raises nothing (p = 0.88 at most).
"$SIGFLOW" backtest -c "$T/a.ini" --compare "$T/b.ini" --labels "$T/labels.csv" --horizon 10d \
    "$T/events.ndjson" >"$T/out" 2>"$T/err" || fail "compare exit $?: $(cat "$T/err")"
expect "difference: -1.7 alerts a week, 2 fewer false positives, 2 fewer churners caught"
pass "--compare prints the difference between two configs"

# --fit: the model as an INI fragment (no outcome: the configured one).
"$SIGFLOW" backtest -c "$T/a.ini" --fit --labels "$T/labels.csv" "$T/events.ndjson" >"$T/out" 2>&1
expect "[decision]"
expect "bias = -2"
expect "[signal quiet]"
expect "weight = 4"
pass "--fit prints the model as INI"

# The horizon defaults to the config's (45d): b's alert (12 days before its churn) is right
# then and b caught (lead 12d); c's and g's 45 days have not passed by the end: open.
# precision 3/3, recall 3/5 (a, b, e), lead times 4, 5, 12: median 5.0d.
"$SIGFLOW" backtest -c "$T/a.ini" --labels "$T/labels.csv" "$T/events.ndjson" >"$T/out" 2>&1
expect "precision 1.000 (3/3), recall 0.600 (3/5), median lead time 5.0d"
pass "the horizon defaults to the config's"

# Bad input: a labels line without a time; no truth at all; a bad option.
printf 'entity,churn_time\nx,yesterday\n' >"$T/bad.csv"
set +e
"$SIGFLOW" backtest -c "$T/a.ini" --labels "$T/bad.csv" "$T/events.ndjson" >/dev/null 2>"$T/err"
rc1=$?
"$SIGFLOW" backtest -c "$T/a.ini" "$T/events.ndjson" >/dev/null 2>"$T/err2"
rc2=$?
"$SIGFLOW" backtest -c "$T/a.ini" --horizon soon "$T/events.ndjson" >/dev/null 2>/dev/null
rc3=$?
set -e
[ "$rc1" = 1 ] && grep -q "bad.csv:2: churn_time is not RFC 3339 or epoch ms" "$T/err" ||
    fail "bad labels line: exit $rc1, $(cat "$T/err")"
[ "$rc2" = 1 ] && grep -q "no \`outcome =\` and no --labels" "$T/err2" ||
    fail "no truth: exit $rc2, $(cat "$T/err2")"
[ "$rc3" = 64 ] || fail "bad --horizon: exit $rc3"
pass "a bad labels line names FILE:LINE; no truth and bad options are refused"
