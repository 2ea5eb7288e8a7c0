/*
 * tz.h - IANA time zones read from the system's zoneinfo (TZif files, version 2+ with their
 * POSIX-rule footer for times after the last listed transition), so delivery hours know the
 * UTC offset of any instant in any zone without touching the process's TZ. Thread-safe once
 * loaded. Owns: tz objects. Calls libc only. Used by hours (delivery windows, digests).
 */
#ifndef SIGFLOW_TZ_H
#define SIGFLOW_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz tz;

/* The directory zone names are read from: $TZDIR, else /usr/share/zoneinfo. */
const char *tz_dir(void);
/* Load zone `name` ("Europe/Berlin", "UTC"); NULL with the reason in err. */
tz *tz_load(const char *name, char *err, size_t errlen);
void tz_free(tz *z);
const char *tz_name(const tz *z);
/* Seconds east of UTC at the instant utc_s (seconds since the epoch). */
int32_t tz_offset(const tz *z, int64_t utc_s);
/*
 * The first instant whose local wall time is at or after local_s (local seconds since the
 * epoch, as if the zone were UTC): in a skipped hour (spring forward) the moment the clocks
 * jump; for a repeated hour (fall back) the earlier of the two.
 */
int64_t tz_local_to_utc(const tz *z, int64_t local_s);

/* Days since 1970-01-01 of a civil date, and back; weekday 0 = Sunday. */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void tz_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
int tz_weekday(int64_t days);

#endif
