/*
 * fuzz_score.c - the scoring engine on arbitrary event streams (4 bytes per event: entity,
 * type, time step (sometimes backwards: late events), value). Besides not crashing, the
 * alert stream must be identical through 1 and 3 shards, and equal to a naive scheduler
 * written here from docs/scoring.md that evaluates every entity at every tick (it shares only
 * the measures, score_state.c, with the engine): skipping must never change an alert.
 * Every input runs twice: with the plain signals and with the noise guards (docs/scoring.md
 * "Noise guards": cohort drop and rise, stale drop and absent, absent on the population's
 * clock), which the naive scheduler applies at every boundary from its own population sums,
 * event counts and slow spells.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/score.h"
#include "score/score_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN 60000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)

typedef struct collected {
    char *text;
    size_t len, cap;
} collected;

static void collect(void *ctx, sf_alert *a)
{
    collected *c = ctx;
    size_t n = strlen(a->json) + 1;
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *t = realloc(c->text, cap);
        if (!t)
            abort();
        c->text = t;
        c->cap = cap;
    }
    memcpy(c->text + c->len, a->json, n - 1);
    c->text[c->len + n - 1] = '\n';
    c->len += n;
    c->text[c->len] = '\0';
}

static const config_decision fuzz_dec = {.name = "fuzz",
                                         .bias = -2,
                                         .threshold = 0.6,
                                         .rearm_below = 0.45,
                                         .cooldown_ms = 2 * HOUR,
                                         .tick_ms = HOUR};
static const config_signal fuzz_sig[] = {
    {.name = "drop",
     .event = "login",
     .measure = MEASURE_DROP,
     .recent_ms = 6 * HOUR,
     .usual_ms = DAY,
     .weight = 2,
     .explain = "{{pct}} {{recent_rate}} {{n}}"},
    {.name = "rise",
     .event = "ticket",
     .measure = MEASURE_RISE,
     .of_value = true,
     .recent_ms = 3 * HOUR,
     .usual_ms = 12 * HOUR,
     .span = 0.5,
     .weight = 1},
    {.name = "count",
     .event = "ticket",
     .measure = MEASURE_COUNT,
     .window_ms = 5 * HOUR,
     .cap = 2.5,
     .weight = 1,
     .explain = "{{n}} in {{window}}"},
    {.name = "recent",
     .event = "level",
     .measure = MEASURE_RECENT,
     .window_ms = 4 * HOUR,
     .weight = -0.5},
    {.name = "absent",
     .event = "login",
     .measure = MEASURE_ABSENT,
     .window_ms = 8 * HOUR,
     .weight = 1.5,
     .explain = "{{since}}"},
    {.name = "below",
     .event = "level",
     .measure = MEASURE_VALUE_BELOW,
     .limit = 5,
     .weight = 0.7,
     .explain = "{{value}} < {{limit}}"},
    {.name = "above", .event = "usage", .measure = MEASURE_VALUE_ABOVE, .limit = 20, .weight = 0.9},
};
static const char *const fuzz_types[] = {"login", "ticket", "level", "usage", "other"};
#define N_SIG (sizeof fuzz_sig / sizeof fuzz_sig[0])

/* The same signals with the guards: indexes 0 (drop), 1 (rise), 4 (absent, stale and on the
   population's clock). */
static config_signal fuzz_gsig[N_SIG];
static void guarded_init(void)
{
    memcpy(fuzz_gsig, fuzz_sig, sizeof fuzz_gsig);
    fuzz_gsig[0].cohort = true;
    fuzz_gsig[0].stale_below = 0.5;
    fuzz_gsig[0].stale_window_ms = 3 * HOUR;
    fuzz_gsig[0].stale_min = 2;
    fuzz_gsig[1].cohort = true; /* of = value, negative values too: rho may fall back to 1 */
    fuzz_gsig[4].stale_below = 0.5;
    fuzz_gsig[4].stale_window_ms = 3 * HOUR;
    fuzz_gsig[4].stale_min = 1;
    fuzz_gsig[4].cohort = true;
}

#define MAX_POP 4200   /* events per signal the naive scheduler keeps */
#define MAX_SPELLS 256 /* as the engine remembers */

/* The naive population state of one signal. */
typedef struct naive_pop {
    double pr, pu, c; /* cohort sums, stale decayed count (same update as the engine) */
    int64_t pref, cref;
    int64_t t[MAX_POP]; /* every event time (stale window counts) */
    size_t n;
    double rho;
    int stale;
    int64_t sp[MAX_SPELLS][3]; /* from, to, eighths lost */
    size_t nsp;
} naive_pop;

#define N_ENT 8

typedef struct naive_entity {
    _Alignas(8) unsigned char blob[1024];
    int has, armed;
    int recorded; /* a suppressed alert recorded in this stale spell */
    int64_t last; /* INT64_MIN: never */
} naive_entity;

