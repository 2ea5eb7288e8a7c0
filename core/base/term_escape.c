/*
 * term_escape.c - text bound for a terminal with its control characters made visible
 * (the rules are in term_escape.h). Owns nothing. Calls strbuf, stdio. Used by the CLI.
 */
#include "base/term_escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Length of the valid UTF-8 sequence at p (1..4) and its code point, or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || (n == 3 && p[0] > 0xef))
        return 0;
    uint32_t c = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* A code point a terminal acts on rather than shows, or that reorders what follows. */
static int active(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

static void escape(strbuf *b, const char *s, bool keep_backslash)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        uint32_t c = 0;
        size_t n = utf8_seq(p, &c);
        if (n == 0) { /* a byte that is not UTF-8 */
            char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
            strbuf_add(b, e, 4);
            p++;
            continue;
        }
        if (c == '\\' && !keep_backslash) {
            strbuf_add(b, "\\\\", 2);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            char e[2] = {'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't'};
            strbuf_add(b, e, 2);
        } else if (active(c) && c < 0x100) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            strbuf_add(b, e, 4);
        } else if (active(c)) {
            char e[9] = {
                '\\',        'u', '{', hex[c >> 12], hex[(c >> 8) & 15], hex[(c >> 4) & 15],
                hex[c & 15], '}'};
            strbuf_add(b, e, 8);
        } else {
            strbuf_add(b, (const char *)p, n);
        }
        p += n;
    }
}

void term_escape(strbuf *b, const char *s)
{
    escape(b, s, false);
}

static int put(const char *s, FILE *f, bool keep_backslash)
{
    strbuf b = {0};
    strbuf_add(&b, "", 0);
    escape(&b, s, keep_backslash);
    char *e = strbuf_take(&b);
    int rc = e ? fputs(e, f) : EOF;
    free(e);
    return rc;
}

int term_fputs(const char *s, FILE *f)
{
    return put(s, f, false);
}

int term_fputs_json(const char *json, FILE *f)
{
    return put(json, f, true);
}
