/*
 * test_config_feedback.c - the [sigflow] keys of feedback links and the admin API:
 * public_url, feedback_secret, feedback_ttl (core/config/config_sections.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/limits.h"
#include "config/config.h"
#include "tmpdir.h"

#define MINIMAL                                                                                    \
    "[decision]\nname = d\nthreshold = 0.5\n"                                                      \
    "[signal s]\nevent = login\nmeasure = recent\nwindow = 1d\n"
/* MINIMAL is 7 lines: whatever is appended starts at line 8. */

static char dir[64], path[128];

static sigflow_config *load_text(const char *text, diag *d)
{
    snprintf(path, sizeof path, "%s/sigflow.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return config_load(path, d);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make(dir, sizeof dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

/* True if a message is "path:line: ..." and contains frag. */
static bool has(const diag *d, int line, const char *frag)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0 && strstr(d->msgs[i], frag))
            return true;
    return false;
}

static void loads_feedback_keys(void **state)
{
    (void)state;
    diag d = {0};
    setenv("SF_TEST_FB_SECRET", "0123456789abcdef!", 1);
    sigflow_config *cfg = load_text(MINIMAL "[sigflow]\npublic_url = https://sigflow.example.com\n"
                                            "feedback_secret = env:SF_TEST_FB_SECRET\n"
                                            "feedback_ttl = 7d\n",
                                    &d);
    diag_print(&d, stderr);
    assert_non_null(cfg);
    assert_string_equal(cfg->public_url, "https://sigflow.example.com");
    assert_string_equal(cfg->feedback_secret, "0123456789abcdef!");
    assert_int_equal(cfg->feedback_ttl_ms, 7 * 86400000LL);
    config_free(cfg);
    cfg = load_text(MINIMAL, &d);
    assert_non_null(cfg);
    assert_null(cfg->public_url);
    assert_null(cfg->feedback_secret);
    assert_int_equal(cfg->feedback_ttl_ms, 30 * 86400000LL);
    config_free(cfg);
    unsetenv("SF_TEST_FB_SECRET");
}

static const struct {
    const char *text;
    int line;
    const char *frag;
} bad[] = {
    {MINIMAL "[sigflow]\npublic_url = ftp://x\n", 9, "`public_url` must be an http:// or https://"},
    {MINIMAL "[sigflow]\npublic_url = https://x/?a=b\n", 9, "without query"},
    {MINIMAL "[sigflow]\npublic_url = https://x\nfeedback_secret = hunter2hunter2hunter2\n", 10,
     "`feedback_secret`: secrets are never written in INI"},
    {MINIMAL "[sigflow]\npublic_url = https://x\nfeedback_secret = env:SF_TEST_FB_SHORT\n", 10,
     "`feedback_secret` must be at least 16 bytes"},
    {MINIMAL "[sigflow]\nfeedback_secret = env:SF_TEST_FB_SECRET\n", 9,
     "`feedback_secret` needs `public_url =`"},
    {MINIMAL "[sigflow]\nfeedback_ttl = 0s\n", 9, "`feedback_ttl` must be longer than 0"},
    {MINIMAL "[sigflow]\nfeedbak_secret = env:X\n", 9, "(did you mean `feedback_secret`?)"},
};

static void refuses_bad_feedback_keys_with_line(void **state)
{
    (void)state;
    setenv("SF_TEST_FB_SECRET", "0123456789abcdef!", 1);
    setenv("SF_TEST_FB_SHORT", "short", 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        diag d = {0};
        sigflow_config *cfg = load_text(bad[i].text, &d);
        if (cfg || !has(&d, bad[i].line, bad[i].frag)) {
            diag_print(&d, stderr);
            config_free(cfg);
            diag_clear(&d);
            fail_msg("case %zu: expected line %d: %s", i, bad[i].line, bad[i].frag);
        }
        /* the secret's value never appears in a message */
        for (size_t m = 0; m < d.n; m++)
            assert_null(strstr(d.msgs[m], "0123456789abcdef"));
        diag_clear(&d);
    }
    unsetenv("SF_TEST_FB_SECRET");
    unsetenv("SF_TEST_FB_SHORT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_feedback_keys),
        cmocka_unit_test(refuses_bad_feedback_keys_with_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
