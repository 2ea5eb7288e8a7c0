/*
 * jsonw.h - JSON text written straight from values json-c parsed, as json-c prints them with
 * JSON_QUOTE_JSONC_FLAGS (strings by json_quote), into a caller's fixed buffer: no json_object
 * and no heap per document on the hot path (event attrs). Owns nothing. Calls json-c only to print
 * nested objects/arrays and numbers it did not parse from text. Used by mapping.
 */
#ifndef SIGFLOW_JSONW_H
#define SIGFLOW_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "sigflow.h"

struct json_object;

/*
 * A bounded writer. `len` counts every byte written, also those past `cap`, which are counted
 * but not stored: the caller learns the full length for its "longer than" message without a
 * second pass. buf[len] is NUL once jsonw_end is called and the text fits.
 */
typedef struct jsonw {
    char *buf;
    size_t cap; /* bytes of text buf may hold, not counting the final NUL */
    size_t len;
} jsonw;

/* buf holds cap + 1 bytes. */
void jsonw_init(jsonw *w, char *buf, size_t cap);
void jsonw_raw(jsonw *w, const char *s, size_t n);
/* s[0..n) as a JSON string: quotes added, escaped as json-c escapes (see jsonw.c). */
void jsonw_string(jsonw *w, const char *s, size_t n);
/* "key": - the separator before it is the caller's. */
void jsonw_key(jsonw *w, const char *key, size_t n);
/* Any value (NULL is JSON null). SF_ENOMEM when json-c cannot print a nested value. */
sf_status jsonw_value(jsonw *w, struct json_object *v);
/* True when everything written fit; then buf[len] is set to NUL. */
bool jsonw_end(jsonw *w);

#endif
