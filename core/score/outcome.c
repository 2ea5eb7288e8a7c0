/*
 * outcome.c - a shard's outcome tables: alerts waiting for a label, outcomes seen, the
 * shard's part of the fit sample (bottom-k by a hash priority, so the union over shards
 * always holds the global sample) and the traces of sampled entities. See outcome.h.
 */
#include "score/outcome.h"

#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "model/alert.h"

const char *score_label_name(score_label_kind k)
{
    switch (k) {
    case SCORE_LABEL_CONFIRMED:
        return "confirmed";
    case SCORE_LABEL_FALSE_POSITIVE:
        return "false_positive";
    case SCORE_LABEL_MISSED:
        return "missed";
    }
    return "?";
}

void score_label_free(score_label *l)
{
    if (!l)
        return;
    free(l->entity);
    free(l->features);
    free(l);
}

sf_status outcome_init(outcome_tables *o, const outcome_cfg *cfg, outcome_emit_fn emit,
                       void *emit_ctx)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->emit = emit;
    o->emit_ctx = emit_ctx;
    o->cut = UINT64_MAX;
    o->trace_rate = UINT64_MAX;
    return SF_OK;
}

void outcome_free(outcome_tables *o)
{
    free(o->open);
    free(o->open_x);
    free(o->seen);
    free(o->rows);
    free(o->row_x);
    free(o->tr);
    free(o->tr_x);
    free(o->per);
    free(o->per_x);
    memset(o, 0, sizeof *o);
}

/* Grow arr (elem bytes) and its feature array (d floats per entry) to hold n + 1. */
static int grow(void **arr, float **x, size_t elem, size_t d, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *a = realloc(*arr, nc * elem);
    if (!a)
        return -1;
    *arr = a;
    if (x) {
        float *f = realloc(*x, nc * (d ? d : 1) * sizeof *f);
        if (!f)
            return -1;
        *x = f;
    }
    *cap = nc;
    return 0;
}

static void put_x(float *dst, const double *x, size_t d)
{
    for (size_t i = 0; i < d; i++)
        dst[i] = x ? (float)x[i] : 0.0f;
}

/* ---- labels ---------------------------------------------------------------------------- */

static sf_status emit(outcome_tables *o, score_label_kind kind, const char *id, int64_t time,
                      int64_t alert_time, int64_t outcome_time, uint32_t version, const float *xf,
                      const double *xd)
{
    size_t d = o->cfg->d;
    score_label *l = calloc(1, sizeof *l);
    if (!l)
        return SF_ENOMEM;
    l->kind = kind;
    l->entity = strdup(id);
    l->time = time;
    l->alert_time = alert_time;
    l->outcome_time = outcome_time;
    l->model_version = version;
    if (alert_time != SCORE_LABEL_NO_TIME)
        alert_make_id(o->cfg->decision, id, alert_time, l->alert_id);
    if (xf || xd) {
        l->features = calloc(d ? d : 1, sizeof *l->features);
        l->n_features = d;
        for (size_t i = 0; l->features && i < d; i++)
            l->features[i] = xf ? xf[i] : xd[i];
    }
    if (!l->entity || ((xf || xd) && !l->features)) {
        score_label_free(l);
        return SF_ENOMEM;
    }
    return o->emit(o->emit_ctx, l);
}

sf_status outcome_alert(outcome_tables *o, const char *id, int64_t t, uint32_t version,
                        const double *x)
{
    size_t d = o->cfg->d;
    if (o->open_head > 0 && o->open_head == o->open_n) {
        o->open_head = o->open_n = 0; /* all labelled: start over at the front */
    } else if (o->open_head > 0 && o->open_n == o->open_cap) {
        size_t live = o->open_n - o->open_head; /* slide the live part to the front */
        memmove(o->open, o->open + o->open_head, live * sizeof *o->open);
        memmove(o->open_x, o->open_x + o->open_head * d, live * d * sizeof *o->open_x);
        o->open_head = 0;
        o->open_n = live;
    }
    if (grow((void **)&o->open, &o->open_x, sizeof *o->open, d, o->open_n, &o->open_cap) != 0)
        return SF_ENOMEM;
    o->open[o->open_n] = (outcome_open){id, t, version, false};
    put_x(o->open_x + o->open_n * d, x, d);
    o->open_n++;
    return SF_OK;
}

static sf_status remember(outcome_tables *o, const char *id, int64_t t)
{
    if (grow((void **)&o->seen, NULL, sizeof *o->seen, 0, o->seen_n, &o->seen_cap) != 0)
        return SF_ENOMEM;
    o->seen[o->seen_n++] = (outcome_seen){id, t};
    o->seen_sorted = false;
    return SF_OK;
}

