/*
 * test_fit.c - core/score/fit.c: the penalised logistic fit against closed forms (one binary
 * feature has a maximum-likelihood solution by hand), the L2 pull toward the configured
 * values, separable data, and the alert-level threshold picker on traces whose alerts are
 * counted by hand from the rule in docs/scoring.md "Score, evaluation, alerts".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "score/fit.h"

static double logit(double p)
{
    return log(p / (1 - p));
}

/*
 * One binary feature: rows with x = 0 have a positives out of n0, rows with x = 1 have b
 * out of n1. Without a prior the maximum likelihood is bias = logit(a/n0) and
 * bias + w = logit(b/n1).
 */
static void fill_binary(float *x, uint8_t *y, int n0, int a, int n1, int b)
{
    int k = 0;
    for (int i = 0; i < n0; i++, k++) {
        x[k] = 0;
        y[k] = i < a;
    }
    for (int i = 0; i < n1; i++, k++) {
        x[k] = 1;
        y[k] = i < b;
    }
}

static void unpenalised_fit_matches_the_closed_form(void **state)
{
    (void)state;
    float x[400];
    uint8_t y[400];
    fill_binary(x, y, 200, 20, 200, 120); /* 10% vs 60% */
    double beta0[2] = {0, 0}, start[2] = {0, 0}, beta[2];
    fit_result r;
    assert_int_equal(fit_logistic_w(x, y, NULL, 400, 1, beta0, 0, start, beta, &r), SF_OK);
    assert_true(r.converged);
    assert_true(fabs(beta[0] - logit(0.1)) < 1e-6);
    assert_true(fabs(beta[0] + beta[1] - logit(0.6)) < 1e-6);
}

static void a_start_far_away_reaches_the_same_optimum(void **state)
{
    (void)state;
    float x[400];
    uint8_t y[400];
    fill_binary(x, y, 200, 20, 200, 120);
    double beta0[2] = {0, 0}, start[2] = {-30, 40}, beta[2];
    fit_result r;
    assert_int_equal(fit_logistic_w(x, y, NULL, 400, 1, beta0, 0, start, beta, &r), SF_OK);
    assert_true(fabs(beta[0] - logit(0.1)) < 1e-6);
    assert_true(fabs(beta[1] - (logit(0.6) - logit(0.1))) < 1e-6);
}

/* The prior pulls toward beta0: stronger prior, closer; an enormous one, beta0 itself. */
static void prior_pulls_toward_the_configured_values(void **state)
{
    (void)state;
    float x[400];
    uint8_t y[400];
    fill_binary(x, y, 200, 20, 200, 120);
    double beta0[2] = {-1, -2}, start[2] = {-1, -2}, b_lo[2], b_hi[2], b_huge[2];
    fit_result r;
    assert_int_equal(fit_logistic_w(x, y, NULL, 400, 1, beta0, 1, start, b_lo, &r), SF_OK);
    assert_int_equal(fit_logistic_w(x, y, NULL, 400, 1, beta0, 100, start, b_hi, &r), SF_OK);
    assert_int_equal(fit_logistic_w(x, y, NULL, 400, 1, beta0, 1e9, start, b_huge, &r), SF_OK);
    double mle_w = logit(0.6) - logit(0.1); /* about 2.6: the data say the feature matters */
    assert_true(b_lo[1] > b_hi[1]);         /* more prior, further from the data's answer */
    assert_true(b_lo[1] < mle_w && b_lo[1] > 0);
    assert_true(b_hi[1] > beta0[1]);
    assert_true(fabs(b_huge[0] - beta0[0]) < 1e-3 && fabs(b_huge[1] - beta0[1]) < 1e-3);
}

