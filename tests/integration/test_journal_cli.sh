#!/usr/bin/env bash
# `sigflow journal` and `sigflow replay --journal` (README "Command line"): while the daemon
# runs, the journal prints every event it journaled as canonical NDJSON in journal order (an
# input already in the canonical shape comes back byte for byte), --connector and --since
# filter it, replay --journal scores it exactly as replaying the source file does, and
# reading never writes the store.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file connector_webhook delivery_console)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Canonical lines (key order entity, type, time, value, then attrs; times in ms precision),
# with a value that is not exact in binary, attrs of every JSON kind and escapes.
cat >"$T/events.ndjson" <<'EV'
{"entity":"c1","type":"login","time":"2026-11-01T00:00:00.000Z","value":1,"plan":"pro"}
{"entity":"c2","type":"login","time":"2026-11-01T00:01:00.000Z","value":0.1}
{"entity":"c1","type":"ticket.opened","time":"2026-11-01T00:02:00.500Z","tags":["a","b"],"n":{"x":null,"y":true}}
{"entity":"c\"3\\","type":"login","time":"2026-11-02T00:00:00.000Z","value":-2.5e-07,"note":"café"}
{"entity":"c1","type":"ticket.opened","time":"2026-11-03T00:00:00.000Z"}
{"entity":"c1","type":"ticket.opened","time":"2026-11-03T01:00:00.000Z"}
EV
cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
clock = event
[decision]
name = d
threshold = 0.5
deliver = out
[signal tickets]
event = ticket.opened
measure = count
window = 7d
cap = 2
weight = 5
[connector events]
plugin = file
path = $T/events.ndjson
follow = true
poll_interval = 20ms
[connector pushed]
plugin = webhook
path = /hooks/pushed
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
start_daemon "$T/ini"
rows() { python3 -c "import sqlite3; print(sqlite3.connect('file:$T/var/sigflow.db?mode=ro', uri=True).execute('select count(*) from journal').fetchone()[0])"; }
wait_for 20 test "$(rows)" = 6 || fail "the file's 6 events were not journaled (have $(rows))"
sleep 1.1 # the pushed event arrives in a later second than the file's (for --since)
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
PUSHED='{"entity":"c9","type":"login","time":"2026-11-04T00:00:00.000Z","value":3}'
python3 - "$PORT" "$PUSHED" <<'PY' || fail "push failed"
import sys, urllib.request
r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/hooks/pushed" % sys.argv[1],
                           data=sys.argv[2].encode()), timeout=10)
assert r.status == 202, r.status
PY

"$SIGFLOW" journal -c "$T/ini" >"$T/all.ndjson" 2>"$T/journal.err" || fail "journal: $(cat "$T/journal.err")"
{ cat "$T/events.ndjson"; echo "$PUSHED"; } >"$T/want_all.ndjson"
diff -u "$T/want_all.ndjson" "$T/all.ndjson" >&2 || fail "journal output is not the canonical events in order"
grep -q '^7 events$' "$T/journal.err" || fail "journal summary: $(cat "$T/journal.err")"
pass "sigflow journal prints all 7 events, canonical, in journal order, while the daemon runs"

"$SIGFLOW" journal -c "$T/ini" --connector events >"$T/events_only.ndjson" 2>/dev/null ||
    fail "journal --connector"
cmp -s "$T/events.ndjson" "$T/events_only.ndjson" || fail "--connector events is not the file's events"
[ "$("$SIGFLOW" journal -c "$T/ini" --connector pushed 2>/dev/null)" = "$PUSHED" ] ||
    fail "--connector pushed"
pass "--connector keeps one connector's events"

[ "$("$SIGFLOW" journal -c "$T/ini" --since "$SINCE" 2>/dev/null)" = "$PUSHED" ] ||
    fail "--since $SINCE did not keep only the pushed event"
[ -z "$("$SIGFLOW" journal -c "$T/ini" --since 2099-01-01T00:00:00Z 2>/dev/null)" ] ||
    fail "--since in the future printed events"
"$SIGFLOW" journal -c "$T/ini" --since yesterday >/dev/null 2>&1
[ $? = 64 ] || fail "a bad --since is not a usage error"
pass "--since keeps what arrived since; a bad time is exit 64"

"$SIGFLOW" replay -c "$T/ini" "$T/want_all.ndjson" >"$T/replay_file.ndjson" 2>/dev/null || fail "replay file"
"$SIGFLOW" replay -c "$T/ini" --journal >"$T/replay_journal.ndjson" 2>"$T/replay.err" ||
    fail "replay --journal: $(cat "$T/replay.err")"
[ -s "$T/replay_file.ndjson" ] || fail "the replayed file raised no alert (the test needs one)"
cmp -s "$T/replay_file.ndjson" "$T/replay_journal.ndjson" || fail "replay --journal differs from replaying the file"
grep -q 'events=7 ' "$T/replay.err" || fail "replay --journal summary: $(cat "$T/replay.err")"
"$SIGFLOW" replay -c "$T/ini" --journal "$T/events.ndjson" >/dev/null 2>&1 && fail "--journal with a file accepted"
pass "replay --journal scores the journal as replaying the events does"

stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "daemon exit $DAEMON_RC"
sum_before=$(sha256sum "$T/var/sigflow.db" | cut -d' ' -f1)
"$SIGFLOW" journal -c "$T/ini" >"$T/after.ndjson" 2>/dev/null || fail "journal after stop"
cmp -s "$T/all.ndjson" "$T/after.ndjson" || fail "journal after stop differs"
[ "$(sha256sum "$T/var/sigflow.db" | cut -d' ' -f1)" = "$sum_before" ] || fail "reading changed the store"
pass "after the daemon stopped: same output, the store untouched"

rm -rf "$T/var"
"$SIGFLOW" journal -c "$T/ini" >/dev/null 2>"$T/err" && fail "journal without a store succeeded"
grep -q "sigflow.db" "$T/err" || fail "no-store error does not name the file: $(cat "$T/err")"
pass "no store: exit 1 naming the file"
