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

# make install DESTDIR=... lays out a Debian-style daemon: the config in /etc/sigflow (valid),
# /var/lib/sigflow, a systemd unit that reloads with SIGHUP, sigflow(1) written from --help,
# bash completion.
R=$T/root
make -s -C "$ROOT" install PREFIX=/usr DESTDIR="$R" BUILD="$T/build" >"$T/install2.log" 2>&1 ||
    fail "make install DESTDIR: $(tail -5 "$T/install2.log")"
for f in usr/bin/sigflow usr/lib/sigflow/plugins/connector_file.so etc/sigflow/sigflow.ini \
    usr/lib/systemd/system/sigflow.service usr/share/man/man1/sigflow.1 \
    usr/share/bash-completion/completions/sigflow; do
    [ -f "$R/$f" ] || fail "make install did not lay out /$f"
done
[ -d "$R/var/lib/sigflow" ] || fail "no /var/lib/sigflow"
U=$R/usr/lib/systemd/system/sigflow.service
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$U" || fail "the unit does not reload with SIGHUP"
grep -qx 'Type=notify' "$U" || fail "the unit is not Type=notify (sigflow sends READY=1)"
grep -qx 'ExecStart=/usr/bin/sigflow run -c /etc/sigflow/sigflow.ini' "$U" || fail "ExecStart: $(grep ExecStart "$U")"
grep -q '^state_dir = /var/lib/sigflow$' "$R/etc/sigflow/sigflow.ini" || fail "the config's state_dir"
# the installed config is valid against the installed plugins
sed "s|^\[sigflow\]|[sigflow]\nplugin_dir = $R/usr/lib/sigflow/plugins|; s|^state_dir = .*|state_dir = $T/var|" \
    "$R/etc/sigflow/sigflow.ini" >"$T/installed.ini"
"$SIGFLOW" check -c "$T/installed.ini" >"$T/check.out" 2>&1 || fail "installed config: $(cat "$T/check.out")"
# the man page carries every command's --help text
M=$(man -l "$R/usr/share/man/man1/sigflow.1" 2>/dev/null) || fail "man cannot render sigflow(1)"
for cmd in $("$SIGFLOW" --help | awk '/^  [a-z]/ {print $1}'); do
    usage=$("$SIGFLOW" "$cmd" --help 2>&1 | head -1)
    grep -qF -- "$usage" <<<"$M" || fail "sigflow(1) lacks \`$usage\`"
done
# completion offers the commands and a command's options
PATH=$R/usr/bin:$PATH bash -c '. "$1"; COMP_WORDS=(sigflow che); COMP_CWORD=1; _sigflow; echo "${COMPREPLY[*]}"' _ \
    "$R/usr/share/bash-completion/completions/sigflow" >"$T/comp1" || fail "completion failed"
grep -qx 'check' "$T/comp1" || fail "completion of 'che': $(cat "$T/comp1")"
PATH=$R/usr/bin:$PATH bash -c '. "$1"; COMP_WORDS=(sigflow check --no); COMP_CWORD=2; _sigflow; echo "${COMPREPLY[*]}"' _ \
    "$R/usr/share/bash-completion/completions/sigflow" >"$T/comp2"
grep -qx -- '--no-secrets' "$T/comp2" || fail "completion of 'check --no': $(cat "$T/comp2")"
# a second install keeps the operator's config
echo '; edited' >>"$R/etc/sigflow/sigflow.ini"
make -s -C "$ROOT" install PREFIX=/usr DESTDIR="$R" BUILD="$T/build" >/dev/null 2>&1 || fail "second install"
grep -q '^; edited' "$R/etc/sigflow/sigflow.ini" || fail "make install overwrote the config"
pass "make install DESTDIR lays out /etc/sigflow, /var/lib/sigflow, the unit, sigflow(1), completion"
