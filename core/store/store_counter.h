/*
 * store_counter.h - durable counters in the store's kv table (namespace, key -> integer),
 * for figures that must survive restarts and be added to by other processes: the manual
 * interventions of `sigflow dlq` and of people's labels. Owns: the kv rows it names. Calls
 * store. Used by the admin API (labels, /metrics) and the dlq CLI.
 */
#ifndef SIGFLOW_STORE_COUNTER_H
#define SIGFLOW_STORE_COUNTER_H

#include <stdint.h>

#include "sigflow.h"
#include "store/store.h"

/* Add delta (created at 0); committed when it returns. */
sf_status store_counter_add(store *s, const char *ns, const char *key, int64_t delta);
/* The value; 0 when never added to. */
sf_status store_counter_get(store *s, const char *ns, const char *key, int64_t *value);

#endif
