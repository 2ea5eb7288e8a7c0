/* metrics_text.h - /metrics as a test reads it (header-only test support, after cmocka.h):
   the whole exposition, and one series' value. */
#ifndef SF_TEST_METRICS_TEXT_H
#define SF_TEST_METRICS_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

/* metrics_write's text (malloc'd). */
static inline char *metrics_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    metrics_write(f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* The value of the series named exactly `series` (labels included); -1 when it is absent. */
static inline double metrics_text_value(const char *series)
{
    char *text = metrics_text();
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
    free(text);
    return v;
}

#endif
