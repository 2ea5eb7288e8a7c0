/* test_suggest.c - "did you mean" (core/config/suggest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/suggest.h"

static void suggests_the_closest_candidate_within_two_edits(void **state)
{
    (void)state;
    const char *const c[] = {"state_dir", "plugin_dir", "admin", "cap", "window", "weight"};
    size_t n = sizeof c / sizeof c[0];
    assert_string_equal(suggest_closest("state_dri", c, n), "state_dir"); /* transposition */
    assert_string_equal(suggest_closest("plugindir", c, n), "plugin_dir");
    assert_string_equal(suggest_closest("Admin", c, n), "admin");
    assert_string_equal(suggest_closest("widow", c, n), "window");
    assert_string_equal(suggest_closest("cpa", c, n), "cap");
    assert_null(suggest_closest("completely_else", c, n));
    assert_null(suggest_closest("of", c, n));
    assert_null(suggest_closest("", c, n));
    /* ties go to the first candidate: deterministic */
    const char *const t[] = {"abcx", "abcy"};
    assert_string_equal(suggest_closest("abcz", t, 2), "abcx");
}

static void hint_formats_the_suggestion_or_nothing(void **state)
{
    (void)state;
    const char *const c[] = {"signal", "sigflow"};
    char buf[64];
    assert_string_equal(suggest_hint(buf, sizeof buf, "signals", c, 2),
                        " (did you mean `signal`?)");
    assert_string_equal(suggest_hint(buf, sizeof buf, "zzzzzz", c, 2), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suggests_the_closest_candidate_within_two_edits),
        cmocka_unit_test(hint_formats_the_suggestion_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
