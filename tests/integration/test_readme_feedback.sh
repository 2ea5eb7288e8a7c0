#!/usr/bin/env bash
# README.md's "Feedback and the audit trail" walkthrough on the bundled demo: the alert id it
# names is the demo's alert for c00054; explain shows its score and contributions; feedback
# through the daemon labels it; the label shows in GET /v1/alerts and in explain. The demo
# config is copied with its relative paths pointed back at the tree, a private state_dir and a
# free admin port (the default one may be another test's).
. "$(dirname "$0")/lib.sh"

ID=$(sed -n 's/^ *build\/sigflow feedback -c conf\/admin-demo.ini \([0-9a-f]*\) false_positive$/\1/p' "$ROOT/README.md")
[ -n "$ID" ] || fail "README.md no longer names an alert id in its feedback walkthrough"
"$SIGFLOW" replay -c "$ROOT/conf/sigflow.ini" "$ROOT/conf/sample-events.ndjson" 2>/dev/null >"$T/replay"
grep -q "\"alert_id\":\"$ID\",\"decision\":\"churn_risk\",\"entity\":\"c00054\"" "$T/replay" ||
    fail "README's alert $ID is not the demo's alert for c00054"
# What explain must show, from the alert as replay raised it: score, and each reason's line.
python3 - "$T/replay" "$ID" >"$T/want" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a["alert_id"] == sys.argv[2]:
        print("score %.4f at %s (latest alert %s)" % (a["score"], a["time"], a["alert_id"]))
        for r in a["reasons"]:
            print("  %-24s %6.3f %8.3f %12.3f  %s" % (r["signal"], r["x"], r["weight"], r["contribution"], r["text"]))
PY
[ "$(wc -l <"$T/want")" -ge 2 ] || fail "no reasons for $ID"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SIGFLOW_ADMIN_TOKEN="readme-$RANDOM"
PD=$(plugin_dir_with connector_file delivery_console)
sed -e "s|^state_dir .*|state_dir = $T/var|" -e "s|^plugin_dir .*|plugin_dir = $PD|" \
    -e "s|^path *= sample-events.ndjson|path = $ROOT/conf/sample-events.ndjson|" \
    -e "s|^log_level .*|&\nadmin = 127.0.0.1:$PORT|" "$ROOT/conf/sigflow.ini" >"$T/demo.ini"
# the README's own line, run as written
sed -n 's/^    \(sed .s\/^log_level .*conf\/sigflow.ini\) >conf\/admin-demo.ini.*/\1/p' "$ROOT/README.md" >"$T/readme_sed"
[ -s "$T/readme_sed" ] || fail "README.md no longer shows the sed line"
(cd "$T" && bash -c "$(sed 's|conf/sigflow.ini|demo.ini|' "$T/readme_sed")") >"$T/ini" || fail "the README sed failed"
grep -q '^admin_token = env:SIGFLOW_ADMIN_TOKEN$' "$T/ini" || fail "the README sed adds no admin_token"

start_daemon "$T/ini"
wait_for 60 grep -q "alert=$ID" "$T/daemon.log" || fail "the demo did not raise $ID"
"$SIGFLOW" explain -c "$T/ini" c00054 >"$T/x1" || fail "explain: $(cat "$T/x1")"
sed -n '2,/^audit trail/p' "$T/x1" | grep -v -e '^  signal ' -e '^audit trail' >"$T/got"
diff "$T/want" "$T/got" >&2 || fail "explain's score and contributions differ from the alert's"
wait_for 30 bash -c "'$SIGFLOW' explain -c '$T/ini' c00054 | grep -q 'delivery console: delivered at'" ||
    fail "explain shows no delivery"
"$SIGFLOW" feedback -c "$T/ini" "$ID" false_positive | grep -q "^created: false_positive alert $ID" || fail "feedback"
"$SIGFLOW" feedback -c "$T/ini" --missed c00017 --time 2026-11-20T00:00:00Z | grep -q '^created: missed c00017' ||
    fail "feedback --missed"
curl -s -H "Authorization: Bearer $SIGFLOW_ADMIN_TOKEN" "http://127.0.0.1:$PORT/v1/alerts?label=false_positive" |
    grep -q "\"alert_id\":\"$ID\"" || fail "GET /v1/alerts does not list the label"
"$SIGFLOW" explain -c "$T/ini" c00054 | grep -q 'label false_positive by person via api' || fail "explain shows no label"
stop_daemon
pass "README's feedback walkthrough works on the demo as written"
