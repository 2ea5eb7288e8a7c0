/*
 * delivery.h - one worker thread per delivery target, working that target's rows of the
 * outbox, so a slow target never holds up another and nothing queued is lost to a restart.
 * Each attempt carries the alert id (the plugin's idempotency key); a retry waits with
 * exponential backoff and full jitter, or the plugin's retry-after; after max_attempts, or a
 * permanent failure, the delivery is dead-lettered with its last error (sigflow dlq).
 * Before the first attempt the target's rules decide: not routed (`when` false: done,
 * recorded as skipped), held in the outbox until its window opens or its digest is due
 * (visible in `sigflow dlq list`), or sent now with its message model attached.
 * Owns: the worker thread. Calls outbox, alert_codec, deliver (rules, message),
 * host (instance_deliver).
 * Used by the runtime.
 */
#ifndef SF_DELIVERY_H
#define SF_DELIVERY_H

#include <stdint.h>

#include "deliver/feedback_url.h"
#include "deliver/rules.h"
#include "store/outbox.h"
#include "sigflow.h"

/* The delivery clock: what hours and digests are measured against. */
typedef int64_t (*delivery_clock_fn)(void *ctx);

typedef struct delivery_policy {
    int64_t retry_base_ms;   /* first backoff ceiling */
    int64_t retry_max_ms;    /* largest backoff */
    int max_attempts;        /* attempts before dead-lettering */
    delivery_rules *rules;   /* when/hours/digest/links; NULL: send everything at once */
    delivery_clock_fn clock; /* NULL: the wall clock (clock = event: the watermark) */
    void *clock_ctx;
    feedback_url_cfg feedback; /* strings borrowed; outlive the worker */
} delivery_policy;

typedef struct delivery_worker delivery_worker;

/* Work the outbox rows of target instance_get_name(inst) (inst borrowed; outlives it). */
delivery_worker *delivery_start(sf_instance *inst, outbox *o, const delivery_policy *p);
/* Something was put for this target: look now rather than at the next due time. */
void delivery_wake(delivery_worker *w);
/* Finish the attempt in flight, then stop. What is pending stays in the outbox. */
void delivery_stop(delivery_worker *w);

/* Backoff after `failed_attempts` failures: uniform in [0, min(max, base*2^(n-1))]. */
int64_t delivery_backoff_ms(const delivery_policy *p, int failed_attempts, uint64_t *rng);

#endif
