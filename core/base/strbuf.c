#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

void strbuf_add(strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s)
{
    if (s)
        strbuf_add(b, s, strlen(s));
}

char *strbuf_take(strbuf *b)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        free(b->p);
    *b = (strbuf){0};
    return p;
}

char *str_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}
