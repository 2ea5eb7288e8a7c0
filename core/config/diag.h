/*
 * diag.h - operator-facing diagnostics, "FILE:LINE: message", collected so that a config
 * check reports every problem at once. Owns: the message list. Used by config, options,
 * mapping, loader; printed by the CLI, logged by the daemon (component=config).
 */
#ifndef SIGFLOW_DIAG_H
#define SIGFLOW_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct diag {
    char **msgs;
    size_t n, cap;
} diag;

/* Append "file:line: message" (line <= 0: "file: message"; file NULL: "message"). */
void diag_add(diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_print(const diag *d, FILE *to);
/* Each message as an error line of the log under component=config (the daemon's reloads and
   refused instances). */
void diag_log(const diag *d);
void diag_clear(diag *d);

#endif
