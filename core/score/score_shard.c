/*
 * score_shard.c - entity table, evaluation, alert decisions and the tick schedule.
 *
 * Exact skipping: an evaluation can change the output only if it fires an alert or re-arms
 * the entity. Each entity carries `check`, a tick boundary no later than the first one at
 * which that can happen if no event arrives; ticks evaluate only entities whose check is
 * due. check is found from bounds on x over time ranges (score_state_extreme/future), with
 * a margin in logit space for rounding. An event voids the proof: after its evaluation the
 * search starts again from the next boundary.
 */
#include "score/score_shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"
#include "score/explain.h"
#include "score/score.h"
#include "score/score_guard.h"

#define NO_TIME SHARD_NO_TIME
#define NEVER INT64_MAX
#define NO_POS UINT32_MAX
#define Z_EPS 1e-6       /* logit margin: bounds and evaluation round differently */
#define Z_SATURATED 30.0 /* p rounds to 1.0 only for z > ~36.7 */
/*
 * Search effort: after an event a short search (the entity's next event usually comes
 * first and voids the proof anyway); at a tick a longer one. Stopping early only means an
 * extra evaluation later, never a missed one.
 */
#define SEARCH_STEPS_EVENT 8
#define SEARCH_STEPS_TICK 48
#define MAX_STEP_TICKS (1ll << 30)

typedef struct score_shard_entity {
    int64_t check;      /* next boundary to evaluate; NEVER = none can matter */
    int64_t last_alert; /* NO_TIME = never fired */
    char *attrs;        /* latest event's attrs JSON or NULL */
    uint32_t heap_pos;
    uint16_t id_len;
    uint8_t armed;
    uint8_t retired : 1;  /* reached its outcome: off the schedule until its next event */
    uint8_t recorded : 1; /* a suppressed alert recorded in this stale spell (score_guard.h) */
    _Alignas(8) unsigned char blob[]; /* signal state, then the id and its NUL */
} entity;

/* Entities live as long as the shard: they are carved from big blocks, not malloc'd one
 * by one (no per-entity malloc overhead, neighbours in memory). */
#define SLAB_BYTES (1u << 20)
typedef struct slab {
    struct slab *next;
    size_t used, cap;
    _Alignas(8) unsigned char mem[];
} slab;

/* The hash sits in the slot: probing never touches an entity that cannot match. */
typedef struct table_slot {
    uint64_t hash;
    entity *e;
} table_slot;

struct score_shard {
    const score_model *m;
    slab *slabs;       /* newest first */
    table_slot *table; /* open addressing, power-of-two size, at most 70% full */
    size_t table_cap, n_entities;
    entity **heap; /* min-heap on check */
    size_t heap_n, heap_cap;
    entity **due; /* scratch: the entities of one boundary */
    size_t due_cap;
    score_shard_alert *out;
    size_t out_n, out_cap;
    uint64_t out_count; /* items ever pushed: orders one entity's items */
    uint64_t cur_seq;   /* position of the labels outcome.c emits now */
    int64_t cur_sub;
    outcome_tables oc; /* when m->outcomes */
    score_shard_stats st;
    const score_guard_snap *guard; /* noise guards in force (NULL: none configured) */
    bool recheck;                  /* the guards changed: every entity is due at the next tick */
};

static const char *entity_id(const score_model *m, const entity *e)
{
    return (const char *)e->blob + m->layout.size;
}

static double logit(double p)
{
    return log(p / (1 - p));
}

sf_status score_model_init(score_model *m, const config_decision *dec, const config_signal *sig,
                           size_t n, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->dec = dec;
    if (dec->tick_ms <= 0 || dec->tick_ms > SCORE_MAX_TICK_MS) {
        snprintf(err, errlen, "decision %s: tick must be positive and at most 366d", dec->name);
        return SF_EINVAL;
    }
    if (dec->cooldown_ms < 0 || !isfinite(dec->bias) || isnan(dec->threshold) ||
        isnan(dec->rearm_below)) {
        snprintf(err, errlen, "decision %s: bad bias, threshold, rearm_below or cooldown",
                 dec->name);
        return SF_EINVAL;
    }
    m->tick = dec->tick_ms;
    m->version = 1;
    m->outcomes = dec->outcome != NULL;
    m->ocfg = (outcome_cfg){.decision = dec->name ? dec->name : "",
                            .d = n,
                            .horizon = dec->horizon_ms,
                            .fit_horizon = dec->fit_horizon_ms,
                            .fit_sample = dec->fit_sample > 0 ? (uint64_t)dec->fit_sample : 1,
                            .traces = dec->threshold_auto,
                            .trace_keep = dec->horizon_ms + dec->auto_window_ms};
    score_model_set_limits(m);
    return score_layout_init(&m->layout, sig, n, err, errlen);
}

