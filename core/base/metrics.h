/*
 * metrics.h - the process's counters and gauges, named in Prometheus style with labels
 * ("sigflow_events_total{connector=\"billing\"}"). Owns: the counter table (mutex-guarded;
 * counters are few and updated per batch, not per byte). Used by the host (plugin metrics),
 * the runtime; read by the admin endpoint and the shutdown summary.
 */
#ifndef SF_METRICS_H
#define SF_METRICS_H

#include <stdio.h>

/* Add delta to the series `name` (created at 0 on first use). */
void metrics_add(const char *name, double delta);
void metrics_set(const char *name, double value);
/* Prometheus text exposition of every series, sorted by name. */
void metrics_write(FILE *to);

#endif
