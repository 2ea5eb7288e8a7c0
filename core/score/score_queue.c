/*
 * score_queue.c - batches of messages between the producer and a shard thread. Strings are
 * copied into each batch's arena, so the producer's events can be freed at once; finished
 * batches come back on a free list. One mutex guards the queue, the alerts out and `done`.
 */
#include "score/score_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "score/score_guard.h"

#define BATCH_MSGS 4096
#define QUEUE_BATCHES 16 /* batches in flight before the producer waits */

enum { MSG_EVENT, MSG_TICKS, MSG_GUARD };

typedef struct msg {
    uint8_t kind;
    uint8_t has_value;
    uint64_t seq;
    int64_t time, clock, next_tick; /* ticks: time = first boundary, clock = last */
    uint64_t hash, sigmask;
    double value;
    uint32_t ent_off, ent_len, attrs_off, attrs_len; /* attrs_off UINT32_MAX: none */
    const struct score_guard_snap *guard;            /* MSG_GUARD: a reference, handed on */
} msg;

typedef struct batch {
    msg *m;
    size_t n;
    char *arena;
    size_t used, acap;
    uint64_t upto; /* every message with seq < upto is in this batch or an earlier one */
    struct batch *next;
} batch;

struct score_queue {
    score_shard *shard;
    batch *cur; /* being filled by the producer; only the producer touches it */
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    batch *head, *tail, *free_list;
    size_t len;
    uint64_t done;             /* messages with seq < done have run */
    uint64_t handed, finished; /* batches handed over / run (score_queue_drain) */
    score_shard_alert *out;
    size_t out_n, out_cap;
    int stop;
    sf_status err;
};

static void batch_free(batch *b)
{
    if (b) {
        free(b->m);
        free(b->arena);
        free(b);
    }
}

static batch *batch_new(void)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->m = malloc(BATCH_MSGS * sizeof *b->m);
    b->acap = BATCH_MSGS * 64;
    b->arena = malloc(b->acap);
    if (!b->m || !b->arena) {
        batch_free(b);
        return NULL;
    }
    return b;
}

/* Copy s[0..len) into the batch arena; its offset, or UINT32_MAX when out of memory. */
static uint32_t arena_put(batch *b, const char *s, size_t len)
{
    if (b->used + len + 1 > b->acap) {
        size_t cap = b->acap * 2;
        while (cap < b->used + len + 1)
            cap *= 2;
        char *a = realloc(b->arena, cap);
        if (!a)
            return UINT32_MAX;
        b->arena = a;
        b->acap = cap;
    }
    uint32_t off = (uint32_t)b->used;
    memcpy(b->arena + off, s, len);
    b->arena[off + len] = '\0';
    b->used += len + 1;
    return off;
}

static sf_status run_msg(score_shard *sh, const batch *b, const msg *m)
{
    if (m->kind == MSG_TICKS)
        return score_shard_ticks(sh, m->seq, m->time, m->clock);
    if (m->kind == MSG_GUARD) {
        score_shard_set_guard(sh, m->guard);
        return SF_OK;
    }
    const char *attrs = m->attrs_off == UINT32_MAX ? NULL : b->arena + m->attrs_off;
    return score_shard_event(sh, m->seq, b->arena + m->ent_off, m->ent_len, m->hash, m->sigmask,
                             m->time, m->value, m->has_value, attrs, m->attrs_len, m->clock,
                             m->next_tick);
}