void score_model_set_limits(score_model *m)
{
    /* Both limits err on the side of evaluating: a spare evaluation changes nothing. */
    double thr = m->dec->threshold, re = m->dec->rearm_below;
    m->z_fire = thr <= 0 ? -INFINITY : thr >= 1 ? Z_SATURATED : fmin(logit(thr), Z_SATURATED);
    m->z_rearm = re <= 0 ? -INFINITY : re >= 1 ? INFINITY : logit(re);
    if (m->z_rearm > Z_SATURATED)
        m->z_rearm = INFINITY;
}

static sf_status emit_label(void *ctx, score_label *l);

score_shard *score_shard_new(const score_model *m)
{
    score_shard *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->table_cap = 1024;
    s->table = calloc(s->table_cap, sizeof *s->table);
    if (!s->table) {
        free(s);
        return NULL;
    }
    s->st.state_bytes = s->table_cap * sizeof *s->table;
    if (m->outcomes)
        outcome_init(&s->oc, &m->ocfg, emit_label, s);
    return s;
}

void score_shard_free(score_shard *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->table_cap; i++) {
        if (s->table[i].e)
            free(s->table[i].e->attrs);
    }
    for (slab *b = s->slabs, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    for (size_t i = 0; i < s->out_n; i++)
        score_shard_item_free(&s->out[i]);
    free(s->out);
    outcome_free(&s->oc);
    free(s->table);
    free(s->heap);
    free(s->due);
    score_guard_snap_unref(s->guard);
    free(s);
}

/* ---- entity table -------------------------------------------------------------------- */

static void *slab_alloc(score_shard *s, size_t bytes)
{
    slab *b = s->slabs;
    if (!b || b->used + bytes > b->cap) {
        /* 64 KiB first, doubling to 1 MiB: small engines stay small */
        size_t cap = b ? (b->cap * 2 < SLAB_BYTES ? b->cap * 2 : SLAB_BYTES) : (64u << 10);
        if (cap < bytes)
            cap = bytes;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = s->slabs;
        b->used = 0;
        b->cap = cap;
        s->slabs = b;
        s->st.state_bytes += sizeof *b + cap;
    }
    void *p = b->mem + b->used;
    b->used += bytes;
    return p;
}

static int table_grow(score_shard *s)
{
    size_t cap = s->table_cap * 2;
    table_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < s->table_cap; i++) {
        if (!s->table[i].e)
            continue;
        size_t j = (size_t)s->table[i].hash & (cap - 1);
        while (t[j].e)
            j = (j + 1) & (cap - 1);
        t[j] = s->table[i];
    }
    free(s->table);
    s->st.state_bytes += (cap - s->table_cap) * sizeof *t;
    s->table = t;
    s->table_cap = cap;
    return 0;
}

/* The entity, or NULL with *slot = where it would go. */
static entity *entity_find(const score_shard *s, const char *id, size_t len, uint64_t hash,
                           size_t *slot)
{
    size_t mask = s->table_cap - 1, j = (size_t)hash & mask;
    const score_model *m = s->m;
    for (; s->table[j].e; j = (j + 1) & mask) {
        entity *e = s->table[j].e;
        if (s->table[j].hash == hash && e->id_len == len && memcmp(entity_id(m, e), id, len) == 0)
            return e;
    }
    *slot = j;
    return NULL;
}

void score_shard_prefetch(const score_shard *s, uint64_t hash, int deep)
{
    const table_slot *t = &s->table[(size_t)hash & (s->table_cap - 1)];
    if (!deep) {
        __builtin_prefetch(t);
        return;
    }
    if (t->hash != hash || !t->e) /* a new entity, or a collision: nothing to fetch ahead */
        return;
    if (deep > 1) { /* the entity is cached by now: its attrs, compared with the event's */
        if (t->e->attrs)
            __builtin_prefetch(t->e->attrs);
        return;
    }
    const char *p = (const char *)t->e;
    size_t bytes = sizeof(entity) + s->m->layout.size + t->e->id_len;
    for (size_t off = 0; off < bytes && off < 512; off += 64)
        __builtin_prefetch(p + off);
}

