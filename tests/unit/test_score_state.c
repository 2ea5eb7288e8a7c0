/*
 * test_score_state.c - each measure of docs/scoring.md at its boundaries (exactly `window` ago,
 * exactly `usual` of history, late events, equal times) and the bounds used for skipping.
 * Expected values are computed from the formulas of the spec, not from the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "score/score_state.h"

/* cmocka here predates assert_double_equal */
#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

#define H 3600000LL
#define D (24 * H)
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */

typedef struct fixture {
    config_signal sig;
    score_layout l;
    _Alignas(8) unsigned char blob[1024];
} fixture;

static void setup_sig(fixture *f, config_signal s)
{
    char err[256];
    f->sig = s;
    if (f->sig.name == NULL)
        f->sig.name = "s";
    if (f->sig.span == 0)
        f->sig.span = 1;
    assert_int_equal(score_layout_init(&f->l, &f->sig, 1, err, sizeof err), SF_OK);
    assert_true(f->l.size <= sizeof f->blob);
    score_state_init(&f->l, f->blob);
}

static void apply(fixture *f, int64_t t)
{
    score_state_apply(&f->l, f->blob, 0, t, 0, false);
}

static void apply_v(fixture *f, int64_t t, double v)
{
    score_state_apply(&f->l, f->blob, 0, t, v, true);
}

static double x_at(fixture *f, int64_t t)
{
    return score_state_x(&f->l, f->blob, 0, t);
}

