/* Unit tests of core/base/readiness.c and core/base/log_limit.c: the reasons /readyz gives
   (an instance's and a component's, set, replaced, cleared, as JSON) and the once-per-interval
   decision of rate-limited log lines (expected values from readiness.h and log_limit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log_limit.h"
#include "base/readiness.h"
#include "base/strbuf.h"

static char *json(void)
{
    strbuf b = {0};
    readiness_json(&b);
    return strbuf_take(&b);
}

static void components_and_instances_are_separate_entries(void **state)
{
    (void)state;
    assert_int_equal(readiness_count(), 0);
    assert_int_equal(readiness_set_component("journal", "commits are failing"), 1);
    assert_int_equal(readiness_set_component("journal", "still failing"), 0); /* replaced */
    readiness_set("journal", "p", "an instance named like a component");
    assert_int_equal(readiness_count(), 2);
    char *j = json();
    assert_string_equal(j, "{\"status\":\"not ready\",\"reasons\":["
                           "{\"component\":\"journal\",\"reason\":\"still failing\"},"
                           "{\"instance\":\"journal\",\"plugin\":\"p\",\"reason\":"
                           "\"an instance named like a component\"}]}\n");
    free(j);
    readiness_clear("journal"); /* the instance's, not the component's */
    assert_int_equal(readiness_count(), 1);
    assert_int_equal(readiness_set_component("journal", NULL), 1);
    assert_int_equal(readiness_set_component("journal", NULL), 0); /* already clear */
    assert_int_equal(readiness_count(), 0);
}

static void reasons_are_json_quoted(void **state)
{
    (void)state;
    readiness_set_component("state_dir", "the file system of /x\"y\n is full");
    char *j = json();
    assert_non_null(strstr(j, "\"reason\":\"the file system of /x\\\"y\\n is full\""));
    free(j);
    readiness_set_component("state_dir", NULL);
}

static void a_site_is_logged_once_per_interval(void **state)
{
    (void)state;
    static const char fmt[] = "write failed: %s", other[] = "other: %s";
    uint64_t held = 99;
    assert_true(log_limit_pass("component=journal", fmt, 1000, &held));
    assert_int_equal(held, 0);
    for (int i = 0; i < 500; i++) /* one a millisecond for half a second: held back */
        assert_false(log_limit_pass("component=journal", fmt, 1001 + i, &held));
    /* another ctx or another format is another site */
    assert_true(log_limit_pass("component=outbox", fmt, 1200, &held));
    assert_true(log_limit_pass("component=journal", other, 1200, &held));
    assert_false(log_limit_pass("component=journal", fmt, 1000 + LOG_LIMIT_EVERY_MS - 1, &held));
    assert_true(log_limit_pass("component=journal", fmt, 1000 + LOG_LIMIT_EVERY_MS, &held));
    assert_int_equal(held, 501); /* the summary line says how many it stands for */
    assert_false(log_limit_pass("component=journal", fmt, 1000 + LOG_LIMIT_EVERY_MS + 1, &held));
}

static void many_sites_reuse_the_oldest_slot(void **state)
{
    (void)state;
    static const char fmt[] = "site %d";
    char ctx[32];
    uint64_t held;
    for (int i = 0; i < 100; i++) { /* more sites than slots: each still logs its first line */
        snprintf(ctx, sizeof ctx, "component=c%d", i);
        assert_true(log_limit_pass(ctx, fmt, 100000 + i, &held));
    }
    assert_false(log_limit_pass("component=c99", fmt, 100100, &held)); /* still known */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(components_and_instances_are_separate_entries),
        cmocka_unit_test(reasons_are_json_quoted),
        cmocka_unit_test(a_site_is_logged_once_per_interval),
        cmocka_unit_test(many_sites_reuse_the_oldest_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
