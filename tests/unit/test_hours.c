/* test_hours.c - delivery windows and digest slots (core/deliver/hours.c), across the 2026
   DST changes in Europe/Berlin and America/New_York: a window opens at 09:00 on the wall
   clock whichever offset is in force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timefmt.h"
#include "deliver/hours.h"

static int64_t ms(const char *rfc3339)
{
    int64_t v = 0;
    assert_int_equal(time_parse_rfc3339(rfc3339, strlen(rfc3339), &v), 0);
    return v;
}

static tz *load(const char *name)
{
    char err[256];
    tz *z = tz_load(name, err, sizeof err);
    if (!z)
        fail_msg("%s", err);
    return z;
}

static hours office(void)
{
    hours h;
    char err[256];
    if (!hours_parse("Mon-Fri 09:00-18:00", &h, err, sizeof err))
        fail_msg("%s", err);
    return h;
}

static void next_open_crosses_spring_forward_in_berlin(void **state)
{
    (void)state;
    tz *z = load("Europe/Berlin");
    hours h = office();
    /* Friday 2026-03-27 18:30 CET; clocks go forward on Sunday; Monday 09:00 CEST = 07:00Z */
    assert_false(hours_inside(&h, z, ms("2026-03-27T17:30:00Z")));
    assert_int_equal(hours_next_open(&h, z, ms("2026-03-27T17:30:00Z")),
                     ms("2026-03-30T07:00:00Z"));
    assert_false(hours_inside(&h, z, ms("2026-03-30T06:59:59Z")));
    assert_true(hours_inside(&h, z, ms("2026-03-30T07:00:00Z")));
    /* inside: itself */
    assert_int_equal(hours_next_open(&h, z, ms("2026-03-30T10:00:00Z")),
                     ms("2026-03-30T10:00:00Z"));
    tz_free(z);
}

static void next_open_crosses_fall_back_in_berlin(void **state)
{
    (void)state;
    tz *z = load("Europe/Berlin");
    hours h = office();
    /* Friday 2026-10-23 20:00 CEST; Monday 09:00 CET = 08:00Z */
    assert_int_equal(hours_next_open(&h, z, ms("2026-10-23T18:00:00Z")),
                     ms("2026-10-26T08:00:00Z"));
    tz_free(z);
}

static void next_open_crosses_spring_forward_in_new_york(void **state)
{
    (void)state;
    tz *z = load("America/New_York");
    hours h = office();
    /* Friday 2026-03-06 19:00 EST; Monday 2026-03-09 09:00 EDT = 13:00Z */
    assert_int_equal(hours_next_open(&h, z, ms("2026-03-07T00:00:00Z")),
                     ms("2026-03-09T13:00:00Z"));
    /* before opening on a weekday: the same day */
    assert_int_equal(hours_next_open(&h, z, ms("2026-03-10T11:00:00Z")),
                     ms("2026-03-10T13:00:00Z"));
    tz_free(z);
}

static void several_windows_and_wrapping_day_ranges(void **state)
{
    (void)state;
    char err[256];
    hours h;
    assert_true(hours_parse("Fri-Mon 10:00-12:00, Wed 14:00-15:00", &h, err, sizeof err));
    tz *z = load("UTC");
    assert_true(hours_inside(&h, z, ms("2026-12-06T11:00:00Z")));  /* Sunday */
    assert_false(hours_inside(&h, z, ms("2026-12-08T11:00:00Z"))); /* Tuesday */
    assert_int_equal(hours_next_open(&h, z, ms("2026-12-08T11:00:00Z")),
                     ms("2026-12-09T14:00:00Z"));
    tz_free(z);
}

static void bad_hours_are_refused_with_a_reason(void **state)
{
    (void)state;
    char err[256];
    hours h;
    assert_false(hours_parse("Mon-Fri 18:00-09:00", &h, err, sizeof err));
    assert_non_null(strstr(err, "must end after it starts"));
    assert_false(hours_parse("Funday 09:00-10:00", &h, err, sizeof err));
    assert_non_null(strstr(err, "is not DAYS HH:MM-HH:MM"));
    assert_false(hours_parse("Mon 9-10", &h, err, sizeof err));
    assert_false(hours_parse("Mon 09:00-24:01", &h, err, sizeof err));
    assert_true(hours_parse("daily 00:00-24:00", &h, err, sizeof err));
}

static void digest_slots_follow_the_wall_clock(void **state)
{
    (void)state;
    tz *z = load("Europe/Berlin");
    int32_t nine = 9 * 3600;
    /* Saturday 2026-03-28 11:00 CET -> Sunday 09:00 CEST (07:00Z), the day the clocks change */
    assert_int_equal(hours_next_slot(z, 86400000, nine, ms("2026-03-28T10:00:00Z")),
                     ms("2026-03-29T07:00:00Z"));
    /* before 09:00 the same day, in winter time */
    assert_int_equal(hours_next_slot(z, 86400000, nine, ms("2026-03-28T05:00:00Z")),
                     ms("2026-03-28T08:00:00Z"));
    /* exactly at a slot: the next one */
    assert_int_equal(hours_next_slot(z, 86400000, nine, ms("2026-03-28T08:00:00Z")),
                     ms("2026-03-29T07:00:00Z"));
    /* every 1h at :15 */
    assert_int_equal(hours_next_slot(z, 3600000, 15 * 60, ms("2026-06-01T10:20:00Z")),
                     ms("2026-06-01T11:15:00Z"));
    tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_open_crosses_spring_forward_in_berlin),
        cmocka_unit_test(next_open_crosses_fall_back_in_berlin),
        cmocka_unit_test(next_open_crosses_spring_forward_in_new_york),
        cmocka_unit_test(several_windows_and_wrapping_day_ranges),
        cmocka_unit_test(bad_hours_are_refused_with_a_reason),
        cmocka_unit_test(digest_slots_follow_the_wall_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
