/*
 * learn_image.c - the learning part of the score image (format version 2, docs/
 * scoring.md "Checkpoints"): the model in use and the configured values it came from, label
 * counts and lift, the history, and every shard's outcome tables (alerts waiting, outcomes
 * seen, fit sample rows, traces), merged and sorted by shard-free keys so the bytes do not
 * depend on the shard count. Loading is parsing external input: every count is checked
 * against the bytes present and every entity must be one the checkpoint restored.
 * Called by score_image.c / score_image_load.c.
 */
#include "score/learn_image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/strbuf.h"
#include "score/learn_internal.h"
#include "score/outcome.h"
#include "score/score_bytes.h"
#include "score/score_internal.h"

/* ---- writing ------------------------------------------------------------------------------ */

static void put64(strbuf *b, uint64_t v)
{
    unsigned char p[8];
    sb_put64(p, v);
    strbuf_add(b, (const char *)p, 8);
}

static void putf(strbuf *b, double v)
{
    unsigned char p[8];
    sb_putf64(p, v);
    strbuf_add(b, (const char *)p, 8);
}

static void put32(strbuf *b, uint32_t v)
{
    unsigned char p[4];
    sb_put32(p, v);
    strbuf_add(b, (const char *)p, 4);
}

static void put_id(strbuf *b, const char *id)
{
    unsigned char p[2];
    size_t n = strlen(id);
    sb_put16(p, (uint16_t)n);
    strbuf_add(b, (const char *)p, 2);
    strbuf_add(b, id, n);
}

static void put_floats(strbuf *b, const float *x, size_t d)
{
    for (size_t i = 0; i < d; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put32(b, u);
    }
}

static const char *const causes[] = {"config", "refit", "refit (learning off: recorded only)",
                                     "config changed: learned model dropped"};

static uint8_t cause_code(const char *c)
{
    for (uint8_t i = 0; i < sizeof causes / sizeof *causes; i++) {
        if (c && strcmp(c, causes[i]) == 0)
            return i;
    }
    return 1;
}

static void put_model(strbuf *b, const score_engine *e, const score_learn *l)
{
    size_t d = e->n_sig;
    put32(b, (uint32_t)d);
    put32(b, e->model.version);
    putf(b, e->dec.bias);
    putf(b, e->dec.threshold);
    putf(b, e->dec.rearm_below);
    for (size_t i = 0; i < d; i++)
        putf(b, e->sig[i].weight);
    putf(b, l->cfg_bias);
    putf(b, l->cfg_threshold);
    putf(b, l->cfg_rearm);
    for (size_t i = 0; i < d; i++)
        putf(b, l->cfg_w[i]);
    put64(b, (uint64_t)l->last_refit);
    put64(b, l->trace_rate);
    put64(b, l->confirmed);
    put64(b, l->false_positive);
    put64(b, l->missed);
    for (size_t i = 0; i < d; i++) {
        put64(b, l->high_confirmed[i]);
        put64(b, l->high_false[i]);
    }
    put32(b, (uint32_t)l->n_hist);
    for (size_t k = 0; k < l->n_hist; k++) {
        const score_model_change *c = &l->hist[k];
        put64(b, (uint64_t)c->time);
        put32(b, c->version);
        unsigned char f[2] = {cause_code(c->cause), c->applied};
        strbuf_add(b, (const char *)f, 2);
        putf(b, c->old_bias);
        putf(b, c->new_bias);
        putf(b, c->old_threshold);
        putf(b, c->new_threshold);
        for (size_t i = 0; i < d; i++) {
            putf(b, c->old_w[i]);
            putf(b, c->new_w[i]);
        }
        put64(b, c->rows);
        put64(b, c->positives);
        put64(b, c->alerts_judged);
        putf(b, c->alert_precision);
    }
}

/* One table of all shards, sorted: an index of (shard, i) pairs. */
typedef struct ref {
    const outcome_tables *o;
    size_t i;
} ref;

