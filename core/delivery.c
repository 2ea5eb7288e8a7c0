#include "delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "queue.h"

struct delivery_worker {
    sf_instance *inst;
    delivery_policy pol;
    queue *q;
    pthread_t tid;
    atomic_bool draining;
    struct timespec drain_deadline; /* CLOCK_MONOTONIC; valid once draining */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    uint64_t rng;
    char ctx[128];
};

void delivery_policy_default(delivery_policy *p)
{
    p->retry_base_ms = 1000;
    p->retry_max_ms = 5 * 60 * 1000;
    p->max_attempts = 8;
    p->queue_size = 1024;
}

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

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

sf_alert *alert_clone(const sf_alert *a)
{
    sf_alert *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->id, a->id, sizeof c->id);
    c->time_ms = a->time_ms;
    c->score = a->score;
    c->decision = dup_or_null(a->decision);
    c->question = dup_or_null(a->question);
    c->entity = dup_or_null(a->entity);
    c->attrs = dup_or_null(a->attrs);
    c->json = dup_or_null(a->json);
    c->n_reasons = a->n_reasons;
    c->reasons = calloc(a->n_reasons ? a->n_reasons : 1, sizeof *c->reasons);
    c->features = calloc(a->n_reasons ? a->n_reasons : 1, sizeof *c->features);
    bool ok = c->reasons && c->features && c->decision && c->entity &&
              (!a->question || c->question) && (!a->json || c->json);
    for (size_t i = 0; ok && i < a->n_reasons; i++) {
        c->reasons[i] = a->reasons[i];
        c->reasons[i].signal = dup_or_null(a->reasons[i].signal);
        c->reasons[i].text = dup_or_null(a->reasons[i].text);
        c->features[i] = a->features ? a->features[i] : 0;
        ok = c->reasons[i].signal && (!a->reasons[i].text || c->reasons[i].text);
    }
    if (!ok) {
        alert_free(c);
        return NULL;
    }
    return c;
}

static bool past_deadline(delivery_worker *w)
{
    return atomic_load(&w->draining) && monotime_passed(&w->drain_deadline);
}

/* Sleep ms, or until the drain deadline passes. */
static void backoff_sleep(delivery_worker *w, int64_t ms)
{
    struct timespec dl = monotime_after(ms);
    pthread_mutex_lock(&w->lock);
    while (!past_deadline(w))
        if (pthread_cond_timedwait(&w->wake, &w->lock, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&w->lock);
}

static void deliver_one(delivery_worker *w, sf_alert *a)
{
    const char *target = instance_get_name(w->inst);
    char series[160];
    for (int attempt = 1;; attempt++) {
        int64_t retry_after = 0;
        sf_deliver_result r = instance_deliver(w->inst, a, &retry_after);
        if (r == SF_DELIVER_OK) {
            snprintf(series, sizeof series, "sigflow_deliveries_total{target=\"%s\",result=\"ok\"}",
                     target);
            metrics_add(series, 1);
            log_info(w->ctx, "delivered alert=%s entity=%s attempt=%d", a->id, a->entity,
                     attempt);
            return;
        }
        const char *why = instance_last_error(w->inst);
        if (r == SF_DELIVER_FAIL || attempt >= w->pol.max_attempts || past_deadline(w)) {
            snprintf(series, sizeof series,
                     "sigflow_deliveries_total{target=\"%s\",result=\"dead\"}", target);
            metrics_add(series, 1);
            log_error(w->ctx, "dead-lettered alert=%s entity=%s attempts=%d last_error=\"%s\"",
                      a->id, a->entity, attempt, why);
            return;
        }
        snprintf(series, sizeof series, "sigflow_deliveries_total{target=\"%s\",result=\"retry\"}",
                 target);
        metrics_add(series, 1);
        int64_t wait = retry_after > 0 ? retry_after : delivery_backoff_ms(&w->pol, attempt, &w->rng);
        log_warn(w->ctx, "retrying alert=%s attempt=%d in_ms=%lld error=\"%s\"", a->id, attempt,
                 (long long)wait, why);
        backoff_sleep(w, wait);
    }
}

static void *worker_main(void *arg)
{
    delivery_worker *w = arg;
    sf_alert *a;
    while ((a = queue_pop(w->q, -1)) != NULL) {
        deliver_one(w, a);
        alert_free(a);
    }
    return NULL;
}

delivery_worker *delivery_start(sf_instance *inst, const delivery_policy *p)
{
    delivery_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->inst = inst;
    w->pol = *p;
    w->q = queue_new(p->queue_size);
    w->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
    snprintf(w->ctx, sizeof w->ctx, "component=delivery target=%s", instance_get_name(inst));
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&w->draining, false);
    if (!w->q || pthread_create(&w->tid, NULL, worker_main, w) != 0) {
        queue_free(w->q, NULL);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        free(w);
        return NULL;
    }
    return w;
}

sf_status delivery_enqueue(delivery_worker *w, const sf_alert *a)
{
    sf_alert *c = alert_clone(a);
    if (!c)
        return SF_ENOMEM;
    if (!queue_push(w->q, c, -1)) {
        log_error(w->ctx, "not queued (shutting down) alert=%s entity=%s", a->id, a->entity);
        alert_free(c);
        return SF_ERETRY;
    }
    return SF_OK;
}

static void free_alert(void *a)
{
    sf_alert *al = a;
    log_error("component=delivery", "not delivered before shutdown alert=%s entity=%s", al->id,
              al->entity);
    alert_free(al);
}

void delivery_stop(delivery_worker *w, int64_t drain_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->drain_deadline = monotime_after(drain_ms);
    atomic_store(&w->draining, true);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    queue_close(w->q);
    pthread_join(w->tid, NULL);
    queue_free(w->q, free_alert);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}
