#include "poll_page.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths -------------------------------------------------------------------------------- */

void poll_path_free(poll_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->seg[i]);
    p->n = 0;
}

const char *poll_path_compile(const char *text, poll_path *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return NULL; /* the root */
    if (strlen(text) > POLL_MAX_PATH)
        return "path is longer than 256 bytes";
    const char *p = text;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0) {
            poll_path_free(out);
            return "path has an empty segment (two dots, or a dot at an end)";
        }
        if (out->n == POLL_MAX_SEGMENTS) {
            poll_path_free(out);
            return "path has more than 16 segments";
        }
        if (!(out->seg[out->n] = strndup(p, l))) {
            poll_path_free(out);
            return "out of memory";
        }
        out->n++;
        if (!dot)
            return NULL;
        p = dot + 1;
    }
}

const char *poll_cursor_compile(const char *text, poll_paging *pg)
{
    pg->cursor_src = CURSOR_NONE;
    if (!text || !*text)
        return NULL;
    const char *rest;
    if (strncmp(text, "response.", 9) == 0) {
        pg->cursor_src = CURSOR_RESPONSE;
        rest = text + 9;
    } else if (strncmp(text, "last.", 5) == 0) {
        pg->cursor_src = CURSOR_LAST;
        rest = text + 5;
    } else {
        return "cursor must be response.PATH (a field of the response) or last.PATH (a field "
               "of the page's last record)";
    }
    if (!*rest) {
        pg->cursor_src = CURSOR_NONE;
        return "cursor names no field after response. or last.";
    }
    return poll_path_compile(rest, &pg->cursor);
}

void poll_paging_free(poll_paging *pg)
{
    poll_path_free(&pg->items);
    poll_path_free(&pg->cursor);
    poll_path_free(&pg->next_url);
    poll_path_free(&pg->more);
    poll_path_free(&pg->end);
}

/* Is s a decimal array index (no sign, no leading zero but "0")? */
static bool path_index(const char *s, size_t *out)
{
    size_t v = 0, n = strlen(s);
    if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* The value at p under o; NULL when a segment is missing (or the value is JSON null). */
static json_object *path_lookup(json_object *o, const poll_path *p)
{
    for (size_t i = 0; o && i < p->n; i++) {
        size_t idx;
        if (json_object_is_type(o, json_type_object)) {
            json_object *next = NULL;
            o = json_object_object_get_ex(o, p->seg[i], &next) ? next : NULL;
        } else if (json_object_is_type(o, json_type_array) && path_index(p->seg[i], &idx)) {
            o = idx < json_object_array_length(o) ? json_object_array_get_idx(o, idx) : NULL;
        } else {
            o = NULL;
        }
    }
    return o;
}

/* ---- pages -------------------------------------------------------------------------------- */

static int page_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int page_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A cursor is a string or an integer (written in decimal); absent/null: none. */
static int read_cursor(json_object *v, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!v)
        return 0;
    const char *s;
    char num[32];
    if (json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
    } else if (json_object_is_type(v, json_type_int)) {
        snprintf(num, sizeof num, "%lld", (long long)json_object_get_int64(v));
        s = num;
    } else {
        return page_fail(err, errlen, "the cursor %s is neither a string nor an integer", "value");
    }
    if (strlen(s) > POLL_MAX_CURSOR)
        return page_fail(err, errlen, "the cursor is longer than %s bytes", "1024");
    if (!*s)
        return 0; /* an empty cursor says nothing new */
    return (*out = strdup(s)) ? 0 : page_fail(err, errlen, "%s", "out of memory");
}

static int read_next_url(json_object *v, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return page_fail(err, errlen, "next_url does not name a %s", "string");
    const char *s = json_object_get_string(v);
    if (strlen(s) > POLL_MAX_URL)
        return page_fail(err, errlen, "the next link is longer than %s bytes", "4096");
    if (!*s)
        return 0;
    return (*out = strdup(s)) ? 0 : page_fail(err, errlen, "%s", "out of memory");
}

/* `more` true, or `end` false, says another page waits. */
static void read_more(const poll_paging *pg, poll_page *out)
{
    json_object *v = NULL;
    bool invert = false;
    if (pg->has_end) {
        v = path_lookup(out->root, &pg->end);
        invert = true;
    } else if (pg->has_more) {
        v = path_lookup(out->root, &pg->more);
    }
    if (v && json_object_is_type(v, json_type_boolean)) {
        out->more_known = true;
        out->more = json_object_get_boolean(v) != invert;
    }
}

static int parse_json(const char *body, size_t len, poll_page *out, char *err, size_t errlen)
{
    if (len > POLL_MAX_BODY)
        return page_fail(err, errlen, "response body is larger than %s bytes", "16777216");
    json_tokener *tok = json_tokener_new_ex(POLL_MAX_DEPTH);
    if (!tok)
        return page_fail(err, errlen, "%s", "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    out->root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t at = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!out->root || e != json_tokener_success) {
        char why[160];
        snprintf(why, sizeof why, "%s at byte %zu",
                 e == json_tokener_continue ? "truncated JSON" : json_tokener_error_desc(e), at);
        json_object_put(out->root);
        out->root = NULL;
        return page_fail(err, errlen, "response is not JSON: %s", why);
    }
    for (size_t i = at; i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
            return page_fail(err, errlen, "response has text after the JSON %s", "value");
    return 0;
}

int poll_page_parse(const char *body, size_t len, const poll_paging *pg, poll_page *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (parse_json(body, len, out, err, errlen) != 0)
        goto bad;
    out->items = path_lookup(out->root, &pg->items);
    if (!out->items || !json_object_is_type(out->items, json_type_array)) {
        page_fail(err, errlen, "no array of records at %s",
                  pg->items.n ? "the `items` path" : "the top (the body is not an array)");
        goto bad;
    }
    out->n_items = json_object_array_length(out->items);
    if (out->n_items > POLL_MAX_ITEMS) {
        page_fail(err, errlen, "a page holds more than %s records", "10000");
        goto bad;
    }
    json_object *c = NULL;
    if (pg->cursor_src == CURSOR_RESPONSE)
        c = path_lookup(out->root, &pg->cursor);
    else if (pg->cursor_src == CURSOR_LAST && out->n_items > 0)
        c = path_lookup(json_object_array_get_idx(out->items, out->n_items - 1), &pg->cursor);
    if (read_cursor(c, &out->cursor, err, errlen) != 0)
        goto bad;
    if (pg->has_next_url &&
        read_next_url(path_lookup(out->root, &pg->next_url), &out->next_url, err, errlen) != 0)
        goto bad;
    read_more(pg, out);
    return 0;
bad:
    poll_page_free(out);
    return -1;
}

const char *poll_page_item_json(const poll_page *p, size_t i, size_t *len)
{
    json_object *o = json_object_array_get_idx(p->items, i);
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, len);
    return s ? s : (*len = 4, "null");
}

void poll_page_free(poll_page *p)
{
    json_object_put(p->root);
    free(p->cursor);
    free(p->next_url);
    memset(p, 0, sizeof *p);
}