static entity *entity_get(score_shard *s, const char *id, size_t len, uint64_t hash)
{
    const score_model *m = s->m;
    size_t j;
    entity *found = entity_find(s, id, len, hash, &j);
    if (found)
        return found;
    size_t bytes = (sizeof(entity) + m->layout.size + len + 1 + 7) & ~(size_t)7;
    entity *e = slab_alloc(s, bytes);
    if (!e)
        return NULL;
    e->check = NEVER;
    e->last_alert = NO_TIME;
    e->attrs = NULL;
    e->heap_pos = NO_POS;
    e->id_len = (uint16_t)len;
    e->armed = 1;
    e->retired = 0;
    e->recorded = 0;
    score_state_init(&m->layout, e->blob);
    memcpy(e->blob + m->layout.size, id, len);
    e->blob[m->layout.size + len] = '\0';
    s->table[j] = (table_slot){hash, e};
    s->n_entities++;
    s->st.entities++;
    if (s->n_entities * 10 > s->table_cap * 7 && table_grow(s) != 0)
        return NULL; /* the entity stays in the (full-ish) table and is freed with it */
    return e;
}

/* ---- schedule (min-heap on check) ------------------------------------------------------ */

static void heap_set(score_shard *s, size_t i, entity *e)
{
    s->heap[i] = e;
    e->heap_pos = (uint32_t)i;
}

static void heap_up(score_shard *s, size_t i)
{
    entity *e = s->heap[i];
    while (i > 0 && s->heap[(i - 1) / 2]->check > e->check) {
        heap_set(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(s, i, e);
}

static void heap_down(score_shard *s, size_t i)
{
    entity *e = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->heap_n)
            break;
        if (c + 1 < s->heap_n && s->heap[c + 1]->check < s->heap[c]->check)
            c++;
        if (s->heap[c]->check >= e->check)
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, e);
}

static void heap_remove(score_shard *s, entity *e)
{
    size_t i = e->heap_pos;
    e->heap_pos = NO_POS;
    entity *last = s->heap[--s->heap_n];
    if (last == e)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_pos);
}

/* Set e's check; NEVER takes it off the schedule. */
static int schedule(score_shard *s, entity *e, int64_t check)
{
    if (e->heap_pos != NO_POS) {
        if (check == NEVER) {
            heap_remove(s, e);
            e->check = NEVER;
            return 0;
        }
        int64_t old = e->check;
        e->check = check;
        if (check < old)
            heap_up(s, e->heap_pos);
        else
            heap_down(s, e->heap_pos);
        return 0;
    }
    e->check = check;
    if (check == NEVER)
        return 0;
    if (s->heap_n == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 256;
        entity **h = realloc(s->heap, cap * sizeof *h);
        if (!h)
            return -1;
        s->st.state_bytes += (cap - s->heap_cap) * sizeof *h;
        s->heap = h;
        s->heap_cap = cap;
    }
    s->heap[s->heap_n] = e;
    e->heap_pos = (uint32_t)s->heap_n++;
    heap_up(s, e->heap_pos);
    return 0;
}

/* ---- evaluation and alerts ------------------------------------------------------------- */

typedef struct order {
    double c;
    size_t i;
} order;

static int order_cmp(const void *a, const void *b)
{
    const order *x = a, *y = b;
    if (x->c != y->c)
        return x->c > y->c ? -1 : 1;       /* strongest (largest contribution) first */
    return x->i < y->i ? -1 : x->i > y->i; /* then config order */
}

/* Suppressed (kind ALERT_SUPPRESSED): x as if no signal were stale, and its own id. */
static sf_alert *build_alert(score_shard *s, const entity *e, int64_t t, double p, alert_kind kind)
{
    const score_model *m = s->m;
    const score_layout *l = &m->layout;
    sf_alert *a = calloc(1, sizeof *a);
    order ord[SIGFLOW_MAX_SIGNALS];
    if (!a)
        return NULL;
    a->reasons = calloc(l->n, sizeof *a->reasons);
    a->features = calloc(l->n, sizeof *a->features);
    a->decision = str_dup(m->dec->name ? m->dec->name : "");
    a->question = str_dup(m->dec->question);
    a->entity = str_dup(entity_id(m, e));
    a->attrs = str_dup(e->attrs);
    if (!a->reasons || !a->features || !a->decision || !a->entity ||
        (m->dec->question && !a->question) || (e->attrs && !a->attrs))
        goto fail;
    a->time_ms = t;
    a->score = p;
    a->threshold = m->dec->threshold;
    a->model_version = m->version;
    a->kind = kind;
    if (kind == ALERT_SUPPRESSED)
        alert_make_suppressed_id(a->decision, a->entity, t, a->id);
    else
        alert_make_id(a->decision, a->entity, t, a->id);
    for (size_t i = 0; i < l->n; i++) {
        a->features[i] = kind == ALERT_SUPPRESSED ? score_guard_x_real(s->guard, l, e->blob, i, t)
                                                  : score_guard_x(s->guard, l, e->blob, i, t);
        ord[i].c = l->sig[i].weight * a->features[i];
        ord[i].i = i;
    }
    qsort(ord, l->n, sizeof *ord, order_cmp);
    for (size_t k = 0; k < l->n; k++) {
        size_t i = ord[k].i;
        score_detail d;
        score_state_detail(l, e->blob, i, t, &d);
        d.x = a->features[i]; /* as the guards read it */
        alert_reason *r = &a->reasons[k];
        a->n_reasons = k + 1;
        r->signal = str_dup(l->sig[i].name ? l->sig[i].name : "");
        r->text = explain_render(&l->sig[i], &d, t);
        if (!r->signal || !r->text)
            goto fail;
        r->x = a->features[i];
        r->weight = l->sig[i].weight;
        r->contribution = ord[k].c;
    }
    if (kind == ALERT_SUPPRESSED && !(a->suppressed = score_guard_why(s->guard, l, a->features)))
        goto fail;
    if (alert_render_json(a) != SF_OK)
        goto fail;
    return a;
fail:
    alert_free(a);
    return NULL;
}

