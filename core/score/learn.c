/*
 * learn.c - refits at tick boundaries, the model history and the published model view.
 * See learn.h; the rules are docs/scoring.md "Outcomes and learning".
 *
 * Determinism: everything a refit reads is gathered from all shards and sorted by keys that
 * do not depend on the shard count (snapshot priority, entity id, time), so any number of
 * shards, and a checkpoint restored anywhere, refit to the same bits.
 */
#include "score/learn.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/fit.h"
#include "score/learn_internal.h"
#include "score/outcome.h"
#include "score/score_internal.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Copy the model the engine runs now into the published mirror (lock held). */
static void mirror(score_learn *l, const score_engine *e)
{
    l->version = e->model.version;
    l->bias = e->dec.bias;
    l->threshold = e->dec.threshold;
    l->rearm_below = e->dec.rearm_below;
    for (size_t i = 0; i < e->n_sig; i++)
        l->w[i] = e->sig[i].weight;
}

score_learn *learn_new(score_engine *e)
{
    score_learn *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    l->cfg_bias = e->dec.bias;
    l->cfg_threshold = e->dec.threshold;
    l->cfg_rearm = e->dec.rearm_below;
    for (size_t i = 0; i < e->n_sig; i++)
        l->cfg_w[i] = e->sig[i].weight;
    l->last_refit = INT64_MIN;
    l->trace_rate = UINT64_MAX;
    mirror(l, e);
    return l;
}

void learn_free(score_learn *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->hist);
    free(l);
}

bool learn_is_refit(const score_engine *e, int64_t T)
{
    if (!e->model.outcomes)
        return false;
    int64_t r = e->dec.refit_ms, tick = e->model.tick;
    return floor_div(T, r) != floor_div(T - tick, r);
}

void learn_on_label(score_learn *l, const score_label *lab)
{
    pthread_mutex_lock(&l->mu);
    if (lab->kind == SCORE_LABEL_CONFIRMED)
        l->confirmed++;
    else if (lab->kind == SCORE_LABEL_FALSE_POSITIVE)
        l->false_positive++;
    else
        l->missed++;
    if (lab->kind != SCORE_LABEL_MISSED) {
        for (size_t i = 0; i < lab->n_features && i < SIGFLOW_MAX_SIGNALS; i++) {
            if (lab->features[i] < 0.5)
                continue;
            if (lab->kind == SCORE_LABEL_CONFIRMED)
                l->high_confirmed[i]++;
            else
                l->high_false[i]++;
        }
    }
    pthread_mutex_unlock(&l->mu);
}

/* Append a change to the history (lock held); the oldest goes beyond the limit. */
static void record(score_learn *l, const score_model_change *c)
{
    if (l->n_hist == SIGFLOW_MAX_MODEL_HISTORY) {
        memmove(l->hist, l->hist + 1, (l->n_hist - 1) * sizeof *l->hist);
        l->n_hist--;
    }
    if (l->n_hist == l->cap_hist) {
        size_t cap = l->cap_hist ? l->cap_hist * 2 : 16;
        score_model_change *h = realloc(l->hist, cap * sizeof *h);
        if (!h)
            return; /* the history misses one entry; the model itself is installed */
        l->hist = h;
        l->cap_hist = cap;
    }
    l->hist[l->n_hist++] = *c;
}

void learn__record(score_learn *l, const score_model_change *c)
{
    pthread_mutex_lock(&l->mu);
    record(l, c);
    pthread_mutex_unlock(&l->mu);
}

/* ---- the fit sample ----------------------------------------------------------------------- */

typedef struct row_ref {
    uint64_t prio;
    int64_t t;
    const char *id;
    const float *x;
    int8_t label;
} row_ref;

