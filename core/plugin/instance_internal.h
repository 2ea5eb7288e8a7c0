/*
 * instance_internal.h - a plugin instance's state, shared by instance.c (its lifecycle) and
 * host.c (the host table's adapters act on the instance a plugin passes back). Nothing outside
 * core/plugin/ includes it.
 */
#ifndef SIGFLOW_INSTANCE_INTERNAL_H
#define SIGFLOW_INSTANCE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/limits.h"
#include "base/metrics.h"
#include "plugin/instance.h"

#define INSTANCE_MAX_THREADS 16
#define INSTANCE_METRIC_SLOTS 8 /* plugin metric names whose series an instance remembers */

/* One remembered plugin counter (host_metric.c): filled under metric_lock, series set last. */
typedef struct instance_metric {
    char name[SIGFLOW_MAX_METRIC_NAME_LEN + 1];
    _Atomic(metrics_series *) series; /* NULL: the slot is free */
} instance_metric;

typedef struct spawned {
    pthread_t tid;
    sf_instance *inst;
    sf_thread_fn fn;
    void *arg;
} spawned;

struct sf_instance {
    const config_instance *cfg;
    const loaded_plugin *plugin;
    opt_values *opts;
    mapping *map;
    void *state;
    instance_state st;
    char ctx[160]; /* "plugin=P instance=I" for log lines */
    instance_io io;

    /* Serialises callbacks of a non-reentrant plugin (the SDK's threading contract). */
    pthread_mutex_t call_lock;
    /* Stop flag and the sleepers woken by it. */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cv;
    atomic_bool stopping;
    atomic_bool bad_metric_logged;
    atomic_bool abandoned;             /* given up on: emits refused, never freed */
    _Atomic(const char *) in_callback; /* the callback running now (a literal), or NULL */

    spawned *threads[INSTANCE_MAX_THREADS];
    size_t n_threads;

    pthread_mutex_t err_lock;
    char last_error[SIGFLOW_MAX_ERROR_LEN];

    /* host->metric_add's series by name, resolved once (host_metric.c) */
    pthread_mutex_t metric_lock;
    instance_metric metrics[INSTANCE_METRIC_SLOTS];
};

#endif