static int open_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    const outcome_open *x = &a->o->open[a->i], *y = &b->o->open[b->i];
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int seen_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    const outcome_seen *x = &a->o->seen[a->i], *y = &b->o->seen[b->i];
    int c = strcmp(x->id, y->id);
    return c ? c : (x->t < y->t ? -1 : x->t > y->t);
}

static int row_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    const outcome_row *x = &a->o->rows[a->i], *y = &b->o->rows[b->i];
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int trace_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    const outcome_trace *x = &a->o->tr[a->i], *y = &b->o->tr[b->i];
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

enum { T_OPEN, T_SEEN, T_ROWS, T_TRACES };

/* An alert of the open table that is already labelled: the top bit of its saved version. */
#define OPEN_DONE_BIT 0x80000000u

static ref *collect(score_engine *e, int which, size_t *count)
{
    size_t n = 0;
    for (int s = 0; s < e->n_shards; s++) {
        const outcome_tables *o = score_shard_outcomes(e->shards[s]);
        n += which == T_OPEN   ? o->open_n - o->open_head
             : which == T_SEEN ? o->seen_n
             : which == T_ROWS ? o->rows_n
                               : o->tr_n;
    }
    ref *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return NULL;
    size_t k = 0;
    for (int s = 0; s < e->n_shards; s++) {
        const outcome_tables *o = score_shard_outcomes(e->shards[s]);
        if (which == T_OPEN) {
            for (size_t i = o->open_head; i < o->open_n; i++)
                r[k++] = (ref){o, i};
        } else {
            size_t m = which == T_SEEN ? o->seen_n : which == T_ROWS ? o->rows_n : o->tr_n;
            for (size_t i = 0; i < m; i++)
                r[k++] = (ref){o, i};
        }
    }
    static int (*const cmp[])(const void *, const void *) = {open_cmp, seen_cmp, row_cmp,
                                                             trace_cmp};
    qsort(r, n, sizeof *r, cmp[which]);
    *count = n;
    return r;
}

static int person_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    const outcome_person *x = &a->o->per[a->i], *y = &b->o->per[b->i];
    int c = strcmp(x->id, y->id);
    return c ? c : (x->t < y->t ? -1 : x->t > y->t);
}

/* People's labels: u64 count, then id, i64 alert time, u8 label, f32 x d; by id then time. */
static sf_status put_persons(strbuf *b, score_engine *e)
{
    size_t d = e->n_sig, n = 0;
    for (int s = 0; s < e->n_shards; s++)
        n += score_shard_outcomes(e->shards[s])->per_n;
    ref *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return SF_ENOMEM;
    size_t k = 0;
    for (int s = 0; s < e->n_shards; s++) {
        const outcome_tables *o = score_shard_outcomes(e->shards[s]);
        for (size_t i = 0; i < o->per_n; i++)
            r[k++] = (ref){o, i};
    }
    qsort(r, n, sizeof *r, person_cmp);
    put64(b, n);
    for (k = 0; k < n; k++) {
        const outcome_tables *o = r[k].o;
        size_t i = r[k].i;
        put_id(b, o->per[i].id);
        put64(b, (uint64_t)o->per[i].t);
        strbuf_add(b, (const char *)&o->per[i].y, 1);
        put_floats(b, o->per_x + i * d, d);
    }
    free(r);
    return SF_OK;
}

static sf_status put_tables(strbuf *b, score_engine *e)
{
    size_t d = e->n_sig;
    for (int which = T_OPEN; which <= T_TRACES; which++) {
        size_t n;
        ref *r = collect(e, which, &n);
        if (!r)
            return SF_ENOMEM;
        put64(b, n);
        for (size_t k = 0; k < n; k++) {
            const outcome_tables *o = r[k].o;
            size_t i = r[k].i;
            if (which == T_OPEN) { /* labelled ones too: a person may still label them */
                put_id(b, o->open[i].id);
                put64(b, (uint64_t)o->open[i].t);
                put32(b, o->open[i].version | (o->open[i].done ? OPEN_DONE_BIT : 0));
                put_floats(b, o->open_x + i * d, d);
            } else if (which == T_SEEN) {
                put_id(b, o->seen[i].id);
                put64(b, (uint64_t)o->seen[i].t);
            } else if (which == T_ROWS) {
                put_id(b, o->rows[i].id);
                put64(b, (uint64_t)o->rows[i].t);
                put64(b, o->rows[i].prio);
                unsigned char lab = (unsigned char)(o->rows[i].label + 1);
                strbuf_add(b, (const char *)&lab, 1);
                put_floats(b, o->row_x + i * d, d);
            } else if (which == T_TRACES) {
                put_id(b, o->tr[i].id);
                put64(b, (uint64_t)o->tr[i].t);
                put_floats(b, o->tr_x + i * d, d);
            }
        }
        free(r);
    }
    return put_persons(b, e);
}