/* The gradient of the penalised loss vanishes at the result (any prior). */
static void optimum_has_zero_gradient(void **state)
{
    (void)state;
    enum { N = 300, DIM = 3 };
    float x[N * DIM];
    uint8_t y[N];
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        double z = -1;
        for (int j = 0; j < DIM; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i * DIM + j] = (float)((s >> 33) % 1000) / 1000.0f;
            z += (j == 0 ? 3 : j == 1 ? -2 : 0) * x[i * DIM + j];
        }
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        y[i] = (double)((s >> 33) % 100000) / 100000.0 < 1 / (1 + exp(-z));
    }
    double beta0[4] = {0.5, 1, 1, 1}, start[4] = {0}, beta[4];
    fit_result r;
    double prior = 10;
    assert_int_equal(fit_logistic_w(x, y, NULL, N, DIM, beta0, prior, start, beta, &r), SF_OK);
    double g[4] = {0};
    for (int i = 0; i < N; i++) {
        double z = beta[0];
        for (int j = 0; j < DIM; j++)
            z += beta[j + 1] * x[i * DIM + j];
        double q = 1 / (1 + exp(-z)) - y[i];
        g[0] += q;
        for (int j = 0; j < DIM; j++)
            g[j + 1] += q * x[i * DIM + j];
    }
    for (int j = 0; j < 4; j++)
        assert_true(fabs(g[j] + prior * (beta[j] - beta0[j])) < 1e-6);
    assert_true(beta[1] > beta[3] && beta[2] < beta[3]); /* the signs the data carry */
}

/* Separable data: the prior keeps the weights finite; without it the fit stops at the cap. */
static void separable_data_stays_finite(void **state)
{
    (void)state;
    float x[100];
    uint8_t y[100];
    fill_binary(x, y, 50, 0, 50, 50); /* x = 1 exactly when y = 1 */
    double beta0[2] = {0, 0}, start[2] = {0, 0}, beta[2];
    fit_result r;
    assert_int_equal(fit_logistic_w(x, y, NULL, 100, 1, beta0, 1, start, beta, &r), SF_OK);
    assert_true(isfinite(beta[0]) && isfinite(beta[1]));
    assert_true(beta[1] > 2 && beta[0] < -1);
    assert_true(r.converged);
    assert_int_equal(fit_logistic_w(x, y, NULL, 100, 1, beta0, 0, start, beta, &r), SF_OK);
    assert_true(isfinite(beta[1]) && beta[1] > 10);
    assert_true(r.iterations <= FIT_MAX_ITER);
}

static void bad_input_is_refused(void **state)
{
    (void)state;
    float x[2] = {NAN, 1};
    uint8_t y[2] = {0, 1};
    double beta0[2] = {0}, start[2] = {0}, beta[2];
    fit_result r;
    assert_int_equal(fit_logistic_w(x, y, NULL, 2, 1, beta0, 1, start, beta, &r), SF_EINVAL);
    assert_int_equal(fit_logistic_w(x, y, NULL, 0, 65, beta0, 1, start, beta, &r), SF_EINVAL);
    x[0] = 0;
    assert_int_equal(fit_logistic_w(x, y, NULL, 2, 1, beta0, -1, start, beta, &r), SF_EINVAL);
}

/* ---- threshold picker ---- */

#define DAY 86400000LL
#define H (45 * DAY)

/* A trace row; right: 1 the outcome came a day after t, 0 none within the horizon (followed
   for all of it), -1 outside the judged window. */
static fit_trace_row row(uint32_t e, int64_t t, double p, bool new_life, int right)
{
    return (fit_trace_row){e, t, p, new_life, right < 0 ? -1 : H, right > 0 ? DAY : -1};
}

static const fit_rule rule = {.cooldown_ms = 0, .rearm_set = false, .target = 0.6, .min_judged = 1};

/*
 * Two entities, daily rows. Entity 0 churns (every alert right), entity 1 does not.
 *   entity 0: p = 0.30 0.50 0.70 0.90
 *   entity 1: p = 0.40 0.20 0.40 0.20   (re-arms below the threshold, fires again)
 * threshold 0.3: e0 fires day 0 (then p never drops below 0.3: no re-arm) -> 1 right;
 *   e1 fires day 0, re-arms day 1 (0.2 < 0.3), fires day 2 -> 2 wrong. Precision 1/3.
 * threshold 0.41..0.5: e0 fires once (right), e1 never. Precision 1.
 * The lowest candidate reaching 0.6 is 0.41.
 */
