/*
 * log_json.h - the JSON form of a log line (`log_format = json`): one object a line with the
 * keys of the logfmt form, in the order time, level, component (when the context names one),
 * msg, then the other context pairs in their order; every value a string, written by
 * json_quote (the core's one JSON escaping). The context arrives as logfmt pairs (what
 * log_format_kv writes): they are read back, unescaped, and quoted again as JSON.
 * Owns nothing. Calls json_quote. Used by log.c.
 */
#ifndef SIGFLOW_LOG_JSON_H
#define SIGFLOW_LOG_JSON_H

#include <stdio.h>

/* One line (with its newline) to f; ctx may be NULL. The caller holds the output lock. */
void log_json_line(FILE *f, const char *time, const char *level, const char *ctx, const char *msg);

#endif
