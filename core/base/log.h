/*
 * log.h - the process logger: one line per event of note, `key=value`, to stderr.
 * Owns: the log level and the output lock. Used by every module; calls nothing else.
 * Never pass a secret: values logged are written as given.
 */
#ifndef SIGFLOW_LOG_H
#define SIGFLOW_LOG_H

#include <stdarg.h>

#include "sigflow.h"

void log_set_level(sf_log_level level);

/*
 * The line format (docs/operating.md "Logs"): logfmt (`time=... level=... <ctx> msg="..."`,
 * the default) or JSON (log_json.h: the same keys). A format set from the command line
 * (`from_cli`) is kept: later calls from the config are ignored.
 */
typedef enum log_style { LOG_STYLE_LOGFMT = 0, LOG_STYLE_JSON = 1 } log_style;
void log_set_style(log_style style, int from_cli);
/* Parse "logfmt|json"; returns -1 for anything else. */
int log_style_parse(const char *s);

/*
 * `key=value` as one logfmt pair into out (truncated to fit): the value bare when it is
 * non-empty with no space, `"`, `=`, `\` or control byte, else quoted with `\"`, `\\`, `\n`
 * and `\xNN` escapes, the same escaping log lines give their msg. For ctx strings that carry
 * outside text (a file name).
 */
void log_format_kv(char *out, size_t outlen, const char *key, const char *val);
/* Parse "error|warn|info|debug"; returns -1 for anything else. */
int log_level_parse(const char *s);

/*
 * Write `time=... level=L <ctx> msg="..."` (or its JSON form). `ctx` is preformatted key=value
 * pairs naming the component (e.g. "plugin=file instance=events") or NULL.
 */
void log_msg(sf_log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(sf_log_level level, const char *ctx, const char *fmt, va_list ap);

#define log_error(ctx, ...) log_msg(SF_LOG_ERROR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(SF_LOG_WARN, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(SF_LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(SF_LOG_DEBUG, ctx, __VA_ARGS__)

#endif
