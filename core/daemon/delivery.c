#include "daemon/delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver/message.h"
#include "model/alert.h"
#include "model/alert_codec.h"
#include "plugin/crash.h"
#include "base/limits.h"
#include "plugin/host.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"

#define DELIVERY_IDLE_MS 1000 /* look at the outbox at least this often (dlq retry, CLI) */
#define DELIVERY_CLAIM 16     /* deliveries claimed per look */
/* The most rows one look may claim: a digest target claims up to a whole digest. */
#define DELIVERY_CLAIM_MAX                                                                         \
    (SIGFLOW_MAX_DIGEST_ALERTS > DELIVERY_CLAIM ? SIGFLOW_MAX_DIGEST_ALERTS : DELIVERY_CLAIM)

/*
 * An attempt's outcome, decided. Its write waits for the worker's next attempt, whose start is
 * recorded in the same transaction (outbox_attempt_begin_after), or for anything else the
 * worker writes, claims or waits for first (flush_outcome); it is logged and counted once
 * written. `d` points into the worker's current claim.
 */
typedef struct settled {
    bool set;
    const outbox_delivery *d;
    outbox_result_kind result;
    int64_t retry_at_ms, wait_ms;
    int attempt;
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    char why[SIGFLOW_MAX_ERROR_LEN + 1];
} settled;

