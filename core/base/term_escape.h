/*
 * term_escape.h - the one escaping of text bound for a terminal (docs/reliability.md,
 * Untrusted input). Bytes a sender chose (an entity, an alert id, a receiver's error text, a
 * value in the INI) can hold control characters: a newline that forges a line of `sigflow
 * dlq list`, a tab that shifts its columns, an ESC sequence that retitles or clears the
 * operator's terminal. Here every C0 control, DEL, every C1 control (U+0080..U+009F), the
 * bidirectional overrides (U+202A..U+202E, U+2066..U+2069) and every byte that is not part
 * of valid UTF-8 are written as \n \r \t or \xHH / \u{HHHH}, and a backslash as \\, so that
 * the output is one line per record and reads back unambiguously. Printable UTF-8 passes.
 * Owns nothing. Calls strbuf, stdio. Used by the CLI (dlq list/show, check and every
 * diag_print).
 */
#ifndef SIGFLOW_TERM_ESCAPE_H
#define SIGFLOW_TERM_ESCAPE_H

#include <stdio.h>

#include "base/strbuf.h"

/* Appends s (NULL: nothing) escaped to b. */
void term_escape(strbuf *b, const char *s);
/* Writes s escaped to f; EOF on a write error or when memory ran out. */
int term_fputs(const char *s, FILE *f);
/*
 * The same for a JSON text the core wrote (its strings already escape C0 controls): a
 * backslash is left as it is, so the JSON stays valid; DEL, C1, bidi overrides and bytes
 * that are not UTF-8 are escaped as above.
 */
int term_fputs_json(const char *json, FILE *f);

#endif