static int out_push(score_shard *s, uint64_t seq, int64_t sub, sf_alert *a, score_label *l)
{
    if (s->out_n == s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap * 2 : 16;
        score_shard_alert *o = realloc(s->out, cap * sizeof *o);
        if (!o)
            return -1;
        s->out = o;
        s->out_cap = cap;
    }
    s->out[s->out_n++] = (score_shard_alert){seq, sub, a, l, s->out_count++};
    return 0;
}

static sf_status emit_label(void *ctx, score_label *l)
{
    score_shard *s = ctx;
    if (out_push(s, s->cur_seq, s->cur_sub, NULL, l) != 0) {
        score_label_free(l);
        return SF_ENOMEM;
    }
    return SF_OK;
}

const char *score_shard_item_entity(const score_shard_alert *a)
{
    return a->alert ? a->alert->entity : a->label->entity;
}

void score_shard_item_free(score_shard_alert *a)
{
    alert_free(a->alert);
    score_label_free(a->label);
    a->alert = NULL;
    a->label = NULL;
}

sf_status score_shard_inspect(score_shard *s, const char *id, size_t len, uint64_t hash, int64_t t,
                              score_inspection *out)
{
    const score_model *m = s->m;
    size_t slot;
    entity *e = entity_find(s, id, len, hash, &slot);
    if (!e)
        return SF_OK;
    double z = m->dec->bias;
    for (size_t i = 0; i < m->layout.n; i++)
        z += m->layout.sig[i].weight * score_guard_x(s->guard, &m->layout, e->blob, i, t);
    out->found = true;
    out->retired = e->retired;
    out->armed = e->armed;
    out->last_alert = e->last_alert == NO_TIME ? INT64_MIN : e->last_alert;
    out->now = build_alert(s, e, t, 1.0 / (1.0 + exp(-z)), ALERT_DECISION);
    return out->now ? SF_OK : SF_ENOMEM;
}

/* The debug line of a re-arm: one of the two evaluations that matter (docs/operating.md). */
static void log_rearm(const score_model *m, const entity *e, int64_t t, double p)
{
    char ctx[3 * SIGFLOW_MAX_ENTITY_LEN + 64], when[32];
    int n = snprintf(ctx, sizeof ctx, "component=score ");
    log_format_kv(ctx + n, sizeof ctx - (size_t)n, "entity", entity_id(m, e));
    time_format_rfc3339(t, when, sizeof when);
    log_debug(ctx,
              "re-armed: score %.4f below rearm_below %.4f at %s; the next crossing of "
              "threshold %.4f alerts",
              p, m->dec->rearm_below, when, m->dec->threshold);
}

/* Could e record a suppressed alert now (armed, out of cooldown, none yet this spell)? */
static bool may_record(const score_shard *s, const entity *e, int64_t t)
{
    return e->armed && !e->recorded && score_guard_suppresses(s->guard, &s->m->layout) &&
           (e->last_alert == NO_TIME || t - e->last_alert >= s->m->dec->cooldown_ms);
}

/* The alert e would have fired at t had no signal been stale: recorded, state unchanged. */
static sf_status record_suppressed(score_shard *s, entity *e, int64_t t, uint64_t seq, int64_t sub)
{
    const score_model *m = s->m;
    double xr[SIGFLOW_MAX_SIGNALS];
    if (!may_record(s, e, t))
        return SF_OK;
    double p =
        1.0 / (1.0 + exp(-score_guard_real_z(s->guard, &m->layout, m->dec->bias, e->blob, t, xr)));
    if (p < m->dec->threshold)
        return SF_OK;
    sf_alert *a = build_alert(s, e, t, p, ALERT_SUPPRESSED);
    if (!a || out_push(s, seq, sub, a, NULL) != 0) {
        alert_free(a);
        return SF_ENOMEM;
    }
    e->recorded = 1;
    return SF_OK;
}