/* Under the lock: keep the alerts a batch fired. */
static sf_status keep_alerts(score_queue *q, score_shard_alert *got, size_t n)
{
    sf_status err = SF_OK;
    if (n && q->out_n + n > q->out_cap) {
        size_t cap = (q->out_n + n) * 2;
        score_shard_alert *o = realloc(q->out, cap * sizeof *o);
        if (o) {
            q->out = o;
            q->out_cap = cap;
        } else {
            err = SF_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (q->out_n < q->out_cap)
            q->out[q->out_n++] = got[i];
        else
            score_shard_item_free(&got[i]);
    }
    free(got);
    return err;
}

static void *queue_thread(void *arg)
{
    score_queue *q = arg;
    pthread_setname_np(pthread_self(), "sf-shard");
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->cv_work, &q->mu);
        if (!q->head)
            break;
        batch *b = q->head;
        q->head = b->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        sf_status err = q->err;
        pthread_mutex_unlock(&q->mu);

        /* after an error the batches still drain (skipped) so that nobody waits forever */
        for (size_t i = 0; i < b->n; i++) {
            if (err == SF_OK)
                err = run_msg(q->shard, b, &b->m[i]);
            else if (b->m[i].kind == MSG_GUARD)
                score_guard_snap_unref(b->m[i].guard); /* skipped: its reference goes */
        }
        size_t n = 0;
        score_shard_alert *got = score_shard_take_alerts(q->shard, &n);

        pthread_mutex_lock(&q->mu);
        sf_status kept = keep_alerts(q, got, n);
        q->err = err != SF_OK ? err : kept;
        q->done = b->upto;
        q->finished++;
        b->n = 0;
        b->used = 0;
        b->next = q->free_list;
        q->free_list = b;
        pthread_cond_broadcast(&q->cv_done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

score_queue *score_queue_new(score_shard *shard)
{
    score_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->shard = shard;
    q->cur = batch_new();
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv_work, NULL);
    pthread_cond_init(&q->cv_done, NULL);
    if (!q->cur || pthread_create(&q->thread, NULL, queue_thread, q) != 0) {
        score_queue_free(q);
        return NULL;
    }
    q->running = 1;
    return q;
}

void score_queue_free(score_queue *q)
{
    if (!q)
        return;
    if (q->running) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_signal(&q->cv_work);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
    }
    batch *lists[] = {q->free_list, q->head};
    for (size_t k = 0; k < 2; k++) {
        for (batch *b = lists[k], *nx; b; b = nx) {
            nx = b->next;
            batch_free(b);
        }
    }
    for (size_t i = 0; q->cur && i < q->cur->n; i++)
        if (q->cur->m[i].kind == MSG_GUARD)
            score_guard_snap_unref(q->cur->m[i].guard); /* appended, never handed over */
    batch_free(q->cur);
    for (size_t i = 0; i < q->out_n; i++)
        score_shard_item_free(&q->out[i]);
    free(q->out);
    pthread_cond_destroy(&q->cv_done);
    pthread_cond_destroy(&q->cv_work);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

sf_status score_queue_dispatch(score_queue *q, uint64_t upto)
{
    batch *b = q->cur;
    b->upto = upto;
    b->next = NULL;
    pthread_mutex_lock(&q->mu);
    while (q->len >= QUEUE_BATCHES)
        pthread_cond_wait(&q->cv_done, &q->mu);
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->len++;
    q->handed++;
    batch *nb = q->free_list;
    if (nb)
        q->free_list = nb->next;
    pthread_cond_signal(&q->cv_work);
    pthread_mutex_unlock(&q->mu);
    q->cur = nb ? nb : batch_new();
    return q->cur ? SF_OK : SF_ENOMEM;
}

static sf_status appended(score_queue *q, uint64_t upto)
{
    q->cur->n++;
    return q->cur->n == BATCH_MSGS ? score_queue_dispatch(q, upto) : SF_OK;
}

sf_status score_queue_event(score_queue *q, uint64_t seq, const char *entity, size_t entity_len,
                            uint64_t hash, uint64_t sigmask, int64_t time, double value,
                            bool has_value, const char *attrs, size_t attrs_len, int64_t clock,
                            int64_t next_tick, uint64_t upto)
{
    batch *b = q->cur;
    msg *m = &b->m[b->n];
    *m = (msg){.kind = MSG_EVENT,
               .has_value = has_value,
               .seq = seq,
               .time = time,
               .clock = clock,
               .next_tick = next_tick,
               .hash = hash,
               .sigmask = sigmask,
               .value = value,
               .ent_len = (uint32_t)entity_len,
               .attrs_len = (uint32_t)attrs_len,
               .attrs_off = UINT32_MAX};
    m->ent_off = arena_put(b, entity, entity_len);
    if (attrs)
        m->attrs_off = arena_put(b, attrs, attrs_len);
    if (m->ent_off == UINT32_MAX || (attrs && m->attrs_off == UINT32_MAX))
        return SF_ENOMEM;
    return appended(q, upto);
}

sf_status score_queue_ticks(score_queue *q, uint64_t seq, int64_t from, int64_t to, uint64_t upto)
{
    batch *b = q->cur;
    b->m[b->n] = (msg){.kind = MSG_TICKS, .seq = seq, .time = from, .clock = to};
    return appended(q, upto);
}

sf_status score_queue_guard(score_queue *q, uint64_t seq, const struct score_guard_snap *g,
                            uint64_t upto)
{
    batch *b = q->cur;
    b->m[b->n] = (msg){.kind = MSG_GUARD, .seq = seq, .guard = g};
    return appended(q, upto);
}

uint64_t score_queue_collect(score_queue *q, score_shard_alert **out, size_t *n, sf_status *err)
{
    pthread_mutex_lock(&q->mu);
    uint64_t done = q->done;
    *err = q->err;
    *out = q->out;
    *n = q->out_n;
    q->out = NULL;
    q->out_n = q->out_cap = 0;
    pthread_mutex_unlock(&q->mu);
    return done;
}

void score_queue_wait(score_queue *q, uint64_t upto)
{
    pthread_mutex_lock(&q->mu);
    while (q->done < upto && q->err == SF_OK)
        pthread_cond_wait(&q->cv_done, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void score_queue_drain(score_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->finished < q->handed)
        pthread_cond_wait(&q->cv_done, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void score_queue_stats(score_queue *q, score_shard_stats *out)
{
    pthread_mutex_lock(&q->mu);
    score_shard_get_stats(q->shard, out);
    pthread_mutex_unlock(&q->mu);
}
