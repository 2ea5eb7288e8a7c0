/* test_explain.c - explain template rendering (core/score/explain.c): every variable per measure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/explain.h"

#define H 3600000LL
#define D (24 * H)

static void expect(const config_signal *s, const score_detail *d, int64_t t, const char *want)
{
    char *got = explain_render(s, d, t);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void pct_rounds_half_up_and_window_is_duration_text(void **state)
{
    (void)state;
    config_signal s = {.name = "tickets",
                       .measure = MEASURE_COUNT,
                       .window_ms = 14 * D,
                       .cap = 4,
                       .explain = "{{pct}}% / {{n}} tickets in {{window}}"};
    score_detail d = {.x = 0.125, .has_event = true, .n = 1};
    expect(&s, &d, 0, "13% / 1 tickets in 14d"); /* round(12.5) = 13 */
    d = (score_detail){.x = 1, .has_event = true, .n = 4, .n_saturated = true};
    expect(&s, &d, 0, "100% / 4+ tickets in 14d");
}

static void drop_shows_weekly_rates(void **state)
{
    (void)state;
    config_signal s = {.name = "login_drop",
                       .measure = MEASURE_DROP,
                       .recent_ms = 7 * D,
                       .usual_ms = 28 * D,
                       .explain = "logins {{pct}}% below usual ({{recent_rate}}/wk vs "
                                  "{{usual_rate}}/wk over {{window}})"};
    /* rate = S / tau per week: 2 / 7d * 7d = 2.0; 12 / 28d * 7d = 3.0 */
    score_detail d = {.x = 0.3333, .has_event = true, .s_recent = 2, .s_usual = 12};
    expect(&s, &d, 0, "logins 33% below usual (2.0/wk vs 3.0/wk over 7d)");
}

static void value_and_since_and_unknown_variables(void **state)
{
    (void)state;
    config_signal s = {.name = "bal",
                       .measure = MEASURE_VALUE_BELOW,
                       .limit = 2.5,
                       .explain = "{{ value }} < {{limit}} since {{since}}, {{nope}}, {{signal}}"};
    score_detail d = {.x = 1, .has_event = true, .has_value = true, .value = 1.5, .latest = 10 * D};
    expect(&s, &d, 13 * D + 5 * H, "1.5 < 2.5 since 3d, {{nope}}, bal");
}

static void no_template_renders_empty_and_unclosed_braces_stay(void **state)
{
    (void)state;
    config_signal s = {.name = "x", .measure = MEASURE_RECENT, .window_ms = 90 * 60000};
    score_detail d = {.x = 1};
    expect(&s, &d, 0, "");
    s.explain = "seen in {{window}} {{pct";
    expect(&s, &d, 0, "seen in 90m {{pct");
}

static void durations_use_the_largest_exact_unit(void **state)
{
    (void)state;
    char b[32];
    explain_duration(14 * D, b, sizeof b);
    assert_string_equal(b, "14d");
    explain_duration(36 * H, b, sizeof b);
    assert_string_equal(b, "36h");
    explain_duration(1500, b, sizeof b);
    assert_string_equal(b, "1500ms");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pct_rounds_half_up_and_window_is_duration_text),
        cmocka_unit_test(drop_shows_weekly_rates),
        cmocka_unit_test(value_and_since_and_unknown_variables),
        cmocka_unit_test(no_template_renders_empty_and_unclosed_braces_stay),
        cmocka_unit_test(durations_use_the_largest_exact_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