typedef struct naive {
    score_layout l;
    const config_signal *sig;
    naive_pop pop[N_SIG];
    naive_entity ent[N_ENT];
    int started;
    int64_t next_tick, watermark;
    collected *out;
} naive;

/*
 * x of signal i under the guards, from the rules (not from the engine's snapshot code).
 * real: as a suppressed alert reads it (docs/scoring.md "Suppressed alerts"): a stale signal
 * is not 0, and a stale absent that counts live time only because it is judged reads the wall
 * clock.
 */
static double naive_x_as(const naive *nv, const naive_entity *e, size_t i, int64_t t, bool real)
{
    const config_signal *s = &nv->sig[i];
    const naive_pop *p = &nv->pop[i];
    if (p->stale && !real)
        return 0;
    if (p->stale && s->measure == MEASURE_ABSENT && !s->cohort)
        return score_state_x(&nv->l, e->blob, i, t);
    if (s->cohort && s->measure != MEASURE_ABSENT)
        return score_state_x_rel(&nv->l, e->blob, i, t, p->rho);
    if (s->measure == MEASURE_ABSENT && (s->stale_below > 0 || s->cohort)) {
        int64_t latest = score_state_latest(&nv->l, e->blob, i);
        if (latest == INT64_MIN)
            return 0;
        int64_t dead8 = 0; /* eighths of the slow time inside (latest, t] */
        for (size_t k = 0; k < p->nsp; k++) {
            int64_t a = p->sp[k][0] > latest ? p->sp[k][0] : latest;
            int64_t b = p->sp[k][1] < t ? p->sp[k][1] : t;
            if (b > a)
                dead8 += (b - a) * p->sp[k][2];
        }
        /* live time >= window, in eighths of a millisecond */
        return 8 * (t - latest - s->window_ms) >= dead8 ? 1 : 0;
    }
    return score_state_x(&nv->l, e->blob, i, t);
}

static double naive_x(const naive *nv, const naive_entity *e, size_t i, int64_t t)
{
    return naive_x_as(nv, e, i, t, false);
}

static void decay_add(double *a, double *b, int64_t *ref, double ta, double tb, int64_t t, double v)
{
    if (*ref == INT64_MIN) {
        *a = *b = v;
        *ref = t;
    } else if (t <= *ref) {
        *a += v * exp(-(double)(*ref - t) / ta);
        *b += v * exp(-(double)(*ref - t) / tb);
    } else {
        *a = *a * exp(-(double)(t - *ref) / ta) + v;
        *b = *b * exp(-(double)(t - *ref) / tb) + v;
        *ref = t;
    }
}

static void naive_pop_event(naive *nv, size_t i, int64_t t, double v, bool has_v)
{
    const config_signal *s = &nv->sig[i];
    naive_pop *p = &nv->pop[i];
    bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
    double tu = decay ? (double)s->usual_ms : 28.0 * DAY;
    if (s->cohort && decay)
        decay_add(&p->pr, &p->pu, &p->pref, (double)s->recent_ms, (double)s->usual_ms, t,
                  s->of_value ? (has_v ? v : 0.0) : 1.0);
    if (s->stale_below > 0 || (s->cohort && s->measure == MEASURE_ABSENT)) {
        double c2 = p->c;
        decay_add(&p->c, &c2, &p->cref, tu, tu, t, 1.0);
        if (p->n < MAX_POP)
            p->t[p->n++] = t;
    }
}

