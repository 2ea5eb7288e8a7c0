/*
 * test_config_guards.c - the noise-guard keys (core/config/config_guards.c): `relative`,
 * `stale_below`, `stale_window`, `stale_min` on signals; `health_deliver`, `drift_window`,
 * `drift_threshold` in [sigflow]; defaults and FILE:LINE errors (docs/config.md).
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

#include "config/config.h"

static char tmpdir[64];
static char cfgpath[128];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sf_test_cfgguard_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(cfgpath, sizeof cfgpath, "%s/sigflow.ini", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cfgpath);
    rmdir(tmpdir);
    return 0;
}

static sigflow_config *load_text(const char *text, diag *d)
{
    FILE *f = fopen(cfgpath, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return config_load(cfgpath, d);
}

static int diag_has(const diag *d, int line, const char *frag)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", cfgpath, line);
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0 && strstr(d->msgs[i], frag))
            return 1;
    return 0;
}

/* 9 lines: whatever is appended starts at line 10. */
#define BASE                                                                                       \
    "[decision]\nname = d\nthreshold = 0.5\ndeliver = out\n"                                       \
    "[signal s]\nevent = login\nmeasure = drop\nrecent = 7d\nusual = 28d\n"
#define TAIL "[delivery out]\nplugin = console\n"

static void reads_the_keys_and_their_defaults(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg =
        load_text(BASE "relative = cohort\nstale_below = 0.2\n"
                       "[signal q]\nevent = login\nmeasure = absent\nwindow = 7d\n"
                       "stale_below = 0.25\nstale_window = 12h\nstale_min = 40\n"
                       "[sigflow]\nhealth_deliver = ops, out\ndrift_window = 50\n"
                       "drift_threshold = 0.3\n" TAIL "[delivery ops]\nplugin = x\n",
                  &d);
    if (!cfg)
        diag_print(&d, stderr);
    assert_non_null(cfg);
    assert_true(cfg->signals[0].cohort);
    assert_true(cfg->signals[0].stale_below == 0.2);
    assert_int_equal(cfg->signals[0].stale_window_ms, 86400000); /* default 1d */
    assert_true(cfg->signals[0].stale_min == 100);               /* default */
    assert_false(cfg->signals[1].cohort);
    assert_int_equal(cfg->signals[1].stale_window_ms, 12 * 3600000);
    assert_true(cfg->signals[1].stale_min == 40);
    assert_int_equal(cfg->n_health_deliver, 2);
    assert_string_equal(cfg->health_deliver[0], "ops");
    assert_string_equal(cfg->health_deliver[1], "out");
    assert_int_equal(cfg->drift_window, 50);
    assert_true(cfg->drift_threshold == 0.3);
    config_free(cfg);
    diag_clear(&d);

    cfg = load_text(BASE TAIL, &d);
    assert_non_null(cfg);
    assert_false(cfg->signals[0].cohort);
    assert_true(cfg->signals[0].stale_below == 0); /* off */
    assert_int_equal(cfg->n_health_deliver, 0);    /* the decision's deliver */
    assert_int_equal(cfg->drift_window, 100);
    assert_true(cfg->drift_threshold == 0.2);
    config_free(cfg);
    diag_clear(&d);
}

static const struct bad_case {
    const char *text;
    int line;
    const char *frag;
} bad_cases[] = {
    {BASE "relative = cohrt\n" TAIL, 10,
     "`relative` must be self or cohort, got `cohrt` (did you mean `cohort`?)"},
    {BASE "stale_below = 1.5\n" TAIL, 10, "`stale_below` must be between 0 (off) and 1"},
    {BASE "stale_below = x\n" TAIL, 10, "`stale_below` must be a number"},
    {BASE "stale_window = 0s\n" TAIL, 10, "`stale_window` must be longer than 0"},
    {BASE "stale_window = 400d\n" TAIL, 10, "`stale_window` must be at most 366d"},
    {BASE "stale_min = -1\n" TAIL, 10, "`stale_min` must be 0 or more"},
    {BASE TAIL "[signal c]\nevent = t\nmeasure = count\nwindow = 1d\ncap = 2\nrelative = cohort\n",
     17, "`relative` is not used by measure count"},
    {BASE TAIL "[sigflow]\nhealth_deliver = opz\n", 13,
     "`health_deliver` names `opz`, which is not a [delivery] section"},
    {BASE TAIL "[sigflow]\nhealth_deliver = Bad!\n", 13, "lists `Bad!`, which is not a valid name"},
    {BASE TAIL "[sigflow]\ndrift_window = 5\n", 13, "`drift_window` must be between 10 and"},
    {BASE TAIL "[sigflow]\ndrift_threshold = 1\n", 13, "`drift_threshold` must be between 0"},
    {BASE TAIL "[sigflow]\ndrift_treshold = 0.1\n", 13, "(did you mean `drift_threshold`?)"},
};

static void reports_bad_values_with_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        diag d = {0};
        sigflow_config *cfg = load_text(bad_cases[i].text, &d);
        if (cfg || !diag_has(&d, bad_cases[i].line, bad_cases[i].frag)) {
            diag_print(&d, stderr);
            config_free(cfg);
            diag_clear(&d);
            fail_msg("case %zu: expected line %d: %s", i, bad_cases[i].line, bad_cases[i].frag);
        }
        diag_clear(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_keys_and_their_defaults),
        cmocka_unit_test(reports_bad_values_with_file_and_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
