#!/usr/bin/env bash
# The command line as a user meets it: version, help, check, plugins, exit codes.
. "$(dirname "$0")/lib.sh"

out=$("$SIGFLOW" version) || fail "version exited non-zero"
echo "$out" | grep -qx "plugin-abi $ABI" || fail "version does not say plugin-abi $ABI: $out"
echo "$out" | grep -q '^sigflow [0-9]' || fail "version does not name sigflow's version"
pass "version names the plugin ABI"

for cmd in run check plugins replay; do
    "$SIGFLOW" "$cmd" --help | grep -q "usage: sigflow $cmd" || fail "$cmd --help"
done
"$SIGFLOW" --help | grep -q 'usage: sigflow COMMAND' || fail "--help"
pass "--help on each command"

"$SIGFLOW" frobnicate 2>/dev/null
[ $? -eq 64 ] || fail "unknown command should exit 64"
"$SIGFLOW" check 2>/dev/null
[ $? -eq 64 ] || fail "check without -c should exit 64"
pass "bad command lines exit 64"

PD=$(plugin_dir_with connector_file delivery_console)
cat >"$T/good.ini" <<INI
[sigflow]
plugin_dir = $PD
state_dir = $T/var
[decision]
name = d
threshold = 0.5
deliver = out
[signal s]
event = login
measure = count
window = 1d
cap = 2
[connector in]
plugin = file
path = /dev/null
[delivery out]
plugin = console
INI
"$SIGFLOW" check -c "$T/good.ini" >"$T/check.out" 2>&1 || fail "valid config refused: $(cat "$T/check.out")"
grep -q 'ok' "$T/check.out" || fail "check does not say ok"
pass "check accepts a valid config"

# A typo in a plugin option: file:line and a suggestion; exit 1.
sed 's/^path = \/dev\/null/pth = \/dev\/null/' "$T/good.ini" >"$T/typo.ini"
line=$(grep -n '^pth' "$T/typo.ini" | cut -d: -f1)
"$SIGFLOW" check -c "$T/typo.ini" >"$T/typo.out" 2>&1
[ $? -eq 1 ] || fail "invalid config should exit 1"
grep -q "$T/typo.ini:$line:.*pth" "$T/typo.out" || fail "no file:line for the bad key: $(cat "$T/typo.out")"
grep -q 'path' "$T/typo.out" || fail "no did-you-mean for pth"
pass "check names file:line and suggests the key"

# An option of the wrong type.
sed 's/^path = \/dev\/null/path = \/dev\/null\nfollow = perhaps/' "$T/good.ini" >"$T/type.ini"
line=$(grep -n '^follow' "$T/type.ini" | cut -d: -f1)
"$SIGFLOW" check -c "$T/type.ini" >"$T/type.out" 2>&1 && fail "bad bool accepted"
grep -q "$T/type.ini:$line:" "$T/type.out" || fail "no file:line for the bad bool: $(cat "$T/type.out")"
pass "check refuses a value of the wrong type"

# A plugin not (yet) in plugin_dir: run waits for it, so check warns (exit 0) at its line.
sed 's/^plugin = console/plugin = nosuch/' "$T/good.ini" >"$T/missing.ini"
line=$(grep -n '^plugin = nosuch' "$T/missing.ini" | cut -d: -f1)
"$SIGFLOW" check -c "$T/missing.ini" >"$T/missing.out" 2>&1 || fail "a missing plugin is an error, not a warning"
grep -q "$T/missing.ini:$line: warning: .*nosuch" "$T/missing.out" || fail "missing plugin not named at its line"
pass "check warns of a missing plugin at its line"

# Two decisions.
printf '[decision]\nname = e\nthreshold = 0.5\n' >>"$T/good.ini"
"$SIGFLOW" check -c "$T/good.ini" >"$T/two.out" 2>&1 && fail "two decisions accepted"
grep -qi 'decision' "$T/two.out" || fail "two decisions: no message"
pass "check refuses a second [decision]"

"$SIGFLOW" plugins --dir "$PD" >"$T/list.out" || fail "plugins list failed"
grep -q '^file  *connector' "$T/list.out" || fail "file connector not listed: $(cat "$T/list.out")"
grep -q '^console  *delivery' "$T/list.out" || fail "console delivery not listed"
"$SIGFLOW" plugins --dir "$PD" file >"$T/file.out" || fail "plugins file failed"
grep -q "abi $ABI" "$T/file.out" || fail "plugins NAME does not show the ABI"
grep -q 'path' "$T/file.out" && grep -q 'follow' "$T/file.out" || fail "options not shown"
"$SIGFLOW" plugins --dir "$PD" nosuch >/dev/null 2>&1 && fail "unknown plugin name exits 0"
pass "plugins lists and documents plugins"

# The example in docs/config.md is valid with the bundled plugins.
PDALL=$T/allplugins
mkdir -p "$PDALL"
install -m 0755 "$PLUGIN_BUILD"/*.so "$PDALL/"
sed -n '/^## Example/,/^```$/p' "$ROOT/docs/config.md" | sed '1,/^```ini$/d;/^```$/d' |
    sed "s|^state_dir .*|state_dir = $T/var\nplugin_dir = $PDALL|" >"$T/doc.ini"
grep -q '^\[decision\]' "$T/doc.ini" || fail "no example found in docs/config.md"
SIGFLOW_ADMIN_TOKEN=t BILLING_WEBHOOK_SECRET=s SIGFLOW_OUT_SECRET=s \
    "$SIGFLOW" check -c "$T/doc.ini" >"$T/doc.out" 2>&1 || fail "docs/config.md example: $(cat "$T/doc.out")"
pass "the example in docs/config.md passes check"

# Two webhook connectors on one path: refused at check, naming both.
cat >"$T/paths.ini" <<INI
[sigflow]
plugin_dir = $PDALL
state_dir = $T/var
[connector a]
plugin = webhook
path = /hooks/x
[connector b]
plugin = webhook
path = /hooks/x
INI
line=$(grep -n '^path' "$T/paths.ini" | tail -1 | cut -d: -f1)
"$SIGFLOW" check -c "$T/paths.ini" >"$T/paths.out" 2>&1 && fail "two connectors on one path accepted"
grep -q "$T/paths.ini:$line: path /hooks/x is already routed to \[connector a\]" "$T/paths.out" ||
    fail "duplicate path not named at its line: $(cat "$T/paths.out")"
pass "check refuses two webhook connectors on one path"
