/*
 * score.c - the engine: watermark, tick boundaries, routing events to shards and merging
 * their alerts back into one stream. With one shard everything runs on the caller's thread;
 * with more, each shard thread consumes batches of messages and the producer (the single
 * thread calling score_push) merges alerts by their stream position, so the output never
 * depends on the shard count.
 */
#include "score.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "score_shard.h"

#define BATCH_MSGS 4096
#define QUEUE_BATCHES 16
#define SYNC_EVERY 65536 /* events between forced batch hand-offs (bounds alert latency) */

enum { MSG_EVENT, MSG_TICKS };

typedef struct msg {
    uint8_t kind;
    uint8_t has_value;
    uint64_t seq;
    int64_t time, clock, next_tick; /* ticks: time = first boundary, clock = last */
    uint64_t hash, sigmask;
    double value;
    uint32_t ent_off, ent_len, attrs_off, attrs_len; /* attrs_off UINT32_MAX: none */
} msg;

typedef struct batch {
    msg *m;
    size_t n;
    char *arena;
    size_t used, acap;
    uint64_t upto; /* every message for this shard with seq < upto is in this or earlier */
    struct batch *next;
} batch;

typedef struct slot {
    score_shard *shard;
    batch *cur; /* being filled by the producer */
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    batch *q_head, *q_tail, *free_list;
    size_t q_len;
    uint64_t done; /* messages with seq < done are processed */
    shard_alert *out;
    size_t out_n, out_cap;
    int stop;
    sf_status err;
} slot;

struct score_engine {
    cfg_decision dec;
    cfg_signal *sig;
    size_t n_sig;
    score_model model;
    score_alert_fn on_alert;
    void *ctx;
    slot *slots;
    int n_slots;
    int threaded;
    char **types; /* distinct event types, with the signals reading each */
    uint64_t *type_mask;
    size_t n_types;
    int started;
    int64_t watermark, clock, next_tick, advanced;
    uint64_t seq; /* stream position: one per pushed event and per advance */
    uint64_t events, ticks, since_sync, delivered;
    shard_alert *pending;
    size_t pend_n, pend_cap;
    sf_status err;
};

static char *sdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static uint64_t hash_id(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 33; /* spread the low bits the shard choice and tables use */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* ---- config copy -------------------------------------------------------------------- */

static int copy_config(score_engine *e, const cfg_decision *dec, const cfg_signal *sig, size_t n)
{
    e->dec = *dec;
    e->dec.name = sdup(dec->name ? dec->name : "decision");
    e->dec.question = sdup(dec->question);
    e->dec.deliver = NULL;
    e->dec.n_deliver = 0;
    e->sig = calloc(n ? n : 1, sizeof *e->sig);
    if (!e->dec.name || (dec->question && !e->dec.question) || !e->sig)
        return -1;
    e->n_sig = n;
    for (size_t i = 0; i < n; i++) {
        e->sig[i] = sig[i];
        e->sig[i].name = sdup(sig[i].name ? sig[i].name : "");
        e->sig[i].event = sdup(sig[i].event ? sig[i].event : "");
        e->sig[i].explain = sdup(sig[i].explain);
        if (!e->sig[i].name || !e->sig[i].event || (sig[i].explain && !e->sig[i].explain))
            return -1;
    }
    e->types = calloc(n ? n : 1, sizeof *e->types);
    e->type_mask = calloc(n ? n : 1, sizeof *e->type_mask);
    if (!e->types || !e->type_mask)
        return -1;
    for (size_t i = 0; i < n && i < 64; i++) {
        size_t k = 0;
        while (k < e->n_types && strcmp(e->types[k], e->sig[i].event) != 0)
            k++;
        if (k == e->n_types)
            e->types[e->n_types++] = e->sig[i].event; /* borrowed from sig */
        e->type_mask[k] |= 1ull << i;
    }
    return 0;
}

static void free_config(score_engine *e)
{
    free(e->dec.name);
    free(e->dec.question);
    for (size_t i = 0; e->sig && i < e->n_sig; i++) {
        free(e->sig[i].name);
        free(e->sig[i].event);
        free(e->sig[i].explain);
    }
    free(e->sig);
    free(e->types);
    free(e->type_mask);
}

/* ---- batches and shard threads ------------------------------------------------------ */

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

/* Copy s[0..len) into the batch arena; returns its offset or UINT32_MAX when out of memory. */
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
        return shard_ticks(sh, m->seq, m->time, m->clock);
    const char *attrs = m->attrs_off == UINT32_MAX ? NULL : b->arena + m->attrs_off;
    return shard_event(sh, m->seq, b->arena + m->ent_off, m->ent_len, m->hash, m->sigmask, m->time,
                       m->value, m->has_value, attrs, m->attrs_len, m->clock, m->next_tick);
}

