/*
 * delivery.h - one worker thread per delivery target, working that target's rows of the
 * outbox, so a slow target never holds up another and nothing queued is lost to a restart.
 * Each attempt carries the alert id (the plugin's idempotency key); a retry waits with
 * exponential backoff and full jitter, or the plugin's retry-after; once retry_for has passed
 * since the alert was stored (or after max_attempts when set), or on a permanent failure, the
 * delivery is dead-lettered with its last error (sigflow dlq). Each attempt is counted before
 * deliver runs (a crash or kill inside it still counts) and has a deadline, deliver_timeout;
 * an alert that <state_dir>/crashes says crashed the daemon DELIVERY_POISON_AFTER times is
 * dead-lettered without another call (a poison alert).
 * Before the first attempt the target's rules decide: not routed (`when` false: done,
 * recorded as skipped), held in the outbox until its window opens or its digest is due
 * (visible in `sigflow dlq list`), or sent now with its message model attached.
 * Owns: the worker thread. Calls outbox, alert_codec, deliver (rules, message),
 * host (instance_deliver).
 * Used by the runtime.
 */
#ifndef SIGFLOW_DELIVERY_H
#define SIGFLOW_DELIVERY_H

#include <stdint.h>

#include "deliver/feedback_url.h"
#include "deliver/rules.h"
#include "store/outbox.h"
#include "sigflow.h"

/* The delivery clock: what hours and digests are measured against. */
typedef int64_t (*delivery_clock_fn)(void *ctx);

typedef struct delivery_policy {
    int64_t retry_base_ms; /* first backoff ceiling */
    int64_t retry_max_ms;  /* largest backoff */
    int max_attempts;      /* attempts before dead-lettering; 0: no limit (retry_for decides) */
    int64_t retry_for_ms;  /* retried until this long after the alert was stored; 0: forever */
    int64_t deliver_timeout_ms; /* one attempt's deadline (delivery_abandon_if_stuck) */
    const char *crash_dir;      /* state_dir whose crash records name poison alerts; borrowed */
    delivery_rules *rules;      /* when/hours/digest/links; NULL: send everything at once */
    delivery_clock_fn clock;    /* NULL: the wall clock (clock = event: the watermark) */
    void *clock_ctx;
    feedback_url_cfg feedback; /* strings borrowed; outlive the worker */
} delivery_policy;

/* Crashes of the daemon inside deliver with one alert after which that alert is
   dead-lettered without another call: a poison alert. */
#define DELIVERY_POISON_AFTER 2

typedef struct delivery_worker delivery_worker;

/* Work the outbox rows of target instance_get_name(inst) (inst borrowed; outlives it). */
delivery_worker *delivery_start(sf_instance *inst, outbox *o, const delivery_policy *p);
/* Something was put for this target: look now rather than at the next due time. */
void delivery_wake(delivery_worker *w);
/* Finish the attempt in flight, then stop. What is pending stays in the outbox. */
void delivery_stop(delivery_worker *w);

/*
 * Main thread, periodically: when the attempt in flight has run past deliver_timeout, the
 * attempt is recorded as a retry ("deliver did not return within ..."), the worker is
 * abandoned (it frees itself if deliver ever returns, recording nothing) and true is returned:
 * the caller abandons the instance too and starts a fresh one. *alert_id gets the alert.
 */
bool delivery_abandon_if_stuck(delivery_worker *w, char *alert_id, size_t len);

/* Backoff after `failed_attempts` failures: uniform in [0, min(max, base*2^(n-1))]. */
int64_t delivery_backoff_ms(const delivery_policy *p, int failed_attempts, uint64_t *rng);

#endif
