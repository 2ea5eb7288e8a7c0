/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_map.c - the mock host's map_json: a small reader of sigflow's canonical event
 * shape {"entity":"c1","type":"login","time":1700000000000,"value":2,...}, where "time" is
 * epoch ms or "YYYY-MM-DDTHH:MM:SS[.mmm]Z" and every other key is kept as attrs. Enough JSON
 * for tests (nested values are kept as raw text), no library. Calls sf_mock_host.c helpers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX_DEPTH 16

typedef struct map_cursor {
    const char *s;
    size_t len, pos;
    char err[160];
} map_cursor;

static bool map_fail(map_cursor *c, const char *what)
{
    if (!c->err[0])
        snprintf(c->err, sizeof c->err, "col %zu: %s", c->pos + 1, what);
    return false;
}

static void map_ws(map_cursor *c)
{
    while (c->pos < c->len && strchr(" \t\r\n", c->s[c->pos]) && c->s[c->pos])
        c->pos++;
}

static bool map_peek(map_cursor *c, char ch)
{
    map_ws(c);
    return c->pos < c->len && c->s[c->pos] == ch;
}

/* A string at the cursor; decoded into out (NUL-terminated, truncated to cap) if out. */
static bool map_string(map_cursor *c, char *out, size_t cap)
{
    size_t n = 0;
    if (!map_peek(c, '"'))
        return map_fail(c, "expected a string");
    c->pos++;
    while (c->pos < c->len && c->s[c->pos] != '"') {
        char ch = c->s[c->pos++];
        if ((unsigned char)ch < 0x20)
            return map_fail(c, "control character in string");
        if (ch == '\\') {
            if (c->pos >= c->len)
                break;
            char e = c->s[c->pos++];
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *k = strchr(from, e);
            if (e == 'u') {
                if (c->pos + 4 > c->len)
                    return map_fail(c, "bad \\u escape");
                c->pos += 4;
                ch = '?'; /* the mock does not decode code points */
            } else if (k && e) {
                ch = to[k - from];
            } else {
                return map_fail(c, "bad escape");
            }
        }
        if (out && n + 1 < cap)
            out[n++] = ch;
    }
    if (c->pos >= c->len)
        return map_fail(c, "unterminated string");
    c->pos++;
    if (out)
        out[n] = '\0';
    return true;
}

static bool map_skip_value(map_cursor *c, int depth);

static bool map_skip_container(map_cursor *c, int depth, char close)
{
    if (depth >= MAP_MAX_DEPTH)
        return map_fail(c, "nested too deep");
    c->pos++;
    if (map_peek(c, close)) {
        c->pos++;
        return true;
    }
    for (;;) {
        if (close == '}') {
            if (!map_string(c, NULL, 0))
                return false;
            if (!map_peek(c, ':'))
                return map_fail(c, "expected ':'");
            c->pos++;
        }
        if (!map_skip_value(c, depth + 1))
            return false;
        if (map_peek(c, ',')) {
            c->pos++;
            continue;
        }
        if (map_peek(c, close)) {
            c->pos++;
            return true;
        }
        return map_fail(c, "expected ',' or the end of a container");
    }
}

static bool map_skip_value(map_cursor *c, int depth)
{
    map_ws(c);
    if (c->pos >= c->len)
        return map_fail(c, "unexpected end of input");
    char ch = c->s[c->pos];
    if (ch == '"')
        return map_string(c, NULL, 0);
    if (ch == '{')
        return map_skip_container(c, depth, '}');
    if (ch == '[')
        return map_skip_container(c, depth, ']');
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t wl = strlen(words[i]);
        if (c->len - c->pos >= wl && memcmp(c->s + c->pos, words[i], wl) == 0) {
            c->pos += wl;
            return true;
        }
    }
    char buf[64];
    size_t n = 0;
    while (c->pos + n < c->len && n + 1 < sizeof buf && strchr("+-.eE0123456789", c->s[c->pos + n]))
        n++;
    memcpy(buf, c->s + c->pos, n);
    buf[n] = '\0';
    char *end = NULL;
    strtod(buf, &end);
    if (n == 0 || end != buf + n)
        return map_fail(c, "unexpected character");
    c->pos += n;
    return true;
}

