/*
 * json_quote.h - the one JSON string writer of the core: RFC 8259 §7 with the shortest
 * escapes. `"` and `\` escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00XX
 * (lowercase hex), everything else (`/` and UTF-8 included) as it is. json-c is asked for the
 * same (JSON_QUOTE_JSONC_FLAGS) where the core prints through it, so one document never
 * mixes two escapings. Owns nothing. Used by jsonw (event attrs) and alert (alert JSON).
 */
#ifndef SIGFLOW_JSON_QUOTE_H
#define SIGFLOW_JSON_QUOTE_H

#include <stddef.h>

/* What json_object_to_json_string_ext gets wherever the core prints JSON through json-c. */
#define JSON_QUOTE_JSONC_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Appends n bytes somewhere: jsonw_raw and strbuf_add have this shape. */
typedef void (*json_quote_put_fn)(void *sink, const char *s, size_t n);

/* Writes s[0..n) as a quoted JSON string through put(sink, ...). */
void json_quote(json_quote_put_fn put, void *sink, const char *s, size_t n);

#endif
