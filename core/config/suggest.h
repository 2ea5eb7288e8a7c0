/*
 * suggest.h - "did you mean": the closest of a few known words to a mistyped one.
 * Owns nothing (pure functions). Used by config, options and mapping for their messages.
 */
#ifndef SIGFLOW_SUGGEST_H
#define SIGFLOW_SUGGEST_H

#include <stddef.h>

/*
 * The candidate closest to `word` (case-insensitive edit distance, a transposition counting
 * as one edit) within 1 edit for words under 6 bytes and 2 otherwise; ties go to the earliest
 * candidate, so the answer is deterministic. NULL when none is close enough.
 */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

/* " (did you mean `x`?)" into buf, or "" when there is no close candidate. Returns buf. */
const char *suggest_hint(char *buf, size_t len, const char *word, const char *const *candidates,
                         size_t n);

#endif
