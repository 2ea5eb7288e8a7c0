/*
 * tz.c - TZif (RFC 8536) reading: the 64-bit data block of a version 2+ file and its footer
 * rule ("CET-1CEST,M3.5.0,M10.5.0/3"); version 1 files use their 32-bit block.
 */
#include "deliver/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

#define TZ_FILE_MAX (256 * 1024) /* no real zone file is near this */

/* One POSIX TZ rule: Mm.w.d/time for the start and end of DST. */
typedef struct tz_rule_date {
    unsigned month, week, wday;
    int32_t time_s; /* local time of day the change happens (may be < 0 or > 24h) */
} tz_rule_date;

typedef struct tz_rule {
    bool valid, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    tz_rule_date start, end;
} tz_rule;

struct tz {
    char name[SIGFLOW_MAX_TZ_NAME_LEN + 1];
    int64_t *trans; /* transition instants, ascending */
    uint8_t *idx;   /* type index per transition */
    int32_t *type_off;
    size_t n_trans, n_types;
    tz_rule rule; /* for instants after the last transition */
};

const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

void tz_free(tz *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->idx);
    free(z->type_off);
    free(z);
}

const char *tz_name(const tz *z)
{
    return z->name;
}

/* ---- civil dates (Howard Hinnant's algorithms) ---- */

int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int tz_weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 4) % 7);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- the footer rule ---- */

/* A zone abbreviation: letters, or <...>. */
static const char *rule_name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e ? e + 1 : NULL;
    }
    const char *b = s;
    while (isalpha((unsigned char)*s))
        s++;
    return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static const char *rule_hms(const char *s, int32_t *out)
{
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s))
        return NULL;
    long part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        char *end = NULL;
        part[i] = strtol(s, &end, 10);
        s = end;
        if (*s != ':' || i == 2)
            break;
        s++;
    }
    if (part[0] > 167 || part[1] > 59 || part[2] > 59)
        return NULL;
    *out = (int32_t)(sign * (part[0] * 3600 + part[1] * 60 + part[2]));
    return s;
}

static const char *rule_date(const char *s, tz_rule_date *d)
{
    unsigned m, w, wd;
    int n = 0;
    if (sscanf(s, "M%u.%u.%u%n", &m, &w, &wd, &n) != 3 || m < 1 || m > 12 || w < 1 || w > 5 ||
        wd > 6)
        return NULL; /* Jn and n forms: no zone in use needs them */
    d->month = m, d->week = w, d->wday = wd, d->time_s = 7200;
    s += n;
    if (*s == '/')
        s = rule_hms(s + 1, &d->time_s);
    return s;
}

static void rule_parse(const char *s, tz_rule *r)
{
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!(s = rule_name(s)) || !(s = rule_hms(s, &off)))
        return;
    r->std_off = -off; /* POSIX counts west of UTC */
    r->valid = true;
    if (!*s)
        return;
    const char *after = rule_name(s);
    if (!after)
        goto bad;
    s = after;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = rule_hms(s, &off)))
            goto bad;
        r->dst_off = -off;
    }
    if (*s++ != ',' || !(s = rule_date(s, &r->start)) || *s++ != ',' ||
        !(s = rule_date(s, &r->end)) || *s)
        goto bad;
    r->has_dst = true;
    return;
bad:
    r->valid = false;
}

