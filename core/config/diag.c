#include "config/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/term_escape.h"

void diag_add(diag *d, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char full[1400];
    if (file && line > 0)
        snprintf(full, sizeof full, "%s:%d: %s", file, line, msg);
    else if (file)
        snprintf(full, sizeof full, "%s: %s", file, msg);
    else
        snprintf(full, sizeof full, "%s", msg);

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **m = realloc(d->msgs, cap * sizeof *m);
        if (!m)
            return; /* the message is lost, but the caller still sees d->n > 0 from others */
        d->msgs = m;
        d->cap = cap;
    }
    char *copy = strdup(full);
    if (copy)
        d->msgs[d->n++] = copy;
}

void diag_print(const diag *d, FILE *to)
{
    /* A message quotes the INI and plugins' text: one line each, nothing a terminal acts on. */
    for (size_t i = 0; i < d->n; i++) {
        if (term_fputs(d->msgs[i], to) == EOF || fputc('\n', to) == EOF)
            return;
    }
}

void diag_log(const diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        log_error("component=config", "%s", d->msgs[i]);
}

void diag_clear(diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->n = d->cap = 0;
}