static void *slot_thread(void *arg)
{
    slot *sl = arg;
    pthread_setname_np(pthread_self(), "sf-shard");
    pthread_mutex_lock(&sl->mu);
    for (;;) {
        while (!sl->q_head && !sl->stop)
            pthread_cond_wait(&sl->cv_work, &sl->mu);
        if (!sl->q_head)
            break;
        batch *b = sl->q_head;
        sl->q_head = b->next;
        if (!sl->q_head)
            sl->q_tail = NULL;
        sl->q_len--;
        sf_status err = sl->err;
        pthread_mutex_unlock(&sl->mu);

        for (size_t i = 0; i < b->n && err == SF_OK; i++)
            err = run_msg(sl->shard, b, &b->m[i]);
        size_t n = 0;
        shard_alert *got = shard_take_alerts(sl->shard, &n);

        pthread_mutex_lock(&sl->mu);
        if (n && sl->out_n + n > sl->out_cap) {
            size_t cap = (sl->out_n + n) * 2;
            shard_alert *o = realloc(sl->out, cap * sizeof *o);
            if (o) {
                sl->out = o;
                sl->out_cap = cap;
            } else {
                err = SF_ENOMEM;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (sl->out_n < sl->out_cap)
                sl->out[sl->out_n++] = got[i];
            else
                alert_free(got[i].alert);
        }
        free(got);
        sl->err = err;
        sl->done = b->upto;
        b->n = 0;
        b->used = 0;
        b->next = sl->free_list;
        sl->free_list = b;
        pthread_cond_broadcast(&sl->cv_done);
    }
    pthread_mutex_unlock(&sl->mu);
    return NULL;
}

/* Hand the slot's current batch to its thread (waiting while the queue is full). */
static sf_status slot_dispatch(score_engine *e, slot *sl)
{
    batch *b = sl->cur;
    b->upto = e->seq;
    pthread_mutex_lock(&sl->mu);
    while (sl->q_len >= QUEUE_BATCHES)
        pthread_cond_wait(&sl->cv_done, &sl->mu);
    b->next = NULL;
    if (sl->q_tail)
        sl->q_tail->next = b;
    else
        sl->q_head = b;
    sl->q_tail = b;
    sl->q_len++;
    batch *nb = sl->free_list;
    if (nb)
        sl->free_list = nb->next;
    pthread_cond_signal(&sl->cv_work);
    pthread_mutex_unlock(&sl->mu);
    sl->cur = nb ? nb : batch_new();
    return sl->cur ? SF_OK : SF_ENOMEM;
}

/* ---- alert merging ------------------------------------------------------------------ */

static sf_status pend_add(score_engine *e, shard_alert *a, size_t n)
{
    if (e->pend_n + n > e->pend_cap) {
        size_t cap = (e->pend_n + n) * 2;
        shard_alert *p = realloc(e->pending, cap * sizeof *p);
        if (!p) {
            for (size_t i = 0; i < n; i++)
                alert_free(a[i].alert);
            return SF_ENOMEM;
        }
        e->pending = p;
        e->pend_cap = cap;
    }
    memcpy(e->pending + e->pend_n, a, n * sizeof *a);
    e->pend_n += n;
    return SF_OK;
}

/* Deliver, in stream order, the pending alerts with seq < upto. */
static void deliver_upto(score_engine *e, uint64_t upto)
{
    if (e->pend_n == 0)
        return;
    qsort(e->pending, e->pend_n, sizeof *e->pending, shard_alert_cmp);
    size_t k = 0;
    for (; k < e->pend_n && e->pending[k].seq < upto; k++) {
        if (e->on_alert)
            e->on_alert(e->ctx, e->pending[k].alert);
        alert_free(e->pending[k].alert);
        e->delivered++;
    }
    memmove(e->pending, e->pending + k, (e->pend_n - k) * sizeof *e->pending);
    e->pend_n -= k;
}

/* Collect what the shard threads have finished; deliver what no shard can still precede. */
static sf_status merge(score_engine *e)
{
    uint64_t min_done = UINT64_MAX;
    sf_status err = SF_OK;
    for (int i = 0; i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        pthread_mutex_lock(&sl->mu);
        if (sl->done < min_done)
            min_done = sl->done;
        if (sl->err != SF_OK)
            err = sl->err;
        shard_alert *o = sl->out;
        size_t n = sl->out_n;
        sl->out = NULL;
        sl->out_n = sl->out_cap = 0;
        pthread_mutex_unlock(&sl->mu);
        if (n) {
            sf_status st = pend_add(e, o, n);
            if (st != SF_OK)
                err = st;
        }
        free(o);
    }
    deliver_upto(e, min_done);
    return err;
}

/* Inline mode (one shard, no thread): alerts come out already in order. */
static sf_status inline_collect(score_engine *e)
{
    size_t n = 0;
    shard_alert *o = shard_take_alerts(e->slots[0].shard, &n);
    sf_status st = n ? pend_add(e, o, n) : SF_OK;
    free(o);
    deliver_upto(e, UINT64_MAX);
    return st;
}

/* ---- producer ---------------------------------------------------------------------- */

static sf_status queue_ticks(score_engine *e, int64_t from, int64_t to)
{
    e->ticks += (uint64_t)((to - from) / e->model.tick) + 1;
    if (!e->threaded) {
        sf_status st = shard_ticks(e->slots[0].shard, e->seq, from, to);
        sf_status st2 = inline_collect(e);
        return st != SF_OK ? st : st2;
    }
    for (int i = 0; i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        msg *m = &sl->cur->m[sl->cur->n++];
        memset(m, 0, sizeof *m);
        m->kind = MSG_TICKS;
        m->seq = e->seq;
        m->time = from;
        m->clock = to;
        if (sl->cur->n == BATCH_MSGS) {
            sf_status st = slot_dispatch(e, sl);
            if (st != SF_OK)
                return st;
        }
    }
    return SF_OK;
}

static sf_status queue_event(score_engine *e, const sf_event *ev, uint64_t mask, uint64_t h)
{
    size_t elen = strlen(ev->entity);
    size_t alen = ev->attrs ? strlen(ev->attrs) : 0;
    if (!e->threaded) {
        sf_status st =
            shard_event(e->slots[0].shard, e->seq, ev->entity, elen, h, mask, ev->time_ms,
                        ev->value, ev->has_value, ev->attrs, alen, e->clock, e->next_tick);
        sf_status st2 = inline_collect(e);
        return st != SF_OK ? st : st2;
    }
    slot *sl = &e->slots[(h >> 40) % (uint64_t)e->n_slots];
    batch *b = sl->cur;
    msg *m = &b->m[b->n];
    m->kind = MSG_EVENT;
    m->has_value = ev->has_value;
    m->seq = e->seq;
    m->time = ev->time_ms;
    m->clock = e->clock;
    m->next_tick = e->next_tick;
    m->hash = h;
    m->sigmask = mask;
    m->value = ev->value;
    m->ent_len = (uint32_t)elen;
    m->ent_off = arena_put(b, ev->entity, elen);
    m->attrs_len = (uint32_t)alen;
    m->attrs_off = ev->attrs ? arena_put(b, ev->attrs, alen) : UINT32_MAX;
    if (m->ent_off == UINT32_MAX || (ev->attrs && m->attrs_off == UINT32_MAX))
        return SF_ENOMEM;
    b->n++;
    if (b->n == BATCH_MSGS)
        return slot_dispatch(e, sl);
    return SF_OK;
}

static uint64_t type_mask(const score_engine *e, const char *type)
{
    for (size_t k = 0; k < e->n_types; k++) {
        if (strcmp(e->types[k], type) == 0)
            return e->type_mask[k];
    }
    return 0;
}

/* Start the tick schedule at the first event (boundaries before it evaluate nobody). */
static void start_clock(score_engine *e, int64_t t)
{
    int64_t tick = e->model.tick;
    e->started = 1;
    e->watermark = e->clock = t;
    e->next_tick = -floor_div(-t, tick) * tick; /* ceil(t / tick) * tick */
    if (e->advanced != INT64_MIN) {
        int64_t after = (floor_div(e->advanced, tick) + 1) * tick;
        if (after > e->next_tick)
            e->next_tick = after;
        if (e->advanced > e->clock)
            e->clock = e->advanced;
    }
}

sf_status score_push(score_engine *e, const sf_event *ev)
{
    if (e->err != SF_OK)
        return e->err;
    if (!ev || !ev->entity || !ev->type || strlen(ev->entity) > SF_MAX_ENTITY_LEN ||
        ev->time_ms < SCORE_TIME_MIN_MS || ev->time_ms > SCORE_TIME_MAX_MS)
        return SF_EINVAL;
    int64_t t = ev->time_ms;
    sf_status st = SF_OK;
    if (!e->started)
        start_clock(e, t);
    if (t > e->next_tick) {
        /* boundaries T < t are due before this event is applied */
        int64_t last = floor_div(t - 1, e->model.tick) * e->model.tick;
        st = queue_ticks(e, e->next_tick, last);
        e->next_tick = last + e->model.tick;
    }
    if (t > e->watermark)
        e->watermark = t;
    if (t > e->clock)
        e->clock = t;
    uint64_t mask = type_mask(e, ev->type);
    if (st == SF_OK && mask)
        st = queue_event(e, ev, mask, hash_id(ev->entity, strlen(ev->entity)));
    e->seq++;
    e->events++;
    if (st == SF_OK && e->threaded && ++e->since_sync >= SYNC_EVERY) {
        e->since_sync = 0;
        for (int i = 0; i < e->n_slots && st == SF_OK; i++)
            st = slot_dispatch(e, &e->slots[i]);
        if (st == SF_OK)
            st = merge(e);
    }
    if (st != SF_OK)
        e->err = st;
    return st;
}

sf_status score_advance(score_engine *e, int64_t now_ms)
{
    if (e->err != SF_OK)
        return e->err;
    if (now_ms < SCORE_TIME_MIN_MS || now_ms > SCORE_TIME_MAX_MS)
        return SF_EINVAL;
    int64_t tick = e->model.tick;
    if (!e->started) {
        if (e->advanced == INT64_MIN || now_ms > e->advanced)
            e->advanced = now_ms;
        return SF_OK;
    }
    sf_status st = SF_OK;
    if (now_ms >= e->next_tick) {
        int64_t last = floor_div(now_ms, tick) * tick;
        st = queue_ticks(e, e->next_tick, last);
        e->next_tick = last + tick;
        e->seq++; /* these ticks' alerts precede everything pushed later */
    }
    if (now_ms > e->clock)
        e->clock = now_ms;
    if (st != SF_OK)
        e->err = st;
    return st;
}

void score_flush(score_engine *e)
{
    if (!e->threaded) {
        if (inline_collect(e) != SF_OK)
            e->err = SF_ENOMEM;
        return;
    }
    for (int i = 0; i < e->n_slots; i++) {
        if (slot_dispatch(e, &e->slots[i]) != SF_OK)
            e->err = SF_ENOMEM;
    }
    for (int i = 0; i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        pthread_mutex_lock(&sl->mu);
        while (sl->done < e->seq && sl->err == SF_OK)
            pthread_cond_wait(&sl->cv_done, &sl->mu);
        pthread_mutex_unlock(&sl->mu);
    }
    sf_status st = merge(e);
    if (st != SF_OK)
        e->err = st;
}

int64_t score_watermark(const score_engine *e)
{
    return e->started ? e->watermark : INT64_MIN;
}

void score_get_stats(score_engine *e, score_stats *out)
{
    memset(out, 0, sizeof *out);
    out->events = e->events;
    out->ticks = e->ticks;
    for (int i = 0; i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        shard_stats s;
        if (e->threaded)
            pthread_mutex_lock(&sl->mu);
        shard_get_stats(sl->shard, &s);
        if (e->threaded)
            pthread_mutex_unlock(&sl->mu);
        out->applied += s.applied;
        out->entities += s.entities;
        out->evaluations += s.evaluations;
        out->alerts += s.alerts;
        out->state_bytes += s.state_bytes;
    }
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static sf_status slots_start(score_engine *e)
{
    e->slots = calloc((size_t)e->n_slots, sizeof *e->slots);
    if (!e->slots)
        return SF_ENOMEM;
    for (int i = 0; i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        sl->shard = shard_new(&e->model);
        if (!sl->shard)
            return SF_ENOMEM;
        if (!e->threaded)
            continue;
        sl->cur = batch_new();
        if (!sl->cur)
            return SF_ENOMEM;
        pthread_mutex_init(&sl->mu, NULL);
        pthread_cond_init(&sl->cv_work, NULL);
        pthread_cond_init(&sl->cv_done, NULL);
        if (pthread_create(&sl->thread, NULL, slot_thread, sl) != 0)
            return SF_ENOMEM;
        sl->running = 1;
    }
    return SF_OK;
}

score_engine *score_new(const cfg_decision *dec, const cfg_signal *signals, size_t n_signals,
                        int shards, score_alert_fn on_alert, void *ctx, char *err, size_t errlen)
{
    score_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->advanced = INT64_MIN;
    e->on_alert = on_alert;
    e->ctx = ctx;
    if (copy_config(e, dec, signals, n_signals) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (score_model_init(&e->model, &e->dec, e->sig, e->n_sig, err, errlen) != SF_OK)
        goto fail;
    if (shards <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        shards = n > 0 ? (int)n : 1;
    }
    if (shards > 256)
        shards = 256;
    e->n_slots = shards;
    e->threaded = shards > 1;
    if (slots_start(e) != SF_OK) {
        snprintf(err, errlen, "cannot start %d scoring shards: out of memory", shards);
        goto fail;
    }
    return e;
fail:
    score_free(e);
    return NULL;
}

void score_free(score_engine *e)
{
    if (!e)
        return;
    for (int i = 0; e->slots && i < e->n_slots; i++) {
        slot *sl = &e->slots[i];
        if (sl->running) {
            pthread_mutex_lock(&sl->mu);
            sl->stop = 1;
            pthread_cond_signal(&sl->cv_work);
            pthread_mutex_unlock(&sl->mu);
            pthread_join(sl->thread, NULL);
        }
        if (e->threaded) {
            pthread_mutex_destroy(&sl->mu);
            pthread_cond_destroy(&sl->cv_work);
            pthread_cond_destroy(&sl->cv_done);
        }
        for (batch *b = sl->free_list, *nx; b; b = nx) {
            nx = b->next;
            batch_free(b);
        }
        for (batch *b = sl->q_head, *nx; b; b = nx) {
            nx = b->next;
            batch_free(b);
        }
        batch_free(sl->cur);
        for (size_t k = 0; k < sl->out_n; k++)
            alert_free(sl->out[k].alert);
        free(sl->out);
        shard_free(sl->shard);
    }
    free(e->slots);
    for (size_t k = 0; k < e->pend_n; k++)
        alert_free(e->pending[k].alert);
    free(e->pending);
    free_config(e);
    free(e);
}
