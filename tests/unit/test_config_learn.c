/*
 * test_config_learn.c - the [decision] keys of outcomes and learning (core/config/
 * config_learn.c): defaults, every key read, threshold = auto, and each refusal with its
 * FILE:LINE (docs/config.md).
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
#include "tmpdir.h"

#define DAY 86400000LL

static char dir[64], path[128];

static sigflow_config *load(const char *text, diag *d)
{
    assert_non_null(tmpdir_make(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/s.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    sigflow_config *cfg = config_load(path, d);
    return cfg;
}

static void done(void)
{
    tmpdir_remove(dir);
}

static int has(const diag *d, int line, const char *frag)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0 && strstr(d->msgs[i], frag))
            return 1;
    return 0;
}

#define SIG "[signal s]\nevent = login\nmeasure = absent\nwindow = 3d\n"

static void defaults_without_outcome(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg = load("[decision]\nname = d\nthreshold = 0.5\n" SIG, &d);
    assert_non_null(cfg);
    const config_decision *dec = &cfg->decision;
    assert_null(dec->outcome);
    assert_false(dec->learning);
    assert_false(dec->threshold_auto);
    assert_false(dec->rearm_set);
    assert_int_equal(dec->horizon_ms, 45 * DAY);
    assert_int_equal(dec->refit_ms, DAY);
    assert_true(dec->prior == 10);
    assert_int_equal(dec->fit_sample, 100000);
    assert_int_equal(dec->fit_horizon_ms, 14 * DAY);
    assert_true(dec->target_precision == 0.6);
    assert_int_equal(dec->auto_window_ms, 28 * DAY);
    config_free(cfg);
    done();
}

static void reads_every_key(void **state)
{
    (void)state;
    diag d = {0};
    /* rearm_below above auto's start (0.5) is fine: it is capped at each picked threshold */
    sigflow_config *cfg = load("[decision]\nname = d\nthreshold = auto\nrearm_below = 0.7\n"
                               "outcome = subscription.canceled\nhorizon = 30d\nlearning = off\n"
                               "refit = 7d\nprior = 2.5\nfit_sample = 5000\nfit_horizon = 10d\n"
                               "target_precision = 0.7\nauto_window = 21d\ntick = 1d\n" SIG,
                               &d);
    diag_print(&d, stderr);
    assert_non_null(cfg);
    const config_decision *dec = &cfg->decision;
    assert_string_equal(dec->outcome, "subscription.canceled");
    assert_true(dec->threshold_auto);
    assert_true(dec->threshold == 0.5); /* the start value of auto */
    assert_true(dec->rearm_set);
    assert_false(dec->learning);
    assert_int_equal(dec->horizon_ms, 30 * DAY);
    assert_int_equal(dec->refit_ms, 7 * DAY);
    assert_true(dec->prior == 2.5);
    assert_int_equal(dec->fit_sample, 5000);
    assert_int_equal(dec->fit_horizon_ms, 10 * DAY);
    assert_true(dec->target_precision == 0.7);
    assert_int_equal(dec->auto_window_ms, 21 * DAY);
    config_free(cfg);
    done();
}

/* outcome alone: learning on; a horizon shorter than 14d pulls fit_horizon down with it. */
static void outcome_turns_learning_on(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg =
        load("[decision]\nname = d\nthreshold = 0.5\noutcome = cancel\nhorizon = 7d\n" SIG, &d);
    assert_non_null(cfg);
    assert_true(cfg->decision.learning);
    assert_int_equal(cfg->decision.fit_horizon_ms, 7 * DAY);
    config_free(cfg);
    done();
}

static const struct {
    const char *text;
    int line;
    const char *frag;
} bad[] = {
    {"[decision]\nname = d\nthreshold = auto\n" SIG, 3, "`threshold = auto` needs `outcome =`"},
    {"[decision]\nname = d\nthreshold = 0.5\nlearning = on\n" SIG, 4,
     "`learning = on` needs `outcome =`"},
    {"[decision]\nname = d\nthreshold = 0.5\nlearning = maybe\noutcome = c\n" SIG, 4,
     "must be one of off, on"},
    {"[decision]\nname = d\nthreshold = 0.5\nprior = 3\n" SIG, 4,
     "`prior` has no effect without `outcome =`"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\nhorizon = 10d\nfit_horizon = 14d\n" SIG,
     6, "`fit_horizon` (14d) must not be longer than `horizon`"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\nprior = -1\n" SIG, 5,
     "`prior` must be between 0 and 1e9"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\nfit_sample = 10\n" SIG, 5,
     "`fit_sample` must be between 100 and 10000000"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\ntarget_precision = 0\n" SIG, 5,
     "`target_precision` must be in (0, 1]"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\nrefit = 0s\n" SIG, 5,
     "`refit` must be longer than 0"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = c\nrefit = 1h\ntick = 1d\n" SIG, 1,
     "`refit` must not be shorter than `tick`"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = login\n" SIG, 5,
     "[signal s] reads `login`, the decision's outcome"},
    {"[decision]\nname = d\nthreshold = 0.5\n"
     "[signal s]\nevent = sigflow.label\nmeasure = absent\nwindow = 3d\n",
     4, "[signal s] reads `sigflow.label`: that type carries people's labels"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcome = sigflow.label\n" SIG, 1,
     "`outcome = sigflow.label`: that type carries people's labels"},
    {"[decision]\nname = d\nthreshold = 0.5\noutcom = c\n" SIG, 4,
     "unknown key `outcom` in [decision] (did you mean `outcome`?)"},
};

static void refusals_name_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        diag d = {0};
        sigflow_config *cfg = load(bad[i].text, &d);
        if (cfg || !has(&d, bad[i].line, bad[i].frag)) {
            diag_print(&d, stderr);
            config_free(cfg);
            diag_clear(&d);
            done();
            fail_msg("case %zu: expected line %d: %s", i, bad[i].line, bad[i].frag);
        }
        diag_clear(&d);
        done();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_without_outcome),
        cmocka_unit_test(reads_every_key),
        cmocka_unit_test(outcome_turns_learning_on),
        cmocka_unit_test(refusals_name_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
