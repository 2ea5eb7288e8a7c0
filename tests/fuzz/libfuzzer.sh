#!/usr/bin/env bash
# libfuzzer.sh - what `make fuzz` runs: builds every tests/fuzz/fuzz_*.c with clang's libFuzzer
# (+ASan/UBSan) and runs each for a bounded time, seeded with tests/fuzz/corpus/<name>/.
# New inputs go to $BUILD/fuzz/corpus/<name> (the seed corpus is never written); crashes to
# $BUILD/fuzz/crash-<name>-*; tests/fuzz/<name>.dict, when present, is passed as -dict.
# Not part of `make test`, which replays the corpora with gcc.
#   FUZZ_SECONDS=60 make fuzz     (default 30 per harness)
set -eu
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-30}
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: clang not found; install clang to fuzz (make test still replays the corpora)"
    exit 0
fi
OUT="$BUILD/fuzz"
mkdir -p "$OUT/obj" "$OUT/corpus"
FLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Isdk -Icore
    $(pkg-config --cflags json-c inih) -DSIGFLOW_VERSION=\"fuzz\" -DSIGFLOW_PREFIX=\"/usr/local\""
LIBS="$(pkg-config --libs json-c inih libcurl libmicrohttpd sqlite3 libcrypto) -ldl -lpthread -lm"

objs=()
for src in core/*/*.c; do
    [ "$src" = core/cli/main.c ] && continue
    obj="$OUT/obj/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    "$CLANG" $FLAGS -c "$src" -o "$obj"
    objs+=("$obj")
done

status=0
for harness in tests/fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c)
    short=${name#fuzz_}
    bin="$OUT/$name"
    # shellcheck disable=SC2086
    "$CLANG" $FLAGS -fsanitize=fuzzer "$harness" "${objs[@]}" -o "$bin" $LIBS
    mkdir -p "$OUT/corpus/$short"
    dict=()
    [ -f "tests/fuzz/$short.dict" ] && dict=(-dict="tests/fuzz/$short.dict")
    echo "fuzz: $name for ${SECONDS_EACH}s"
    if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=65600 -timeout=10 "${dict[@]}" \
        -artifact_prefix="$OUT/crash-$short-" "$OUT/corpus/$short" "tests/fuzz/corpus/$short" \
        >"$OUT/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; see $OUT/$name.log and $OUT/crash-$short-*"
        status=1
    else
        tail -n 1 "$OUT/$name.log"
    fi
done
exit $status
