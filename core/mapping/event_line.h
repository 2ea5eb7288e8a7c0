/*
 * event_line.h - the reader of sigflow's canonical event line
 * {"entity":...,"type":...,"time":...,"value":...,other keys: attrs} without a JSON tree:
 * the one fast implementation of that shape (docs/performance.md, "The canonical event line").
 * It reads a subset - one flat object whose strings have no escapes, whose keys are unique,
 * whose values are strings, numbers, true, false or null - and declines everything else, which
 * the caller then gives to the general path (mapping_apply's json-c parse). What it reads, it
 * reads exactly as that path would: the same entity, type, time, value and attrs text, byte for
 * byte (tests/unit/test_event_line.c compares both on generated and hostile lines,
 * tests/fuzz/fuzz_event_line.c on any input). It never words an error: declining is its only
 * answer to anything unusual, so errors keep the general path's wording.
 * event_line_scan reads the same subset without naming any key: the key/value pairs of a flat
 * object, for mappings whose map.* paths are all top-level keys (mapping_lines.c's flat path).
 * Owns nothing; writes attrs into the caller's buffer. Calls jsonw, utf8, timefmt.
 * Used by mapping.c (map_time_value) and mapping_lines.c (mapping_apply_view, the flat path).
 */
#ifndef SIGFLOW_EVENT_LINE_H
#define SIGFLOW_EVENT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "mapping/jsonw.h"

typedef struct event_line {
    const char *entity; /* inside the line, not NUL-terminated; 1 or more bytes */
    size_t entity_len;
    const char *type; /* inside the line, not NUL-terminated; 1 or more bytes */
    size_t type_len;
    int64_t time_ms;  /* an RFC 3339 string or integer epoch milliseconds */
    double value;     /* finite; meaningful when has_value */
    bool has_value;   /* "value" present and not null */
    size_t attrs_len; /* 0: no other keys; else attrs[0..attrs_len) is the object, NUL after */
} event_line;

/*
 * Read s[0..n) (JSON whitespace allowed around every token). True when the line is in the
 * subset and every canonical field is present and of its type; attrs (SIGFLOW_MAX_ATTRS_LEN + 1
 * bytes) then holds the other keys as mapping prints them. False: declined, attrs undefined.
 * Lengths (entity, type) and the time range are the caller's to check.
 */
bool event_line_read(const char *s, size_t n, event_line *ev, char *attrs);

/* One scalar of a line, as the reader took it. */
enum event_line_kind {
    EVENT_LINE_STRING, /* p[0..n): the bytes between the quotes (no escapes, valid UTF-8) */
    EVENT_LINE_INT,    /* i (and d = i): at most 18 digits, never -0 */
    EVENT_LINE_DOUBLE, /* d: finite, read by strtod as json-c reads it */
    EVENT_LINE_TRUE,
    EVENT_LINE_FALSE,
    EVENT_LINE_NULL
};
typedef struct event_line_value {
    int kind;      /* enum event_line_kind */
    const char *p; /* a string's bytes, a number's or a literal's source text */
    size_t n;
    int64_t i;
    double d;
} event_line_value;

typedef struct event_line_pair {
    const char *key; /* inside the line, no escapes, not NUL-terminated */
    size_t key_len;
    event_line_value v;
} event_line_pair;

#define EVENT_LINE_MAX_PAIRS 36 /* keys of one flat line; more: declined */

/*
 * Read s[0..n) as one flat object of the subset and list its pairs in the line's order into
 * pairs[0..EVENT_LINE_MAX_PAIRS), *count of them. False: declined (not the subset, a key seen
 * twice, more pairs than that), *count undefined. Nothing about any key is checked.
 */
bool event_line_scan(const char *s, size_t n, event_line_pair *pairs, size_t *count);

/* "key":value appended to w as mapping's attrs print it (the first one opens the object). */
void event_line_attr(jsonw *w, const char *k, size_t kn, const event_line_value *v);

#endif