static void fill_two(fit_trace_row *r)
{
    const double p[2][4] = {{0.30, 0.50, 0.70, 0.90}, {0.40, 0.20, 0.40, 0.20}};
    for (int e = 0; e < 2; e++) {
        for (int d = 0; d < 4; d++)
            r[e * 4 + d] = row((uint32_t)e, d * DAY, p[e][d], false, e == 0 ? 1 : 0);
    }
}

static void counts_follow_the_alert_rule(void **state)
{
    (void)state;
    fit_trace_row r[8];
    fill_two(r);
    uint64_t a, right;
    fit_count_alerts(r, 8, &rule, 0.3, &a, &right);
    assert_int_equal(a, 3);
    assert_int_equal(right, 1);
    fit_count_alerts(r, 8, &rule, 0.45, &a, &right);
    assert_int_equal(a, 1);
    assert_int_equal(right, 1);
    fit_rule cool = rule;
    cool.cooldown_ms = 3 * DAY; /* e1's second alert (day 2) is inside the cooldown */
    fit_count_alerts(r, 8, &cool, 0.3, &a, &right);
    assert_int_equal(a, 2);
    fit_rule sticky = rule;
    sticky.rearm_set = true;
    sticky.rearm_below = 0.1; /* never below 0.1: e1 never re-arms */
    fit_count_alerts(r, 8, &sticky, 0.3, &a, &right);
    assert_int_equal(a, 2);
}

static void picks_the_lowest_threshold_reaching_alert_precision(void **state)
{
    (void)state;
    fit_trace_row r[8];
    fill_two(r);
    fit_pick p;
    fit_pick_threshold(r, 8, &rule, 0.9, &p);
    assert_true(p.reached);
    assert_true(fabs(p.threshold - 0.41) < 1e-9);
    assert_int_equal(p.alerts, 1);
    assert_int_equal(p.right, 1);
}

/* Snapshot precision is not alert precision: many right rows, few right alerts. */
static void judges_alerts_not_snapshots(void **state)
{
    (void)state;
    /* e0: a churner high for 20 days -> 20 positive snapshots but one alert.
       e1..e3: non-churners that dip and rise every other day -> many alerts. */
    fit_trace_row r[20 + 3 * 20];
    size_t n = 0;
    for (int d = 0; d < 20; d++)
        r[n++] = row(0, d * DAY, 0.8, false, 1);
    for (uint32_t e = 1; e <= 3; e++) {
        for (int d = 0; d < 20; d++)
            r[n++] = row(e, d * DAY, d % 2 ? 0.1 : 0.7, false, 0);
    }
    /* At 0.5 the snapshot precision is 20/(20+30) = 0.4, the alert precision 1/31. */
    uint64_t a, right;
    fit_count_alerts(r, n, &rule, 0.5, &a, &right);
    assert_int_equal(a, 31);
    assert_int_equal(right, 1);
    fit_pick p;
    fit_pick_threshold(r, n, &rule, 0.5, &p);
    assert_true(p.reached);
    assert_true(fabs(p.threshold - 0.71) < 1e-9); /* above the dippers' 0.7 */
}

/* Unreached: the most precise judged candidate (the lowest on ties); none judged: current. */
static void unreached_target_takes_the_most_precise_or_keeps(void **state)
{
    (void)state;
    fit_trace_row r[8];
    fill_two(r);
    for (int i = 0; i < 4; i++)
        r[i].outcome_in = -1; /* nobody churns: every candidate's precision is 0 */
    fit_pick p;
    fit_pick_threshold(r, 8, &rule, 0.77, &p);
    assert_false(p.reached);
    assert_true(p.judged);
    assert_true(fabs(p.threshold - 0.01) < 1e-9);
    assert_true(p.precision == 0);
    /* e0 churns again: 0.41..0.50 raise one right alert of one, 0.01..0.40 one of three.
       With a target of 1.01 (never reached) the most precise is 0.41 (precision 1). */
    fill_two(r);
    fit_rule hard = rule;
    hard.target = 1.01;
    fit_pick_threshold(r, 8, &hard, 0.77, &p);
    assert_false(p.reached);
    assert_true(fabs(p.threshold - 0.41) < 1e-9);
    assert_true(p.precision == 1);
    fit_rule strict = rule;
    strict.min_judged = 100; /* too few alerts to judge any threshold */
    fit_pick_threshold(r, 8, &strict, 0.66, &p);
    assert_false(p.judged);
    assert_true(p.threshold == 0.66);
}