/* Evaluate e at t; x[] receives the features. Fires or re-arms per docs/scoring.md. */
static sf_status evaluate(score_shard *s, entity *e, int64_t t, uint64_t seq, int64_t sub,
                          double *x)
{
    const score_model *m = s->m;
    const score_layout *l = &m->layout;
    double z = m->dec->bias;
    for (size_t i = 0; i < l->n; i++) {
        x[i] = score_guard_x(s->guard, l, e->blob, i, t);
        z += l->sig[i].weight * x[i];
    }
    double p = 1.0 / (1.0 + exp(-z));
    s->st.evaluations++;
    if (p < m->dec->rearm_below) {
        if (!e->armed)
            log_rearm(m, e, t, p);
        e->armed = 1;
    }
    if (e->armed && p >= m->dec->threshold &&
        (e->last_alert == NO_TIME || t - e->last_alert >= m->dec->cooldown_ms)) {
        sf_alert *a = build_alert(s, e, t, p, ALERT_DECISION);
        if (!a)
            return SF_ENOMEM;
        if (out_push(s, seq, sub, a, NULL) != 0) {
            alert_free(a);
            return SF_ENOMEM;
        }
        e->armed = 0;
        e->last_alert = t;
        s->st.alerts++;
        if (m->outcomes && outcome_alert(&s->oc, entity_id(m, e), t, m->version, x) != SF_OK)
            return SF_ENOMEM;
        return SF_OK;
    }
    return record_suppressed(s, e, t, seq, sub);
}

/* Could an evaluation with a logit in [zlo, zhi] fire or re-arm e? */
static bool could_matter(const score_model *m, const entity *e, double zlo, double zhi)
{
    if (e->armed)
        return zhi >= m->z_fire - Z_EPS;
    return zlo < m->z_rearm + Z_EPS;
}

static void add_bounds(double w, double lo, double hi, double *zlo, double *zhi)
{
    *zlo += w >= 0 ? w * lo : w * hi;
    *zhi += w >= 0 ? w * hi : w * lo;
}

/*
 * Could evaluating e at some boundary in [a, b] matter? Armed, only the largest possible
 * logit counts (can it fire?); disarmed, only the smallest (can it re-arm?). So each signal
 * needs one side of its range: the upper one when its weight pushes toward firing.
 */
static bool could_matter_in(const score_model *m, const score_guard_snap *g, const entity *e,
                            int64_t a, int64_t b)
{
    const score_layout *l = &m->layout;
    double z = m->dec->bias;
    for (size_t i = 0; i < l->n; i++) {
        double w = l->sig[i].weight;
        if (w == 0)
            continue;
        bool want_hi = e->armed ? w > 0 : w < 0;
        z += w * score_guard_extreme(g, l, e->blob, i, a, b, want_hi);
    }
    if (e->armed ? z >= m->z_fire - Z_EPS : z < m->z_rearm + Z_EPS)
        return true;
    /* while a signal is stale: could it record a suppressed alert (cooldown: the caller's) */
    return e->armed && !e->recorded && score_guard_suppresses(g, l) &&
           score_guard_real_zhi(g, l, m->dec->bias, e->blob, a, b) >= m->z_fire - Z_EPS;
}

static int64_t ceil_to_tick(int64_t t, int64_t tick)
{
    int64_t q = t / tick, r = t % tick;
    if (r > 0)
        q++;
    return q * tick;
}

/*
 * First boundary >= from at which evaluating e could matter, given e was evaluated at t0
 * with features x0 and no event arrives. Returns a lower bound (possibly from itself).
 */
static int64_t next_check(const score_shard *s, const entity *e, int64_t t0, const double *x0,
                          int64_t from, int max_steps)
{
    const score_model *m = s->m;
    const score_layout *l = &m->layout;
    double zlo = m->dec->bias, zhi = zlo, lo, hi;
    for (size_t i = 0; i < l->n; i++) {
        score_guard_future(s->guard, l, e->blob, i, t0, x0[i], &lo, &hi);
        add_bounds(l->sig[i].weight, lo, hi, &zlo, &zhi);
    }
    if (!could_matter(m, e, zlo, zhi) &&
        !(e->armed && !e->recorded && score_guard_suppresses(s->guard, l) &&
          score_guard_real_future_zhi(s->guard, l, m->dec->bias, e->blob, t0) >= m->z_fire - Z_EPS))
        return NEVER; /* not before its next event */
    int64_t a = from, tick = m->tick, step = 1;
    if (e->armed && e->last_alert != NO_TIME && m->dec->cooldown_ms > 0) {
        if (m->dec->cooldown_ms > SCORE_TIME_MAX_MS - e->last_alert)
            return NEVER; /* the cooldown outlasts every time the engine accepts */
        int64_t ready = ceil_to_tick(e->last_alert + m->dec->cooldown_ms, tick);
        if (ready > a)
            a = ready;
    }
    /* Galloping search over [a, a + (step-1)*tick]: widen while nothing can matter. */
    for (int it = 0; it < max_steps; it++) {
        if (a > SCORE_TIME_MAX_MS)
            return NEVER; /* no boundary past the last accepted time is ever run */
        int64_t room = (SCORE_TIME_MAX_MS - a) / tick; /* boundaries after a, in range */
        int64_t b = a + (step - 1 < room ? step - 1 : room) * tick;
        if (could_matter_in(m, s->guard, e, a, b)) {
            if (step == 1)
                return a;
            step /= 2;
        } else {
            a = b + tick;
            if (step < MAX_STEP_TICKS)
                step *= 2;
        }
    }
    return a; /* not proven further: evaluate then and search again */
}

