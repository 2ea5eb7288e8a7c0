#!/usr/bin/env bash
# Plugins dropped into plugin_dir while the daemon runs: a good one is loaded live and the
# instance waiting for it starts; bad ones are refused with one line each while the daemon runs
# on (docs/sdk-loading.md, docs/design.md).
. "$(dirname "$0")/lib.sh"

PD=$(plugin_dir_with connector_file)
write_login_ini "$PD" "$T/alerts.ndjson"
: >"$T/events.ndjson"
start_daemon "$T/ini"
wait_for 10 grep -q 'waits for plugin console' "$T/daemon.log" || fail "no line says the instance waits"

# Bad plugins first: each refused by name, daemon alive.
for f in bad_magic abi_major_2 oversized_struct no_entry; do
    [ -f "$FIXTURES/$f.so" ] || fail "fixture $f.so missing"
    install -m 0755 "$FIXTURES/$f.so" "$PD/"
    wait_for 10 grep -q "$f.so" "$T/daemon.log" || fail "$f.so: no refusal line"
done
alive || fail "a bad plugin took the daemon down"
[ "$(grep -c 'bad_magic.so' "$T/daemon.log")" -eq 1 ] || fail "refusal logged more than once"
pass "bad plugins refused one line each; daemon runs on"

install -m 0755 "$PLUGIN_BUILD/delivery_console.so" "$PD/"
wait_for 10 grep -q 'plugin console arrived' "$T/daemon.log" || fail "console not picked up"
echo '{"entity":"acme","type":"login","time":"2026-11-01T10:00:00Z"}' >>"$T/events.ndjson"
wait_for 10 grep -q '"entity":"acme"' "$T/alerts.ndjson" || fail "no alert through the new plugin"
pass "a .so dropped in is loaded live and its waiting instance delivers"
stop_daemon
