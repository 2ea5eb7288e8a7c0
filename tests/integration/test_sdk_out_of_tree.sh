#!/usr/bin/env bash
# The SDK as a plugin author gets it: `make install` into a fresh prefix, then the example
# plugin copied out of the tree is built with pkg-config alone, its cmocka tests run against
# the installed mock host, and the installed daemon lists the built plugin with
# `sigflow plugins --dir DIR NAME` (name, kind, version, "abi MAJOR.MINOR", its options).
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d /tmp/sf_sdk_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ABI="$(sed -n 's/^#define SF_ABI_MAJOR //p' "$ROOT/sdk/sigflow.h").$(sed -n 's/^#define SF_ABI_MINOR //p' "$ROOT/sdk/sigflow.h")"

fail() {
    echo "test_sdk_out_of_tree: $*" >&2
    exit 1
}

# Install from the tree (same build flavour as the suite; a nested make must not join the
# caller's jobserver).
(cd "$ROOT" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS \
    make -s install PREFIX="$tmp/prefix" SANITIZE="${SANITIZE:-}" >"$tmp/install.log" 2>&1) ||
    { cat "$tmp/install.log"; fail "make install failed"; }

for f in include/sigflow.h lib/pkgconfig/sigflow.pc share/sigflow/mock/sf_mock_host.h \
    share/sigflow/mock/sf_mock_host.c bin/sigflow; do
    [ -f "$tmp/prefix/$f" ] || fail "make install did not install $f"
done

export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
[ "$(pkg-config --variable=mockdir sigflow)" = "$tmp/prefix/share/sigflow/mock" ] ||
    fail "sigflow.pc mockdir is $(pkg-config --variable=mockdir sigflow), not under the prefix"
case " $(pkg-config --cflags sigflow) " in
*" -I$tmp/prefix/include "*) ;;
*) fail "pkg-config --cflags sigflow gives '$(pkg-config --cflags sigflow)'" ;;
esac

# The example, away from the tree: it may not reach back into it.
mkdir -p "$tmp/author"
cp -r "$ROOT/sdk/examples/delivery_example" "$tmp/author/csv"
if grep -n '\.\./' "$tmp/author/csv/Makefile" "$tmp/author/csv"/*.c; then
    fail "the example references paths outside its own directory"
fi
(cd "$tmp/author/csv" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s all check \
    >"$tmp/example.log" 2>&1) || { cat "$tmp/example.log"; fail "example build or check failed"; }
grep -q 'PASSED' "$tmp/example.log" || { cat "$tmp/example.log"; fail "example tests did not pass"; }
if command -v nm >/dev/null; then
    exported=$(nm -D --defined-only "$tmp/author/csv/delivery_csv.so" | awk '$2 == "T" {print $3}')
    [ "$exported" = "sigflow_plugin_v1" ] ||
        fail "the plugin should export only sigflow_plugin_v1, exports: $exported"
fi

# The installed daemon documents the new plugin.
mkdir -p "$tmp/plugins"
install -m 0755 "$tmp/author/csv/delivery_csv.so" "$tmp/plugins/"
out=$("$tmp/prefix/bin/sigflow" plugins --dir "$tmp/plugins" csv 2>&1) || {
    echo "$out"
    fail "sigflow plugins --dir DIR csv failed"
}
for want in csv delivery 1.0.0 "abi $ABI" path header attr "CSV file alerts are appended to"; do
    grep -qF -- "$want" <<<"$out" || {
        echo "$out"
        fail "sigflow plugins output lacks '$want'"
    }
done
echo "test_sdk_out_of_tree: ok"
