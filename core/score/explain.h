/*
 * explain.h - renders a signal's `explain` template into the sentence an alert carries.
 * Owns: the template variables (docs/scoring.md lists them). Calls nothing but libc/libm.
 * Used by score_shard when it builds an alert.
 */
#ifndef SIGFLOW_EXPLAIN_H
#define SIGFLOW_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "score/score_state.h"

/*
 * Render sig->explain (NULL: "") for the signal's state d at time t. Variables:
 * {{pct}} round(100x); {{n}}; {{window}}; {{recent_rate}}, {{usual_rate}} (per week);
 * {{value}}; {{limit}}; {{since}}; {{signal}}. Unknown ones are kept as written.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *explain_render(const config_signal *sig, const score_detail *d, int64_t t);
/* Format a duration as its largest exact unit ("14d", "36h", "1500ms"). */
void explain_duration(int64_t ms, char *buf, size_t len);

#endif
