/* test_when.c - `when` filters (core/deliver/when.c): score, attr and signal comparisons
   joined with `and`, and the errors `sigflow check` shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deliver/when.h"
#include "model/alert.h"

static const char *const signals[] = {"logins", "tickets"};

static bool matches(const char *when, double score, const char *attrs)
{
    char err[256];
    alert_reason r[2] = {{.signal = "logins", .x = 0.8, .weight = 2, .contribution = 1.6},
                         {.signal = "tickets", .x = 0, .weight = 1, .contribution = 0}};
    sf_alert a = {.decision = "d",
                  .entity = "e",
                  .score = score,
                  .reasons = r,
                  .n_reasons = 2,
                  .attrs = (char *)attrs};
    when_filter *rt = when_parse(when, signals, 2, err, sizeof err);
    if (!rt)
        fail_msg("%s: %s", when, err);
    message *m = message_new(&a, NULL);
    bool ok = when_match(rt, m);
    message_free(m);
    when_free(rt);
    return ok;
}

static void score_attr_and_signal_comparisons(void **state)
{
    (void)state;
    const char *pro = "{\"plan\":\"pro\",\"seats\":12}";
    assert_true(matches("score >= 0.9", 0.9, NULL));
    assert_false(matches("score >= 0.9", 0.89, NULL));
    assert_true(matches("score > 0.5 and attr.plan = \"pro\"", 0.6, pro));
    assert_false(matches("score > 0.5 and attr.plan = \"pro\"", 0.6, "{\"plan\":\"free\"}"));
    assert_true(matches("attr.plan != free and attr.seats >= 10", 0.1, pro));
    assert_false(matches("attr.seats > 12", 0.1, pro));
    assert_true(matches("signal.logins >= 0.8 and signal.tickets = 0", 0.1, NULL));
    assert_false(matches("signal.logins > 0.8", 0.1, NULL));
}

static void an_absent_attr_fails_every_comparison(void **state)
{
    (void)state;
    assert_false(matches("attr.plan = pro", 0.99, NULL));
    assert_false(matches("attr.plan != pro", 0.99, "{\"seats\":1}"));
}

static void errors_say_what_is_wrong(void **state)
{
    (void)state;
    char err[256];
    static const char *const bad[][2] = {
        {"score >= high", "compare with numbers"},
        {"signal.nosuch > 0.5", "no [signal nosuch]"},
        {"scor >= 0.9", "expected score, attr.NAME or signal.NAME"},
        {"score 0.9", "expected >=, >, <=, <, = or !="},
        {"score >= 0.9 or score < 0.1", "expected `and`"},
        {"attr.plan = \"pro", "expected a number or a \"quoted\" value"},
        {"", "expected score"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(when_parse(bad[i][0], signals, 2, err, sizeof err));
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: got \"%s\"", bad[i][0], err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(score_attr_and_signal_comparisons),
        cmocka_unit_test(an_absent_attr_fails_every_comparison),
        cmocka_unit_test(errors_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
