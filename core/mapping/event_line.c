/*
 * event_line.c - the canonical event line read in one pass, no tree, no allocation (see
 * event_line.h for the subset and the promise). Each decline below names what the general
 * path would do differently or must word as an error; when in doubt, decline.
 */
#include "mapping/event_line.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "mapping/jsonw.h"
#include "mapping/utf8.h"

#define EL_MAX_KEYS 32       /* attrs keys of one line; more: declined (the general path) */
#define EL_MAX_NUMBER 63     /* bytes of a number's text: jsonw prints the source below 64 */
#define EL_MAX_INT_DIGITS 18 /* always an int64, never json-c's uint64 or overflow handling */

enum {
    EL_STRING = EVENT_LINE_STRING,
    EL_INT = EVENT_LINE_INT,
    EL_DOUBLE = EVENT_LINE_DOUBLE,
    EL_TRUE = EVENT_LINE_TRUE,
    EL_FALSE = EVENT_LINE_FALSE,
    EL_NULL = EVENT_LINE_NULL
};

typedef event_line_value el_val;

static bool el_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *el_skip(const char *p, const char *end)
{
    while (p < end && el_ws(*p))
        p++;
    return p;
}

static bool el_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A run of one or more digits at p: the byte after it, or NULL when p holds no digit. */
static const char *el_digits(const char *p, const char *end)
{
    if (!el_digit(p, end))
        return NULL;
    while (el_digit(p, end))
        p++;
    return p;
}

/*
 * p at the opening quote. Declined: an escape (the general path decodes them), a control
 * byte (not JSON), invalid UTF-8 (an error there), no closing quote.
 */
/* A word with a byte that needs a look: '"', '\\', below 0x20 or 0x80 and above. */
static bool el_word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t zero = ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash); /* a 0 byte */
    uint64_t low = (w - ones * 0x20) & ~w;                                   /* below 0x20 */
    return ((zero | low) & highs) || (w & highs);
}

static const char *el_string(const char *p, const char *end, const char **s, size_t *n)
{
    const char *start = ++p;
    unsigned char high = 0;
    /* eight plain bytes at a time (printable ASCII: most of a line), then byte by byte */
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (el_word_special(w))
            break;
        p += 8;
    }
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *s = start;
            *n = (size_t)(p - start);
            if ((high & 0x80) && utf8_invalid_at(start, *n) != *n)
                return NULL;
            return p + 1;
        }
        if (c == '\\' || c < 0x20)
            return NULL;
        high |= c;
    }
    return NULL;
}

/*
 * RFC 8259 §6 numbers only. "-0" is declined (json-c may keep it as a double or print it as
 * 0), so are integers of more than 18 digits and numbers whose text is 64 bytes or more, and
 * doubles that are not finite (an error there). Doubles are read by strtod, as json-c reads
 * them; the text is kept for attrs, which print a parsed number's source text.
 */
static const char *el_number(const char *p, const char *end, el_val *v)
{
    const char *start = p;
    if (p < end && *p == '-')
        p++;
    if (!el_digit(p, end))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (el_digit(p, end))
            p++;
    size_t int_digits = (size_t)(p - start) - (*start == '-');
    v->kind = EL_INT;
    if (p < end && *p == '.') {
        if (!(p = el_digits(p + 1, end)))
            return NULL;
        v->kind = EL_DOUBLE;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!(p = el_digits(p, end)))
            return NULL;
        v->kind = EL_DOUBLE;
    }
    v->p = start;
    v->n = (size_t)(p - start);
    if (v->n > EL_MAX_NUMBER)
        return NULL;
    if (v->kind == EL_INT) {
        bool neg = *start == '-';
        if (int_digits > EL_MAX_INT_DIGITS || (neg && v->n == 2 && start[1] == '0'))
            return NULL;
        /* at most 18 digits: no overflow, the value strtoll gives */
        int64_t i = 0;
        for (const char *d = start + neg; d < p; d++)
            i = i * 10 + (*d - '0');
        v->i = neg ? -i : i;
        v->d = (double)v->i;
        return p;
    }
    char text[EL_MAX_NUMBER + 1];
    memcpy(text, start, v->n);
    text[v->n] = '\0';
    v->d = strtod(text, NULL);
    return isfinite(v->d) ? p : NULL;
}

static const char *el_literal(const char *p, const char *end, el_val *v)
{
    static const struct {
        const char *text;
        size_t n;
        int kind;
    } lits[] = {{"true", 4, EL_TRUE}, {"false", 5, EL_FALSE}, {"null", 4, EL_NULL}};
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        if ((size_t)(end - p) >= lits[i].n && memcmp(p, lits[i].text, lits[i].n) == 0) {
            v->kind = lits[i].kind;
            v->p = p;
            v->n = lits[i].n;
            return p + lits[i].n;
        }
    }
    return NULL;
}

/* One scalar value; objects and arrays are declined (json-c prints nested attrs itself). */
static const char *el_value(const char *p, const char *end, el_val *v)
{
    if (p == end)
        return NULL;
    if (*p == '"') {
        v->kind = EL_STRING;
        return el_string(p, end, &v->p, &v->n);
    }
    if (*p == '-' || (*p >= '0' && *p <= '9'))
        return el_number(p, end, v);
    return el_literal(p, end, v);
}

/* The canonical field a key names, or -1: the names mapping_apply_obj walks for. */
enum { EL_ENTITY, EL_TYPE, EL_TIME, EL_VALUE, EL_NFIELDS };

