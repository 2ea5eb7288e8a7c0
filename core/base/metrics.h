/*
 * metrics.h - the process's counters and gauges, named in Prometheus style with labels
 * ("sigflow_events_total{connector=\"billing\"}"). Owns: the counter table (mutex-guarded;
 * counters are few and updated per batch, not per byte) and its series, each updated
 * atomically; a hot caller resolves a series once (metrics_series_get) and adds to it without
 * the table's lock or a name. Used by the host (plugin metrics), the runtime; read by the admin
 * endpoint and the shutdown summary.
 */
#ifndef SIGFLOW_METRICS_H
#define SIGFLOW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_HISTOGRAMS 32 /* histogram families (metrics_observe names) */

/* Add delta to the series `name` (created at 0 on first use). */
void metrics_add(const char *name, double delta);
void metrics_set(const char *name, double value);

/* A counter series by handle: created at 0 on first use, valid for the process's life (series
 * are never removed). NULL: out of memory. metrics_series_add is metrics_add without the
 * lookup or the table's lock. */
typedef struct metrics_series metrics_series;
metrics_series *metrics_series_get(const char *name);
void metrics_series_add(metrics_series *s, double delta);
/*
 * Observe `value` in the histogram `name` (no labels) with the upper bounds bounds[0..n)
 * (ascending): the series NAME_bucket{le="B"} (cumulative, +Inf included), NAME_sum and
 * NAME_count, as Prometheus expects them.
 */
void metrics_observe(const char *name, const double *bounds, size_t n, double value);
/*
 * Publish a histogram kept elsewhere (`name`, no labels) as metrics_observe's would read:
 * counts[i] observations of at most bounds[i] and above bounds[i-1] (not cumulative),
 * counts[n] those above every bound, `sum` their sum. The series are set, not added to.
 */
void metrics_set_histogram(const char *name, const double *bounds, size_t n, const uint64_t *counts,
                           double sum);
/* The bucket bounds of sigflow's latency histograms, in seconds (1 ms .. 1 day). */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;
/* Prometheus text exposition of every series grouped by family with # HELP and # TYPE
 * lines, then sigflow_build_info and the process metrics (metrics_expo.h). */
void metrics_write(FILE *to);

#endif