sf_status learn_image_encode(score_engine *e, unsigned char **out, size_t *len)
{
    strbuf b = {0};
    put_model(&b, e, e->learn);
    unsigned char has = e->model.outcomes;
    strbuf_add(&b, (const char *)&has, 1);
    sf_status st = has ? put_tables(&b, e) : SF_OK;
    if (b.oom || st != SF_OK) {
        free(b.p);
        return SF_ENOMEM;
    }
    *len = b.len;
    *out = (unsigned char *)(b.p ? b.p : calloc(1, 1));
    return *out ? SF_OK : SF_ENOMEM;
}

/* ---- reading ---------------------------------------------------------------------------- */

static uint64_t g64(sb_cursor *c)
{
    const unsigned char *p = sb_take(c, 8);
    return p ? sb_get64(p) : 0;
}

static uint32_t g32(sb_cursor *c)
{
    const unsigned char *p = sb_take(c, 4);
    return p ? sb_get32(p) : 0;
}

static uint8_t g8(sb_cursor *c)
{
    const unsigned char *p = sb_take(c, 1);
    return p ? p[0] : 0;
}

static double gf(sb_cursor *c)
{
    const unsigned char *p = sb_take(c, 8);
    return p ? sb_getf64(p) : 0;
}

static bool finite_or(sb_cursor *c, double v)
{
    if (!isfinite(v))
        c->bad = true;
    return !c->bad;
}

/* An entity id; resolved to the restored entity's stable pointer (NULL: bad). */
static const char *g_id(sb_cursor *c, score_engine *e, score_shard **shard)
{
    const unsigned char *p = sb_take(c, 2);
    size_t n = p ? sb_get16(p) : 0;
    const unsigned char *s = sb_take(c, n);
    if (!s || n == 0 || n > SIGFLOW_MAX_ENTITY_LEN)
        return c->bad = true, NULL;
    uint64_t h = score__hash_id((const char *)s, n);
    *shard = e->shards[score__shard_of(e, h)];
    const char *id = score_shard_find_id(*shard, (const char *)s, n, h);
    if (!id)
        c->bad = true;
    return id;
}

static void g_floats(sb_cursor *c, double *x, size_t d)
{
    for (size_t i = 0; i < d; i++) {
        uint32_t u = g32(c);
        float f;
        memcpy(&f, &u, 4);
        x[i] = f;
        if (!isfinite(f) || f < -1e30f || f > 1e30f)
            c->bad = true;
    }
}

typedef struct saved_model {
    uint32_t version;
    double bias, threshold, rearm, w[SIGFLOW_MAX_SIGNALS];
    double cfg_bias, cfg_threshold, cfg_rearm, cfg_w[SIGFLOW_MAX_SIGNALS];
} saved_model;

