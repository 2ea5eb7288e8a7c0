/*
 * delivery.h - one worker thread and queue per delivery target, so a slow target never holds
 * up another. Retries with exponential backoff and full jitter, honouring a plugin's
 * retry-after; gives up (dead letter, logged with the last error) after max_attempts.
 * Queues are in memory for now: the durable outbox replaces them (issue #4).
 * Owns: the worker, its queue and the alert copies in it. Calls host (instance_deliver), queue.
 * Used by the runtime's alert fan-out.
 */
#ifndef SF_DELIVERY_H
#define SF_DELIVERY_H

#include <stdint.h>

#include "alert.h"
#include "sigflow.h"

typedef struct delivery_policy {
    int64_t retry_base_ms; /* first backoff ceiling; default 1s */
    int64_t retry_max_ms;  /* backoff ceiling; default 5m */
    int max_attempts;      /* default 8 */
    size_t queue_size;     /* alerts waiting; default 1024 */
} delivery_policy;

void delivery_policy_default(delivery_policy *p);

typedef struct delivery_worker delivery_worker;

/* Start a worker for a started delivery instance (borrowed; outlives the worker). */
delivery_worker *delivery_start(sf_instance *inst, const delivery_policy *p);
/* Queue a copy of `a`. Blocks while the queue is full (back-pressure into scoring). */
sf_status delivery_enqueue(delivery_worker *w, const sf_alert *a);
/* Stop taking alerts, try what is queued until drain_ms has passed, then join. Alerts left
   are logged as not delivered. */
void delivery_stop(delivery_worker *w, int64_t drain_ms);

/* Backoff before attempt n+1 after n failed ones: uniform in [0, min(max, base*2^(n-1))]. */
int64_t delivery_backoff_ms(const delivery_policy *p, int failed_attempts, uint64_t *rng);

/* A deep copy of an alert (free with alert_free). */
sf_alert *alert_clone(const sf_alert *a);

#endif