/* ---- outcomes ------------------------------------------------------------------------- */

/* The decision's outcome for an entity: label its alerts (or the miss), then retire it. */
static sf_status shard_outcome(score_shard *s, uint64_t seq, const char *id, size_t id_len,
                               uint64_t hash, int64_t time, int64_t clock)
{
    const score_model *m = s->m;
    double x[SIGFLOW_MAX_SIGNALS];
    size_t slot;
    if (!m->outcomes)
        return SF_OK;
    entity *e = entity_find(s, id, id_len, hash, &slot);
    if (e && e->retired)
        return SF_OK; /* already out: a repeated outcome says nothing new */
    s->cur_seq = seq;
    s->cur_sub = SHARD_SUB_EVENT;
    if (!e) {
        char copy[SIGFLOW_MAX_ENTITY_LEN + 1];
        memcpy(copy, id, id_len);
        copy[id_len] = '\0';
        return outcome_reached(&s->oc, copy, time, clock, m->version, NULL, false);
    }
    for (size_t i = 0; i < m->layout.n; i++)
        x[i] = score_guard_x(s->guard, &m->layout, e->blob, i, clock);
    sf_status st = outcome_reached(&s->oc, entity_id(m, e), time, clock, m->version, x, true);
    if (st != SF_OK)
        return st;
    e->retired = 1;
    s->st.retired++;
    return schedule(s, e, NEVER) == 0 ? SF_OK : SF_ENOMEM;
}

/* A person labelled the entity's alert at t (value 1 confirmed, 0 false_positive). */
static sf_status shard_person_label(score_shard *s, const char *id, size_t id_len, uint64_t hash,
                                    int64_t t, double value)
{
    size_t slot;
    if (!s->m->outcomes)
        return SF_OK;
    entity *e = entity_find(s, id, id_len, hash, &slot);
    if (!e) { /* no alert of an unknown entity is held */
        s->oc.per_unmatched++;
        return SF_OK;
    }
    return outcome_person_label(&s->oc, entity_id(s->m, e), t, value == 1 ? 1 : 0);
}

/* Boundary T: every live entity's snapshot may enter the fit sample (or its trace). */
static sf_status snapshot_all(score_shard *s, int64_t T)
{
    const score_model *m = s->m;
    const score_layout *l = &m->layout;
    double x[SIGFLOW_MAX_SIGNALS];
    for (size_t j = 0; j < s->table_cap; j++) {
        entity *e = s->table[j].e;
        if (!e || e->retired)
            continue;
        uint64_t prio = outcome_prio(s->table[j].hash, T);
        bool row = outcome_wants_row(&s->oc, prio);
        bool trace = outcome_traced(&s->oc, s->table[j].hash);
        if (!row && !trace)
            continue;
        for (size_t i = 0; i < l->n; i++)
            x[i] = score_guard_x(s->guard, l, e->blob, i, T);
        const char *id = entity_id(m, e);
        if (row && outcome_add_row(&s->oc, id, T, prio, -1, x) != SF_OK)
            return SF_ENOMEM;
        if (trace && outcome_add_trace(&s->oc, id, s->table[j].hash, T, x) != SF_OK)
            return SF_ENOMEM;
    }
    return SF_OK;
}

/* ---- messages ------------------------------------------------------------------------- */