/*
 * Alerts whose horizon has not passed yet (censored): five entities, one alert each at t = 0
 * (p = 0.9), judged with these follow-ups and outcomes (days):
 *   e0: outcome after 2      e1: followed 3, none yet     e2: outcome after 5
 *   e3: followed 45, none    e4: followed 10, none yet
 * Kaplan-Meier: at 2, 5 at risk, 1 outcome: S = 4/5; at 5, at risk e2, e3, e4 (e1 left at 3):
 * S = 4/5 * 2/3 = 8/15. Precision = 1 - 8/15 = 7/15 (the naive right/closed would be 2/3 or
 * 2/5 depending on how the waiting ones are counted).
 */
static void kaplan_meier_counts_alerts_still_waiting(void **state)
{
    (void)state;
    const int64_t follow[5] = {45, 3, 45, 45, 10}, out[5] = {2, -1, 5, -1, -1};
    fit_trace_row r[5];
    for (uint32_t e = 0; e < 5; e++)
        r[e] = (fit_trace_row){e, 0, 0.9, false, follow[e] * DAY, out[e] < 0 ? -1 : out[e] * DAY};
    fit_judgement j;
    fit_judge(r, 5, &rule, 0.5, &j);
    assert_int_equal(j.alerts, 5);
    assert_int_equal(j.right, 2);
    assert_true(fabs(j.precision - 7.0 / 15.0) < 1e-12);
    /* an outcome after the follow-up is not seen yet (it came after the refit) */
    r[1].outcome_in = 4 * DAY;
    fit_judge(r, 5, &rule, 0.5, &j);
    assert_int_equal(j.right, 2);
}

/* An outcome between rows starts a new life: the entity is armed again at once. */
static void new_life_rearms(void **state)
{
    (void)state;
    fit_trace_row r[3] = {row(0, 0, 0.9, false, 1), row(0, DAY, 0.9, false, 1),
                          row(0, 2 * DAY, 0.9, true, 1)};
    uint64_t a, right;
    fit_count_alerts(r, 3, &rule, 0.5, &a, &right);
    assert_int_equal(a, 2);
    assert_int_equal(right, 2);
}

/* Rows outside the judged window (right = -1) run the rule but are not counted. */
static void unjudged_rows_still_run_the_rule(void **state)
{
    (void)state;
    fit_trace_row r[3] = {row(0, 0, 0.9, false, -1), row(0, DAY, 0.9, false, 0),
                          row(0, 2 * DAY, 0.9, false, 0)};
    uint64_t a, right;
    fit_count_alerts(r, 3, &rule, 0.5, &a, &right);
    assert_int_equal(a, 0); /* the one alert (day 0) fired outside the window */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unpenalised_fit_matches_the_closed_form),
        cmocka_unit_test(a_start_far_away_reaches_the_same_optimum),
        cmocka_unit_test(prior_pulls_toward_the_configured_values),
        cmocka_unit_test(optimum_has_zero_gradient),
        cmocka_unit_test(separable_data_stays_finite),
        cmocka_unit_test(bad_input_is_refused),
        cmocka_unit_test(counts_follow_the_alert_rule),
        cmocka_unit_test(picks_the_lowest_threshold_reaching_alert_precision),
        cmocka_unit_test(judges_alerts_not_snapshots),
        cmocka_unit_test(unreached_target_takes_the_most_precise_or_keeps),
        cmocka_unit_test(kaplan_meier_counts_alerts_still_waiting),
        cmocka_unit_test(new_life_rearms),
        cmocka_unit_test(unjudged_rows_still_run_the_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
