/*
 * score.c - the engine: watermark, tick boundaries, routing events to shards and merging
 * their alerts back into one stream. With one shard everything runs on the caller's thread;
 * with more, each shard thread (score_queue) runs batches of messages and the producer (the single
 * thread calling score_push) merges alerts by their stream position, so the output never
 * depends on the shard count.
 */
#include "score/score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/strbuf.h"
#include "score/inspect.h"
#include "score/score_guard.h"
#include "score/score_internal.h"
#include "score/score_queue.h"
#include "base/cpus.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

uint64_t score__hash_id(const char *s, size_t len)
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

static int copy_config(score_engine *e, const config_decision *dec, const config_signal *sig,
                       size_t n)
{
    e->dec = *dec;
    e->dec.name = str_dup(dec->name ? dec->name : "decision");
    e->dec.question = str_dup(dec->question);
    e->dec.deliver = NULL;
    e->dec.n_deliver = 0;
    e->dec.outcome = str_dup(dec->outcome);
    if (dec->outcome && !e->dec.outcome)
        return -1;
    e->sig = calloc(n ? n : 1, sizeof *e->sig);
    if (!e->dec.name || (dec->question && !e->dec.question) || !e->sig)
        return -1;
    e->n_sig = n;
    for (size_t i = 0; i < n; i++) {
        e->sig[i] = sig[i];
        e->sig[i].name = str_dup(sig[i].name ? sig[i].name : "");
        e->sig[i].event = str_dup(sig[i].event ? sig[i].event : "");
        e->sig[i].explain = str_dup(sig[i].explain);
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
    free(e->dec.outcome);
    for (size_t i = 0; e->sig && i < e->n_sig; i++) {
        free(e->sig[i].name);
        free(e->sig[i].event);
        free(e->sig[i].explain);
    }
    free(e->sig);
    free(e->types);
    free(e->type_mask);
}

/* ---- alert merging ------------------------------------------------------------------ */

static sf_status pend_add(score_engine *e, score_shard_alert *a, size_t n)
{
    if (e->pend_n + n > e->pend_cap) {
        size_t cap = (e->pend_n + n) * 2;
        score_shard_alert *p = realloc(e->pending, cap * sizeof *p);
        if (!p) {
            for (size_t i = 0; i < n; i++)
                score_shard_item_free(&a[i]);
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
    qsort(e->pending, e->pend_n, sizeof *e->pending, score_shard_alert_cmp);
    size_t k = 0;
    for (; k < e->pend_n && e->pending[k].seq < upto; k++) {
        score_shard_alert *it = &e->pending[k];
        if (it->label) {
            learn_on_label(e->learn, it->label);
            if (e->on_label)
                e->on_label(e->label_ctx, it->label);
        } else {
            if (e->on_alert)
                e->on_alert(e->ctx, it->alert);
            e->delivered++;
        }
        score_shard_item_free(it);
    }
    memmove(e->pending, e->pending + k, (e->pend_n - k) * sizeof *e->pending);
    e->pend_n -= k;
}

/* Collect what the shard threads have finished; deliver what no shard can still precede. */
static sf_status merge(score_engine *e)
{
    uint64_t min_done = UINT64_MAX;
    sf_status err = SF_OK;
    for (int i = 0; i < e->n_shards; i++) {
        score_shard_alert *o = NULL;
        size_t n = 0;
        sf_status qerr;
        uint64_t done = score_queue_collect(e->queues[i], &o, &n, &qerr);
        if (done < min_done)
            min_done = done;
        if (qerr != SF_OK)
            err = qerr;
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
    score_shard_alert *o = score_shard_take_alerts(e->shards[0], &n);
    sf_status st = n ? pend_add(e, o, n) : SF_OK;
    free(o);
    deliver_upto(e, UINT64_MAX);
    return st;
}

static sf_status dispatch_all(score_engine *e)
{
    sf_status st = SF_OK;
    for (int i = 0; i < e->n_shards && st == SF_OK; i++)
        st = score_queue_dispatch(e->queues[i], e->seq);
    return st;
}

/* ---- producer ---------------------------------------------------------------------- */

static sf_status run_ticks(score_engine *e, int64_t from, int64_t to)
{
    e->ticks += (uint64_t)((to - from) / e->model.tick) + 1;
    if (!e->threaded) {
        sf_status st = score_shard_ticks(e->shards[0], e->seq, from, to);
        sf_status st2 = inline_collect(e);
        return st != SF_OK ? st : st2;
    }
    sf_status st = SF_OK;
    for (int i = 0; i < e->n_shards && st == SF_OK; i++)
        st = score_queue_ticks(e->queues[i], e->seq, from, to, e->seq);
    return st;
}

/* Every shard idle with everything queued run (a refit reads and changes them). */
static sf_status sync_shards(score_engine *e)
{
    if (!e->threaded)
        return SF_OK;
    sf_status st = dispatch_all(e);
    for (int i = 0; i < e->n_shards && st == SF_OK; i++)
        score_queue_drain(e->queues[i]);
    sf_status st2 = merge(e);
    return st != SF_OK ? st : st2;
}

/* Boundaries from..to; with outcomes, a refit after each refit boundary among them. */
static sf_status ticks_and_refits(score_engine *e, int64_t from, int64_t to)
{
    int64_t tick = e->model.tick;
    if (!e->model.outcomes)
        return run_ticks(e, from, to);
    while (from <= to) {
        int64_t end = from;
        while (end < to && !learn_is_refit(e, end))
            end += tick;
        sf_status st = run_ticks(e, from, end);
        if (st == SF_OK && learn_is_refit(e, end)) {
            st = sync_shards(e);
            if (st == SF_OK)
                st = learn_refit(e, end);
        }
        if (st != SF_OK)
            return st;
        from = end + tick;
    }
    return SF_OK;
}

/* ---- noise guards (score_guard.h): judged per boundary, before the shards run it ------ */

/* Hand the current snapshot to every shard (each gets a reference). */
static sf_status send_guard(score_engine *e)
{
    const score_guard_snap *g = score_guards_snap(e->guards);
    sf_status st = SF_OK;
    for (int i = 0; i < e->n_shards && st == SF_OK; i++) {
        score_guard_snap_ref(g);
        if (e->threaded)
            st = score_queue_guard(e->queues[i], e->seq, g, e->seq);
        else
            score_shard_set_guard(e->shards[i], g);
    }
    return st;
}

/* Health alerts of boundary T: before every decision alert of T ("" sorts first). */
static sf_status pend_health(score_engine *e, int64_t T, sf_alert **ha, size_t n)
{
    sf_status st = SF_OK;
    for (size_t k = 0; k < n; k++) {
        score_shard_alert a = {e->seq, T, ha[k]};
        if (pend_add(e, &a, 1) != SF_OK)
            st = SF_ENOMEM; /* pend_add freed it */
    }
    return st;
}

static sf_status queue_ticks(score_engine *e, int64_t from, int64_t to)
{
    if (!e->guards)
        return ticks_and_refits(e, from, to);
    int64_t tick = e->model.tick, start = from;
    sf_status st = SF_OK;
    for (int64_t T = from; T <= to && st == SF_OK; T += tick) {
        bool changed = false;
        sf_alert **ha = NULL;
        size_t nh = 0;
        st = score_guards_boundary(e->guards, T, &changed, &ha, &nh);
        sf_status hs = pend_health(e, T, ha, nh);
        free(ha);
        if (st == SF_OK)
            st = hs;
        if (st == SF_OK && changed) {
            if (T > start)
                st = ticks_and_refits(e, start, T - tick);
            start = T;
            if (st == SF_OK)
                st = send_guard(e);
        }
    }
    return st == SF_OK ? ticks_and_refits(e, start, to) : st;
}

uint64_t score_entity_hash(const char *entity, size_t len)
{
    return score__hash_id(entity, len);
}

void score_prefetch(score_engine *e, uint64_t hash, int level)
{
    if (!e->threaded && e->n_shards == 1)
        score_shard_prefetch(e->shards[0], hash, level);
}

static sf_status queue_event(score_engine *e, const sf_event *ev, size_t elen, uint64_t mask,
                             uint64_t h)
{
    size_t alen = ev->attrs ? (ev->attrs_len ? ev->attrs_len : strlen(ev->attrs)) : 0;
    if (!e->threaded) {
        sf_status st =
            score_shard_event(e->shards[0], e->seq, ev->entity, elen, h, mask, ev->time_ms,
                              ev->value, ev->has_value, ev->attrs, alen, e->clock, e->next_tick);
        sf_status st2 = inline_collect(e);
        return st != SF_OK ? st : st2;
    }
    score_queue *q = e->queues[score__shard_of(e, h)];
    return score_queue_event(q, e->seq, ev->entity, elen, h, mask, ev->time_ms, ev->value,
                             ev->has_value, ev->attrs, alen, e->clock, e->next_tick, e->seq);
}

static uint64_t type_mask(const score_engine *e, const char *type)
{
    for (size_t k = 0; k < e->n_types; k++) {
        if (e->types[k][0] == type[0] && strcmp(e->types[k], type) == 0) /* most differ at once */
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
    size_t elen = ev && ev->entity ? strnlen(ev->entity, SIGFLOW_MAX_ENTITY_LEN + 1) : 0;
    return score_push_hashed(e, ev,
                             elen <= SIGFLOW_MAX_ENTITY_LEN ? score__hash_id(ev->entity, elen) : 0);
}

sf_status score_push_hashed(score_engine *e, const sf_event *ev, uint64_t hash)
{
    if (e->err != SF_OK)
        return e->err;
    size_t elen = ev && ev->entity ? strnlen(ev->entity, SIGFLOW_MAX_ENTITY_LEN + 1) : 0;
    if (!ev || elen == 0 || !ev->type || elen > SIGFLOW_MAX_ENTITY_LEN ||
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
    bool outcome = e->dec.outcome && strcmp(ev->type, e->dec.outcome) == 0;
    if (st == SF_OK && mask && e->guards)
        score_guards_event(e->guards, mask, t, ev->value, ev->has_value);
    if (st == SF_OK && (mask || outcome)) {
        sf_event o = *ev;
        o.has_value = !outcome && o.has_value; /* mask 0 without a value: the outcome */
        st = queue_event(e, &o, elen, outcome ? 0 : mask, hash);
    } else if (st == SF_OK && e->dec.outcome && strcmp(ev->type, SCORE_PERSON_LABEL_TYPE) == 0 &&
               ev->has_value && (ev->value == 0 || ev->value == 1)) {
        sf_event o = *ev; /* mask 0 with a value: a person's label (docs "People's labels") */
        o.attrs = NULL;
        st = queue_event(e, &o, elen, 0, hash);
    }
    e->seq++;
    e->events++;
    if (st == SF_OK && e->threaded && ++e->since_sync >= SYNC_EVERY) {
        e->since_sync = 0;
        st = dispatch_all(e);
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
    if (dispatch_all(e) != SF_OK)
        e->err = SF_ENOMEM;
    for (int i = 0; i < e->n_shards; i++)
        score_queue_wait(e->queues[i], e->seq);
    sf_status st = merge(e);
    if (st != SF_OK)
        e->err = st;
}

void score_set_label_fn(score_engine *e, score_label_fn fn, void *ctx)
{
    e->on_label = fn;
    e->label_ctx = ctx;
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
    for (int i = 0; i < e->n_shards; i++) {
        score_shard_stats s;
        if (e->threaded)
            score_queue_stats(e->queues[i], &s);
        else
            score_shard_get_stats(e->shards[i], &s);
        out->applied += s.applied;
        out->entities += s.entities;
        out->evaluations += s.evaluations;
        out->alerts += s.alerts;
        out->retired += s.retired;
        out->state_bytes += s.state_bytes;
    }
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static sf_status shards_start(score_engine *e)
{
    e->shards = calloc((size_t)e->n_shards, sizeof *e->shards);
    if (e->threaded)
        e->queues = calloc((size_t)e->n_shards, sizeof *e->queues);
    if (!e->shards || (e->threaded && !e->queues))
        return SF_ENOMEM;
    for (int i = 0; i < e->n_shards; i++) {
        e->shards[i] = score_shard_new(&e->model);
        if (!e->shards[i])
            return SF_ENOMEM;
        if (e->threaded && !(e->queues[i] = score_queue_new(e->shards[i])))
            return SF_ENOMEM;
    }
    return SF_OK;
}

score_engine *score_new(const config_decision *dec, const config_signal *signals, size_t n_signals,
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
    if (!(e->learn = learn_new(e))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (shards <= 0)
        shards = (int)cpus_online(256);
    if (shards > 256)
        shards = 256;
    e->n_shards = shards;
    e->threaded = shards > 1;
    /* libcrypto (alert ids) initialises lazily: do it here, before any shard thread runs */
    char warm[40];
    alert_make_id(e->dec.name, "", 0, warm);
    if (shards_start(e) != SF_OK) {
        snprintf(err, errlen, "cannot start %d scoring shards: out of memory", shards);
        goto fail;
    }
    e->guards = score_guards_new(e->dec.name, e->sig, e->n_sig, e->model.tick, err, errlen);
    if (!e->guards && err[0])
        goto fail;
    for (int i = 0; e->guards && i < e->n_shards; i++) {
        /* nothing was pushed: the shard threads are idle and touch no shard yet */
        score_guard_snap_ref(score_guards_snap(e->guards));
        score_shard_set_guard(e->shards[i], score_guards_snap(e->guards));
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
    for (int i = 0; i < e->n_shards; i++) {
        if (e->queues)
            score_queue_free(e->queues[i]); /* joins the thread before its shard goes */
        if (e->shards)
            score_shard_free(e->shards[i]);
    }
    free(e->queues);
    free(e->shards);
    for (size_t k = 0; k < e->pend_n; k++)
        score_shard_item_free(&e->pending[k]);
    free(e->pending);
    learn_free(e->learn);
    score_guards_free(e->guards);
    free_config(e);
    free(e);
}

sf_status score_inspect(score_engine *e, const char *id, score_inspection *out)
{
    memset(out, 0, sizeof *out);
    out->last_alert = INT64_MIN;
    if (e->err != SF_OK)
        return e->err;
    size_t len = id ? strnlen(id, SIGFLOW_MAX_ENTITY_LEN + 1) : 0;
    if (len == 0 || len > SIGFLOW_MAX_ENTITY_LEN)
        return SF_EINVAL;
    if (!e->started)
        return SF_OK;
    sf_status st = sync_shards(e); /* the shard is idle while its entity is read */
    if (st != SF_OK)
        return st;
    uint64_t h = score__hash_id(id, len);
    out->at = e->clock;
    return score_shard_inspect(e->shards[score__shard_of(e, h)], id, len, h, e->clock, out);
}

void score_inspection_clear(score_inspection *in)
{
    alert_free(in->now);
    in->now = NULL;
}