static void g_model(sb_cursor *c, size_t d, saved_model *m, score_learn *l)
{
    m->version = g32(c);
    m->bias = gf(c);
    m->threshold = gf(c);
    m->rearm = gf(c);
    for (size_t i = 0; i < d; i++)
        m->w[i] = gf(c);
    m->cfg_bias = gf(c);
    m->cfg_threshold = gf(c);
    m->cfg_rearm = gf(c);
    for (size_t i = 0; i < d; i++)
        m->cfg_w[i] = gf(c);
    l->last_refit = (int64_t)g64(c);
    l->trace_rate = g64(c);
    l->confirmed = g64(c);
    l->false_positive = g64(c);
    l->missed = g64(c);
    for (size_t i = 0; i < d; i++) {
        l->high_confirmed[i] = g64(c);
        l->high_false[i] = g64(c);
    }
    bool ok = m->version >= 1 && finite_or(c, m->bias) && m->threshold >= 0 && m->threshold <= 1 &&
              m->rearm >= 0 && m->rearm <= 1;
    for (size_t i = 0; i < d && ok; i++)
        ok = finite_or(c, m->w[i]) && finite_or(c, m->cfg_w[i]);
    if (!ok)
        c->bad = true;
}

static void g_history(sb_cursor *c, size_t d, score_learn *l)
{
    uint32_t n = g32(c);
    if (n > SIGFLOW_MAX_MODEL_HISTORY)
        c->bad = true;
    for (uint32_t k = 0; k < n && !c->bad; k++) {
        score_model_change ch = {0};
        ch.time = (int64_t)g64(c);
        ch.version = g32(c);
        uint8_t code = g8(c), applied = g8(c);
        if (code >= sizeof causes / sizeof *causes || applied > 1)
            c->bad = true;
        ch.cause = causes[code < sizeof causes / sizeof *causes ? code : 1];
        ch.applied = applied;
        ch.old_bias = gf(c);
        ch.new_bias = gf(c);
        ch.old_threshold = gf(c);
        ch.new_threshold = gf(c);
        for (size_t i = 0; i < d; i++) {
            ch.old_w[i] = gf(c);
            ch.new_w[i] = gf(c);
        }
        ch.rows = g64(c);
        ch.positives = g64(c);
        ch.alerts_judged = g64(c);
        ch.alert_precision = gf(c);
        if (!c->bad)
            learn__record(l, &ch);
    }
}

/* People's labels (absent in checkpoints written before they existed: nothing left). */
static sf_status g_persons(sb_cursor *c, score_engine *e, int64_t watermark)
{
    size_t d = e->n_sig;
    double x[SIGFLOW_MAX_SIGNALS];
    if (c->pos == c->n)
        return SF_OK;
    uint64_t n = g64(c);
    for (uint64_t k = 0; k < n && !c->bad; k++) {
        score_shard *sh = NULL;
        const char *id = g_id(c, e, &sh);
        int64_t t = (int64_t)g64(c);
        uint8_t y = g8(c);
        g_floats(c, x, d);
        if (c->bad || t < SCORE_TIME_MIN_MS || t > watermark || y > 1)
            return c->bad = true, SF_EINVAL;
        sf_status st = outcome_add_person(score_shard_outcomes(sh), id, t, y, x);
        if (st != SF_OK)
            return st;
    }
    return c->bad ? SF_EINVAL : SF_OK;
}

static sf_status g_tables(sb_cursor *c, score_engine *e, int64_t watermark)
{
    size_t d = e->n_sig;
    double x[SIGFLOW_MAX_SIGNALS];
    for (int which = T_OPEN; which <= T_TRACES && !c->bad; which++) {
        uint64_t n = g64(c);
        for (uint64_t k = 0; k < n && !c->bad; k++) {
            score_shard *sh = NULL;
            const char *id = g_id(c, e, &sh);
            int64_t t = (int64_t)g64(c);
            if (c->bad || t < SCORE_TIME_MIN_MS || t > watermark)
                return c->bad = true, SF_EINVAL;
            outcome_tables *o = score_shard_outcomes(sh);
            sf_status st = SF_OK;
            if (which == T_OPEN) {
                uint32_t v = g32(c);
                bool done = v & OPEN_DONE_BIT;
                v &= ~OPEN_DONE_BIT;
                g_floats(c, x, d);
                if (v == 0)
                    c->bad = true;
                st = c->bad ? SF_EINVAL : outcome_alert(o, id, t, v, x);
                if (st == SF_OK)
                    o->open[o->open_n - 1].done = done;
            } else if (which == T_SEEN) {
                if (!array_grow(&o->seen, o->seen_n, &o->seen_cap, sizeof *o->seen, 64))
                    return SF_ENOMEM;
                o->seen[o->seen_n++] = (outcome_seen){id, t};
                o->seen_sorted = false;
            } else if (which == T_ROWS) {
                uint64_t prio = g64(c);
                uint8_t lab = g8(c);
                g_floats(c, x, d);
                if (lab > 2)
                    c->bad = true;
                if (!c->bad)
                    st = outcome_add_row(o, id, t, prio, (int8_t)(lab - 1), x);
            } else {
                g_floats(c, x, d);
                uint64_t h = score__hash_id(id, strlen(id));
                if (!c->bad)
                    st = outcome_add_trace(o, id, h, t, x);
            }
            if (st != SF_OK)
                return st;
        }
    }
    return c->bad ? SF_EINVAL : g_persons(c, e, watermark);
}