/* Boundary T: rho and staleness from the rules; health lines before the entities. */
static void naive_judge(naive *nv, int64_t T)
{
    for (size_t i = 0; i < N_SIG; i++) {
        const config_signal *s = &nv->sig[i];
        naive_pop *p = &nv->pop[i];
        bool clock = s->cohort && s->measure == MEASURE_ABSENT;
        if (s->cohort && !clock) {
            p->rho = 1;
            if (p->pref != INT64_MIN && p->pu != 0) {
                double rr = (double)s->recent_ms, ru = (double)s->usual_ms;
                double r =
                    (p->pr / rr) / (p->pu / ru) * exp(-(double)(T - p->pref) * (1 / rr - 1 / ru));
                p->rho = isfinite(r) && r > 0 ? r : 1;
            }
        }
        if (s->stale_below <= 0 && !clock)
            continue;
        bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
        double tu = decay ? (double)s->usual_ms : 28.0 * DAY;
        uint64_t n = 0;
        for (size_t k = 0; k < p->n; k++)
            n += p->t[k] > T - s->stale_window_ms && p->t[k] <= T;
        double expected = p->cref == INT64_MIN ? 0
                                               : p->c * exp(-(double)(T - p->cref) / tu) / tu *
                                                     (double)s->stale_window_ms;
        int stale =
            s->stale_below > 0 && expected >= s->stale_min && (double)n < s->stale_below * expected;
        int64_t lost = stale ? 8 : 0, first = INT64_MAX;
        for (size_t k = 0; k < p->n; k++)
            first = p->t[k] < first ? p->t[k] : first;
        if (!stale && clock && p->n && T > first) { /* usual rate since the first event */
            int64_t age = T - first, span = age < s->stale_window_ms ? age : s->stale_window_ms;
            double pu = p->c * exp(-(double)(T - p->cref) / tu);
            double ec = pu / tu / -expm1(-(double)age / tu) * (double)span;
            if (ec >= s->stale_min && ec > 0 && isfinite(ec)) {
                double q = floor(8.0 * (double)n / ec + 0.5);
                lost = q >= 8 ? 0 : 8 - (int64_t)q;
            }
        }
        if (lost) {
            if (p->nsp && p->sp[p->nsp - 1][1] == T && p->sp[p->nsp - 1][2] == lost) {
                p->sp[p->nsp - 1][1] = T + fuzz_dec.tick_ms;
            } else {
                if (p->nsp == MAX_SPELLS) {
                    memmove(p->sp, p->sp + 1, (MAX_SPELLS - 1) * sizeof p->sp[0]);
                    p->nsp--;
                }
                p->sp[p->nsp][0] = T;
                p->sp[p->nsp][1] = T + fuzz_dec.tick_ms;
                p->sp[p->nsp][2] = lost;
                p->nsp++;
            }
        }
        if (stale != p->stale) {
            p->stale = stale;
            char line[128];
            snprintf(line, sizeof line, "H %lld \"state\":\"%s\",\"signal\":\"%s\"", (long long)T,
                     stale ? "stale" : "recovered", s->name);
            sf_alert a = {.json = line};
            collect(nv->out, &a);
        }
    }
    int any = 0;
    for (size_t i = 0; i < N_SIG; i++)
        any |= nv->pop[i].stale;
    for (int k = 0; !any && k < N_ENT; k++) /* a stale spell is over: records anew */
        nv->ent[k].recorded = 0;
}

static void naive_eval(naive *nv, int k, int64_t t)
{
    naive_entity *e = &nv->ent[k];
    double z = fuzz_dec.bias;
    for (size_t i = 0; i < nv->l.n; i++)
        z += nv->sig[i].weight * naive_x(nv, e, i, t);
    double p = 1.0 / (1.0 + exp(-z));
    if (p < fuzz_dec.rearm_below)
        e->armed = 1;
    if (e->armed && p >= fuzz_dec.threshold &&
        (e->last == INT64_MIN || t - e->last >= fuzz_dec.cooldown_ms)) {
        e->armed = 0;
        e->last = t;
        char line[96];
        snprintf(line, sizeof line, "e%d %lld %.17g", k, (long long)t, p);
        sf_alert a = {.json = line};
        collect(nv->out, &a);
        return;
    }
    int suppresses = 0;
    for (size_t i = 0; i < nv->l.n; i++)
        suppresses |= nv->pop[i].stale && nv->sig[i].weight != 0;
    if (!e->armed || e->recorded || !suppresses ||
        (e->last != INT64_MIN && t - e->last < fuzz_dec.cooldown_ms))
        return;
    z = fuzz_dec.bias; /* the alert it would have fired had nothing been stale */
    for (size_t i = 0; i < nv->l.n; i++)
        z += nv->sig[i].weight * naive_x_as(nv, e, i, t, true);
    p = 1.0 / (1.0 + exp(-z));
    if (p >= fuzz_dec.threshold) {
        e->recorded = 1;
        char line[96];
        snprintf(line, sizeof line, "S e%d %lld %.17g", k, (long long)t, p);
        sf_alert a = {.json = line};
        collect(nv->out, &a);
    }
}

static void naive_ticks(naive *nv, int64_t last_inclusive)
{
    for (; nv->next_tick <= last_inclusive; nv->next_tick += fuzz_dec.tick_ms) {
        naive_judge(nv, nv->next_tick);
        for (int k = 0; k < N_ENT; k++) /* "e0" < "e1" < ... in byte order */
            if (nv->ent[k].has)
                naive_eval(nv, k, nv->next_tick);
    }
}

static void naive_push(naive *nv, int k, const char *type, int64_t t, double v, bool has_v)
{
    int64_t tick = fuzz_dec.tick_ms;
    if (!nv->started) {
        nv->started = 1;
        nv->watermark = t;
        nv->next_tick = (t / tick + (t % tick > 0)) * tick;
    }
    naive_ticks(nv, t - 1);
    if (t > nv->watermark)
        nv->watermark = t;
    int used = 0;
    for (size_t i = 0; i < nv->l.n; i++) {
        if (strcmp(nv->sig[i].event, type) == 0) {
            naive_pop_event(nv, i, t, v, has_v);
            if (!nv->ent[k].has) {
                score_state_init(&nv->l, nv->ent[k].blob);
                nv->ent[k].has = 1;
            }
            score_state_apply(&nv->l, nv->ent[k].blob, i, t, v, has_v);
            used = 1;
        }
    }
    if (used)
        naive_eval(nv, k, nv->watermark);
}

