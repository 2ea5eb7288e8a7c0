#!/usr/bin/env bash
# Long replay/backtest runs show a progress line on stderr (events, events/s, the event time
# reached) when stderr is a terminal, nothing when it is piped; --progress / --no-progress
# force it either way (docs/operating.md "Progress"). The terminal is a real pty (script(1)).
. "$(dirname "$0")/lib.sh"

cat >"$T/ini" <<INI
[sigflow]
state_dir = $T/var
[decision]
name = churn
threshold = 0.5
outcome = cancelled
[signal logins]
event = login
measure = count
window = 1d
cap = 1
weight = 5
INI
# 20000 logins 10 s apart for 50 entities (a few days: few tick boundaries, a quick run);
# the last one at T0 + 199990 s.
N=20000
/usr/bin/python3 - "$T/events.ndjson" "$N" <<'PY'
import json, sys
T0 = 1772409600000  # 2026-03-02T00:00:00Z
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"entity": "e%d" % (i % 50), "type": "login",
                            "time": T0 + i * 10000}) + "\n")
PY
LAST=$(/usr/bin/python3 -c 'import datetime; print((datetime.datetime(2026,3,2,tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=199990)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))')
want="replay: progress events=$N events_per_s=[0-9]* event_time=$LAST elapsed="

"$SIGFLOW" replay -c "$T/ini" "$T/events.ndjson" >"$T/out" 2>"$T/err" || fail "replay: $(cat "$T/err")"
grep -q progress "$T/err" && fail "a piped stderr got a progress line: $(grep progress "$T/err")"
pass "piped: no progress line"

"$SIGFLOW" replay --progress -c "$T/ini" "$T/events.ndjson" >"$T/out2" 2>"$T/err2" ||
    fail "replay --progress: $(cat "$T/err2")"
grep -q "^$want" "$T/err2" || fail "--progress: no final line like '$want': $(cat "$T/err2")"
grep -q $'\r' "$T/err2" && fail "--progress to a pipe redraws with CR"
tail -1 "$T/err2" | grep -q '^replay: events=' || fail "the summary is not the last line"
cmp -s "$T/out" "$T/out2" || fail "--progress changed the alerts"
pass "--progress on a pipe: plain lines, the last with every event and the last event time"

# a terminal: script(1) gives the command a pty; stdout goes to a file inside it
script -qec "'$SIGFLOW' replay -c '$T/ini' '$T/events.ndjson' >'$T/out3'" /dev/null >"$T/tty" ||
    fail "replay on a pty: $(cat "$T/tty")"
tr '\r' '\n' <"$T/tty" | grep -q "^$want" || fail "a terminal got no progress line: $(cat -v "$T/tty")"
grep -q $'\r' "$T/tty" || fail "a terminal's line is not redrawn in place"
script -qec "'$SIGFLOW' replay --no-progress -c '$T/ini' '$T/events.ndjson' >/dev/null" /dev/null >"$T/tty2" ||
    fail "replay --no-progress on a pty"
grep -q progress "$T/tty2" && fail "--no-progress still drew: $(cat -v "$T/tty2")"
pass "a terminal gets the line drawn in place; --no-progress silences it"

printf 'e1,2026-03-10T00:00:00Z\n' >"$T/labels"
"$SIGFLOW" backtest --progress -c "$T/ini" --labels "$T/labels" "$T/events.ndjson" >/dev/null \
    2>"$T/bt.err" || fail "backtest --progress: $(cat "$T/bt.err")"
grep -q "^backtest: progress events=$N .*event_time=$LAST" "$T/bt.err" ||
    fail "backtest --progress: $(cat "$T/bt.err")"
"$SIGFLOW" backtest -c "$T/ini" --labels "$T/labels" "$T/events.ndjson" >/dev/null 2>"$T/bt2.err" ||
    fail "backtest: $(cat "$T/bt2.err")"
grep -q progress "$T/bt2.err" && fail "backtest piped: a progress line"
pass "backtest: the same line with --progress, none when piped"
