/* test_timefmt.c - RFC 3339 / epoch parsing, formatting and durations (core/base/timefmt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/timefmt.h"

static int parse(const char *s, int64_t *ms)
{
    return time_parse_rfc3339(s, strlen(s), ms);
}

static void accepts_utc_z_timestamp(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(parse("2026-11-01T12:00:00Z", &ms), 0);
    assert_int_equal(ms, 1793534400000LL);
    assert_int_equal(parse("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(parse("1969-12-31T23:59:59Z", &ms), 0);
    assert_int_equal(ms, -1000);
}

static void applies_positive_and_negative_offsets(void **state)
{
    (void)state;
    int64_t ms = 0;
    /* 12:00+02:00 is 10:00Z */
    assert_int_equal(parse("2026-11-01T12:00:00+02:00", &ms), 0);
    assert_int_equal(ms, 1793527200000LL);
    assert_int_equal(parse("2026-11-01T08:30:00-01:30", &ms), 0);
    assert_int_equal(ms, 1793527200000LL);
    assert_int_equal(parse("2026-11-01T10:00:00+00:00", &ms), 0);
    assert_int_equal(ms, 1793527200000LL);
}

static void keeps_milliseconds_and_truncates_extra_digits(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(parse("2026-11-01T12:00:00.250Z", &ms), 0);
    assert_int_equal(ms, 1793534400250LL);
    assert_int_equal(parse("2026-11-01T12:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1793534400500LL);
    assert_int_equal(parse("2026-11-01T12:00:00.123999999Z", &ms), 0);
    assert_int_equal(ms, 1793534400123LL);
    assert_int_equal(parse("2026-11-01T12:00:00.Z", &ms), -1);
}

static void accepts_lowercase_and_space_separator(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(parse("2026-11-01t12:00:00z", &ms), 0);
    assert_int_equal(ms, 1793534400000LL);
    assert_int_equal(parse("2026-11-01 12:00:00Z", &ms), 0);
    assert_int_equal(ms, 1793534400000LL);
}

static void knows_leap_years(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(parse("2024-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 1709164800000LL);
    assert_int_equal(parse("2000-02-29T23:59:59Z", &ms), 0); /* divisible by 400 */
    assert_int_equal(ms, 951868799000LL);
    assert_int_equal(parse("1900-02-29T00:00:00Z", &ms), -1); /* divisible by 100 only */
    assert_int_equal(parse("2023-02-29T00:00:00Z", &ms), -1);
}

static void rejects_invalid_dates_and_fields(void **state)
{
    (void)state;
    int64_t ms = 0;
    const char *bad[] = {
        "2026-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+01:60",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00Zjunk",
        "2026-01-01T00:00:00Z ",
        "2026-1-01T00:00:00Z",
        "2026-01-01X00:00:00Z",
        "2026-01-01T00:00Z",
        "",
        "+2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00+0100",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], &ms) != -1)
            fail_msg("accepted %s", bad[i]);
    }
}

static void honours_explicit_length(void **state)
{
    (void)state;
    int64_t ms = 0;
    const char *s = "2026-11-01T12:00:00Z,\"next\"";
    assert_int_equal(time_parse_rfc3339(s, 20, &ms), 0);
    assert_int_equal(ms, 1793534400000LL);
    assert_int_equal(time_parse_rfc3339(s, 19, &ms), -1);
}

static void time_parse_reads_epoch_ms_or_rfc3339(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(time_parse("1793534400250", 13, &ms), 0);
    assert_int_equal(ms, 1793534400250LL);
    assert_int_equal(time_parse("-1000", 5, &ms), 0);
    assert_int_equal(ms, -1000);
    assert_int_equal(time_parse("2026-11-01T12:00:00Z", 20, &ms), 0);
    assert_int_equal(ms, 1793534400000LL);
    assert_int_equal(time_parse("12x", 3, &ms), -1);
    assert_int_equal(time_parse("", 0, &ms), -1);
    assert_int_equal(time_parse("-", 1, &ms), -1);
    assert_int_equal(time_parse("9223372036854775807", 19, &ms), 0);
    assert_int_equal(ms, INT64_MAX);
    assert_int_equal(time_parse("9223372036854775808", 19, &ms), -1);
}

static void formats_utc_with_milliseconds(void **state)
{
    (void)state;
    char buf[25];
    time_format_rfc3339(1793534400250LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-01T12:00:00.250Z");
    time_format_rfc3339(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    time_format_rfc3339(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    time_format_rfc3339(253402300799000LL, buf, sizeof buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.000Z");
    time_format_rfc3339(-62135596800000LL, buf, sizeof buf);
    assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
}

static void durations_parse_every_unit(void **state)
{
    (void)state;
    int64_t ms = -1;
    assert_int_equal(duration_parse("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(duration_parse("30s", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(duration_parse("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(duration_parse("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(duration_parse("7d", &ms), 0);
    assert_int_equal(ms, 604800000);
    assert_int_equal(duration_parse("2w", &ms), 0);
    assert_int_equal(ms, 1209600000);
    assert_int_equal(duration_parse("0s", &ms), 0);
    assert_int_equal(ms, 0);
}

static void durations_reject_bare_numbers_and_junk(void **state)
{
    (void)state;
    int64_t ms = 0;
    const char *bad[] = {"10",
                         "",
                         "s",
                         "-5s",
                         "+5s",
                         " 5s",
                         "5 s",
                         "5s ",
                         "5x",
                         "5ss",
                         "1.5h",
                         "5M",
                         "5msx",
                         "9223372036854775808ms",
                         "9999999999999999w"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (duration_parse(bad[i], &ms) != -1)
            fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(duration_parse(NULL, &ms), -1);
    assert_int_equal(duration_parse("9223372036854775807ms", &ms), 0);
    assert_int_equal(ms, INT64_MAX);
}

static void durations_format_largest_exact_unit(void **state)
{
    (void)state;
    char buf[32];
    duration_format(604800000, buf, sizeof buf);
    assert_string_equal(buf, "1w");
    duration_format(1500, buf, sizeof buf);
    assert_string_equal(buf, "1500ms");
    duration_format(90000, buf, sizeof buf);
    assert_string_equal(buf, "90s");
    duration_format(3600000, buf, sizeof buf);
    assert_string_equal(buf, "1h");
    duration_format(2 * 86400000LL, buf, sizeof buf);
    assert_string_equal(buf, "2d");
    duration_format(0, buf, sizeof buf);
    assert_string_equal(buf, "0s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_utc_z_timestamp),
        cmocka_unit_test(applies_positive_and_negative_offsets),
        cmocka_unit_test(keeps_milliseconds_and_truncates_extra_digits),
        cmocka_unit_test(accepts_lowercase_and_space_separator),
        cmocka_unit_test(knows_leap_years),
        cmocka_unit_test(rejects_invalid_dates_and_fields),
        cmocka_unit_test(honours_explicit_length),
        cmocka_unit_test(time_parse_reads_epoch_ms_or_rfc3339),
        cmocka_unit_test(formats_utc_with_milliseconds),
        cmocka_unit_test(durations_parse_every_unit),
        cmocka_unit_test(durations_reject_bare_numbers_and_junk),
        cmocka_unit_test(durations_format_largest_exact_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
