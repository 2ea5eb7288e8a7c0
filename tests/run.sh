#!/usr/bin/env bash
# Runs every test level in order and ends with one summary line, "N passed, N failed, N skipped".
# A test that cannot run in this build exits 77 (automake's convention): it is reported as
# skipped, never counted as passed.
# Unit and plugin tests are cmocka programs (their own [ PASSED ] summaries print too);
# integration tests are scripts that run the real binary; fuzz harnesses replay corpora.
set -u
BUILD=${BUILD:-build}
export BUILD
export SIGFLOW="$PWD/$BUILD/sigflow"
export PLUGIN_BUILD="$PWD/$BUILD/plugins"
export FIXTURES="$PWD/$BUILD/tests/fixtures"
export SUPPORT="$PWD/$BUILD/tests/support"
export ROOT="$PWD"
if [ "${SANITIZE:-}" = 1 ]; then
    # fast_unwind_on_malloc=0: libcrypto is built without frame pointers, so the fast unwinder
    # stops at its first frame; with it LeakSanitizer also reported OpenSSL's per-thread error
    # state (ERR_STATE, 904 bytes, made by libcurl's OpenSSL init, which OpenSSL's own exit
    # handler frees: valgrind shows it "still reachable") as a direct leak of `sigflow check`.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

# VALGRIND=1 (make valgrind): unit, bundled-plugin and plugin tests under memcheck, leaks and errors fatal;
# integration and fuzz levels are left to the sanitizer run.
VG=()
if [ "${VALGRIND:-}" = 1 ]; then
    VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect
        --error-exitcode=99)
fi

passed=0
failed=0
skipped=0
failures=()
skips=()

run_one() {
    local name=$1
    shift
    # TESTS=REGEX (e.g. TESTS='integration/test_reload|unit/test_score'): only matching names.
    if [ -n "${TESTS:-}" ] && ! [[ $name =~ $TESTS ]]; then
        return 0
    fi
    echo "=== $name"
    "$@"
    local rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
    elif [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1))
        skips+=("$name")
        echo "SKIPPED: $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAILED: $name"
    fi
}

# Each test of the sources (a binary whose source was removed is an old build's, never run;
# a binary missing is a failure, not a skip).
for level in unit bundled plugins; do
    for src in tests/$level/test_*.c; do
        t=$BUILD/tests/$level/$(basename "$src" .c)
        run_one "$level/$(basename "$t")" "${VG[@]}" "$t"
    done
done
[ "${VALGRIND:-}" = 1 ] && {
    echo "tests: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}
for t in tests/integration/test_*.sh; do
    [ -f "$t" ] && run_one "integration/$(basename "$t" .sh)" bash "$t"
done
for src in tests/fuzz/fuzz_*.c; do
    t=$BUILD/tests/fuzz/$(basename "$src" .c)
    corpus="tests/fuzz/corpus/$(basename "$t" | sed 's/^fuzz_//')"
    run_one "fuzz/$(basename "$t")" "$t" "$corpus"
done

echo
if [ "$failed" -gt 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
[ "$skipped" -gt 0 ] && printf 'skipped: %s\n' "${skips[@]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
