#!/usr/bin/env bash
# Runs every benchmark binary built from tests/bench/*.c; figures go in docs/performance.md.
set -eu
BUILD=${BUILD:-build}
for b in "$BUILD"/tests/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "=== $(basename "$b")"
    "$b"
done
