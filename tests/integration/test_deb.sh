#!/usr/bin/env bash
# `make deb` (docs/operating.md "Debian package"): dpkg-buildpackage builds a .deb whose
# control data, layout, conffiles, unit and maintainer script are what the docs say; lintian
# finds no error; the packaged binary runs from an unpacked tree (dpkg -x) and the packaged
# config passes `check` against the packaged plugins. The build is the slow part (-O0 here:
# DEB_BUILD_OPTIONS=noopt; the release build is -O2 with hardening).
. "$(dirname "$0")/lib.sh"

VERSION=$(sed -n 's/^VERSION := //p' "$ROOT/Makefile")
DEB_BUILD_OPTIONS="noopt parallel=2" timeout 900 make -s -C "$ROOT" deb DEBDIR="$T/deb" \
    >"$T/build.log" 2>&1 || fail "make deb: $(tail -15 "$T/build.log")"
DEB=$T/deb/sigflow_${VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || fail "no $DEB: $(ls "$T/deb")"
pass "make deb builds $(basename "$DEB")"

[ "$(dpkg-deb -f "$DEB" Package)" = sigflow ] || fail "Package: $(dpkg-deb -f "$DEB" Package)"
[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] || fail "Version: $(dpkg-deb -f "$DEB" Version), want $VERSION"
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*//; s/ //g')
for p in adduser libcurl4 libjson-c5 libinih1 libmicrohttpd12 libsqlite3-0 libssl3; do
    grep -qx "$p" <<<"$deps" || fail "Depends lacks $p: $(dpkg-deb -f "$DEB" Depends)"
done
pass "control: sigflow $VERSION depending on adduser and the runtime libraries"

dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's|^\./|/|' >"$T/files"
for f in /usr/bin/sigflow /etc/sigflow/sigflow.ini /lib/systemd/system/sigflow.service \
    /usr/share/man/man1/sigflow.1.gz /usr/share/bash-completion/completions/sigflow \
    /usr/include/sigflow.h /usr/lib/pkgconfig/sigflow.pc /usr/share/doc/sigflow/copyright; do
    grep -qx "$f" "$T/files" || fail "the package lacks $f"
done
for so in "$PLUGIN_BUILD"/*.so; do
    grep -qx "/usr/lib/sigflow/plugins/$(basename "$so")" "$T/files" || fail "no plugin $(basename "$so")"
done
grep -q '^/var/lib/sigflow' "$T/files" && fail "/var/lib/sigflow is shipped (postinst makes it)"
dpkg-deb -e "$DEB" "$T/ctl"
[ "$(cat "$T/ctl/conffiles")" = /etc/sigflow/sigflow.ini ] || fail "conffiles: $(cat "$T/ctl/conffiles")"
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$T/ctl/postinst" | grep -q 'adduser --system .* sigflow$' || fail "postinst creates no sigflow system user"
grep -q 'install -d -o sigflow -g sigflow -m 0750 /var/lib/sigflow' "$T/ctl/postinst" ||
    fail "postinst does not make /var/lib/sigflow"
sh -n "$T/ctl/postinst" || fail "postinst is not valid sh"
pass "layout: binary, plugins, /etc/sigflow/sigflow.ini as the conffile, unit, man page, completion"

dpkg -x "$DEB" "$T/root"
U=$T/root/lib/systemd/system/sigflow.service
grep -qx 'Type=notify' "$U" || fail "the unit is not Type=notify"
grep -qx 'User=sigflow' "$U" || fail "the unit does not run as sigflow"
grep -q '^DynamicUser' "$U" && fail "the packaged unit keeps DynamicUser (the package makes a user)"
grep -qx 'ExecStart=/usr/bin/sigflow run -c /etc/sigflow/sigflow.ini' "$U" || fail "ExecStart: $(grep ExecStart "$U")"
"$T/root/usr/bin/sigflow" -V >"$T/v" || fail "the packaged sigflow -V failed"
grep -qx "sigflow $VERSION" <(head -1 "$T/v") || fail "sigflow -V: $(cat "$T/v")"
sed -e "s|^\[sigflow\]|[sigflow]\nplugin_dir = $T/root/usr/lib/sigflow/plugins|" \
    -e "s|^state_dir = .*|state_dir = $T/var|" "$T/root/etc/sigflow/sigflow.ini" >"$T/pkg.ini"
"$T/root/usr/bin/sigflow" check -c "$T/pkg.ini" >"$T/check.out" 2>&1 ||
    fail "the packaged config against the packaged plugins: $(cat "$T/check.out")"
pass "unpacked: sigflow -V says $VERSION; the packaged config passes check with the packaged plugins"

lintian --fail-on error --no-tag-display-limit "$DEB" >"$T/lintian" 2>&1 ||
    fail "lintian: $(grep '^E:' "$T/lintian" || tail -5 "$T/lintian")"
pass "lintian: no error ($(grep -c '^W:' "$T/lintian") warnings)"