sf_status outcome_reached(outcome_tables *o, const char *id, int64_t t, int64_t clock,
                          uint32_t version, const double *x, bool known)
{
    size_t d = o->cfg->d;
    bool confirmed = false;
    sf_status st = SF_OK;
    (void)clock;
    for (size_t k = o->open_head; k < o->open_n && st == SF_OK; k++) {
        outcome_open *a = &o->open[k];
        if (a->done || a->id != id)
            continue;
        bool right = a->t <= t && t - a->t <= o->cfg->horizon;
        a->done = true;
        confirmed |= right;
        st = emit(o, right ? SCORE_LABEL_CONFIRMED : SCORE_LABEL_FALSE_POSITIVE, id, t, a->t,
                  right ? t : SCORE_LABEL_NO_TIME, a->version, o->open_x + k * d, NULL);
    }
    if (st == SF_OK && !confirmed)
        st = emit(o, SCORE_LABEL_MISSED, id, t, SCORE_LABEL_NO_TIME, t, version, NULL,
                  known ? x : NULL);
    if (st == SF_OK && known)
        st = remember(o, id, t);
    return st;
}

sf_status outcome_expire(outcome_tables *o, int64_t T)
{
    size_t d = o->cfg->d;
    sf_status st = SF_OK;
    while (st == SF_OK && o->open_head < o->open_n) {
        outcome_open *a = &o->open[o->open_head];
        if (a->t > T - o->cfg->horizon)
            break; /* in time order: the rest are younger */
        if (!a->done) {
            a->done = true;
            st = emit(o, SCORE_LABEL_FALSE_POSITIVE, a->id, a->t + o->cfg->horizon, a->t,
                      SCORE_LABEL_NO_TIME, a->version, o->open_x + o->open_head * d, NULL);
        }
        o->open_head++;
    }
    return st;
}

/* ---- people's labels ------------------------------------------------------------------ */

sf_status outcome_add_person(outcome_tables *o, const char *id, int64_t t, uint8_t y,
                             const double *x)
{
    size_t d = o->cfg->d;
    if (grow((void **)&o->per, &o->per_x, sizeof *o->per, d, o->per_n, &o->per_cap) != 0)
        return SF_ENOMEM;
    o->per[o->per_n] = (outcome_person){id, t, y};
    put_x(o->per_x + o->per_n * d, x, d);
    o->per_n++;
    return SF_OK;
}

sf_status outcome_person_label(outcome_tables *o, const char *id, int64_t t, uint8_t y)
{
    size_t d = o->cfg->d;
    double x[SIGFLOW_MAX_SIGNALS];
    for (size_t k = 0; k < o->per_n; k++) {
        if (o->per[k].id == id && o->per[k].t == t) { /* a changed label replaces */
            o->per[k].y = y;
            return SF_OK;
        }
    }
    for (size_t k = o->open_head; k < o->open_n; k++) {
        if (o->open[k].id != id || o->open[k].t != t)
            continue;
        for (size_t i = 0; i < d; i++)
            x[i] = o->open_x[k * d + i];
        return outcome_add_person(o, id, t, y, x);
    }
    o->per_unmatched++;
    return SF_OK;
}

void outcome_cut_persons(outcome_tables *o, int64_t from)
{
    size_t d = o->cfg->d, k = 0;
    for (size_t i = 0; i < o->per_n; i++) {
        if (o->per[i].t < from)
            continue;
        if (k != i) {
            o->per[k] = o->per[i];
            memmove(o->per_x + k * d, o->per_x + i * d, d * sizeof *o->per_x);
        }
        k++;
    }
    o->per_n = k;
}

/* ---- fit sample ------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t outcome_prio(uint64_t entity_hash, int64_t T)
{
    return mix64(entity_hash ^ mix64((uint64_t)T));
}

typedef struct prio_idx {
    uint64_t prio;
    size_t i;
} prio_idx;

static int prio_cmp(const void *a, const void *b)
{
    const prio_idx *x = a, *y = b;
    return x->prio < y->prio ? -1 : x->prio > y->prio;
}

/* Keep the rows with prio <= cut (compacting in place, order kept). */
static void keep_rows_upto(outcome_tables *o, uint64_t cut)
{
    size_t d = o->cfg->d, k = 0;
    for (size_t i = 0; i < o->rows_n; i++) {
        if (o->rows[i].prio > cut)
            continue;
        if (k != i) {
            o->rows[k] = o->rows[i];
            memmove(o->row_x + k * d, o->row_x + i * d, d * sizeof *o->row_x);
        }
        k++;
    }
    o->rows_n = k;
}