/* The engine's alerts as the naive scheduler prints them. */
static void collect_short(void *ctx, sf_alert *a)
{
    char line[160];
    if (a->kind == ALERT_HEALTH) {
        const char *st = strstr(a->json, "\"state\":"), *end = st ? strstr(st, ",\"text\"") : NULL;
        if (!end)
            abort();
        snprintf(line, sizeof line, "H %lld %.*s", (long long)a->time_ms, (int)(end - st), st);
        sf_alert b = {.json = line};
        collect(ctx, &b);
        return;
    }
    snprintf(line, sizeof line, "%s%s %lld %.17g", a->kind == ALERT_SUPPRESSED ? "S " : "",
             a->entity, (long long)a->time_ms, a->score);
    sf_alert b = {.json = line};
    collect(ctx, &b);
}

static void run_naive(const uint8_t *data, size_t size, const config_signal *sig, collected *out)
{
    static naive nv;
    char err[256];
    memset(&nv, 0, sizeof nv);
    nv.out = out;
    nv.sig = sig;
    for (size_t i = 0; i < N_SIG; i++) {
        nv.pop[i].pref = nv.pop[i].cref = INT64_MIN;
        nv.pop[i].rho = 1;
    }
    if (score_layout_init(&nv.l, sig, N_SIG, err, sizeof err) != SF_OK ||
        nv.l.size > sizeof nv.ent[0].blob)
        abort();
    for (int k = 0; k < N_ENT; k++) {
        nv.ent[k].armed = 1;
        nv.ent[k].last = INT64_MIN;
    }
    int64_t t = 1793491200000LL;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        int64_t step = (int64_t)(data[i + 2] & 0x7f) * 7 * MIN;
        t += (data[i + 2] & 0x80) && (data[i + 1] & 0x80) ? -step : step;
        naive_push(&nv, data[i] % 8, fuzz_types[(data[i + 1] & 0x7f) % 5u], t,
                   (double)(data[i + 3] >> 1) - 20, data[i + 3] & 1);
    }
    if (nv.started)
        naive_ticks(&nv, t + 2 * DAY);
}

static void run(const uint8_t *data, size_t size, const config_signal *sig, int shards,
                score_alert_fn fn, collected *out)
{
    char err[256];
    score_engine *e = score_new(&fuzz_dec, sig, N_SIG, shards, fn, out, err, sizeof err);
    if (!e)
        abort();
    int64_t t = 1793491200000LL;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        char id[8];
        snprintf(id, sizeof id, "e%u", data[i] % 8u);
        int64_t step = (int64_t)(data[i + 2] & 0x7f) * 7 * MIN;
        t += (data[i + 2] & 0x80) && (data[i + 1] & 0x80) ? -step : step;
        sf_event *ev = event_new(id, fuzz_types[(data[i + 1] & 0x7f) % 5u], t, NULL, 0);
        if (!ev)
            abort();
        ev->has_value = data[i + 3] & 1;
        ev->value = (double)(data[i + 3] >> 1) - 20;
        if (score_push(e, ev) != SF_OK)
            abort();
        event_free(ev);
    }
    if (score_advance(e, t + 2 * DAY) != SF_OK)
        abort();
    score_flush(e);
    score_free(e);
}

static void check(const uint8_t *data, size_t size, const config_signal *sig)
{
    collected one = {0}, three = {0}, fast = {0}, slow = {0};
    run(data, size, sig, 1, collect, &one);
    run(data, size, sig, 3, collect, &three);
    if (one.len != three.len || (one.len && memcmp(one.text, three.text, one.len) != 0))
        abort(); /* the shard count changed the alerts */
    run(data, size, sig, 1, collect_short, &fast);
    run_naive(data, size, sig, &slow);
    if (fast.len != slow.len || (fast.len && memcmp(fast.text, slow.text, fast.len) != 0)) {
        fprintf(stderr, "engine:\n%s\nnaive:\n%s\n", fast.text ? fast.text : "",
                slow.text ? slow.text : "");
        abort(); /* skipping changed an alert */
    }
    free(one.text);
    free(three.text);
    free(fast.text);
    free(slow.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * 4096)
        return 0;
    if (!fuzz_gsig[0].name)
        guarded_init();
    check(data, size, fuzz_sig);
    check(data, size, fuzz_gsig);
    return 0;
}
