#!/usr/bin/env bash
# `make install` gives a binary whose default plugin_dir is the installed plugin directory
# ($PREFIX/lib/sigflow/plugins, compiled in again when PREFIX changes): `sigflow plugins`
# without --dir or -c lists the bundled plugins, and a config without plugin_dir finds them.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

# A copy of the build tree (timestamps kept), so only what PREFIX changes is rebuilt and the
# suite's own build is left alone.
cp -a "$ROOT/$BUILD" "$T/build" || fail "cannot copy the build tree"
P=$T/prefix
make -s -C "$ROOT" install PREFIX="$P" BUILD="$T/build" >"$T/install.log" 2>&1 ||
    fail "make install failed: $(tail -5 "$T/install.log")"
(cd / && "$P/bin/sigflow" plugins) >"$T/list.out" 2>"$T/list.err" ||
    fail "plugins without --dir: exit $? ($(cat "$T/list.err"))"
for p in file webhook console; do
    grep -q "^$p " "$T/list.out" || fail "plugins without --dir does not list $p"
done
pass "the installed sigflow lists the installed plugins without --dir"

cat >"$T/site.ini" <<INI
[sigflow]
state_dir = $T/var
[connector in]
plugin = file
path = events.ndjson
[delivery out]
plugin = console
INI
"$P/bin/sigflow" check -c "$T/site.ini" >"$T/check.out" 2>&1 ||
    fail "a config without plugin_dir: $(cat "$T/check.out")"
pass "a config without plugin_dir finds the installed plugins"

"$SIGFLOW" plugins --dir "$T/nonexistent" >/dev/null 2>"$T/err" && fail "a missing plugin dir exits 0"
grep -q "$T/nonexistent" "$T/err" || fail "a missing plugin dir is not named"
pass "plugins on a missing directory exits 1 naming it"
