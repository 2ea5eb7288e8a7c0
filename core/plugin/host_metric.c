/*
 * host_metric.c - per-instance plugin counters by handle (see host_metric.h). Slots fill in
 * order under the instance's metric_lock; a slot's name is written before its series pointer is
 * published (release), so a reader that sees the pointer (acquire) sees the whole name.
 */
#include "plugin/host_metric.h"

#include <stdatomic.h>
#include <string.h>

#include "plugin/instance_internal.h"

metrics_series *host_metric_find(sf_instance *in, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < INSTANCE_METRIC_SLOTS; i++) {
        metrics_series *s = atomic_load_explicit(&in->metrics[i].series, memory_order_acquire);
        if (!s)
            return NULL; /* slots fill in order: none after this one */
        if (strcmp(in->metrics[i].name, name) == 0)
            return s;
    }
    return NULL;
}

metrics_series *host_metric_remember(sf_instance *in, const char *name, const char *series_name)
{
    if (strlen(name) > SIGFLOW_MAX_METRIC_NAME_LEN)
        return NULL;
    metrics_series *s = NULL;
    pthread_mutex_lock(&in->metric_lock);
    size_t i = 0;
    for (; i < INSTANCE_METRIC_SLOTS; i++) {
        metrics_series *have = atomic_load_explicit(&in->metrics[i].series, memory_order_relaxed);
        if (!have)
            break;
        if (strcmp(in->metrics[i].name, name) == 0) { /* another thread was first */
            s = have;
            goto out;
        }
    }
    s = metrics_series_get(series_name);
    if (s && i < INSTANCE_METRIC_SLOTS) {
        memcpy(in->metrics[i].name, name, strlen(name) + 1);
        atomic_store_explicit(&in->metrics[i].series, s, memory_order_release);
    }
out:
    pthread_mutex_unlock(&in->metric_lock);
    return s;
}
