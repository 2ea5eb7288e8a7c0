#!/usr/bin/env bash
# log_format (docs/operating.md "Logs"): logfmt by default (`time=... level=...`); with
# `log_format = json` every line of a daemon run (start, plugin loading, a request to an
# unknown path, a reload, the stop) is one JSON object with time, level, msg first and the
# same keys the logfmt line has; `--log-format json` covers the config's own errors.
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_webhook delivery_console)
PORT=$(free_port)
write_ini() { # EXTRA_SIGFLOW_LINE
    cat >"$T/ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
ingest = 127.0.0.1:$PORT
$1
[connector hook]
plugin = webhook
path = /events
[delivery out]
plugin = console
path = $T/alerts.ndjson
INI
}
exercise() { # a request to an unknown path (outside text in the context), a reload, a stop
    curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/nope%22x%20y"
    wait_for 10 grep -q 'nope' "$T/daemon.log" || fail "no line for the unknown path"
    kill -HUP "$DAEMON_PID"
    wait_for 10 grep -q 'reloaded' "$T/daemon.log" || fail "no reload"
    stop_daemon
    [ "$DAEMON_RC" -eq 0 ] || fail "exit $DAEMON_RC"
}

write_ini ""
start_daemon "$T/ini"
exercise
cp "$T/daemon.log" "$T/logfmt.log"
grep -v '^time=[0-9T:.-]*Z level=[a-z]* ' "$T/logfmt.log" && fail "a line not in logfmt (above)"
grep -q 'component=runtime msg="reloaded' "$T/logfmt.log" || fail "no reloaded line"
pass "logfmt is the default: every line starts time=... level=..."

write_ini "log_format = json"
start_daemon "$T/ini"
exercise
/usr/bin/python3 - "$T/daemon.log" "$T/logfmt.log" <<'PY' || fail "JSON lines: see above"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 5, "too few lines: %d" % len(lines)
for n, line in enumerate(lines, 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %s" % (n, e, line))
    keys = list(o)
    if keys[:2] != ["time", "level"] or "msg" not in o:
        sys.exit("line %d: keys %s" % (n, keys))
    if "component" in o and keys[2:4] != ["component", "msg"]:
        sys.exit("line %d: component and msg not next: %s" % (n, keys))
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]):
        sys.exit("line %d: time %r" % (n, o["time"]))
    if o["level"] not in ("error", "warn", "info", "debug"):
        sys.exit("line %d: level %r" % (n, o["level"]))
    if not all(isinstance(v, str) for v in o.values()):
        sys.exit("line %d: a value that is not a string: %s" % (n, line))
# the keys of each logfmt line are the keys of the JSON line with the same message
def logfmt_keys(line):
    return [m.group(1) for m in re.finditer(r'(?:^| )([A-Za-z_][\w.]*)=(?:"(?:[^"\\]|\\.)*"|\S*)', line)]
by_msg = {json.loads(l)["msg"]: set(json.loads(l)) for l in lines}
checked = 0
for line in open(sys.argv[2]).read().splitlines():
    m = re.search(r' msg="((?:[^"\\]|\\.)*)"$', line)
    msg = m and m.group(1).replace('\\"', '"').replace("\\\\", "\\")
    if msg in by_msg:
        if set(logfmt_keys(line)) != by_msg[msg]:
            sys.exit("keys differ for %r: logfmt %s, json %s" % (msg, logfmt_keys(line), sorted(by_msg[msg])))
        checked += 1
assert checked >= 5, "only %d lines compared" % checked
unknown = [json.loads(l) for l in lines if "path" in json.loads(l)]
assert unknown and unknown[0]["path"] == '/nope"x y' and unknown[0]["component"] == "ingest_http", unknown
print("json: %d lines, %d compared with logfmt" % (len(lines), checked))
PY
pass "log_format = json: every line is a JSON object with the keys of its logfmt twin"

# the option wins over the config and covers the config's own errors
echo 'bogus_key = 1' >>"$T/ini"
"$SIGFLOW" run --log-format json -c "$T/ini" >/dev/null 2>"$T/bad.log" && fail "a bad config ran"
[ -s "$T/bad.log" ] || fail "no error logged"
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$T/bad.log" || fail "--log-format json: a line that is not JSON: $(cat "$T/bad.log")"
grep -q 'bogus_key' "$T/bad.log" || fail "the config error is not in the log"
"$SIGFLOW" run --log-format yaml -c "$T/ini" >/dev/null 2>"$T/usage" && fail "--log-format yaml accepted"
grep -q 'expected logfmt or json' "$T/usage" || fail "bad --log-format message: $(cat "$T/usage")"
write_ini "log_format = yaml"
"$SIGFLOW" check -c "$T/ini" >"$T/check" 2>&1 && fail "check accepted log_format = yaml"
grep -q "ini:5" "$T/check" || fail "check does not name FILE:LINE: $(cat "$T/check")"
pass "--log-format json covers config errors; bad values are refused (FILE:LINE in check)"
