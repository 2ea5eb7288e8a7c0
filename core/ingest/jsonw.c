/*
 * jsonw.c - JSON text from json-c values without building a json_object. The output matches
 * json-c 0.16's JSON_C_TO_STRING_PLAIN byte for byte (attrs text did not change when mapping
 * stopped building an attrs object): `"` `\` `/` and \b \f \n \r \t escaped by name, other
 * bytes below 0x20 as \u00XX (lowercase hex), every other byte (UTF-8 included) as it is.
 */
#include "ingest/jsonw.h"

#include <json.h>
#include <stdint.h>
#include <string.h>

void jsonw_init(jsonw *w, char *buf, size_t cap)
{
    *w = (jsonw){.buf = buf, .cap = cap};
}

void jsonw_raw(jsonw *w, const char *s, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* 0: copied as is; else the letter after the backslash, or 'u' for \u00XX. */
static const char jsonw_escape[256] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f',  ['\r'] = 'r', [0x00] = 'u',
    [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',  [0x05] = 'u', [0x06] = 'u',
    [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',  [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',  [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',
};

void jsonw_string(jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jsonw_raw(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = jsonw_escape[c];
        if (!e)
            continue;
        jsonw_raw(w, s + start, i - start);
        start = i + 1;
        if (e == 'u') {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            jsonw_raw(w, u, sizeof u);
        } else {
            char b[2] = {'\\', e};
            jsonw_raw(w, b, sizeof b);
        }
    }
    jsonw_raw(w, s + start, n - start);
    jsonw_raw(w, "\"", 1);
}

void jsonw_key(jsonw *w, const char *key, size_t n)
{
    jsonw_string(w, key, n);
    jsonw_raw(w, ":", 1);
}

static void jsonw_u64(jsonw *w, uint64_t v, bool negative)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        d[--i] = '-';
    jsonw_raw(w, d + i, sizeof d - i);
}

/*
 * json-c keeps a number's source text as the double's userdata and prints that; for a double
 * it made otherwise (NaN, Infinity never reach here: mapping refuses them first) json-c prints
 * it itself. The character check keeps any other userdata away from the output.
 */
static bool jsonw_source_text(const char *s, size_t *n)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i] && i < 64; i++)
        if (!strchr("0123456789+-.eE", s[i]))
            return false;
    *n = i;
    return i > 0 && !s[i];
}

static sf_status jsonw_by_json_c(jsonw *w, struct json_object *v)
{
    size_t n = 0;
    const char *text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
    if (!text)
        return SF_ENOMEM;
    jsonw_raw(w, text, n);
    return SF_OK;
}

sf_status jsonw_value(jsonw *w, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        jsonw_raw(w, "null", 4);
        return SF_OK;
    case json_type_boolean:
        if (json_object_get_boolean(v))
            jsonw_raw(w, "true", 4);
        else
            jsonw_raw(w, "false", 5);
        return SF_OK;
    case json_type_string:
        jsonw_string(w, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        return SF_OK;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX) /* also any uint64 above it: json-c prints those unsigned */
            jsonw_u64(w, json_object_get_uint64(v), false);
        else
            jsonw_u64(w, i < 0 ? 0 - (uint64_t)i : (uint64_t)i, i < 0);
        return SF_OK;
    }
    case json_type_double: {
        const char *src = json_object_get_userdata(v);
        size_t n;
        if (!jsonw_source_text(src, &n))
            return jsonw_by_json_c(w, v);
        jsonw_raw(w, src, n);
        return SF_OK;
    }
    default: /* objects and arrays: rare in attrs, json-c prints them */
        return jsonw_by_json_c(w, v);
    }
}

bool jsonw_end(jsonw *w)
{
    if (w->len > w->cap)
        return false;
    w->buf[w->len] = '\0';
    return true;
}
