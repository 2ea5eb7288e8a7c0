/* test_rules.c - the per-delivery decision (core/deliver/rules.c): skipped by `when`, sent
   inside hours or above urgent_above, held until the window opens (fixed zone or one per
   recipient from {{attr.tz}}), held for the next digest slot; and the FILE:LINE errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timefmt.h"
#include "deliver/rules.h"
#include "model/alert.h"

static int64_t ms(const char *t)
{
    int64_t v = 0;
    assert_int_equal(time_parse_rfc3339(t, strlen(t), &v), 0);
    return v;
}

/* Rules from "key=value" pairs (lines 10, 11, ...); NULL with the errors in d. */
static delivery_rules *parse(diag *d, const char *const *kv, size_t n)
{
    static config_kv keys[16];
    static config_signal sig = {.name = "logins"};
    static sigflow_config cfg = {.path = "site.ini", .signals = &sig, .n_signals = 1};
    static char buf[16][256];
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "%s", kv[i]);
        char *eq = strchr(buf[i], '=');
        *eq = '\0';
        keys[i] = (config_kv){.key = buf[i], .value = eq + 1, .line = (int)(10 + i)};
    }
    config_instance ci = {
        .name = "people", .kind = SF_KIND_DELIVERY, .kv = keys, .n_kv = n, .line = 9};
    return rules_parse(&ci, &cfg, d);
}

static rules_gate decide(delivery_rules *r, double score, const char *attrs, const char *now,
                         int64_t *until)
{
    alert_reason rs = {.signal = "logins", .x = 1, .weight = 1, .contribution = 1};
    sf_alert a = {.decision = "d",
                  .entity = "e",
                  .score = score,
                  .reasons = &rs,
                  .n_reasons = 1,
                  .attrs = (char *)attrs};
    message_ctx ctx = {0};
    rules_message_ctx(r, &ctx);
    message *m = message_new(&a, &ctx);
    char why[512];
    rules_gate g = rules_decide(r, m, ms(now), until, why, sizeof why);
    message_free(m);
    return g;
}

static void when_skips_and_hours_hold_until_the_window(void **state)
{
    (void)state;
    diag d = {0};
    const char *kv[] = {"when=score >= 0.8", "hours=Mon-Fri 09:00-18:00", "timezone=Europe/Berlin",
                        "urgent_above=0.95"};
    delivery_rules *r = parse(&d, kv, 4);
    assert_non_null(r);
    int64_t until = 0;
    assert_int_equal(decide(r, 0.7, NULL, "2026-03-28T10:00:00Z", &until), GATE_SKIP);
    /* Saturday: held until Monday 09:00 CEST */
    assert_int_equal(decide(r, 0.9, NULL, "2026-03-28T10:00:00Z", &until), GATE_HOLD);
    assert_int_equal(until, ms("2026-03-30T07:00:00Z"));
    assert_int_equal(decide(r, 0.96, NULL, "2026-03-28T10:00:00Z", &until), GATE_SEND);
    assert_int_equal(decide(r, 0.9, NULL, "2026-03-30T07:00:00Z", &until), GATE_SEND);
    rules_free(r);
}

static void timezone_per_recipient_from_attrs(void **state)
{
    (void)state;
    diag d = {0};
    const char *kv[] = {"hours=Mon-Fri 09:00-18:00", "timezone={{attr.tz}}"};
    delivery_rules *r = parse(&d, kv, 2);
    assert_non_null(r);
    int64_t until = 0;
    /* Monday 2026-03-09 08:00Z: 09:00 in Berlin (open), 04:00 in New York (held to 13:00Z) */
    assert_int_equal(decide(r, 0.9, "{\"tz\":\"Europe/Berlin\"}", "2026-03-09T08:00:00Z", &until),
                     GATE_SEND);
    assert_int_equal(
        decide(r, 0.9, "{\"tz\":\"America/New_York\"}", "2026-03-09T08:00:00Z", &until), GATE_HOLD);
    assert_int_equal(until, ms("2026-03-09T13:00:00Z"));
    /* no zone in the attrs: UTC */
    assert_int_equal(decide(r, 0.9, NULL, "2026-03-09T08:00:00Z", &until), GATE_HOLD);
    assert_int_equal(until, ms("2026-03-09T09:00:00Z"));
    rules_free(r);
}

static void digest_holds_for_the_next_slot(void **state)
{
    (void)state;
    diag d = {0};
    const char *kv[] = {"mode=digest", "every=1d", "at=09:00", "timezone=America/New_York"};
    delivery_rules *r = parse(&d, kv, 4);
    assert_non_null(r);
    assert_true(rules_is_digest(r));
    int64_t until = 0;
    assert_int_equal(decide(r, 0.99, NULL, "2026-03-28T10:00:00Z", &until), GATE_HOLD);
    assert_int_equal(until, ms("2026-03-28T13:00:00Z"));
    rules_free(r);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    diag d = {0};
    const char *kv[] = {"when=signal.nosuch > 1",
                        "hours=Mon 10:00-09:00",
                        "timezone=Mars/Olympus",
                        "urgent_above=high",
                        "every=1d",
                        "link.crm=https://x/{{entty}}"};
    assert_null(parse(&d, kv, 6));
    static const char *const want[] = {"site.ini:10: `when`: no [signal nosuch]",
                                       "site.ini:11: hours:",
                                       "site.ini:12: timezone: unknown time zone `Mars/Olympus`",
                                       "site.ini:13: urgent_above",
                                       "site.ini:14: `every` applies to mode = digest only",
                                       "site.ini:15: `link.crm`: template column"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (size_t k = 0; k < d.n && !found; k++)
            found = strncmp(d.msgs[k], want[i], strlen(want[i])) == 0;
        if (!found)
            fail_msg("no diagnostic starting \"%s\"", want[i]);
    }
    diag_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(when_skips_and_hours_hold_until_the_window),
        cmocka_unit_test(timezone_per_recipient_from_attrs),
        cmocka_unit_test(digest_holds_for_the_next_slot),
        cmocka_unit_test(errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
