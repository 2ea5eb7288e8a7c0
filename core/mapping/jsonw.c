/*
 * jsonw.c - JSON text from json-c values without building a json_object. Strings are written
 * by json_quote (core/base/json_quote.h), and what json-c prints (nested values, numbers it
 * did not parse from text) with the same escaping, so a document is one escaping throughout.
 */
#include "mapping/jsonw.h"

#include "base/json_quote.h"

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

static void jsonw_put(void *w, const char *s, size_t n)
{
    jsonw_raw(w, s, n);
}

void jsonw_string(jsonw *w, const char *s, size_t n)
{
    json_quote(jsonw_put, w, s, n);
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
    const char *text = json_object_to_json_string_length(v, JSON_QUOTE_JSONC_FLAGS, &n);
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
