/*
 * test_log.c - the one logfmt escaping (core/base/log.c): a value is bare only when nothing in
 * it could end or fake a pair; quoted values escape `"`, `\`, newline and control bytes, so
 * outside text (a plugin file name) cannot forge a second pair or a second line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/log.h"

static void safe_values_are_bare(void **state)
{
    (void)state;
    char out[64];
    log_format_kv(out, sizeof out, "plugin_file", "/usr/lib/sigflow/plugins/x.so");
    assert_string_equal(out, "plugin_file=/usr/lib/sigflow/plugins/x.so");
}

static void spaces_quotes_and_equals_are_quoted(void **state)
{
    (void)state;
    char out[64];
    log_format_kv(out, sizeof out, "f", "a b");
    assert_string_equal(out, "f=\"a b\"");
    log_format_kv(out, sizeof out, "f", "a=b");
    assert_string_equal(out, "f=\"a=b\"");
    log_format_kv(out, sizeof out, "f", "say \"hi\" \\o/");
    assert_string_equal(out, "f=\"say \\\"hi\\\" \\\\o/\"");
    log_format_kv(out, sizeof out, "f", "");
    assert_string_equal(out, "f=\"\"");
}

static void newlines_and_controls_cannot_start_a_new_line(void **state)
{
    (void)state;
    char out[64];
    log_format_kv(out, sizeof out, "f", "x\nlevel=error\x01\t");
    assert_string_equal(out, "f=\"x\\nlevel=error\\x01\\x09\"");
}

static void long_values_are_cut_and_still_closed(void **state)
{
    (void)state;
    char out[12];
    log_format_kv(out, sizeof out, "f", "a b c d e f g h");
    assert_string_equal(out, "f=\"a b c d\"");
    char tiny[4];
    log_format_kv(tiny, sizeof tiny, "key", "v");
    assert_string_equal(tiny, "key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_values_are_bare),
        cmocka_unit_test(spaces_quotes_and_equals_are_quoted),
        cmocka_unit_test(newlines_and_controls_cannot_start_a_new_line),
        cmocka_unit_test(long_values_are_cut_and_still_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
