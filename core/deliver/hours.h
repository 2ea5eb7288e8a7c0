/*
 * hours.h - delivery windows ("Mon-Fri 09:00-18:00, Sat 10:00-14:00") and digest schedules
 * ("every 1d at 09:00") in a time zone: is an instant inside, when does the window next open,
 * when is the next digest due. Local times go through tz, so a window opens at 09:00 on the
 * wall clock on both sides of a DST change. Owns: hours objects. Calls tz. Used by the
 * delivery rules. docs/config.md describes the syntax.
 */
#ifndef SIGFLOW_HOURS_H
#define SIGFLOW_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver/tz.h"

#define HOURS_MAX_RULES 14

typedef struct hours_rule {
    uint8_t days;       /* bit d = weekday d (0 = Sunday) */
    int32_t start, end; /* seconds after local midnight, start < end <= 86400 */
} hours_rule;

typedef struct hours {
    hours_rule rules[HOURS_MAX_RULES];
    size_t n;
} hours;

/* Parse `text` into h; false with the reason in err. */
bool hours_parse(const char *text, hours *h, char *err, size_t errlen);
/* True when utc_ms is inside one of the windows, in zone z. */
bool hours_inside(const hours *h, const tz *z, int64_t utc_ms);
/* utc_ms itself when inside, else the instant the next window opens (-1: never). */
int64_t hours_next_open(const hours *h, const tz *z, int64_t utc_ms);

/* "HH:MM" into seconds after midnight; false when not a time of day. */
bool hours_parse_clock(const char *text, int32_t *out_s);
/*
 * The first digest slot strictly after utc_ms: local time `at` on days (every_ms a whole
 * number of days, counted from 1970-01-01 local) or, for every_ms under a day, every_ms
 * steps from local midnight plus `at`.
 */
int64_t hours_next_slot(const tz *z, int64_t every_ms, int32_t at_s, int64_t utc_ms);

#endif
