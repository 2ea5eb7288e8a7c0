/*
 * log_limit.h - lines that could repeat once per request or per write (a full disk: every
 * commit fails) logged at most once per LOG_LIMIT_EVERY_MS for each call site: the first
 * line at once, then one line per interval saying how many like it were held back
 * (docs/reliability.md, "Alerts and a full disk"). Owns a small table of call sites, keyed
 * by ctx text and format. Calls log. Used by store.c (write failures) and ingest_http.c
 * (503 answers for a failed commit).
 */
#ifndef SIGFLOW_LOG_LIMIT_H
#define SIGFLOW_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sigflow.h"

#define LOG_LIMIT_EVERY_MS 5000

/*
 * As log_msg, unless a line of the same call site (ctx text and fmt) was written less than
 * LOG_LIMIT_EVERY_MS ago: then it is only counted, and the next line written ends with
 * "(N more like this in the last S s)".
 */
void log_limited(sf_log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The decision alone, for tests: true when a line of the site (key) may be written at now_ms;
 *held is the number held back since the last one written. */
bool log_limit_pass(const char *ctx, const char *fmt, int64_t now_ms, uint64_t *held);

#endif
