/*
 * suggest.c - "did you mean" suggestions for mistyped keys, sections and choices.
 * Owns nothing; calls only libc. Used by config, options and mapping.
 */
#include "config/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/limits.h"

/* Optimal-string-alignment distance (a transposition costs 1), case-insensitive. */
static size_t suggest_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t rows[3][SIGFLOW_MAX_NAME_LEN + 2];
    size_t *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t cost = ai != bj;
            size_t v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !candidates)
        return NULL;
    size_t lw = strlen(word);
    if (lw == 0 || lw > SIGFLOW_MAX_NAME_LEN)
        return NULL;
    /* Short words get a tighter bound, or "of" would suggest every 3-letter key. */
    size_t maxd = lw / 3 < 1 ? 1 : (lw / 3 > 2 ? 2 : lw / 3);
    const char *best = NULL;
    size_t bestd = maxd + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t lc = strlen(candidates[i]);
        if (lc > SIGFLOW_MAX_NAME_LEN)
            continue;
        size_t dist = suggest_edit_distance(word, lw, candidates[i], lc);
        if (dist < bestd) {
            bestd = dist;
            best = candidates[i];
        }
    }
    return best;
}

const char *suggest_hint(char *buf, size_t len, const char *word, const char *const *candidates,
                         size_t n)
{
    const char *s = suggest_closest(word, candidates, n);
    if (s)
        snprintf(buf, len, " (did you mean `%s`?)", s);
    else if (len)
        buf[0] = '\0';
    return buf;
}
