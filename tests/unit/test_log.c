/*
 * test_log.c - the one logfmt escaping (core/base/log.c): a value is bare only when nothing in
 * it could end or fake a pair; quoted values escape `"`, `\`, newline and control bytes, so
 * outside text (a plugin file name) cannot forge a second pair or a second line. And a log
 * line reaches stderr in one write(2), whole, in either format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/*
 * stderr as one end of a SOCK_SEQPACKET pair: each write(2) is a record of its own, and one
 * recv returns one write's bytes, so a line written in pieces comes back as its first piece.
 */
static void expect_one_write(const char *want_start, const char *want_end)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    int saved = dup(2);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_int_equal(dup2(sv[0], 2), 2);
    log_msg(SF_LOG_WARN, "component=test file=\"a b\"", "disk %s at %d%%", "full", 97);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    char rec[4096];
    ssize_t n = recv(sv[1], rec, sizeof rec - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    rec[n] = '\0';
    assert_true(strncmp(rec, want_start, strlen(want_start)) == 0);
    size_t el = strlen(want_end);
    assert_true((size_t)n > el);
    assert_string_equal(rec + n - (ssize_t)el, want_end);
    assert_int_equal(recv(sv[1], rec, sizeof rec, MSG_DONTWAIT), -1); /* nothing more */
    close(sv[0]);
    close(sv[1]);
}

static void a_line_is_one_write(void **state)
{
    (void)state;
    log_set_style(LOG_STYLE_LOGFMT, 0);
    expect_one_write("time=", " level=warn component=test file=\"a b\" msg=\"disk full at 97%\"\n");
    log_set_style(LOG_STYLE_JSON, 0);
    expect_one_write("{\"time\":", "\"msg\":\"disk full at 97%\",\"file\":\"a b\"}\n");
    log_set_style(LOG_STYLE_LOGFMT, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_values_are_bare),
        cmocka_unit_test(spaces_quotes_and_equals_are_quoted),
        cmocka_unit_test(newlines_and_controls_cannot_start_a_new_line),
        cmocka_unit_test(long_values_are_cut_and_still_closed),
        cmocka_unit_test(a_line_is_one_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