static int el_field(const char *k, size_t n)
{
    switch (n) {
    case 4:
        return memcmp(k, "type", 4) == 0 ? EL_TYPE : memcmp(k, "time", 4) == 0 ? EL_TIME : -1;
    case 5:
        return memcmp(k, "value", 5) == 0 ? EL_VALUE : -1;
    case 6:
        return memcmp(k, "entity", 6) == 0 ? EL_ENTITY : -1;
    default:
        return -1;
    }
}

/* A canonical field's value as the general path reads it; false where it fails or differs. */
static bool el_take(event_line *ev, int f, const el_val *v)
{
    switch (f) {
    case EL_ENTITY: /* integer entities become text there: declined here */
    case EL_TYPE:
        if (v->kind != EL_STRING || v->n == 0)
            return false;
        if (f == EL_ENTITY) {
            ev->entity = v->p;
            ev->entity_len = v->n;
        } else {
            ev->type = v->p;
            ev->type_len = v->n;
        }
        return true;
    case EL_TIME:
        if (v->kind == EL_INT) {
            ev->time_ms = v->i;
            return true;
        }
        return v->kind == EL_STRING && time_parse_rfc3339(v->p, v->n, &ev->time_ms) == 0;
    default: /* EL_VALUE: null is "no value" there too */
        if (v->kind == EL_NULL)
            return true;
        if (v->kind != EL_INT && v->kind != EL_DOUBLE)
            return false;
        ev->value = v->d;
        ev->has_value = true;
        return true;
    }
}

/* key:value into attrs, as map_attr_put writes it (strings re-quoted, numbers as their text). */
void event_line_attr(jsonw *w, const char *k, size_t kn, const el_val *v)
{
    jsonw_raw(w, w->len ? "," : "{", 1);
    jsonw_key(w, k, kn);
    if (v->kind == EL_STRING)
        jsonw_string(w, v->p, v->n);
    else
        jsonw_raw(w, v->p, v->n);
}

/* Was this attrs key seen before on the line? (json-c keeps the first place, the last value) */
static bool el_dup(const char *const keys[], const size_t lens[], size_t n, const char *k,
                   size_t kn)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] == kn && memcmp(keys[i], k, kn) == 0)
            return true;
    return false;
}

bool event_line_read(const char *s, size_t n, event_line *ev, char *attrs)
{
    const char *p = s, *end = s + n;
    const char *keys[EL_MAX_KEYS];
    size_t lens[EL_MAX_KEYS], n_keys = 0;
    unsigned seen = 0;
    jsonw w;
    jsonw_init(&w, attrs, SIGFLOW_MAX_ATTRS_LEN);
    *ev = (event_line){0};
    p = el_skip(p, end);
    if (p == end || *p != '{')
        return false;
    p = el_skip(p + 1, end);
    if (p < end && *p == '}')
        return false; /* {}: missing entity */
    for (;;) {
        const char *k;
        size_t kn;
        el_val v;
        if (p == end || *p != '"' || !(p = el_string(p, end, &k, &kn)))
            return false;
        p = el_skip(p, end);
        if (p == end || *p != ':')
            return false;
        p = el_skip(p + 1, end);
        if (!(p = el_value(p, end, &v)))
            return false;
        int f = el_field(k, kn);
        if (f >= 0) {
            if ((seen & (1u << f)) || !el_take(ev, f, &v))
                return false;
            seen |= 1u << f;
        } else {
            if (n_keys == EL_MAX_KEYS || el_dup(keys, lens, n_keys, k, kn))
                return false;
            keys[n_keys] = k;
            lens[n_keys++] = kn;
            event_line_attr(&w, k, kn, &v);
        }
        p = el_skip(p, end);
        if (p < end && *p == ',') {
            p = el_skip(p + 1, end);
            continue;
        }
        if (p == end || *p != '}')
            return false;
        break;
    }
    if (el_skip(p + 1, end) != end)
        return false; /* text after the object */
    const unsigned required = (1u << EL_ENTITY) | (1u << EL_TYPE) | (1u << EL_TIME);
    if ((seen & required) != required)
        return false;
    if (w.len) {
        jsonw_raw(&w, "}", 1);
        if (!jsonw_end(&w))
            return false; /* over the attrs limit: the general path words it */
    }
    ev->attrs_len = w.len;
    return true;
}

/* Was this key seen before on the line? json-c keeps the last value: the flat path declines. */
static bool el_pair_dup(const event_line_pair *pairs, size_t n, const char *k, size_t kn)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[i].key_len == kn && memcmp(pairs[i].key, k, kn) == 0)
            return true;
    return false;
}

bool event_line_scan(const char *s, size_t n, event_line_pair *pairs, size_t *count)
{
    const char *p = el_skip(s, s + n), *end = s + n;
    *count = 0;
    if (p == end || *p != '{')
        return false;
    p = el_skip(p + 1, end);
    if (p < end && *p == '}')
        return el_skip(p + 1, end) == end;
    for (;;) {
        if (*count == EVENT_LINE_MAX_PAIRS)
            return false;
        event_line_pair *pr = &pairs[*count];
        if (p == end || *p != '"' || !(p = el_string(p, end, &pr->key, &pr->key_len)))
            return false;
        if (el_pair_dup(pairs, *count, pr->key, pr->key_len))
            return false;
        p = el_skip(p, end);
        if (p == end || *p != ':')
            return false;
        p = el_skip(p + 1, end);
        if (!(p = el_value(p, end, &pr->v)))
            return false;
        (*count)++;
        p = el_skip(p, end);
        if (p < end && *p == ',') {
            p = el_skip(p + 1, end);
            continue;
        }
        if (p == end || *p != '}')
            return false;
        return el_skip(p + 1, end) == end; /* no text after the object */
    }
}