/* The UTC instant a rule date happens in year y; `off` is the offset in force before it. */
static int64_t rule_instant(const tz_rule_date *d, int64_t y, int32_t off)
{
    int64_t first = tz_days_from_civil(y, d->month, 1);
    int64_t day = first + ((int)d->wday - tz_weekday(first) + 7) % 7 + 7 * (d->week - 1);
    unsigned nm = d->month == 12 ? 1 : d->month + 1;
    int64_t next_month = tz_days_from_civil(d->month == 12 ? y + 1 : y, nm, 1);
    while (day >= next_month)
        day -= 7; /* week 5: the last such weekday */
    return day * 86400 + d->time_s - off;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    unsigned m, d;
    tz_civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
    int64_t start = rule_instant(&r->start, y, r->std_off);
    int64_t end = rule_instant(&r->end, y, r->dst_off);
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

int32_t tz_offset(const tz *z, int64_t t)
{
    if (z->n_trans == 0 || t < z->trans[0]) {
        if (z->n_trans == 0 && z->rule.valid)
            return rule_offset(&z->rule, t);
        return z->n_types ? z->type_off[0] : 0;
    }
    if (t >= z->trans[z->n_trans - 1] && z->rule.valid)
        return rule_offset(&z->rule, t);
    size_t lo = 0, hi = z->n_trans; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->type_off[z->idx[lo]];
}

int64_t tz_local_to_utc(const tz *z, int64_t local_s)
{
    /* The offsets a day either side bracket any single transition near local_s. */
    int32_t o1 = tz_offset(z, local_s - 86400), o2 = tz_offset(z, local_s + 86400);
    int32_t hi = o1 > o2 ? o1 : o2, lo = o1 > o2 ? o2 : o1;
    if (local_s - hi + tz_offset(z, local_s - hi) == local_s)
        return local_s - hi; /* the earlier of a repeated hour, or the only match */
    if (local_s - lo + tz_offset(z, local_s - lo) == local_s)
        return local_s - lo;
    int64_t a = local_s - hi, b = local_s - lo; /* a gap: the first instant at or after it */
    while (b - a > 1) {
        int64_t mid = a + (b - a) / 2;
        if (mid + tz_offset(z, mid) >= local_s)
            b = mid;
        else
            a = mid;
    }
    return b;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool tzif_header(const unsigned char *p, size_t n, tzif_counts *c)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    c->isut = be32(p + 20), c->isstd = be32(p + 24), c->leap = be32(p + 28);
    c->time = be32(p + 32), c->type = be32(p + 36), c->chars = be32(p + 40);
    return c->type >= 1 && c->type <= 256 && c->time <= 10000 && c->leap <= 1000 &&
           c->chars <= 1000 && c->isut <= c->type && c->isstd <= c->type;
}

static size_t tzif_block(const tzif_counts *c, size_t tsize)
{
    return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) + c->isstd +
           c->isut;
}

static bool tzif_parse(tz *z, const unsigned char *p, size_t n)
{
    tzif_counts c;
    if (!tzif_header(p, n, &c))
        return false;
    size_t tsize = 4, off = 44;
    if (p[4] >= '2') { /* skip the 32-bit block for the 64-bit one */
        off += tzif_block(&c, 4);
        if (off > n || !tzif_header(p + off, n - off, &c))
            return false;
        off += 44, tsize = 8;
    }
    size_t end = off + tzif_block(&c, tsize);
    if (end > n)
        return false;
    z->n_trans = c.time, z->n_types = c.type;
    z->trans = calloc(c.time ? c.time : 1, sizeof *z->trans);
    z->idx = calloc(c.time ? c.time : 1, 1);
    z->type_off = calloc(c.type, sizeof *z->type_off);
    if (!z->trans || !z->idx || !z->type_off)
        return false;
    const unsigned char *q = p + off;
    for (size_t i = 0; i < c.time; i++, q += tsize)
        z->trans[i] = tsize == 8 ? be64(q) : (int32_t)be32(q);
    for (size_t i = 0; i < c.time; i++, q++)
        if ((z->idx[i] = *q) >= c.type)
            return false;
    for (size_t i = 0; i < c.type; i++, q += 6)
        z->type_off[i] = (int32_t)be32(q);
    if (tsize == 8 && end < n && p[end] == '\n') { /* footer: \nRULE\n */
        const char *f = (const char *)p + end + 1;
        const char *nl = memchr(f, '\n', n - end - 1);
        char rule[128];
        if (nl && (size_t)(nl - f) < sizeof rule) {
            memcpy(rule, f, (size_t)(nl - f));
            rule[nl - f] = '\0';
            rule_parse(rule, &z->rule);
        }
    }
    return true;
}

/* A zone name: letters, digits, _ + - and single slashes between parts; never "..". */
static bool tz_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SIGFLOW_MAX_TZ_NAME_LEN || name[0] == '/' || strstr(name, "..") ||
        strstr(name, "//"))
        return false;
    for (const char *s = name; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_+-/", *s))
            return false;
    return true;
}

static unsigned char *tz_read(const char *path, size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = malloc(TZ_FILE_MAX);
    *n = buf ? fread(buf, 1, TZ_FILE_MAX, f) : 0;
    if (buf && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf && !*err)
        snprintf(err, errlen, "out of memory");
    return buf;
}

tz *tz_load(const char *name, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!name || !tz_name_ok(name)) {
        snprintf(err, errlen, "`%.80s` is not a time zone name (e.g. Europe/Berlin)",
                 name ? name : "");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", tz_dir(), name);
    size_t n = 0;
    unsigned char *buf = tz_read(path, &n, err, errlen);
    if (!buf) {
        char why[SIGFLOW_MAX_ERROR_LEN];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "unknown time zone `%s` (%s)", name, why);
        return NULL;
    }
    tz *z = calloc(1, sizeof *z);
    bool ok = z && tzif_parse(z, buf, n);
    free(buf);
    if (!ok) {
        snprintf(err, errlen, "%s is not a readable TZif zone file", path);
        tz_free(z);
        return NULL;
    }
    snprintf(z->name, sizeof z->name, "%s", name);
    return z;
}
