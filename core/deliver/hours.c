/*
 * hours.c - windows as (weekday set, start, end) in local seconds; the next opening is
 * found by walking local days forward and mapping each candidate back to UTC through tz.
 */
#include "deliver/hours.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int day_index(const char *s, size_t n)
{
    for (int i = 0; i < 7; i++)
        if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
            return i;
    return -1;
}

bool hours_parse_clock(const char *t, int32_t *out)
{
    unsigned h, m;
    int n = 0;
    if (sscanf(t, "%2u:%2u%n", &h, &m, &n) != 2 || t[n] || n != 5 || m > 59 || h * 60 + m > 24 * 60)
        return false;
    *out = (int32_t)(h * 3600 + m * 60);
    return true;
}

/* "Mon-Fri", "Sat", "Mon-Sun", "daily" into a weekday mask; 0 when not one. */
static uint8_t parse_days(const char *s, size_t n)
{
    if (n == 5 && strncasecmp(s, "daily", 5) == 0)
        return 0x7f;
    const char *dash = memchr(s, '-', n);
    int a = day_index(s, dash ? (size_t)(dash - s) : n);
    int b = dash ? day_index(dash + 1, n - (size_t)(dash + 1 - s)) : a;
    if (a < 0 || b < 0)
        return 0;
    uint8_t mask = 0;
    for (int d = a;; d = (d + 1) % 7) { /* Fri-Mon wraps over the weekend */
        mask |= (uint8_t)(1u << d);
        if (d == b)
            break;
    }
    return mask;
}

static bool parse_rule(const char *s, size_t n, hours_rule *r, char *err, size_t errlen)
{
    char buf[64];
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= sizeof buf)
        goto bad;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *sp = strchr(buf, ' ');
    if (!sp)
        goto bad;
    *sp = '\0';
    char *times = sp + 1;
    while (*times == ' ')
        times++;
    char *dash = strchr(times, '-');
    if (!(r->days = parse_days(buf, strlen(buf))) || !dash)
        goto bad;
    *dash = '\0';
    if (!hours_parse_clock(times, &r->start) || !hours_parse_clock(dash + 1, &r->end))
        goto bad;
    if (r->end <= r->start) {
        snprintf(err, errlen,
                 "`%.*s`: the window must end after it starts (split a window "
                 "over midnight in two: Fri 22:00-24:00, Sat 00:00-06:00)",
                 (int)n, s);
        return false;
    }
    return true;
bad:
    snprintf(err, errlen, "`%.*s` is not DAYS HH:MM-HH:MM (e.g. Mon-Fri 09:00-18:00)", (int)n, s);
    return false;
}

bool hours_parse(const char *text, hours *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    for (const char *s = text; s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (h->n == HOURS_MAX_RULES) {
            snprintf(err, errlen, "more than %d windows", HOURS_MAX_RULES);
            return false;
        }
        if (!parse_rule(s, n, &h->rules[h->n++], err, errlen))
            return false;
        s = comma ? comma + 1 : NULL;
    }
    return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

bool hours_inside(const hours *h, const tz *z, int64_t utc_ms)
{
    int64_t t = floor_div(utc_ms, 1000);
    int64_t local = t + tz_offset(z, t);
    int64_t day = floor_div(local, 86400);
    int32_t sec = (int32_t)(local - day * 86400);
    int wd = tz_weekday(day);
    for (size_t i = 0; i < h->n; i++)
        if ((h->rules[i].days & (1u << wd)) && sec >= h->rules[i].start && sec < h->rules[i].end)
            return true;
    return false;
}

int64_t hours_next_open(const hours *h, const tz *z, int64_t utc_ms)
{
    if (hours_inside(h, z, utc_ms))
        return utc_ms;
    int64_t t = floor_div(utc_ms, 1000);
    int64_t local = t + tz_offset(z, t);
    int64_t today = floor_div(local, 86400);
    for (int64_t d = today; d <= today + 8; d++) {
        int64_t best = -1;
        for (size_t i = 0; i < h->n; i++) {
            const hours_rule *r = &h->rules[i];
            int64_t open_local = d * 86400 + r->start;
            if (!(r->days & (1u << tz_weekday(d))) || open_local <= local)
                continue;
            int64_t u = tz_local_to_utc(z, open_local);
            if (u > t && (best < 0 || u < best))
                best = u;
        }
        if (best >= 0)
            return best * 1000;
    }
    return -1;
}

int64_t hours_next_slot(const tz *z, int64_t every_ms, int32_t at_s, int64_t utc_ms)
{
    int64_t t = floor_div(utc_ms, 1000);
    int64_t local = t + tz_offset(z, t);
    int64_t step = every_ms / 1000 > 0 ? every_ms / 1000 : 1;
    int64_t base;
    if (step % 86400 == 0)
        base = floor_div(floor_div(local, 86400) * 86400, step) * step + at_s;
    else
        base = floor_div(local, 86400) * 86400 + at_s % step;
    /* Step back far enough to not miss a slot, then forward to the first one after t. */
    for (int64_t cand = base - 2 * step;; cand += step) {
        int64_t u = tz_local_to_utc(z, cand);
        if (u > t)
            return u * 1000;
    }
}
