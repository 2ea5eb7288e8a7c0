/*
 * outbox_writer.c - alerts into the outbox in groups by one thread (outbox_writer.h says the
 * rules). The waiting alerts are a ring of copies: the writer stores the oldest ones (up to
 * OUTBOX_WRITER_GROUP) in one transaction while the scorer appends behind them, and frees
 * them only once stored, so a failed write retries the same group.
 */
#include "store/outbox_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"

#define OUTBOX_WRITER_GROUP 1024   /* alerts per transaction at most */
#define OUTBOX_RETRY_MIN_MS 50     /* a failed write: first wait, doubling ... */
#define OUTBOX_RETRY_MAX_MS 5000   /* ... up to this */
#define OUTBOX_RETRIES_IMPATIENT 3 /* attempts left once not patient (stopping, recovering) */
#define WRITER_CTX "component=score"

struct outbox_writer {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* writer: alerts waiting, or stop */
    pthread_cond_t moved; /* adders and flushers: room, a stored group, a failure cleared */
    outbox_item **ring;
    size_t cap, head, count;
    uint64_t added, done; /* alerts handed over / stored or given up on, since the start */
    bool failing;         /* the last write failed: adders wait */
    bool patient, stopping;
    atomic_bool gave_up;
    outbox_writer_write_fn write;
    outbox_writer_done_fn on_done;
    void *ctx;
    outbox_item *group; /* writer thread: the group being written */
    bool *created;
    pthread_t thread;
};

static char *copy_str(char **p, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = memcpy(*p, s, n);
    *p += n;
    return d;
}

/* One block: the item and its four strings. */
static outbox_item *item_copy(const outbox_item *it)
{
    size_t len =
        strlen(it->alert_id) + strlen(it->decision) + strlen(it->entity) + strlen(it->json) + 4;
    outbox_item *c = malloc(sizeof *c + len);
    if (!c)
        return NULL;
    char *p = (char *)(c + 1);
    c->alert_id = copy_str(&p, it->alert_id);
    c->decision = copy_str(&p, it->decision);
    c->entity = copy_str(&p, it->entity);
    c->json = copy_str(&p, it->json);
    c->time_ms = it->time_ms;
    c->score = it->score;
    return c;
}

/* Wait on cond for at most ms (or forever when ms < 0); false on the deadline. */
static bool wait_ms(pthread_cond_t *c, pthread_mutex_t *mu, int64_t ms)
{
    if (ms < 0) {
        pthread_cond_wait(c, mu);
        return true;
    }
    struct timespec dl = monotime_after(ms);
    return pthread_cond_timedwait(c, mu, &dl) != ETIMEDOUT;
}

sf_status outbox_writer_add(outbox_writer *w, const outbox_item *item)
{
    if (!outbox_item_ok(item))
        return SF_EINVAL;
    outbox_item *c = item_copy(item);
    if (!c)
        return SF_ENOMEM;
    pthread_mutex_lock(&w->mu);
    while (w->count == w->cap || w->failing)
        wait_ms(&w->moved, &w->mu, -1);
    w->ring[(w->head + w->count) % w->cap] = c;
    w->count++;
    w->added++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return SF_OK;
}

bool outbox_writer_flush(outbox_writer *w, int64_t timeout_ms)
{
    int64_t end = monotime_ms() + timeout_ms;
    pthread_mutex_lock(&w->mu);
    uint64_t want = w->added;
    pthread_cond_signal(&w->work);
    while (w->done < want) {
        int64_t left = end - monotime_ms();
        if (left <= 0)
            break;
        wait_ms(&w->moved, &w->mu, left);
    }
    bool ok = w->done >= want;
    pthread_mutex_unlock(&w->mu);
    return ok;
}

void outbox_writer_set_patient(outbox_writer *w, bool patient)
{
    pthread_mutex_lock(&w->mu);
    w->patient = patient;
    pthread_cond_signal(&w->work); /* a backoff wait ends early */
    pthread_mutex_unlock(&w->mu);
}

bool outbox_writer_gave_up(outbox_writer *w)
{
    return atomic_load(&w->gave_up);
}

bool outbox_writer_failing(outbox_writer *w)
{
    if (!w)
        return false;
    pthread_mutex_lock(&w->mu);
    bool f = w->failing;
    pthread_mutex_unlock(&w->mu);
    return f;
}

/* The group's items, in order, into a contiguous array (the ring may wrap). Lock held. */
static size_t take_group(outbox_writer *w, outbox_item *group)
{
    size_t n = w->count < OUTBOX_WRITER_GROUP ? w->count : OUTBOX_WRITER_GROUP;
    for (size_t i = 0; i < n; i++)
        group[i] = *w->ring[(w->head + i) % w->cap];
    return n;
}

