/*
 * metrics_expo.h - the parts of the Prometheus exposition beyond the series themselves:
 * ordering, # HELP / # TYPE lines per family, sigflow_build_info and process metrics
 * (docs/operating.md "Metrics"). Owns nothing. Calls libc and /proc. Used by metrics.c.
 */
#ifndef SIGFLOW_METRICS_EXPO_H
#define SIGFLOW_METRICS_EXPO_H

#include <stddef.h>
#include <stdio.h>

/* Order of series: by family (a histogram's _bucket/_sum/_count together), buckets by le. */
int metrics_expo_compare(const char *a, const char *b);
/*
 * Before series `name` (sorted), the # HELP and # TYPE lines of its family unless `prev`
 * (the series written before, or NULL) is of the same family. hists: histogram stems.
 */
void metrics_expo_family(FILE *to, const char *name, const char *prev, const char *const *hists,
                         size_t nh);
/* sigflow_build_info and the process_* metrics, each with its HELP and TYPE. */
void metrics_expo_process(FILE *to);

#endif