/* The spec's drop formula over explicit event times (count amounts). */
static double spec_drop(const int64_t *ts, size_t n, int64_t t, int64_t recent, int64_t usual)
{
    double sr = 0, su = 0;
    for (size_t i = 0; i < n; i++) {
        sr += exp(-(double)(t - ts[i]) / (double)recent);
        su += exp(-(double)(t - ts[i]) / (double)usual);
    }
    double x = 1 - (sr / (double)recent) / (su / (double)usual);
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void drop_is_zero_until_exactly_usual_of_history(void **state)
{
    (void)state;
    fixture f;
    setup_sig(&f, (config_signal){.measure = MEASURE_DROP, .recent_ms = 7 * D, .usual_ms = 28 * D});
    int64_t ts[] = {T0, T0 + 1 * D, T0 + 2 * D};
    for (int i = 0; i < 3; i++)
        apply(&f, ts[i]);
    assert_true(x_at(&f, T0 + 28 * D - 1) == 0.0);
    double want = spec_drop(ts, 3, T0 + 28 * D, 7 * D, 28 * D);
    assert_true(want > 0.5);
    assert_double_equal(x_at(&f, T0 + 28 * D), want, 1e-12);
}

static void drop_of_value_with_zero_usual_sum_is_zero(void **state)
{
    (void)state;
    fixture f;
    setup_sig(&f,
              (config_signal){
                  .measure = MEASURE_DROP, .of_value = true, .recent_ms = D, .usual_ms = 4 * D});
    apply_v(&f, T0, 0);
    apply_v(&f, T0 + D, 0);
    assert_true(x_at(&f, T0 + 10 * D) == 0.0);
}

static void decayed_sums_do_not_depend_on_arrival_order(void **state)
{
    (void)state;
    fixture a, b;
    config_signal s = {
        .measure = MEASURE_DROP, .of_value = true, .recent_ms = 2 * D, .usual_ms = 9 * D};
    setup_sig(&a, s);
    setup_sig(&b, s);
    int64_t ts[] = {T0, T0 + 3 * H, T0 + 2 * D, T0 + 5 * D, T0 + 5 * D + 7};
    double vs[] = {1.5, 2, 0.25, 4, 3};
    for (int i = 0; i < 5; i++)
        apply_v(&a, ts[i], vs[i]);
    for (int i = 4; i >= 0; i--) /* every event but the first is late here */
        apply_v(&b, ts[i], vs[i]);
    for (int64_t t = T0 + 9 * D; t < T0 + 20 * D; t += 13 * H)
        assert_double_equal(x_at(&a, t), x_at(&b, t), 1e-12);
    assert_true(x_at(&a, T0 + 12 * D) > 0);
}

static void rise_uses_span_and_history_rule(void **state)
{
    (void)state;
    fixture f;
    setup_sig(
        &f, (config_signal){.measure = MEASURE_RISE, .recent_ms = D, .usual_ms = 4 * D, .span = 3});
    int64_t ts[] = {T0, T0 + 4 * D - 2 * H, T0 + 4 * D - H};
    for (int i = 0; i < 3; i++)
        apply(&f, ts[i]);
    int64_t t = T0 + 4 * D;
    double sr = 0, su = 0;
    for (int i = 0; i < 3; i++) {
        sr += exp(-(double)(t - ts[i]) / (double)D);
        su += exp(-(double)(t - ts[i]) / (double)(4 * D));
    }
    double want = ((sr / (double)D) / (su / (double)(4 * D)) - 1) / 3;
    assert_true(want > 0 && want < 1);
    assert_double_equal(x_at(&f, t), want, 1e-12);
    assert_true(x_at(&f, t - 1) == 0.0);
}

static void count_excludes_event_exactly_window_ago(void **state)
{
    (void)state;
    fixture f;
    setup_sig(&f, (config_signal){.measure = MEASURE_COUNT, .window_ms = 14 * D, .cap = 4});
    apply(&f, T0);
    apply(&f, T0 + D);
    int64_t t = T0 + 14 * D; /* T0 is exactly window ago: out; T0 + D: in */
    assert_double_equal(x_at(&f, t), 0.25, 0);
    assert_double_equal(x_at(&f, t - 1), 0.5, 0);
    apply(&f, t); /* an event at exactly t counts */
    assert_double_equal(x_at(&f, t), 0.5, 0);
}

static void count_caps_and_keeps_latest_times_with_late_events(void **state)
{
    (void)state;
    fixture f;
    setup_sig(&f, (config_signal){.measure = MEASURE_COUNT, .window_ms = 10 * H, .cap = 2});
    apply(&f, T0 + 5 * H);
    apply(&f, T0 + 9 * H);
    apply(&f, T0 + 1 * H); /* late and older than both kept: irrelevant */
    apply(&f, T0 + 7 * H); /* late but among the two latest */
    assert_double_equal(x_at(&f, T0 + 9 * H), 1.0, 0);
    /* at 17h+1ms: (7h+1ms, 17h+1ms] holds 9h only; 7h and 5h dropped out */
    assert_double_equal(x_at(&f, T0 + 17 * H + 1), 0.5, 0);
    /* at 17h: 7h is exactly window ago: out */
    assert_double_equal(x_at(&f, T0 + 17 * H), 0.5, 0);
    assert_double_equal(x_at(&f, T0 + 17 * H - 1), 1.0, 0);
}

static void count_with_fractional_cap(void **state)
{
    (void)state;
    fixture f;
    setup_sig(&f, (config_signal){.measure = MEASURE_COUNT, .window_ms = D, .cap = 2.5});
    apply(&f, T0);
    apply(&f, T0 + 1);
    assert_double_equal(x_at(&f, T0 + 2), 2 / 2.5, 1e-15);
    apply(&f, T0 + 2);
    assert_double_equal(x_at(&f, T0 + 2), 1.0, 0);
}

static void recent_and_absent_at_exactly_window(void **state)
{
    (void)state;
    fixture r, a;
    setup_sig(&r, (config_signal){.measure = MEASURE_RECENT, .window_ms = 30 * D});
    setup_sig(&a, (config_signal){.measure = MEASURE_ABSENT, .window_ms = 30 * D});
    assert_true(x_at(&r, T0) == 0.0);
    assert_true(x_at(&a, T0) == 0.0); /* absent needs an event */
    apply(&r, T0);
    apply(&a, T0);
    apply(&r, T0 - D); /* late: not the latest */
    apply(&a, T0 - D);
    assert_true(x_at(&r, T0 + 30 * D - 1) == 1.0);
    assert_true(x_at(&r, T0 + 30 * D) == 0.0);
    assert_true(x_at(&a, T0 + 30 * D - 1) == 0.0);
    assert_true(x_at(&a, T0 + 30 * D) == 1.0);
}

static void value_measures_take_latest_by_time_later_applied_on_ties(void **state)
{
    (void)state;
    fixture b;
    setup_sig(&b, (config_signal){.measure = MEASURE_VALUE_BELOW, .limit = 10});
    assert_true(x_at(&b, T0) == 0.0); /* no value yet */
    apply_v(&b, T0 + H, 5);
    assert_true(x_at(&b, T0 + H) == 1.0);
    apply_v(&b, T0, 50); /* late, older: ignored */
    assert_true(x_at(&b, T0 + H) == 1.0);
    apply_v(&b, T0 + H, 20); /* same time, applied later: wins */
    assert_true(x_at(&b, T0 + H) == 0.0);
    apply(&b, T0 + 2 * H); /* an event without a value changes nothing */
    assert_true(x_at(&b, T0 + 2 * H) == 0.0);
    apply_v(&b, T0 + 3 * H, 10); /* not < limit */
    assert_true(x_at(&b, T0 + 3 * H) == 0.0);

    fixture a;
    setup_sig(&a, (config_signal){.measure = MEASURE_VALUE_ABOVE, .limit = 10});
    apply_v(&a, T0, 10.5);
    assert_true(x_at(&a, T0) == 1.0);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Property: x at every time in [a, b] lies within score_state_range(a, b). */
static void range_bounds_hold_for_every_measure(void **state)
{
    (void)state;
    config_signal kinds[] = {
        {.measure = MEASURE_DROP, .recent_ms = 7 * D, .usual_ms = 28 * D},
        {.measure = MEASURE_DROP, .recent_ms = 28 * D, .usual_ms = 7 * D},
        {.measure = MEASURE_RISE, .recent_ms = 2 * D, .usual_ms = 9 * D, .span = 0.5},
        {.measure = MEASURE_RISE, .of_value = true, .recent_ms = 9 * D, .usual_ms = 2 * D},
        {.measure = MEASURE_COUNT, .window_ms = 3 * D, .cap = 3},
        {.measure = MEASURE_RECENT, .window_ms = 2 * D},
        {.measure = MEASURE_ABSENT, .window_ms = 2 * D},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int trial = 0; trial < 40; trial++) {
            fixture f;
            setup_sig(&f, kinds[k]);
            int n = 1 + (int)(next_rand() % 12);
            int64_t last = T0;
            for (int i = 0; i < n; i++) {
                int64_t t = T0 + (int64_t)(next_rand() % (40 * D));
                apply_v(&f, t, (double)(next_rand() % 100) / 10.0);
                if (t > last)
                    last = t;
            }
            int64_t a = last + (int64_t)(next_rand() % (30 * D));
            int64_t b = a + (int64_t)(next_rand() % (30 * D));
            double lo, hi, flo, fhi;
            score_state_range(&f.l, f.blob, 0, a, b, &lo, &hi);
            score_state_future(&f.l, f.blob, 0, a, x_at(&f, a), &flo, &fhi);
            for (int s = 0; s <= 200; s++) {
                int64_t t = a + (b - a) / 200 * s;
                double x = x_at(&f, t);
                assert_true(x >= lo - 1e-12 && x <= hi + 1e-12);
                assert_true(x >= flo - 1e-12 && x <= fhi + 1e-12);
            }
        }
    }
}

static void layout_rejects_bad_measure_keys(void **state)
{
    (void)state;
    score_layout l;
    char err[256];
    config_signal s = {.name = "t", .measure = MEASURE_COUNT, .window_ms = D, .cap = 0};
    assert_int_equal(score_layout_init(&l, &s, 1, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "cap"));
    s = (config_signal){.name = "d", .measure = MEASURE_DROP, .recent_ms = 0, .usual_ms = D};
    assert_int_equal(score_layout_init(&l, &s, 1, err, sizeof err), SF_EINVAL);
}

static void state_stays_within_64_bytes_per_signal_for_bench_measures(void **state)
{
    (void)state;
    config_signal s[4] = {
        {.name = "a", .measure = MEASURE_DROP, .recent_ms = 7 * D, .usual_ms = 28 * D},
        {.name = "b", .measure = MEASURE_COUNT, .window_ms = 14 * D, .cap = 4},
        {.name = "c", .measure = MEASURE_RECENT, .window_ms = 30 * D},
        {.name = "d",
         .measure = MEASURE_DROP,
         .of_value = true,
         .recent_ms = 7 * D,
         .usual_ms = 28 * D},
    };
    score_layout l;
    char err[256];
    assert_int_equal(score_layout_init(&l, s, 4, err, sizeof err), SF_OK);
    assert_true(l.size <= 4 * 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drop_is_zero_until_exactly_usual_of_history),
        cmocka_unit_test(drop_of_value_with_zero_usual_sum_is_zero),
        cmocka_unit_test(decayed_sums_do_not_depend_on_arrival_order),
        cmocka_unit_test(rise_uses_span_and_history_rule),
        cmocka_unit_test(count_excludes_event_exactly_window_ago),
        cmocka_unit_test(count_caps_and_keeps_latest_times_with_late_events),
        cmocka_unit_test(count_with_fractional_cap),
        cmocka_unit_test(recent_and_absent_at_exactly_window),
        cmocka_unit_test(value_measures_take_latest_by_time_later_applied_on_ties),
        cmocka_unit_test(range_bounds_hold_for_every_measure),
        cmocka_unit_test(layout_rejects_bad_measure_keys),
        cmocka_unit_test(state_stays_within_64_bytes_per_signal_for_bench_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
