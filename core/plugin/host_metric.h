/*
 * host_metric.h - the series of a plugin's counters (host->metric_add), remembered per
 * instance: the first add of a name formats its series name and resolves it in the metrics
 * table; later adds find it here by name without a lock and add atomically. Owns the
 * instance's slots (instance_internal.h). Calls metrics. Called by host.c's h_metric_add.
 */
#ifndef SIGFLOW_HOST_METRIC_H
#define SIGFLOW_HOST_METRIC_H

#include "base/metrics.h"
#include "plugin/instance.h"

/* The remembered series of `name` on `in`, or NULL (not remembered yet, or name is NULL). */
metrics_series *host_metric_find(sf_instance *in, const char *name);

/*
 * Resolve `series_name` (the full series, labels included) and remember it as `name`'s; name is
 * a valid metric name. NULL: out of memory, or every slot taken by other names (the caller adds
 * through metrics_add, as before).
 */
metrics_series *host_metric_remember(sf_instance *in, const char *name, const char *series_name);

#endif