/* Install a saved model when the configured values it came from are still the config's. */
static void adopt(score_engine *e, const saved_model *m, size_t d)
{
    score_learn *l = e->learn;
    bool same = m->cfg_bias == l->cfg_bias && m->cfg_threshold == l->cfg_threshold &&
                m->cfg_rearm == l->cfg_rearm;
    for (size_t i = 0; i < d; i++)
        same = same && m->cfg_w[i] == l->cfg_w[i];
    if (!same) {
        score_model_change ch = {.time = e->watermark,
                                 .version = m->version + 1,
                                 .cause = causes[3],
                                 .applied = true,
                                 .old_bias = m->bias,
                                 .new_bias = e->dec.bias,
                                 .old_threshold = m->threshold,
                                 .new_threshold = e->dec.threshold,
                                 .alert_precision = NAN};
        for (size_t i = 0; i < d; i++) {
            ch.old_w[i] = m->w[i];
            ch.new_w[i] = e->sig[i].weight;
        }
        e->model.version = m->version + 1;
        learn__record(l, &ch);
        return;
    }
    e->dec.bias = m->bias;
    e->dec.threshold = m->threshold;
    e->dec.rearm_below = m->rearm;
    for (size_t i = 0; i < d; i++)
        e->sig[i].weight = m->w[i];
    e->model.version = m->version;
    score_model_set_limits(&e->model);
}

sf_status learn_image_decode(score_engine *e, const unsigned char *p, size_t n, int64_t watermark,
                             char *err, size_t errlen)
{
    sb_cursor c = {p, n, 0, false};
    size_t d = g32(&c);
    if (d != e->n_sig) {
        snprintf(err, errlen, "checkpoint: corrupt learning state (signals)");
        return SF_EINVAL;
    }
    saved_model m;
    g_model(&c, d, &m, e->learn);
    g_history(&c, d, e->learn);
    uint8_t has = g8(&c);
    sf_status st = SF_OK;
    if (!c.bad && has > 1)
        c.bad = true;
    if (!c.bad && has && e->model.outcomes)
        st = g_tables(&c, e, watermark);
    else if (!c.bad && has)
        c.pos = c.n; /* the config dropped `outcome =`: its tables mean nothing now */
    if (st == SF_OK && (c.bad || c.pos != c.n))
        st = SF_EINVAL;
    if (st != SF_OK) {
        snprintf(err, errlen, "checkpoint: corrupt learning state");
        return st;
    }
    for (int s = 0; s < e->n_shards; s++)
        score_shard_outcomes(e->shards[s])->trace_rate = e->learn->trace_rate;
    adopt(e, &m, d);
    pthread_mutex_lock(&e->learn->mu);
    e->learn->version = e->model.version;
    e->learn->bias = e->dec.bias;
    e->learn->threshold = e->dec.threshold;
    e->learn->rearm_below = e->dec.rearm_below;
    for (size_t i = 0; i < d; i++)
        e->learn->w[i] = e->sig[i].weight;
    pthread_mutex_unlock(&e->learn->mu);
    return SF_OK;
}