static int row_cmp(const void *pa, const void *pb)
{
    const row_ref *a = pa, *b = pb;
    if (a->prio != b->prio)
        return a->prio < b->prio ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Label every shard's rows, cut the global sample to fit_sample, and copy its labelled rows
   into x / y (malloc'd; *n rows). */
static sf_status gather_rows(score_engine *e, int64_t R, float **xo, uint8_t **yo, size_t *n,
                             uint64_t *pos)
{
    size_t d = e->n_sig, total = 0;
    for (int s = 0; s < e->n_shards; s++) {
        outcome_tables *o = score_shard_outcomes(e->shards[s]);
        outcome_label_rows(o, R);
        total += o->rows_n;
    }
    row_ref *refs = malloc((total ? total : 1) * sizeof *refs);
    if (!refs)
        return SF_ENOMEM;
    size_t k = 0;
    for (int s = 0; s < e->n_shards; s++) {
        outcome_tables *o = score_shard_outcomes(e->shards[s]);
        for (size_t i = 0; i < o->rows_n; i++)
            refs[k++] = (row_ref){o->rows[i].prio, o->rows[i].t, o->rows[i].id, o->row_x + i * d,
                                  o->rows[i].label};
    }
    qsort(refs, total, sizeof *refs, row_cmp);
    size_t keep = total < e->model.ocfg.fit_sample ? total : (size_t)e->model.ocfg.fit_sample;
    size_t m = 0;
    for (size_t i = 0; i < keep; i++)
        m += refs[i].label >= 0;
    float *x = malloc((m ? m : 1) * (d ? d : 1) * sizeof *x);
    uint8_t *y = malloc(m ? m : 1);
    if (!x || !y) {
        free(refs);
        free(x);
        free(y);
        return SF_ENOMEM;
    }
    size_t j = 0;
    *pos = 0;
    for (size_t i = 0; i < keep; i++) {
        if (refs[i].label < 0)
            continue;
        memcpy(x + j * d, refs[i].x, d * sizeof *x);
        y[j] = (uint8_t)refs[i].label;
        *pos += y[j];
        j++;
    }
    if (keep < total) {
        uint64_t cut = refs[keep - 1].prio;
        for (int s = 0; s < e->n_shards; s++)
            outcome_cut_rows(score_shard_outcomes(e->shards[s]), cut);
    }
    free(refs);
    *xo = x;
    *yo = y;
    *n = m;
    return SF_OK;
}

/* ---- people's labels ----------------------------------------------------------------------- */

typedef struct person_ref {
    int64_t t;
    const char *id;
    const float *x;
    uint8_t y;
} person_ref;

static int person_cmp(const void *pa, const void *pb)
{
    const person_ref *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Append every shard's person rows (the newest SIGFLOW_MAX_PERSON_LABELS by alert time, the rest
   dropped everywhere) to x / y / wt after the n snapshot rows. */
static sf_status add_persons(score_engine *e, float **xo, uint8_t **yo, float **wo, size_t *n,
                             uint64_t *pos, uint64_t *persons)
{
    size_t d = e->n_sig, total = 0;
    for (int s = 0; s < e->n_shards; s++)
        total += score_shard_outcomes(e->shards[s])->per_n;
    *persons = 0;
    if (total == 0)
        return SF_OK;
    person_ref *refs = malloc(total * sizeof *refs);
    if (!refs)
        return SF_ENOMEM;
    size_t k = 0;
    for (int s = 0; s < e->n_shards; s++) {
        const outcome_tables *o = score_shard_outcomes(e->shards[s]);
        for (size_t i = 0; i < o->per_n; i++)
            refs[k++] = (person_ref){o->per[i].t, o->per[i].id, o->per_x + i * d, o->per[i].y};
    }
    qsort(refs, total, sizeof *refs, person_cmp);
    size_t from = 0;
    if (total > SIGFLOW_MAX_PERSON_LABELS) {
        from = total - SIGFLOW_MAX_PERSON_LABELS;
        while (from > 0 && refs[from - 1].t == refs[from].t)
            from--; /* a time is kept or dropped whole: the same on any shard count */
        for (int s = 0; s < e->n_shards; s++)
            outcome_cut_persons(score_shard_outcomes(e->shards[s]), refs[from].t);
    }
    size_t m = total - from, all = *n + m;
    float *x = realloc(*xo, all * (d ? d : 1) * sizeof *x);
    if (x)
        *xo = x;
    uint8_t *y = realloc(*yo, all);
    if (y)
        *yo = y;
    float *w = realloc(*wo, all * sizeof *w);
    if (w)
        *wo = w;
    if (!x || !y || !w) {
        free(refs);
        return SF_ENOMEM;
    }
    for (size_t i = 0; i < *n; i++)
        w[i] = 1;
    for (size_t i = from; i < total; i++, (*n)++) {
        memcpy(x + *n * d, refs[i].x, d * sizeof *x);
        y[*n] = refs[i].y;
        w[*n] = LEARN_PERSON_WEIGHT;
        *pos += refs[i].y;
    }
    *persons = m;
    free(refs);
    return SF_OK;
}

/* ---- threshold = auto ----------------------------------------------------------------------- */

typedef struct trace_ref {
    const char *id;
    int64_t t;
    uint64_t n;
    const float *x;
    const outcome_tables *o;
} trace_ref;

static int trace_cmp(const void *pa, const void *pb)
{
    const trace_ref *a = pa, *b = pb;
    int c = a->id == b->id ? 0 : strcmp(a->id, b->id);
    if (c != 0)
        return c;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Keep traces of the last horizon + auto_window; halve the entity sample while they exceed
   fit_sample rows (the same decision in every shard: it is taken here, on all of them). */
static void prune_traces(score_engine *e, int64_t R, score_learn *l)
{
    int64_t from = R - e->model.ocfg.trace_keep;
    uint64_t rate = l->trace_rate;
    for (;;) {
        size_t count = 0;
        for (int s = 0; s < e->n_shards; s++) {
            const outcome_tables *o = score_shard_outcomes(e->shards[s]);
            for (size_t i = 0; i < o->tr_n; i++)
                count += o->tr[i].t >= from && outcome_trace_key(o->tr[i].hash) < rate;
        }
        if (count <= e->model.ocfg.fit_sample || rate < 2)
            break;
        rate /= 2;
    }
    l->trace_rate = rate;
    for (int s = 0; s < e->n_shards; s++)
        outcome_prune_traces(score_shard_outcomes(e->shards[s]), from, rate);
}

static double score_of(const float *x, size_t d, const double *beta)
{
    double z = beta[0];
    for (size_t j = 0; j < d; j++)
        z += beta[j + 1] * (double)x[j];
    return 1.0 / (1.0 + exp(-z));
}

/* The threshold for model beta, judged on the traces' alerts of [R - horizon - W, R). */
static sf_status pick_threshold(score_engine *e, int64_t R, const double *beta, fit_pick *pick)
{
    size_t d = e->n_sig, total = 0;
    for (int s = 0; s < e->n_shards; s++)
        total += score_shard_outcomes(e->shards[s])->tr_n;
    trace_ref *refs = malloc((total ? total : 1) * sizeof *refs);
    fit_trace_row *rows = malloc((total ? total : 1) * sizeof *rows);
    if (!refs || !rows) {
        free(refs);
        free(rows);
        return SF_ENOMEM;
    }
    size_t k = 0;
    for (int s = 0; s < e->n_shards; s++) {
        const outcome_tables *o = score_shard_outcomes(e->shards[s]);
        for (size_t i = 0; i < o->tr_n; i++)
            refs[k++] = (trace_ref){o->tr[i].id, o->tr[i].t, o->tr[i].n, o->tr_x + i * d, o};
    }
    qsort(refs, total, sizeof *refs, trace_cmp);
    int64_t h = e->dec.horizon_ms, lo = R - h - e->dec.auto_window_ms;
    uint32_t ent = 0;
    for (size_t i = 0; i < total; i++) {
        const trace_ref *r = &refs[i];
        bool same = i > 0 && refs[i - 1].id == r->id;
        ent += i > 0 && !same;
        int64_t next = outcome_next_after(r->o, r->id, r->t);
        bool new_life = false;
        if (same) {
            int64_t since = outcome_next_after(r->o, r->id, refs[i - 1].t);
            new_life = since != SCORE_LABEL_NO_TIME && since <= r->t;
        }
        /* judged: alerts of [R - horizon - auto_window, R), followed up to R (at most h) */
        int64_t follow = r->t >= lo && r->t < R ? (R - r->t < h ? R - r->t : h) : -1;
        int64_t in = next != SCORE_LABEL_NO_TIME && next - r->t <= follow ? next - r->t : -1;
        rows[i] = (fit_trace_row){ent, r->t, score_of(r->x, d, beta), new_life, follow, in};
    }
    fit_rule rule = {.cooldown_ms = e->dec.cooldown_ms,
                     .rearm_set = e->dec.rearm_set,
                     .rearm_below = e->learn->cfg_rearm,
                     .target = e->dec.target_precision,
                     .min_judged = LEARN_MIN_JUDGED};
    fit_pick_threshold(rows, total, &rule, e->dec.threshold, pick);
    free(refs);
    free(rows);
    return SF_OK;
}

/* ---- the refit ------------------------------------------------------------------------------- */

static void prune_seen(score_engine *e, int64_t R)
{
    int64_t keep = R - e->model.ocfg.trace_keep;
    for (int s = 0; s < e->n_shards; s++) {
        int64_t u = outcome_oldest_unlabelled(score_shard_outcomes(e->shards[s]));
        if (u < keep)
            keep = u;
    }
    if (!e->dec.threshold_auto && keep == R - e->model.ocfg.trace_keep)
        keep = R - e->dec.fit_horizon_ms; /* no traces: only unlabelled rows need outcomes */
    for (int s = 0; s < e->n_shards; s++)
        outcome_prune_seen(score_shard_outcomes(e->shards[s]), keep);
}

/* Put beta and the threshold into the engine and prove every schedule again. */
static sf_status install(score_engine *e, int64_t R, const double *beta, double threshold)
{
    e->dec.bias = beta[0];
    for (size_t i = 0; i < e->n_sig; i++)
        e->sig[i].weight = beta[i + 1];
    e->dec.threshold = threshold;
    e->dec.rearm_below = e->dec.rearm_set ? fmin(e->learn->cfg_rearm, threshold) : threshold;
    score_model_set_limits(&e->model);
    e->model.version++;
    for (int s = 0; s < e->n_shards; s++) {
        sf_status st = score_shard_reschedule(e->shards[s], R, R + e->model.tick);
        if (st != SF_OK)
            return st;
    }
    return SF_OK;
}

sf_status learn_refit(score_engine *e, int64_t R)
{
    score_learn *l = e->learn;
    size_t d = e->n_sig, n = 0;
    float *x = NULL, *wt = NULL;
    uint8_t *y = NULL;
    uint64_t pos = 0, persons = 0;
    sf_status st = gather_rows(e, R, &x, &y, &n, &pos);
    if (st != SF_OK)
        return st;
    size_t snapshots = n;
    uint64_t snap_pos = pos;
    st = add_persons(e, &x, &y, &wt, &n, &pos, &persons);
    if (st != SF_OK) {
        free(x);
        free(y);
        free(wt);
        return st;
    }
    if (e->dec.threshold_auto)
        prune_traces(e, R, l);
    double beta0[SIGFLOW_MAX_SIGNALS + 1], start[SIGFLOW_MAX_SIGNALS + 1],
        beta[SIGFLOW_MAX_SIGNALS + 1];
    beta0[0] = l->cfg_bias;
    start[0] = e->dec.bias;
    for (size_t i = 0; i < d; i++) {
        beta0[i + 1] = l->cfg_w[i];
        start[i + 1] = e->sig[i].weight;
    }
    bool enough = snap_pos >= LEARN_MIN_POSITIVES && snapshots - snap_pos >= LEARN_MIN_NEGATIVES;
    fit_result fr;
    if (enough)
        st = fit_logistic_w(x, y, persons ? wt : NULL, n, d, beta0, e->dec.prior, start, beta, &fr);
    free(x);
    free(y);
    free(wt);
    fit_pick pick = {.threshold = e->dec.threshold};
    if (st == SF_OK && enough && e->dec.threshold_auto)
        st = pick_threshold(e, R, beta, &pick);
    if (st == SF_OK)
        prune_seen(e, R);
    if (st != SF_OK || !enough)
        return st;
    score_model_change c = {.time = R,
                            .applied = e->dec.learning,
                            .cause =
                                e->dec.learning ? "refit" : "refit (learning off: recorded only)",
                            .old_bias = e->dec.bias,
                            .new_bias = beta[0],
                            .old_threshold = e->dec.threshold,
                            .new_threshold = pick.threshold,
                            .rows = n,
                            .positives = pos,
                            .alerts_judged = pick.judged ? pick.alerts : 0,
                            .alert_precision = pick.judged ? pick.precision : NAN};
    for (size_t i = 0; i < d; i++) {
        c.old_w[i] = e->sig[i].weight;
        c.new_w[i] = beta[i + 1];
    }
    if (e->dec.learning)
        st = install(e, R, beta, pick.threshold);
    c.version = e->model.version;
    pthread_mutex_lock(&l->mu);
    record(l, &c);
    l->last_refit = R;
    mirror(l, e);
    pthread_mutex_unlock(&l->mu);
    return st;
}

/* ---- the view ---------------------------------------------------------------------------------
 */

score_model_view *score_model_get(score_engine *e)
{
    score_learn *l = e->learn;
    score_model_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    snprintf(v->decision, sizeof v->decision, "%s", e->dec.name);
    snprintf(v->outcome, sizeof v->outcome, "%s", e->dec.outcome ? e->dec.outcome : "");
    v->learning = e->dec.learning;
    v->threshold_auto = e->dec.threshold_auto;
    v->prior = e->dec.prior;
    v->target_precision = e->dec.target_precision;
    v->horizon_ms = e->dec.horizon_ms;
    v->fit_horizon_ms = e->dec.fit_horizon_ms;
    v->refit_ms = e->dec.refit_ms;
    v->fit_sample = (uint64_t)e->dec.fit_sample;
    v->n_signals = e->n_sig;
    pthread_mutex_lock(&l->mu);
    v->version = l->version;
    v->bias = l->bias;
    v->threshold = l->threshold;
    v->rearm_below = l->rearm_below;
    v->configured_bias = l->cfg_bias;
    v->configured_threshold = l->cfg_threshold;
    v->last_refit = l->last_refit;
    v->confirmed = l->confirmed;
    v->false_positive = l->false_positive;
    v->missed = l->missed;
    for (size_t i = 0; i < e->n_sig; i++) {
        score_model_signal *s = &v->signals[i];
        snprintf(s->name, sizeof s->name, "%s", e->sig[i].name);
        s->weight = l->w[i];
        s->configured = l->cfg_w[i];
        s->high_confirmed = l->high_confirmed[i];
        s->high_false = l->high_false[i];
    }
    v->history = malloc((l->n_hist ? l->n_hist : 1) * sizeof *v->history);
    if (v->history && l->n_hist) {
        memcpy(v->history, l->hist, l->n_hist * sizeof *v->history);
        v->n_history = l->n_hist;
    }
    pthread_mutex_unlock(&l->mu);
    if (!v->history) {
        free(v);
        return NULL;
    }
    return v;
}

void score_model_view_free(score_model_view *v)
{
    if (!v)
        return;
    free(v->history);
    free(v);
}