struct delivery_worker {
    sf_instance *inst;
    outbox *ob;
    delivery_policy pol;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping, woken;
    bool abandoned;        /* given up on by the main thread: record nothing, exit, free */
    int64_t busy_since_ms; /* monotonic start of the attempt in flight; 0 when idle */
    int64_t busy_id;       /* its delivery row */
    char busy_alert[OUTBOX_MAX_ALERT_ID_LEN + 1];
    int busy_attempt;
    /* A digest in flight: its other rows, each with its attempt number (deliver_timeout
       records a retry for every row of the digest, as a single send does for its one). */
    int64_t busy_more[DELIVERY_CLAIM_MAX];
    int busy_more_attempt[DELIVERY_CLAIM_MAX];
    size_t n_busy_more;
    int64_t claimed[DELIVERY_CLAIM_MAX]; /* the claim being worked; [next..n) not attempted yet */
    size_t n_claimed, next_claimed;
    uint64_t rng;
    char ctx[128];
    settled pending; /* worker thread: the last outcome, written with the next attempt's start */
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

/* Marks the attempt in flight (or none) for delivery_abandon_if_stuck. False once abandoned. */
static bool set_busy(delivery_worker *w, const outbox_delivery *d, int n)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->abandoned;
    if (ok && d) {
        if (w->next_claimed < w->n_claimed && w->claimed[w->next_claimed] == d->id)
            w->next_claimed++;
        w->busy_since_ms = monotime_ms();
        w->busy_id = d->id;
        w->busy_attempt = n;
        w->n_busy_more = 0;
        snprintf(w->busy_alert, sizeof w->busy_alert, "%s", d->alert_id);
    } else if (ok) {
        w->busy_since_ms = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

/* The retry budget: max_attempts when set, and retry_for from when the alert was stored. */
static bool budget_left(const delivery_worker *w, int n, int64_t created_ms, int64_t retry_at)
{
    if (w->pol.max_attempts > 0 && n >= w->pol.max_attempts)
        return false;
    return w->pol.retry_for_ms <= 0 || retry_at - created_ms < w->pol.retry_for_ms;
}

/* The delivery clock's now: hours and digest slots are measured against it. */
static int64_t clock_now(const delivery_worker *w)
{
    return w->pol.clock ? w->pol.clock(w->pol.clock_ctx) : walltime_ms();
}

/* The log line and counters of an outcome once it is written. */
static void report(delivery_worker *w, const settled *o)
{
    const outbox_delivery *d = o->d;
    if (o->result == OUTBOX_RESULT_OK) {
        log_info(w->ctx, "delivered alert=%s entity=%s attempt=%d", d->alert_id, o->entity,
                 o->attempt);
        count(w, "ok");
        double lag = (double)(walltime_ms() - d->time_ms) / 1000.0; /* docs/admin-api.md */
        metrics_observe("sigflow_alert_to_delivery_seconds", metrics_latency_bounds,
                        metrics_latency_nbounds, lag > 0 ? lag : 0);
    } else if (o->result == OUTBOX_RESULT_DEAD) {
        log_error(w->ctx, "dead-lettered alert=%s entity=%s attempts=%d last_error=\"%s\"",
                  d->alert_id, o->entity, o->attempt, o->why);
        count(w, "dead");
    } else {
        log_warn(w->ctx, "retrying alert=%s attempt=%d in_ms=%lld error=\"%s\"", d->alert_id,
                 o->attempt, (long long)o->wait_ms, o->why);
        count(w, "retry");
    }
}

/* Write the outcome waiting (if any) on its own, then report it. */
static void flush_outcome(delivery_worker *w)
{
    settled *o = &w->pending;
    if (!o->set)
        return;
    o->set = false;
    outbox_result_counted(w->ob, o->d->id, o->result, o->retry_at_ms,
                          o->result == OUTBOX_RESULT_OK ? NULL : o->why);
    report(w, o);
}

/*
 * Count the attempt at delivery_id (outbox_attempt_begin), in one transaction with the
 * outcome waiting, if any: one commit per delivery instead of two.
 */
static sf_status begin_attempt(delivery_worker *w, int64_t delivery_id, int *unfinished,
                               int64_t *created_ms)
{
    settled *o = &w->pending;
    if (o->set) {
        outbox_outcome prev = {.delivery_id = o->d->id,
                               .result = o->result,
                               .retry_at_ms = o->retry_at_ms,
                               .error = o->result == OUTBOX_RESULT_OK ? NULL : o->why};
        if (outbox_attempt_begin_after(w->ob, &prev, delivery_id, unfinished, created_ms) ==
            SF_OK) {
            o->set = false;
            report(w, o);
            return SF_OK;
        }
        flush_outcome(w); /* one by one, as without the pairing */
    }
    return outbox_attempt_begin(w->ob, delivery_id, unfinished, created_ms);
}

/*
 * Decide one attempt's outcome for delivery d (a digest decides it for each of its rows) and
 * record it: now, or with the worker's next attempt (`defer`).
 */
static void settle(delivery_worker *w, const outbox_delivery *d, const char *entity,
                   sf_deliver_result r, int64_t retry_after, int64_t created_ms, bool defer)
{
    flush_outcome(w);
    settled *o = &w->pending;
    o->d = d;
    o->attempt = d->attempts + 1;
    o->retry_at_ms = 0;
    o->wait_ms = 0;
    snprintf(o->entity, sizeof o->entity, "%s", entity);
    const char *why = instance_last_error(w->inst);
    snprintf(o->why, sizeof o->why, "%s", why ? why : "");
    if (r == SF_DELIVER_OK) {
        o->result = OUTBOX_RESULT_OK;
    } else if (r == SF_DELIVER_FAIL ||
               !budget_left(w, o->attempt, created_ms,
                            walltime_ms() + (retry_after > 0 ? retry_after : 0))) {
        o->result = OUTBOX_RESULT_DEAD;
    } else {
        o->result = OUTBOX_RESULT_RETRY;
        o->wait_ms =
            retry_after > 0 ? retry_after : delivery_backoff_ms(&w->pol, o->attempt, &w->rng);
        o->retry_at_ms = walltime_ms() + o->wait_ms;
    }
    o->set = true;
    if (!defer)
        flush_outcome(w);
}

/* The alert with its message model attached, or NULL (dead-lettered: unreadable). */
static sf_alert *load(delivery_worker *w, const outbox_delivery *d)
{
    sf_alert *a = alert_decode(d->json);
    message_ctx ctx = {.feedback = feedback_url_make, .feedback_ctx = &w->pol.feedback};
    if (w->pol.rules)
        rules_message_ctx(w->pol.rules, &ctx);
    if (a && !(a->msg = message_new(a, &ctx))) {
        alert_free(a);
        a = NULL;
    }
    if (!a) {
        flush_outcome(w);
        outbox_result(w->ob, d->id, OUTBOX_RESULT_DEAD, 0, "stored alert is unreadable");
        log_error(w->ctx, "dead-lettered alert=%s: stored alert is unreadable", d->alert_id);
        count(w, "dead");
    }
    return a;
}

static void unload(sf_alert *a)
{
    if (!a)
        return;
    message_free(a->msg);
    a->msg = NULL;
    alert_free(a);
}

/* Not sent now: skipped (`when`) or held (hours, digest). True when the gate took it. */
static bool gated(delivery_worker *w, const outbox_delivery *d, const sf_alert *a)
{
    char why[SIGFLOW_MAX_ERROR_LEN];
    int64_t until = 0;
    if (!w->pol.rules || d->was_held)
        return false;
    rules_gate g = rules_decide(w->pol.rules, a->msg, clock_now(w), &until, why, sizeof why);
    if (g != GATE_SEND)
        flush_outcome(w);
    if (g == GATE_SKIP) {
        outbox_result(w->ob, d->id, OUTBOX_RESULT_SKIP, 0, why);
        log_info(w->ctx, "skipped alert=%s entity=%s why=\"%s\"", a->id, a->entity, why);
        count(w, "skipped");
    } else if (g == GATE_HOLD) {
        outbox_hold(w->ob, d->id, until, why);
        log_info(w->ctx, "held alert=%s entity=%s why=\"%s\"", a->id, a->entity, why);
        count(w, "held");
    }
    return g != GATE_SEND;
}

/*
 * Counted before deliver runs (a crash inside it still uses up the budget), refused when
 * <state_dir>/crashes says this alert crashed the daemon DELIVERY_POISON_AFTER times; the
 * attempt in flight is visible to delivery_abandon_if_stuck (deliver_timeout).
 */
static void send_one(delivery_worker *w, const outbox_delivery *d, sf_alert *a)
{
    int unfinished = 0;
    int64_t created_ms = 0;
    if (begin_attempt(w, d->id, &unfinished, &created_ms) != SF_OK)
        return;       /* stays in flight; pending again at the next start */
    (void)unfinished; /* the audit trail shows them as "started" */
    int n = d->attempts + 1;
    size_t crashes =
        w->pol.crash_dir
            ? crash_count_alert(w->pol.crash_dir, instance_plugin_name(w->inst), d->alert_id)
            : 0;
    if (crashes >= DELIVERY_POISON_AFTER) {
        char why[160];
        snprintf(why, sizeof why,
                 "delivering it crashed the daemon %zu times: poison alert, not tried again",
                 crashes);
        outbox_result_counted(w->ob, d->id, OUTBOX_RESULT_DEAD, 0, why);
        log_error(w->ctx, "dead-lettered alert=%s entity=%s attempts=%d last_error=\"%s\"",
                  d->alert_id, a->entity, n, why);
        count(w, "dead");
        return;
    }
    int64_t retry_after = 0;
    if (!set_busy(w, d, n))
        return;
    host_note_alert(d->alert_id); /* a crash inside deliver names the alert */
    sf_deliver_result r = instance_deliver(w->inst, a, &retry_after);
    host_note_alert(NULL);
    if (!set_busy(w, NULL, 0)) /* abandoned meanwhile: the main thread recorded a retry */
        return;
    settle(w, d, a->entity, r, retry_after, created_ms, true);
}

/* One attempt at one claimed delivery, and its outcome recorded in the outbox. */
static void attempt(delivery_worker *w, const outbox_delivery *d)
{
    sf_alert *a = load(w, d);
    if (!a)
        return;
    if (!gated(w, d, a))
        send_one(w, d, a);
    unload(a);
}

/*
 * Marks a digest's rows as the attempt in flight: deliver_timeout covers a digest send as it
 * covers a single one (docs/reliability.md, Plugins). `claimed` rows [0, n_rows) are the
 * digest's; the claim behind them is released if the attempt is abandoned. False once
 * abandoned.
 */
static bool set_busy_digest(delivery_worker *w, const outbox_delivery **rows, size_t k,
                            size_t n_rows, const char *id)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->abandoned;
    if (ok) {
        if (w->next_claimed < n_rows)
            w->next_claimed = n_rows;
        w->busy_since_ms = monotime_ms();
        w->busy_id = rows[0]->id;
        w->busy_attempt = rows[0]->attempts + 1;
        w->n_busy_more = 0;
        for (size_t i = 1; i < k; i++) {
            w->busy_more[w->n_busy_more] = rows[i]->id;
            w->busy_more_attempt[w->n_busy_more++] = rows[i]->attempts + 1;
        }
        snprintf(w->busy_alert, sizeof w->busy_alert, "%s", id);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

/* The due rows of a digest target, sent as one message; each row records the outcome. */
static void attempt_digest(delivery_worker *w, const outbox_delivery *d, size_t n)
{
    sf_alert **items = calloc(n, sizeof *items);
    message **msgs = calloc(n, sizeof *msgs);
    const outbox_delivery **rows = calloc(n, sizeof *rows);
    size_t k = 0;
    if (!items || !msgs || !rows) {
        log_error(w->ctx, "out of memory for a digest of %zu alerts: trying again", n);
        n = 0; /* the claimed rows go back to pending on the next start */
    }
    for (size_t i = 0; i < n; i++) {
        sf_alert *a = load(w, &d[i]);
        if (a) {
            items[k] = a, msgs[k] = a->msg, rows[k] = &d[i];
            k++;
        }
    }
    if (k == 0)
        goto done;
    message *digest = message_digest(msgs, k); /* owns msgs now, even on failure */
    for (size_t i = 0; i < k; i++)
        items[i]->msg = NULL;
    sf_alert shell = {.decision = items[0]->decision,
                      .question = items[0]->question,
                      .entity = items[0]->entity,
                      .time_ms = items[0]->time_ms,
                      .msg = digest};
    snprintf(shell.id, sizeof shell.id, "digest-%.24s", items[0]->id);
    for (size_t i = 0; i < k; i++)
        shell.score = items[i]->score > shell.score ? items[i]->score : shell.score;
    int64_t retry_after = 0, created[DELIVERY_CLAIM_MAX];
    int unfinished;
    for (size_t i = 0; i < k; i++) /* counted before deliver, as single sends are */
        if (begin_attempt(w, rows[i]->id, &unfinished, &created[i]) != SF_OK)
            created[i] = walltime_ms();
    sf_deliver_result r = SF_DELIVER_RETRY;
    bool abandoned = false;
    if (digest && (shell.json = (char *)message_json(digest))) {
        if (!set_busy_digest(w, rows, k, n, shell.id))
            goto settled;
        host_note_alert(shell.id);
        r = instance_deliver(w->inst, &shell, &retry_after);
        host_note_alert(NULL);
        /* abandoned meanwhile: the main thread recorded a retry for every row */
        abandoned = !set_busy(w, NULL, 0);
    }
    for (size_t i = 0; i < k && !abandoned; i++)
        settle(w, rows[i], items[i]->entity, r, retry_after, created[i], false);
settled:
    message_free(digest);
    for (size_t i = 0; i < k; i++)
        alert_free(items[i]);
done:
    free(items), free(msgs), free(rows);
}

bool delivery_abandon_if_stuck(delivery_worker *w, char *alert_id, size_t len)
{
    if (!w || w->pol.deliver_timeout_ms <= 0)
        return false;
    pthread_mutex_lock(&w->lock);
    bool stuck = !w->abandoned && w->busy_since_ms > 0 &&
                 monotime_ms() - w->busy_since_ms >= w->pol.deliver_timeout_ms;
    if (!stuck) {
        pthread_mutex_unlock(&w->lock);
        return false;
    }
    /* From here the worker may free itself as soon as deliver returns: copy what is needed. */
    delivery_worker copy = {.inst = w->inst, .ob = w->ob, .pol = w->pol, .rng = w->rng};
    memcpy(copy.ctx, w->ctx, sizeof copy.ctx);
    int64_t id = w->busy_id;
    int n = w->busy_attempt;
    int64_t more[DELIVERY_CLAIM_MAX]; /* the other rows of a digest in flight */
    int more_n[DELIVERY_CLAIM_MAX];
    size_t n_more = w->n_busy_more;
    memcpy(more, w->busy_more, n_more * sizeof *more);
    memcpy(more_n, w->busy_more_attempt, n_more * sizeof *more_n);
    int64_t rest[DELIVERY_CLAIM_MAX]; /* claimed behind the stuck one: never attempted */
    size_t n_rest = 0;
    for (size_t i = w->next_claimed; i < w->n_claimed; i++)
        rest[n_rest++] = w->claimed[i];
    snprintf(alert_id, len, "%s", w->busy_alert);
    w->abandoned = true;
    pthread_detach(w->tid);
    pthread_mutex_unlock(&w->lock);
    char why[128];
    snprintf(why, sizeof why, "deliver did not return within %lld ms",
             (long long)copy.pol.deliver_timeout_ms);
    int64_t wait = delivery_backoff_ms(&copy.pol, n, &copy.rng);
    outbox_result_counted(copy.ob, id, OUTBOX_RESULT_RETRY, walltime_ms() + wait, why);
    for (size_t i = 0; i < n_more; i++)
        outbox_result_counted(copy.ob, more[i], OUTBOX_RESULT_RETRY,
                              walltime_ms() + delivery_backoff_ms(&copy.pol, more_n[i], &copy.rng),
                              why);
    for (size_t i = 0; i < n_rest; i++)
        outbox_release(copy.ob, rest[i]); /* the replacement worker takes them */
    if (n_more)                           /* a digest: every alert it listed is retried */
        log_warn(copy.ctx, "retrying alert=%s digest_alerts=%zu attempt=%d in_ms=%lld error=\"%s\"",
                 alert_id, n_more + 1, n, (long long)wait, why);
    else
        log_warn(copy.ctx, "retrying alert=%s attempt=%d in_ms=%lld error=\"%s\"", alert_id, n,
                 (long long)wait, why);
    for (size_t i = 0; i <= n_more; i++)
        count(&copy, "retry");
    return true;
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
    bool s = w->stopping || w->abandoned;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static bool stopping_abandoned(delivery_worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->abandoned;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void worker_free(delivery_worker *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-deliver"); /* top -H, perf: docs/operating.md */
    delivery_worker *w = arg;
    /* A digest lists every alert due for its slot: claim up to the digest limit at once. */
    bool digest = w->pol.rules && rules_is_digest(w->pol.rules);
    size_t claim = digest ? SIGFLOW_MAX_DIGEST_ALERTS : DELIVERY_CLAIM;
    outbox_delivery *d = calloc(claim, sizeof *d);
    if (!d) {
        log_error(w->ctx, "out of memory: delivery worker not running");
        return NULL;
    }
    while (!stopping(w)) {
        size_t n = 0, due = 0;
        if (outbox_claim_due_ex(w->ob, instance_get_name(w->inst), walltime_ms(), clock_now(w),
                                claim, d, &n) != SF_OK)
            n = 0;
        pthread_mutex_lock(&w->lock);
        for (size_t i = 0; i < n; i++)
            w->claimed[i] = d[i].id;
        w->n_claimed = n;
        w->next_claimed = 0;
        pthread_mutex_unlock(&w->lock);
        /* Held rows come first: a digest target sends all of them as one message. */
        if (digest)
            while (due < n && d[due].was_held)
                due++;
        if (due && !stopping(w))
            attempt_digest(w, d, due);
        for (size_t i = due; i < n; i++) {
            /* Claimed rows left by a stop stay in flight until the next start makes them
               pending again (at-least-once), so a stop never waits for a whole claim. */
            if (!stopping(w))
                attempt(w, &d[i]);
        }
        flush_outcome(w); /* it points into the claim */
        outbox_delivery_clear(d, n);
        if (n == 0)
            idle(w);
    }
    free(d);
    if (stopping_abandoned(w))
        worker_free(w); /* nobody joins an abandoned worker */
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
    worker_free(w);
}
