/*
 * strbuf.h - a growing, always NUL-terminated string for the few places that build text
 * (alert JSON, explain sentences, alert templates). An allocation failure is sticky: later
 * appends do nothing and the caller checks `oom` once at the end. Owns: its buffer.
 * Also the core's one NULL-safe string copy (str_dup).
 */
#ifndef SIGFLOW_STRBUF_H
#define SIGFLOW_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *p; /* NUL-terminated once anything was appended; malloc'd */
    size_t len, cap;
    bool oom;
} strbuf;

void strbuf_add(strbuf *b, const char *s, size_t n);
/* Appends s, or nothing when s is NULL. */
void strbuf_puts(strbuf *b, const char *s);
/* The string (the caller frees it), or NULL after an allocation failure; b is reset. */
char *strbuf_take(strbuf *b);

/* A malloc'd copy of s; NULL when s is NULL or memory ran out. The core's one strdup. */
char *str_dup(const char *s);

#endif
