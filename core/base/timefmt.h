/*
 * timefmt.h - text <-> time: RFC 3339 timestamps, epoch milliseconds, durations.
 * Owns: nothing (pure functions). Used by config, options, mapping, score, CLI.
 */
#ifndef SIGFLOW_TIMEFMT_H
#define SIGFLOW_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse an RFC 3339 timestamp ("2026-11-01T12:00:00Z", "2026-11-01T12:00:00.250+02:00",
 * lowercase t/z and a space separator accepted) into ms since the epoch.
 * Returns 0 on success, -1 if the text is not a complete valid timestamp.
 */
int time_parse_rfc3339(const char *s, size_t len, int64_t *out_ms);
/* Parse either RFC 3339 or a plain integer of epoch milliseconds. */
int time_parse(const char *s, size_t len, int64_t *out_ms);
/* Format as "2026-11-01T12:00:00.000Z" (UTC, ms precision). buf must hold 25 bytes. */
void time_format_rfc3339(int64_t ms, char *buf, size_t buflen);

/*
 * Parse a duration: a non-negative integer followed by ms, s, m, h, d or w ("500ms", "7d").
 * A bare integer is rejected (units are never guessed). Returns 0, or -1 on bad text or
 * overflow.
 */
int duration_parse(const char *s, int64_t *out_ms);
/* Format the largest exact unit: 604800000 -> "7d", 1500 -> "1500ms". */
void duration_format(int64_t ms, char *buf, size_t buflen);

#endif