sf_status score_shard_event(score_shard *s, uint64_t seq, const char *id, size_t id_len,
                            uint64_t hash, uint64_t sigmask, int64_t time, double value,
                            bool has_value, const char *attrs, size_t attrs_len, int64_t clock,
                            int64_t next_tick)
{
    const score_layout *l = &s->m->layout;
    double x[SIGFLOW_MAX_SIGNALS];
    if (sigmask == 0 && has_value)
        return shard_person_label(s, id, id_len, hash, time, value);
    if (sigmask == 0)
        return shard_outcome(s, seq, id, id_len, hash, time, clock);
    entity *e = entity_get(s, id, id_len, hash);
    if (!e)
        return SF_ENOMEM;
    if (e->retired) { /* a returning customer starts a new life */
        e->retired = 0;
        e->armed = 1;
        e->last_alert = NO_TIME;
        s->st.retired--;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (sigmask & (1ull << i))
            score_state_apply(l, e->blob, i, time, value, has_value);
    }
    s->st.applied++;
    if (attrs && (!e->attrs || strcmp(e->attrs, attrs) != 0)) {
        char *copy = malloc(attrs_len + 1);
        if (!copy)
            return SF_ENOMEM;
        memcpy(copy, attrs, attrs_len);
        copy[attrs_len] = '\0';
        s->st.state_bytes += attrs_len + 1 - (e->attrs ? strlen(e->attrs) + 1 : 0);
        free(e->attrs);
        e->attrs = copy;
    }
    sf_status st = evaluate(s, e, clock, seq, SHARD_SUB_EVENT, x);
    if (st == SF_OK && s->m->outcomes && outcome_traced(&s->oc, hash))
        st = outcome_add_trace(&s->oc, entity_id(s->m, e), hash, clock, x);
    if (st != SF_OK)
        return st;
    /* The state changed: any earlier proof is void; prove again from the next boundary. */
    return schedule(s, e, next_check(s, e, clock, x, next_tick, SEARCH_STEPS_EVENT)) == 0
               ? SF_OK
               : SF_ENOMEM;
}

static int due_cmp(const void *a, const void *b, void *arg)
{
    const score_model *m = arg;
    return strcmp(entity_id(m, *(entity *const *)a), entity_id(m, *(entity *const *)b));
}

/* The guards changed: every proof may be void, so every entity is due at `from`. */
static int recheck_all(score_shard *s, int64_t from)
{
    s->recheck = false;
    for (size_t i = 0; i < s->table_cap; i++) {
        entity *e = s->table[i].e;
        if (e && !e->retired && e->check > from && schedule(s, e, from) != 0)
            return -1;
    }
    return 0;
}

void score_shard_set_guard(score_shard *s, const score_guard_snap *g)
{
    if (score_guard_snap_differs(s->guard, g))
        s->recheck = true;
    if (s->guard && s->guard->stale && (!g || !g->stale)) /* the spell is over: records anew */
        for (size_t i = 0; i < s->table_cap; i++)
            if (s->table[i].e)
                s->table[i].e->recorded = 0;
    score_guard_snap_unref(s->guard);
    s->guard = g;
}

static sf_status run_due(score_shard *s, uint64_t seq, int64_t from, int64_t to)
{
    double x[SIGFLOW_MAX_SIGNALS];
    if (s->recheck && recheck_all(s, from) != 0)
        return SF_ENOMEM;
    while (s->heap_n > 0 && s->heap[0]->check <= to) {
        int64_t T = s->heap[0]->check;
        if (T < from)
            T = from; /* cannot happen: checks are never behind the next boundary */
        size_t n = 0;
        while (s->heap_n > 0 && s->heap[0]->check <= T) {
            if (n == s->due_cap) {
                size_t cap = s->due_cap ? s->due_cap * 2 : 256;
                entity **d = realloc(s->due, cap * sizeof *d);
                if (!d)
                    return SF_ENOMEM;
                s->due = d;
                s->due_cap = cap;
            }
            entity *e = s->heap[0];
            heap_remove(s, e);
            e->check = NEVER;
            s->due[n++] = e;
        }
        qsort_r(s->due, n, sizeof *s->due, due_cmp, (void *)s->m);
        for (size_t k = 0; k < n; k++) {
            entity *e = s->due[k];
            sf_status st = evaluate(s, e, T, seq, T, x);
            if (st != SF_OK)
                return st;
            if (schedule(s, e, next_check(s, e, T, x, T + s->m->tick, SEARCH_STEPS_TICK)) != 0)
                return SF_ENOMEM;
        }
    }
    return SF_OK;
}

sf_status score_shard_ticks(score_shard *s, uint64_t seq, int64_t from, int64_t to)
{
    if (!s->m->outcomes)
        return run_due(s, seq, from, to);
    /* with outcomes every boundary also expires alerts and takes snapshots */
    for (int64_t T = from; T <= to; T += s->m->tick) {
        sf_status st = run_due(s, seq, T, T);
        s->cur_seq = seq;
        s->cur_sub = T;
        if (st == SF_OK)
            st = outcome_expire(&s->oc, T);
        if (st == SF_OK)
            st = snapshot_all(s, T);
        if (st != SF_OK)
            return st;
    }
    return SF_OK;
}

