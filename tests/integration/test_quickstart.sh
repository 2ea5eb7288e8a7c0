#!/usr/bin/env bash
# docs/quickstart.md followed literally: its ```sh blocks, in order, in a copy of the source
# tree with HOME in the test's directory (only the three ports are swapped for free ones, so
# tests running at once do not collide). It must end with the alert at the local receiver,
# and step 7's replays must give what the text says.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

# the source tree, build included (timestamps kept: only what PREFIX changes is rebuilt)
mkdir -p "$T/src" "$T/home"
(cd "$ROOT" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$T/src" && tar -xf -) ||
    fail "cannot copy the source tree"
mkdir -p "$T/src/$(dirname "$BUILD")"
cp -a "$ROOT/$BUILD" "$T/src/$BUILD" || fail "cannot copy the build"

ING=$(free_port)
ADM=$(free_port)
RCV=$(free_port)
{
    echo 'trap '\''kill $(jobs -p) 2>/dev/null'\'' EXIT'
    awk '/^```sh$/ {on = 1; next} /^```$/ {on = 0} on' "$ROOT/docs/quickstart.md" |
        sed -e "s/127\.0\.0\.1:8088/127.0.0.1:$ING/g; s/127\.0\.0\.1:9464/127.0.0.1:$ADM/g" \
            -e "s/127\.0\.0\.1:9000/127.0.0.1:$RCV/g; s/(\"127\.0\.0\.1\", 9000)/(\"127.0.0.1\", $RCV)/"
    # after the last step: the alert may take longer than the text's 12 s on a loaded machine
    echo 'for i in $(seq 600); do grep -q cus_acme alerts.log && break; sleep 0.1; done'
    echo 'cp alerts.log sigflow.log as-is.ndjson stricter.ndjson "$QS_OUT/" 2>/dev/null'
} >"$T/quickstart.sh"
grep -q 'sigflow run --init -c sigflow.ini' "$T/quickstart.sh" || fail "no run step extracted"
mkdir -p "$T/out"
(cd "$T/src" && HOME=$T/home QS_OUT=$T/out timeout 600 bash "$T/quickstart.sh") >"$T/qs.out" 2>&1
grep -q '"entity":"cus_acme"' "$T/out/alerts.log" 2>/dev/null ||
    fail "no alert at the receiver; script output: $(tail -30 "$T/qs.out")"
grep -q '"entity":"cus_globex"' "$T/out/alerts.log" && fail "a filtered Stripe type alerted"
grep -q 'ok (decision churn_risk' "$T/qs.out" || fail "sigflow check did not say ok"
[ "$(grep -c ' 202$' "$T/qs.out")" -eq 5 ] || fail "not five 202 answers: $(grep -E ' [0-9]{3}$' "$T/qs.out")"
pass "docs/quickstart.md followed literally ends with the alert at the local receiver"
[ "$(wc -l <"$T/out/as-is.ndjson")" -eq 1 ] || fail "step 7: as-is replay is not the one alert"
[ "$(wc -l <"$T/out/stricter.ndjson")" -eq 0 ] || fail "step 7: the stricter replay alerts"
pass "its tuning step gives what the text says"
