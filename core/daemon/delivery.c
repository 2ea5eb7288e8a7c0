#include "daemon/delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/alert_codec.h"
#include "plugin/host.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"

#define DELIVERY_IDLE_MS 1000 /* look at the outbox at least this often (dlq retry, CLI) */
#define DELIVERY_CLAIM 16     /* deliveries claimed per look */

struct delivery_worker {
    sf_instance *inst;
    outbox *ob;
    delivery_policy pol;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping, woken;
    uint64_t rng;
    char ctx[128];
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int64_t delivery_backoff_ms(const delivery_policy *p, int failed_attempts, uint64_t *rng)
{
    int64_t ceil = p->retry_base_ms;
    for (int i = 1; i < failed_attempts && ceil < p->retry_max_ms; i++)
        ceil *= 2;
    if (ceil > p->retry_max_ms)
        ceil = p->retry_max_ms;
    return ceil > 0 ? (int64_t)(xorshift(rng) % (uint64_t)(ceil + 1)) : 0;
}

static void count(delivery_worker *w, const char *result)
{
    char series[160];
    snprintf(series, sizeof series, "sigflow_deliveries_total{target=\"%s\",result=\"%s\"}",
             instance_get_name(w->inst), result);
    metrics_add(series, 1);
}

/* One attempt at one claimed delivery, and its outcome recorded in the outbox. */
static void attempt(delivery_worker *w, const outbox_delivery *d)
{
    int n = d->attempts + 1;
    sf_alert *a = alert_decode(d->json);
    if (!a) {
        outbox_result(w->ob, d->id, OUTBOX_RESULT_DEAD, 0, "stored alert is unreadable");
        log_error(w->ctx, "dead-lettered alert=%s: stored alert is unreadable", d->alert_id);
        count(w, "dead");
        return;
    }
    int64_t retry_after = 0;
    sf_deliver_result r = instance_deliver(w->inst, a, &retry_after);
    const char *why = instance_last_error(w->inst);
    if (r == SF_DELIVER_OK) {
        outbox_result(w->ob, d->id, OUTBOX_RESULT_OK, 0, NULL);
        log_info(w->ctx, "delivered alert=%s entity=%s attempt=%d", a->id, a->entity, n);
        count(w, "ok");
        double lag = (double)(walltime_ms() - d->time_ms) / 1000.0; /* docs/admin-api.md */
        metrics_observe("sigflow_alert_to_delivery_seconds", metrics_latency_bounds,
                        metrics_latency_nbounds, lag > 0 ? lag : 0);
    } else if (r == SF_DELIVER_FAIL || n >= w->pol.max_attempts) {
        outbox_result(w->ob, d->id, OUTBOX_RESULT_DEAD, 0, why);
        log_error(w->ctx, "dead-lettered alert=%s entity=%s attempts=%d last_error=\"%s\"", a->id,
                  a->entity, n, why);
        count(w, "dead");
    } else {
        int64_t wait = retry_after > 0 ? retry_after : delivery_backoff_ms(&w->pol, n, &w->rng);
        outbox_result(w->ob, d->id, OUTBOX_RESULT_RETRY, walltime_ms() + wait, why);
        log_warn(w->ctx, "retrying alert=%s attempt=%d in_ms=%lld error=\"%s\"", a->id, n,
                 (long long)wait, why);
        count(w, "retry");
    }
    alert_free(a);
}

/* Sleep until the next due delivery, a wake-up, a stop, or DELIVERY_IDLE_MS. */
static void idle(delivery_worker *w)
{
    int64_t due = -1;
    outbox_next_due(w->ob, instance_get_name(w->inst), &due);
    int64_t ms = DELIVERY_IDLE_MS;
    if (due >= 0 && due - walltime_ms() < ms)
        ms = due - walltime_ms();
    if (ms <= 0)
        return;
    struct timespec dl = monotime_after(ms);
    pthread_mutex_lock(&w->lock);
    while (!w->stopping && !w->woken)
        if (pthread_cond_timedwait(&w->wake, &w->lock, &dl) == ETIMEDOUT)
            break;
    w->woken = false;
    pthread_mutex_unlock(&w->lock);
}

static bool stopping(delivery_worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void *worker_main(void *arg)
{
    delivery_worker *w = arg;
    outbox_delivery d[DELIVERY_CLAIM];
    while (!stopping(w)) {
        size_t n = 0;
        if (outbox_claim_due(w->ob, instance_get_name(w->inst), walltime_ms(), DELIVERY_CLAIM, d,
                             &n) != SF_OK)
            n = 0;
        for (size_t i = 0; i < n; i++) {
            /* Claimed rows left by a stop stay in flight until the next start makes them
               pending again (at-least-once), so a stop never waits for a whole claim. */
            if (!stopping(w))
                attempt(w, &d[i]);
        }
        outbox_delivery_clear(d, n);
        if (n == 0)
            idle(w);
    }
    return NULL;
}

delivery_worker *delivery_start(sf_instance *inst, outbox *o, const delivery_policy *p)
{
    delivery_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->inst = inst;
    w->ob = o;
    w->pol = *p;
    w->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
    snprintf(w->ctx, sizeof w->ctx, "component=delivery target=%s", instance_get_name(inst));
    pthread_mutex_init(&w->lock, NULL);
    monotime_cond_init(&w->wake);
    if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        free(w);
        return NULL;
    }
    return w;
}

void delivery_wake(delivery_worker *w)
{
    pthread_mutex_lock(&w->lock);
    w->woken = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void delivery_stop(delivery_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->tid, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}