/* Twice the sample size: keep the fit_sample smallest priorities, raise the bar to them. */
static sf_status shrink_rows(outcome_tables *o)
{
    size_t k = (size_t)o->cfg->fit_sample;
    prio_idx *ix = malloc(o->rows_n * sizeof *ix);
    if (!ix)
        return SF_ENOMEM;
    for (size_t i = 0; i < o->rows_n; i++)
        ix[i] = (prio_idx){o->rows[i].prio, i};
    qsort(ix, o->rows_n, sizeof *ix, prio_cmp);
    uint64_t kth = ix[k - 1].prio;
    free(ix);
    keep_rows_upto(o, kth);
    o->cut = kth; /* a later row needs a smaller priority than the k kept */
    return SF_OK;
}

sf_status outcome_add_row(outcome_tables *o, const char *id, int64_t T, uint64_t prio, int8_t label,
                          const double *x)
{
    size_t d = o->cfg->d;
    if (grow((void **)&o->rows, &o->row_x, sizeof *o->rows, d, o->rows_n, &o->rows_cap) != 0)
        return SF_ENOMEM;
    o->rows[o->rows_n] = (outcome_row){id, T, prio, label};
    put_x(o->row_x + o->rows_n * d, x, d);
    o->rows_n++;
    if (o->rows_n >= 2 * o->cfg->fit_sample)
        return shrink_rows(o);
    return SF_OK;
}

void outcome_cut_rows(outcome_tables *o, uint64_t cut)
{
    keep_rows_upto(o, cut);
    if (cut < o->cut)
        o->cut = cut;
}

uint64_t outcome_trace_key(uint64_t entity_hash)
{
    return mix64(entity_hash);
}

bool outcome_traced(const outcome_tables *o, uint64_t entity_hash)
{
    return o->cfg->traces && mix64(entity_hash) < o->trace_rate;
}

sf_status outcome_add_trace(outcome_tables *o, const char *id, uint64_t hash, int64_t T,
                            const double *x)
{
    size_t d = o->cfg->d;
    if (grow((void **)&o->tr, &o->tr_x, sizeof *o->tr, d, o->tr_n, &o->tr_cap) != 0)
        return SF_ENOMEM;
    o->tr[o->tr_n] = (outcome_trace){id, hash, T, o->tr_count++};
    put_x(o->tr_x + o->tr_n * d, x, d);
    o->tr_n++;
    return SF_OK;
}

void outcome_prune_traces(outcome_tables *o, int64_t from, uint64_t rate)
{
    size_t d = o->cfg->d, k = 0;
    o->trace_rate = rate;
    for (size_t i = 0; i < o->tr_n; i++) {
        if (o->tr[i].t < from || mix64(o->tr[i].hash) >= rate)
            continue;
        if (k != i) {
            o->tr[k] = o->tr[i];
            memmove(o->tr_x + k * d, o->tr_x + i * d, d * sizeof *o->tr_x);
        }
        k++;
    }
    o->tr_n = k;
}

/* ---- outcomes seen and row labels ---------------------------------------------------- */

static int seen_cmp(const void *a, const void *b)
{
    const outcome_seen *x = a, *y = b;
    if (x->id != y->id)
        return (uintptr_t)x->id < (uintptr_t)y->id ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

void outcome_sort_seen(outcome_tables *o)
{
    if (!o->seen_sorted && o->seen_n > 1)
        qsort(o->seen, o->seen_n, sizeof *o->seen, seen_cmp);
    o->seen_sorted = true;
}

int64_t outcome_next_after(const outcome_tables *o, const char *id, int64_t t)
{
    size_t lo = 0, hi = o->seen_n; /* first entry >= (id, t + 1) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const outcome_seen *s = &o->seen[mid];
        bool less = (uintptr_t)s->id < (uintptr_t)id || (s->id == id && s->t <= t);
        if (less)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < o->seen_n && o->seen[lo].id == id)
        return o->seen[lo].t;
    return SCORE_LABEL_NO_TIME;
}

void outcome_label_rows(outcome_tables *o, int64_t R)
{
    outcome_sort_seen(o);
    for (size_t i = 0; i < o->rows_n; i++) {
        outcome_row *r = &o->rows[i];
        if (r->label >= 0 || r->t > R - o->cfg->fit_horizon)
            continue;
        int64_t next = outcome_next_after(o, r->id, r->t);
        r->label = next != SCORE_LABEL_NO_TIME && next - r->t <= o->cfg->fit_horizon;
    }
}

int64_t outcome_oldest_unlabelled(const outcome_tables *o)
{
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < o->rows_n; i++) {
        if (o->rows[i].label < 0 && o->rows[i].t < m)
            m = o->rows[i].t;
    }
    return m;
}

void outcome_prune_seen(outcome_tables *o, int64_t t)
{
    size_t k = 0;
    for (size_t i = 0; i < o->seen_n; i++) {
        if (o->seen[i].t > t)
            o->seen[k++] = o->seen[i];
    }
    o->seen_n = k; /* order kept: still sorted if it was */
}
