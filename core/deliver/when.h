/*
 * when.h - a delivery's `when` filter: comparisons on `score`, `attr.PATH` and
 * `signal.NAME` (that signal's x in [0,1]) joined with `and`, e.g.
 * `score >= 0.9 and attr.plan = "pro"`. Parsed (and signal names checked) at `sigflow
 * check`; evaluated per alert by the delivery worker. Owns: when_filter objects. Calls message.
 * Used by delivery rules. docs/config.md describes it.
 */
#ifndef SIGFLOW_WHEN_H
#define SIGFLOW_WHEN_H

#include <stdbool.h>
#include <stddef.h>

#include "deliver/message.h"

typedef struct when_filter when_filter;

/* Parse `text`; signal names must be among signals[0..n) (n = 0 and signals NULL: any).
   NULL with the reason in err. */
when_filter *when_parse(const char *text, const char *const *signals, size_t n, char *err,
                        size_t errlen);
/* True when every comparison holds for the message's alert. An absent attr or signal fails
   every comparison. */
bool when_match(const when_filter *r, const message *m);
void when_free(when_filter *r);

#endif