static int64_t map_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool map_parse_time_text(const char *t, int64_t *ms)
{
    int y, mo, d, h, mi, s, frac = 0, n = 0;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
        return false;
    const char *p = t + n;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (strcmp(p, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    *ms = ((map_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + frac;
    return true;
}

typedef struct map_doc {
    char entity[SF_MOCK_MAX_ENTITY + 2];
    char type[SF_MOCK_MAX_TYPE + 2];
    bool has_entity, has_type, has_time, has_value;
    int64_t time_ms;
    double value;
    char *attrs; /* "{...}" being built */
    size_t attrs_len;
} map_doc;

static void map_attr_append(map_doc *d, const char *s, size_t n)
{
    d->attrs = sf_mock_xrealloc(d->attrs, d->attrs_len + n + 2);
    memcpy(d->attrs + d->attrs_len, s, n);
    d->attrs_len += n;
    d->attrs[d->attrs_len] = '\0';
}

/* One member whose key starts at the cursor. */
static bool map_member(map_cursor *c, map_doc *d)
{
    size_t key_start = c->pos;
    char key[64];
    if (!map_string(c, key, sizeof key))
        return false;
    size_t key_end = c->pos;
    if (!map_peek(c, ':'))
        return map_fail(c, "expected ':'");
    c->pos++;
    map_ws(c);
    size_t val_start = c->pos;
    if (strcmp(key, "entity") == 0 || strcmp(key, "type") == 0) {
        bool ent = key[0] == 'e';
        if (!map_peek(c, '"'))
            return map_fail(c, ent ? "entity must be a string" : "type must be a string");
        if (!map_string(c, ent ? d->entity : d->type, ent ? sizeof d->entity : sizeof d->type))
            return map_fail(c, ent ? "entity must be a string" : "type must be a string");
        *(ent ? &d->has_entity : &d->has_type) = true;
        return true;
    }
    if (!map_skip_value(c, 1))
        return false;
    char val[64];
    size_t vl = c->pos - val_start;
    const char *v = c->s + val_start;
    if (strcmp(key, "time") == 0 || strcmp(key, "value") == 0) {
        if (vl >= sizeof val)
            return map_fail(c, "value too long");
        memcpy(val, v, vl);
        val[vl] = '\0';
        char *end = NULL;
        if (key[0] == 'v') {
            if (strcmp(val, "null") == 0)
                return true;
            d->value = strtod(val, &end);
            d->has_value = end && *end == '\0' && vl > 0 && val[0] != '"';
            return d->has_value || map_fail(c, "value must be a number");
        }
        if (val[0] == '"') {
            val[vl - 1] = '\0';
            d->has_time = map_parse_time_text(val + 1, &d->time_ms);
        } else {
            d->time_ms = strtoll(val, &end, 10);
            d->has_time = end && *end == '\0';
        }
        return d->has_time || map_fail(c, "time must be epoch ms or an RFC 3339 UTC time");
    }
    if (d->attrs_len > 1)
        map_attr_append(d, ",", 1);
    map_attr_append(d, c->s + key_start, key_end - key_start);
    map_attr_append(d, ":", 1);
    map_attr_append(d, v, vl);
    return true;
}

static bool map_document(map_cursor *c, map_doc *d)
{
    if (!map_peek(c, '{'))
        return map_fail(c, "expected a JSON object");
    c->pos++;
    if (!map_peek(c, '}')) {
        for (;;) {
            if (!map_member(c, d))
                return false;
            if (map_peek(c, ',')) {
                c->pos++;
                continue;
            }
            if (map_peek(c, '}'))
                break;
            return map_fail(c, "expected ',' or '}'");
        }
    }
    c->pos++;
    map_ws(c);
    if (c->pos != c->len)
        return map_fail(c, "trailing characters after the object");
    if (!d->has_entity)
        return map_fail(c, "missing entity");
    if (!d->has_type)
        return map_fail(c, "missing type");
    if (!d->has_time)
        return map_fail(c, "missing time");
    return true;
}

sf_status sf_mock_map_canonical(sf_instance *inst, const char *json, size_t len, sf_event **out)
{
    map_cursor c = {.s = json, .len = len};
    map_doc d = {0};
    sf_status st = SF_EINVAL;
    map_attr_append(&d, "{", 1);
    if (len > SF_MOCK_MAX_DOC) {
        sf_mock_error(inst, "document longer than %d bytes", SF_MOCK_MAX_DOC);
        goto done;
    }
    if (!map_document(&c, &d)) {
        sf_mock_error(inst, "%s", c.err);
        goto done;
    }
    sf_event *ev = sf_mock_event_make(inst, d.entity, d.type, d.time_ms);
    if (!ev)
        goto done; /* event_make set the error */
    ev->e.has_value = d.has_value;
    ev->e.value = d.value;
    if (d.attrs_len > 1) {
        map_attr_append(&d, "}", 1);
        free(ev->e.attrs_json);
        ev->e.attrs_json = sf_mock_xstrndup(d.attrs, d.attrs_len);
    }
    *out = ev;
    st = SF_OK;
done:
    free(d.attrs);
    return st;
}