sf_status score_shard_reschedule(score_shard *s, int64_t clock, int64_t next_tick)
{
    const score_layout *l = &s->m->layout;
    double x[SIGFLOW_MAX_SIGNALS];
    for (size_t j = 0; j < s->table_cap; j++) {
        entity *e = s->table[j].e;
        if (!e || e->retired)
            continue;
        for (size_t i = 0; i < l->n; i++)
            x[i] = score_guard_x(s->guard, l, e->blob, i, clock);
        if (schedule(s, e, next_check(s, e, clock, x, next_tick, SEARCH_STEPS_TICK)) != 0)
            return SF_ENOMEM;
    }
    return SF_OK;
}

outcome_tables *score_shard_outcomes(score_shard *s)
{
    return &s->oc;
}

const char *score_shard_find_id(score_shard *s, const char *id, size_t len, uint64_t hash)
{
    size_t slot;
    entity *e = entity_find(s, id, len, hash, &slot);
    return e ? entity_id(s->m, e) : NULL;
}

score_shard_alert *score_shard_take_alerts(score_shard *s, size_t *n)
{
    score_shard_alert *o = s->out;
    *n = s->out_n;
    s->out = NULL;
    s->out_n = s->out_cap = 0;
    return o;
}

/* ---- checkpoints ---------------------------------------------------------------------- */

size_t score_shard_entity_count(const score_shard *s)
{
    return s->n_entities;
}

size_t score_shard_list_entities(const score_shard *s, const score_shard_entity **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->table_cap; i++) {
        if (s->table[i].e)
            out[n++] = s->table[i].e;
    }
    return n;
}

const char *score_shard_entity_id(const score_model *m, const score_shard_entity *e)
{
    return entity_id(m, e);
}

void score_shard_entity_get(const score_model *m, const score_shard_entity *e,
                            score_shard_entity_view *out)
{
    out->id = entity_id(m, e);
    out->id_len = e->id_len;
    out->blob = e->blob;
    out->attrs = e->attrs;
    out->last_alert = e->last_alert;
    out->armed = e->armed != 0;
    out->retired = e->retired != 0;
    out->recorded = e->recorded != 0;
}

sf_status score_shard_restore(score_shard *s, const score_shard_entity_view *v, uint64_t hash,
                              int64_t clock, int64_t next_tick)
{
    const score_layout *l = &s->m->layout;
    double x[SIGFLOW_MAX_SIGNALS];
    size_t before = s->n_entities;
    entity *e = entity_get(s, v->id, v->id_len, hash);
    if (!e)
        return SF_ENOMEM;
    if (s->n_entities == before)
        return SF_EINVAL; /* already there: a checkpoint lists each entity once */
    memcpy(e->blob, v->blob, l->size);
    e->armed = v->armed ? 1 : 0;
    e->last_alert = v->last_alert;
    e->retired = v->retired ? 1 : 0;
    e->recorded = v->recorded ? 1 : 0;
    if (v->attrs) {
        size_t n = strlen(v->attrs) + 1;
        if (!(e->attrs = malloc(n)))
            return SF_ENOMEM;
        memcpy(e->attrs, v->attrs, n);
        s->st.state_bytes += n;
    }
    /*
     * Where the saving engine's schedule stood is not stored: it is derived again, as after
     * an evaluation at the clock, so the proof is this build's (every event time <= clock).
     */
    if (e->retired) {
        s->st.retired++;
        return SF_OK; /* off the schedule until its next event */
    }
    for (size_t i = 0; i < l->n; i++)
        x[i] = score_guard_x(s->guard, l, e->blob, i, clock);
    int64_t check = next_check(s, e, clock, x, next_tick, SEARCH_STEPS_TICK);
    return schedule(s, e, check) == 0 ? SF_OK : SF_ENOMEM;
}

void score_shard_add_stats(score_shard *s, const score_shard_stats *add)
{
    s->st.applied += add->applied;
    s->st.evaluations += add->evaluations;
    s->st.alerts += add->alerts;
}

int score_shard_alert_cmp(const void *pa, const void *pb)
{
    const score_shard_alert *a = pa, *b = pb;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->sub != b->sub)
        return a->sub < b->sub ? -1 : 1;
    int c = strcmp(score_shard_item_entity(a), score_shard_item_entity(b));
    if (c != 0)
        return c;
    return a->n < b->n ? -1 : a->n > b->n; /* one entity: one shard, in its order */
}

void score_shard_get_stats(const score_shard *s, score_shard_stats *out)
{
    *out = s->st;
}
