/* test_tz.c - time zones from the system zoneinfo (core/deliver/tz.c): offsets on both sides
   of the 2026 DST changes in two zones, the footer rule past the file's last transition,
   local -> UTC in a skipped and a repeated hour, refused names. Expected instants are the
   published 2026 transition dates (EU: last Sunday of March/October 01:00 UTC; US: second
   Sunday of March, first Sunday of November, 02:00 local). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timefmt.h"
#include "deliver/tz.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(time_parse_rfc3339(rfc3339, strlen(rfc3339), &ms), 0);
    return ms / 1000;
}

static tz *load(const char *name)
{
    char err[256];
    tz *z = tz_load(name, err, sizeof err);
    if (!z)
        fail_msg("%s", err);
    return z;
}

static void berlin_offsets_change_on_the_eu_dates(void **state)
{
    (void)state;
    tz *z = load("Europe/Berlin");
    assert_int_equal(tz_offset(z, at("2026-01-15T12:00:00Z")), 3600);
    assert_int_equal(tz_offset(z, at("2026-07-15T12:00:00Z")), 7200);
    assert_int_equal(tz_offset(z, at("2026-03-29T00:59:59Z")), 3600);
    assert_int_equal(tz_offset(z, at("2026-03-29T01:00:00Z")), 7200);
    assert_int_equal(tz_offset(z, at("2026-10-25T00:59:59Z")), 7200);
    assert_int_equal(tz_offset(z, at("2026-10-25T01:00:00Z")), 3600);
    /* past the transitions listed in the file: the footer rule */
    assert_int_equal(tz_offset(z, at("2100-07-01T00:00:00Z")), 7200);
    assert_int_equal(tz_offset(z, at("2100-12-01T00:00:00Z")), 3600);
    assert_int_equal(tz_offset(z, at("2100-03-28T00:59:59Z")), 3600); /* last Sun of Mar 2100 */
    assert_int_equal(tz_offset(z, at("2100-03-28T01:00:00Z")), 7200);
    tz_free(z);
}

static void new_york_offsets_change_on_the_us_dates(void **state)
{
    (void)state;
    tz *z = load("America/New_York");
    assert_int_equal(tz_offset(z, at("2026-03-08T06:59:59Z")), -18000);
    assert_int_equal(tz_offset(z, at("2026-03-08T07:00:00Z")), -14400);
    assert_int_equal(tz_offset(z, at("2026-11-01T05:59:59Z")), -14400);
    assert_int_equal(tz_offset(z, at("2026-11-01T06:00:00Z")), -18000);
    tz_free(z);
}

static void local_times_in_skipped_and_repeated_hours(void **state)
{
    (void)state;
    tz *z = load("Europe/Berlin");
    /* 02:30 does not exist on 2026-03-29: the clocks jump from 02:00 to 03:00 (01:00Z) */
    assert_int_equal(tz_local_to_utc(z, at("2026-03-29T02:30:00Z")), at("2026-03-29T01:00:00Z"));
    /* 02:30 happens twice on 2026-10-25: the earlier one, still summer time */
    assert_int_equal(tz_local_to_utc(z, at("2026-10-25T02:30:00Z")), at("2026-10-25T00:30:00Z"));
    assert_int_equal(tz_local_to_utc(z, at("2026-07-01T09:00:00Z")), at("2026-07-01T07:00:00Z"));
    tz_free(z);
}

static void utc_and_bad_names(void **state)
{
    (void)state;
    char err[256];
    tz *z = load("UTC");
    assert_int_equal(tz_offset(z, at("2026-07-01T00:00:00Z")), 0);
    tz_free(z);
    assert_null(tz_load("../../etc/passwd", err, sizeof err));
    assert_non_null(strstr(err, "is not a time zone name"));
    assert_null(tz_load("Nowhere/Atlantis", err, sizeof err));
    assert_non_null(strstr(err, "unknown time zone `Nowhere/Atlantis`"));
    assert_null(tz_load("/etc/passwd", err, sizeof err));
}

static void civil_dates_and_weekdays(void **state)
{
    (void)state;
    assert_int_equal(tz_weekday(0), 4); /* 1970-01-01 was a Thursday */
    assert_int_equal(tz_weekday(-1), 3);
    assert_int_equal(tz_weekday(tz_days_from_civil(2026, 12, 1)), 2); /* a Tuesday */
    int64_t y;
    unsigned m, d;
    tz_civil_from_days(tz_days_from_civil(2024, 2, 29), &y, &m, &d);
    assert_true(y == 2024 && m == 2 && d == 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(berlin_offsets_change_on_the_eu_dates),
        cmocka_unit_test(new_york_offsets_change_on_the_us_dates),
        cmocka_unit_test(local_times_in_skipped_and_repeated_hours),
        cmocka_unit_test(utc_and_bad_names),
        cmocka_unit_test(civil_dates_and_weekdays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