/* The first n waiting alerts are stored or given up on: free them, tell the waiters. */
static void retire_group(outbox_writer *w, size_t n)
{
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < n; i++)
        free(w->ring[(w->head + i) % w->cap]);
    w->head = (w->head + n) % w->cap;
    w->count -= n;
    w->done += n;
    w->failing = false;
    pthread_cond_broadcast(&w->moved);
    pthread_mutex_unlock(&w->mu);
}

/*
 * A failed write of n alerts: true to retry after a backoff (adders wait meanwhile), false
 * when the group was given up on (not patient and out of attempts, or an earlier one was).
 */
static bool failed(outbox_writer *w, const outbox_item *first, size_t n, sf_status st,
                   unsigned attempt, unsigned *last_tries, int64_t *wait)
{
    char more[48] = "";
    if (n > 1)
        snprintf(more, sizeof more, " (and %zu more alerts)", n - 1);
    pthread_mutex_lock(&w->mu);
    bool patient = w->patient && !w->stopping;
    w->failing = patient;
    pthread_mutex_unlock(&w->mu);
    if (!patient && (atomic_load(&w->gave_up) || --*last_tries == 0)) {
        if (atomic_load(&w->gave_up)) {
            metrics_add("sigflow_outbox_alerts_deferred_total", (double)n);
        } else {
            atomic_store(&w->gave_up, true);
            log_error(WRITER_CTX,
                      "alert=%s entity=%s%s not stored in the outbox (status %d) and stopping: "
                      "no checkpoint will cover it or any later alert not stored, the next "
                      "start re-creates them from the journal",
                      first->alert_id, first->entity, more, (int)st);
        }
        return false;
    }
    if (attempt == 1 || attempt % 20 == 0)
        log_error(WRITER_CTX,
                  "alert=%s entity=%s%s not stored in the outbox yet (status %d, attempt %u): "
                  "scoring waits and retries",
                  first->alert_id, first->entity, more, (int)st, attempt);
    metrics_add("sigflow_outbox_write_retries_total", 1);
    /* The backoff ends early when patience ends (a stop): the last attempts come at once. */
    int64_t end = monotime_ms() + *wait;
    pthread_mutex_lock(&w->mu);
    while (w->patient && !w->stopping) {
        int64_t left = end - monotime_ms();
        if (left <= 0)
            break;
        wait_ms(&w->work, &w->mu, left);
    }
    pthread_mutex_unlock(&w->mu);
    *wait = *wait * 2 > OUTBOX_RETRY_MAX_MS ? OUTBOX_RETRY_MAX_MS : *wait * 2;
    return true;
}

static void *writer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-outbox"); /* top -H, perf: docs/operating.md */
    outbox_writer *w = arg;
    outbox_item *group = w->group;
    bool *created = w->created;
    unsigned attempt = 0, last_tries = OUTBOX_RETRIES_IMPATIENT;
    int64_t wait = OUTBOX_RETRY_MIN_MS;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->count == 0) { /* stopping, nothing left */
            pthread_mutex_unlock(&w->mu);
            break;
        }
        size_t n = take_group(w, group);
        pthread_mutex_unlock(&w->mu);
        /* The group's items stay in the ring (nobody else touches them) until retired. */
        memset(created, 0, n * sizeof *created);
        sf_status st = w->write(w->ctx, group, n, created);
        if (st == SF_OK)
            for (size_t i = 0; i < n; i++)
                w->on_done(w->ctx, &group[i], created[i]);
        /* EINVAL: checked at add, so never; else retried, or given up on */
        if (st == SF_OK || st == SF_EINVAL ||
            !failed(w, &group[0], n, st, ++attempt, &last_tries, &wait)) {
            attempt = 0;
            last_tries = OUTBOX_RETRIES_IMPATIENT;
            wait = OUTBOX_RETRY_MIN_MS;
            retire_group(w, n);
        }
    }
    return NULL;
}

outbox_writer *outbox_writer_start(size_t max_pending, outbox_writer_write_fn write,
                                   outbox_writer_done_fn done, void *ctx)
{
    outbox_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cap = max_pending ? max_pending : 1;
    w->ring = calloc(w->cap, sizeof *w->ring);
    w->group = malloc(OUTBOX_WRITER_GROUP * sizeof *w->group);
    w->created = malloc(OUTBOX_WRITER_GROUP * sizeof *w->created);
    if (!w->ring || !w->group || !w->created)
        goto fail;
    w->write = write;
    w->on_done = done;
    w->ctx = ctx;
    atomic_init(&w->gave_up, false);
    pthread_mutex_init(&w->mu, NULL);
    monotime_cond_init(&w->work);
    monotime_cond_init(&w->moved);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->moved);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    return w;
fail:
    free(w->ring);
    free(w->group);
    free(w->created);
    free(w);
    return NULL;
}

void outbox_writer_stop(outbox_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL); /* it leaves once nothing waits */
    pthread_cond_destroy(&w->moved);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w->group);
    free(w->created);
    free(w);
}
