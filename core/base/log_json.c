/*
 * log_json.c - see log_json.h. The context is parsed in one pass into (key, value) spans
 * of a private copy; a quoted value is unescaped in place (it only ever shrinks).
 */
#include "base/log_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"

#define LOG_JSON_MAX_PAIRS 32 /* context pairs written; the rest of a longer context is one */

typedef struct pair {
    const char *key, *val;
} pair;

static void put_file(void *sink, const char *s, size_t n)
{
    fwrite(s, 1, n, sink);
}

static void put_str(FILE *f, const char *s)
{
    json_quote(put_file, f, s, strlen(s));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A quoted logfmt value starting after its `"`: unescaped in place; returns past the end. */
static char *unquote(char *p, char **val)
{
    char *w = p;
    *val = p;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 'n') {
                *w++ = '\n';
                p++;
            } else if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                *w++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                p += 3;
            } else {
                *w++ = *p++; /* \" and \\ (and anything else: the byte itself) */
            }
        } else {
            *w++ = *p++;
        }
    }
    if (*p == '"')
        p++;
    *w = '\0';
    return p;
}

/* Split the context copy into pairs; a word without `=` becomes a pair with an empty key. */
static size_t parse(char *p, pair *out, size_t max)
{
    size_t n = 0;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (n == max - 1) { /* the last slot: the rest as it is */
            out[n++] = (pair){"ctx", p};
            break;
        }
        char *word = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        if (*p != '=') { /* a bare word */
            if (*p)
                *p++ = '\0';
            out[n++] = (pair){"", word};
            continue;
        }
        *p++ = '\0';
        char *val;
        if (*p == '"') {
            p = unquote(p + 1, &val);
        } else {
            val = p;
            while (*p && *p != ' ')
                p++;
        }
        if (*p)
            *p++ = '\0';
        out[n++] = (pair){word, val};
    }
    return n;
}

static bool reserved(const char *key)
{
    static const char *const keys[] = {"time", "level", "component", "msg"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static void put_pair(FILE *f, const char *key, const char *val)
{
    fputc(',', f);
    put_str(f, key);
    fputc(':', f);
    put_str(f, val);
}

void log_json_line(FILE *f, const char *time, const char *level, const char *ctx, const char *msg)
{
    pair pairs[LOG_JSON_MAX_PAIRS];
    size_t n = 0;
    char *copy = ctx && *ctx ? strdup(ctx) : NULL;
    if (copy)
        n = parse(copy, pairs, LOG_JSON_MAX_PAIRS);
    else if (ctx && *ctx) /* out of memory: the context as one value */
        pairs[n++] = (pair){"ctx", ctx};
    fputs("{\"time\":", f);
    put_str(f, time);
    put_pair(f, "level", level);
    size_t comp = n;
    for (size_t i = 0; i < n && comp == n; i++)
        if (strcmp(pairs[i].key, "component") == 0)
            comp = i;
    if (comp < n)
        put_pair(f, "component", pairs[comp].val);
    put_pair(f, "msg", msg);
    for (size_t i = 0; i < n; i++) {
        if (i == comp)
            continue;
        char renamed[64];
        const char *k = pairs[i].key;
        if (reserved(k)) { /* a key the line already has (a second component too): renamed */
            snprintf(renamed, sizeof renamed, "ctx_%s", k);
            k = renamed;
        }
        put_pair(f, k, pairs[i].val);
    }
    fputs("}\n", f);
    free(copy);
}
