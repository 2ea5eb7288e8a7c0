/*
 * timefmt.c - RFC 3339 / epoch-ms timestamps and durations, text <-> milliseconds.
 * Owns nothing; calls only libc. Used by config, options, mapping, score and the CLI.
 * The replay parses about a million timestamps per second per core, so parsing is a
 * hand-written scanner with a days-from-civil formula: no mktime/timegm, no locale, no alloc.
 */
#include "base/timefmt.h"

#include <stdbool.h>
#include <stdio.h>

#define MS_PER_DAY 86400000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void timefmt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool timefmt_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned timefmt_days_in_month(int y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && timefmt_is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly n decimal digits at s[*i]; advances *i. */
static bool timefmt_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool timefmt_expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/* Fraction after '.': at least one digit; the first three are kept, the rest truncated. */
static bool timefmt_fraction(const char *s, size_t len, size_t *i, int *ms)
{
    int v = 0, n = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (n < 3)
            v = v * 10 + (s[*i] - '0');
        n++;
        (*i)++;
    }
    if (n == 0)
        return false;
    for (int k = n; k < 3; k++)
        v *= 10;
    *ms = v;
    return true;
}

/* "Z", "z" or "+HH:MM" / "-HH:MM" into an offset in minutes east of UTC. */
static bool timefmt_offset(const char *s, size_t len, size_t *i, int *off_min)
{
    if (*i >= len)
        return false;
    char c = s[*i];
    if (c == 'Z' || c == 'z') {
        (*i)++;
        *off_min = 0;
        return true;
    }
    if (c != '+' && c != '-')
        return false;
    (*i)++;
    int hh, mm;
    if (!timefmt_digits(s, len, i, 2, &hh) || !timefmt_expect(s, len, i, ':') ||
        !timefmt_digits(s, len, i, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *off_min = (c == '+' ? 1 : -1) * (hh * 60 + mm);
    return true;
}

int time_parse_rfc3339(const char *s, size_t len, int64_t *out_ms)
{
    size_t i = 0;
    int y, mo, d, h, mi, sec, ms = 0, off = 0;
    if (!s || !timefmt_digits(s, len, &i, 4, &y) || !timefmt_expect(s, len, &i, '-') ||
        !timefmt_digits(s, len, &i, 2, &mo) || !timefmt_expect(s, len, &i, '-') ||
        !timefmt_digits(s, len, &i, 2, &d))
        return -1;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return -1;
    i++;
    if (!timefmt_digits(s, len, &i, 2, &h) || !timefmt_expect(s, len, &i, ':') ||
        !timefmt_digits(s, len, &i, 2, &mi) || !timefmt_expect(s, len, &i, ':') ||
        !timefmt_digits(s, len, &i, 2, &sec))
        return -1;
    if (i < len && s[i] == '.') {
        i++;
        if (!timefmt_fraction(s, len, &i, &ms))
            return -1;
    }
    if (!timefmt_offset(s, len, &i, &off) || i != len)
        return -1;
    /* Leap seconds (:60) are refused: event times must map to one instant. */
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > timefmt_days_in_month(y, (unsigned)mo) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    int64_t days = timefmt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

/* An optionally negative decimal integer filling the whole text, overflow checked. */
static int timefmt_parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len)
        return -1;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (lim - dgt) / 10)
            return -1;
        v = v * 10 + dgt;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int time_parse(const char *s, size_t len, int64_t *out_ms)
{
    if (!s || len == 0)
        return -1;
    /* An RFC 3339 text always has '-' at index 4; an epoch integer never does. */
    if (len >= 5 && s[4] == '-')
        return time_parse_rfc3339(s, len, out_ms);
    return timefmt_parse_int64(s, len, out_ms);
}

void time_format_rfc3339(int64_t ms, char *buf, size_t buflen)
{
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    timefmt_civil_from_days(days, &y, &m, &d);
    int msec = (int)(rem % 1000);
    int64_t s = rem / 1000;
    snprintf(buf, buflen, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60), msec);
}

static const struct {
    const char *unit;
    int64_t ms;
} timefmt_units[] = {{"w", 604800000LL}, {"d", 86400000LL}, {"h", 3600000LL},
                     {"m", 60000LL},     {"s", 1000LL},     {"ms", 1LL}};
#define TIMEFMT_NUNITS (sizeof timefmt_units / sizeof timefmt_units[0])

int duration_parse(const char *s, int64_t *out_ms)
{
    if (!s)
        return -1;
    size_t i = 0;
    int64_t v = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        int dgt = s[i] - '0';
        if (v > (INT64_MAX - dgt) / 10)
            return -1;
        v = v * 10 + dgt;
        i++;
    }
    if (i == 0)
        return -1; /* no digits (also refuses a sign or leading space) */
    const char *unit = s + i;
    for (size_t u = 0; u < TIMEFMT_NUNITS; u++) {
        const char *a = timefmt_units[u].unit;
        size_t k = 0;
        while (a[k] && unit[k] == a[k])
            k++;
        if (a[k] || unit[k])
            continue;
        if (v > INT64_MAX / timefmt_units[u].ms)
            return -1;
        *out_ms = v * timefmt_units[u].ms;
        return 0;
    }
    return -1; /* a bare number or an unknown unit: units are never guessed */
}

void duration_format(int64_t ms, char *buf, size_t buflen)
{
    if (ms == 0) {
        snprintf(buf, buflen, "0s");
        return;
    }
    for (size_t u = 0; u < TIMEFMT_NUNITS; u++) {
        if (ms % timefmt_units[u].ms == 0) {
            snprintf(buf, buflen, "%lld%s", (long long)(ms / timefmt_units[u].ms),
                     timefmt_units[u].unit);
            return;
        }
    }
}
