/*
 * score_guard.c - the producer's side of the noise guards (score_guard.h). Every applied
 * event of a guarded signal, whatever its entity, feeds the population state:
 *  - cohort: decayed sums P_recent, P_usual (the signal's own amounts and time constants);
 *  - stale and the population's clock (`absent` with relative = cohort): a decayed count of
 *    events (tau = usual, 28d for measures without one) and the number of events per tick
 *    interval ((k-1)·tick, k·tick] over the last stale_window.
 * At each boundary T the producer snapshots rho, judges staleness and the population's
 * activity (exact rules in docs/scoring.md "Noise guards"), records slow spells [T, T + tick)
 * (stale: none of it counts; slow: the share of the population's usual activity missing),
 * raises a health alert on each stale change, and publishes a new snapshot when the shards
 * must see one.
 */
#include "score/score_guard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "model/health_alert.h"
#include "score/score.h"
#include "score/score_bytes.h"
#include "score/score_internal.h"

#define NO_TIME INT64_MIN
#define DEFAULT_USUAL_MS (28LL * 86400000LL)
#define GUARD_MAGIC1 0x31445247u /* "GRD1": spells without `lost` (all 8) */
#define GUARD_MAGIC 0x32445247u  /* "GRD2" */
#define CLOCK_STEPS 8            /* the population's activity is judged in eighths */

typedef struct decay2 {
    double a, b;   /* two decayed sums at t_ref */
    int64_t t_ref; /* NO_TIME: no event yet */
} decay2;

typedef struct guard_sig {
    const config_signal *cfg;
    bool cohort, stale_on;
    bool clock;          /* absent on the population's clock (relative = cohort) */
    bool counting;       /* stale_on || clock: events per tick and the decayed count kept */
    double tau_r, tau_u; /* cohort: recent, usual; stale count: usual (or 28d) */
    decay2 pop;          /* cohort: P_recent (a), P_usual (b) */
    decay2 cnt;          /* stale: decayed event count (a) with tau_u */
    int64_t first;       /* counting: the earliest event time (NO_TIME: none) */
    int64_t window_ms;   /* stale_window */
    int64_t nb;          /* ticks per stale window */
    int64_t *bid;        /* ring: bucket number k of each slot (NO_TIME: empty) */
    uint64_t *bn;        /* events in that bucket */
    bool stale;
    double rho;
    double band_lo, band_hi; /* the proofs' band around rho (not saved: it only paces skips) */
    score_spell *sp;         /* slow spells (stale, or the clock's), oldest first */
    size_t n_sp;
} guard_sig;

struct score_guards {
    char *decision;
    size_t n;
    int64_t tick;
    int64_t known_to; /* the boundary after the latest one judged (NO_TIME: none yet) */
    guard_sig sig[SIGFLOW_MAX_SIGNALS];
    score_guard_snap *snap;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- snapshot --------------------------------------------------------------------------- */

static score_guard_snap *build_snap(const score_guards *g)
{
    size_t total = 0;
    for (size_t i = 0; i < g->n; i++)
        total += g->sig[i].n_sp;
    score_guard_snap *s = calloc(1, sizeof *s + total * sizeof(score_spell));
    if (!s)
        return NULL;
    s->refs = 1;
    s->known_to = g->known_to;
    uint32_t k = 0;
    for (size_t i = 0; i < SIGFLOW_MAX_SIGNALS; i++) {
        s->rho[i] = 1;
        s->spell_off[i] = k;
        if (i >= g->n)
            continue;
        const guard_sig *gs = &g->sig[i];
        if (gs->cohort) {
            s->cohort |= 1ull << i;
            s->rho[i] = gs->rho;
            s->rho_lo[i] = gs->band_lo;
            s->rho_hi[i] = gs->band_hi;
        }
        if (gs->stale)
            s->stale |= 1ull << i;
        if (gs->counting && gs->cfg->measure == MEASURE_ABSENT)
            s->live_time |= 1ull << i;
        if (gs->clock)
            s->pop_clock |= 1ull << i;
        if (gs->n_sp) /* gs->sp is NULL while a signal has no spells */
            memcpy(s->spells + k, gs->sp, gs->n_sp * sizeof *gs->sp);
        k += (uint32_t)gs->n_sp;
    }
    s->spell_off[SIGFLOW_MAX_SIGNALS] = k;
    return s;
}

const score_guard_snap *score_guards_snap(const score_guards *g)
{
    return g->snap;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

/*
 * Proofs assume rho anywhere in [rho / (1 + RHO_BAND), rho * (1 + RHO_BAND)]: a population
 * drifts slowly, so most boundaries keep the band and void no proof.
 */
#define RHO_BAND 0.05
static void set_band(guard_sig *gs)
{
    gs->band_lo = gs->rho / (1 + RHO_BAND);
    gs->band_hi = gs->rho * (1 + RHO_BAND);
}

static int sig_init(guard_sig *gs, const config_signal *s, int64_t tick, char *err, size_t errlen)
{
    bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
    gs->cfg = s;
    gs->cohort = decay && s->cohort;
    gs->stale_on = s->stale_below > 0;
    gs->clock = s->measure == MEASURE_ABSENT && s->cohort;
    gs->counting = gs->stale_on || gs->clock;
    gs->tau_r = (double)s->recent_ms;
    gs->tau_u = (double)(decay ? s->usual_ms : DEFAULT_USUAL_MS);
    gs->pop.t_ref = gs->cnt.t_ref = gs->first = NO_TIME;
    gs->rho = 1;
    set_band(gs);
    if (!gs->counting)
        return 0;
    int64_t w = s->stale_window_ms > 0 ? s->stale_window_ms : 86400000;
    if (w % tick != 0 || w / tick > SIGFLOW_MAX_STALE_BUCKETS) {
        snprintf(err, errlen,
                 "signal %s: stale_window must be a multiple of the decision's tick "
                 "(at most %d ticks)",
                 s->name, SIGFLOW_MAX_STALE_BUCKETS);
        return -1;
    }
    gs->window_ms = w;
    gs->nb = w / tick;
    gs->bid = malloc((size_t)gs->nb * sizeof *gs->bid);
    gs->bn = calloc((size_t)gs->nb, sizeof *gs->bn);
    if (!gs->bid || !gs->bn) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int64_t k = 0; k < gs->nb; k++)
        gs->bid[k] = NO_TIME;
    return 0;
}

score_guards *score_guards_new(const char *decision, const config_signal *sig, size_t n,
                               int64_t tick, char *err, size_t errlen)
{
    err[0] = '\0';
    bool any = false;
    for (size_t i = 0; i < n && i < SIGFLOW_MAX_SIGNALS; i++) {
        bool decay = sig[i].measure == MEASURE_DROP || sig[i].measure == MEASURE_RISE;
        bool absent = sig[i].measure == MEASURE_ABSENT;
        any = any || ((decay || absent) && sig[i].cohort) || sig[i].stale_below > 0;
    }
    if (!any || n > SIGFLOW_MAX_SIGNALS)
        return NULL;
    score_guards *g = calloc(1, sizeof *g);
    if (!g || !(g->decision = strdup(decision ? decision : ""))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    g->n = n;
    g->tick = tick;
    g->known_to = NO_TIME;
    for (size_t i = 0; i < n; i++) {
        if (sig_init(&g->sig[i], &sig[i], tick, err, errlen) != 0)
            goto fail;
    }
    if (!(g->snap = build_snap(g))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return g;
fail:
    score_guards_free(g);
    return NULL;
}

void score_guards_free(score_guards *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->sig[i].bid);
        free(g->sig[i].bn);
        free(g->sig[i].sp);
    }
    score_guard_snap_unref(g->snap);
    free(g->decision);
    free(g);
}

/* ---- events ----------------------------------------------------------------------------- */

/* The same order-free update as an entity's decayed sums (score_state.c). */
static void decay2_apply(decay2 *d, double ta, double tb, int64_t t, double a)
{
    if (d->t_ref == NO_TIME) {
        d->a = a;
        d->b = a;
        d->t_ref = t;
    } else if (t <= d->t_ref) {
        double dt = (double)(d->t_ref - t);
        d->a += a * exp(-dt / ta);
        d->b += a * exp(-dt / tb);
    } else {
        double dt = (double)(t - d->t_ref);
        d->a = d->a * exp(-dt / ta) + a;
        d->b = d->b * exp(-dt / tb) + a;
        d->t_ref = t;
    }
}

static void bucket_add(guard_sig *gs, int64_t tick, int64_t t)
{
    int64_t k = -floor_div(-t, tick); /* t in ((k-1)·tick, k·tick] */
    int64_t slot = k % gs->nb;
    if (slot < 0)
        slot += gs->nb;
    if (gs->bid[slot] != NO_TIME && gs->bid[slot] > k)
        return; /* older than every window still to be judged */
    if (gs->bid[slot] != k) {
        gs->bid[slot] = k;
        gs->bn[slot] = 0;
    }
    gs->bn[slot]++;
}

void score_guards_event(score_guards *g, uint64_t mask, int64_t t, double value, bool has_value)
{
    for (size_t i = 0; i < g->n; i++) {
        if (!(mask >> i & 1))
            continue;
        guard_sig *gs = &g->sig[i];
        if (gs->cohort) {
            double a = gs->cfg->of_value ? (has_value && isfinite(value) ? value : 0.0) : 1.0;
            decay2_apply(&gs->pop, gs->tau_r, gs->tau_u, t, a);
        }
        if (gs->counting) {
            decay2_apply(&gs->cnt, gs->tau_u, gs->tau_u, t, 1.0);
            bucket_add(gs, g->tick, t);
            if (gs->first == NO_TIME || t < gs->first)
                gs->first = t;
        }
    }
}

/* ---- boundaries ------------------------------------------------------------------------- */

static double cohort_rho(const guard_sig *gs, int64_t T)
{
    const decay2 *d = &gs->pop;
    if (d->t_ref == NO_TIME || d->b == 0)
        return 1;
    double dt = (double)(T - d->t_ref);
    double r = (d->a / gs->tau_r) / (d->b / gs->tau_u) * exp(-dt * (1 / gs->tau_r - 1 / gs->tau_u));
    return isfinite(r) && r > 0 ? r : 1;
}

static uint64_t window_count(const guard_sig *gs, int64_t K)
{
    uint64_t n = 0;
    for (int64_t k = 0; k < gs->nb; k++) {
        if (gs->bid[k] != NO_TIME && gs->bid[k] > K - gs->nb && gs->bid[k] <= K)
            n += gs->bn[k];
    }
    return n;
}

static double expected_count(const guard_sig *gs, int64_t T)
{
    const decay2 *d = &gs->cnt;
    if (d->t_ref == NO_TIME)
        return 0;
    double pu = d->a * exp(-(double)(T - d->t_ref) / gs->tau_u);
    return pu / gs->tau_u * (double)gs->window_ms;
}

static int add_spell(guard_sig *gs, int64_t T, int64_t tick, int32_t lost)
{
    if (gs->n_sp && gs->sp[gs->n_sp - 1].to == T && gs->sp[gs->n_sp - 1].lost == lost) {
        gs->sp[gs->n_sp - 1].to = T + tick;
        return 0;
    }
    if (gs->n_sp == SIGFLOW_MAX_STALE_SPELLS) { /* the oldest is forgotten (docs/scoring.md) */
        memmove(gs->sp, gs->sp + 1, (gs->n_sp - 1) * sizeof *gs->sp);
        gs->n_sp--;
    }
    score_spell *p = realloc(gs->sp, (gs->n_sp + 1) * sizeof *p);
    if (!p)
        return -1;
    gs->sp = p;
    gs->sp[gs->n_sp++] = (score_spell){T, T + tick, lost};
    return 0;
}

static sf_alert *stale_alert(const score_guards *g, const guard_sig *gs, int64_t T, uint64_t n,
                             double expected)
{
    char text[SIGFLOW_MAX_ERROR_LEN], win[32];
    duration_format(gs->window_ms, win, sizeof win);
    const char *name = gs->cfg->name, *ev = gs->cfg->event;
    if (gs->stale)
        snprintf(text, sizeof text,
                 "%s is stale: %llu %s events in the last %s, %.0f expected; %s does not "
                 "raise scores until it recovers",
                 name, (unsigned long long)n, ev, win, expected, name);
    else
        snprintf(text, sizeof text, "%s recovered: %llu %s events in the last %s, %.0f expected",
                 name, (unsigned long long)n, ev, win, expected);
    health_figure fig[] = {{"events", (double)n, NULL},
                           {"expected", floor(expected + 0.5), NULL},
                           {"window", 0, win},
                           {"event", 0, ev}};
    return health_alert_new(g->decision, T, gs->stale ? "stale" : "recovered", name, NULL, NULL,
                            text, fig, sizeof fig / sizeof *fig);
}

static int push_alert(sf_alert ***out, size_t *n, sf_alert *a)
{
    sf_alert **p = a ? realloc(*out, (*n + 1) * sizeof *p) : NULL;
    if (!p) {
        alert_free(a);
        return -1;
    }
    *out = p;
    p[(*n)++] = a;
    return 0;
}

/*
 * The eighths of [T, T + tick) an absent signal on the population's clock does not count:
 * 8 - round(8 n / expected), at least 0 (a population busier than usual does not speed the
 * clock up), where expected is the usual rate over the time since the signal's first event,
 * C(T) / (tau (1 - e^{-age/tau})), times min(stale_window, age); 0 while that expectation is
 * below stale_min (too little traffic to tell).
 */
static int32_t clock_lost(const guard_sig *gs, int64_t T, uint64_t n)
{
    const decay2 *d = &gs->cnt;
    if (d->t_ref == NO_TIME || gs->first == NO_TIME || T <= gs->first)
        return 0;
    int64_t age = T - gs->first, span = age < gs->window_ms ? age : gs->window_ms;
    double pu = d->a * exp(-(double)(T - d->t_ref) / gs->tau_u);
    double expected = pu / gs->tau_u / -expm1(-(double)age / gs->tau_u) * (double)span;
    if (!(expected >= gs->cfg->stale_min) || !(expected > 0) || !isfinite(expected))
        return 0;
    double q = floor(CLOCK_STEPS * (double)n / expected + 0.5);
    return q >= CLOCK_STEPS ? 0 : CLOCK_STEPS - (int32_t)q;
}

/* Judge signal i at T: 1 when its stale state changed; *slow: a spell was recorded. */
static int judge(score_guards *g, guard_sig *gs, int64_t T, sf_alert ***out, size_t *n_out,
                 bool *slow, sf_status *st)
{
    uint64_t n = window_count(gs, T / g->tick);
    double expected = expected_count(gs, T);
    bool stale = gs->stale_on && expected >= gs->cfg->stale_min &&
                 (double)n < gs->cfg->stale_below * expected;
    int32_t lost = stale ? CLOCK_STEPS : gs->clock ? clock_lost(gs, T, n) : 0;
    if (lost > 0) {
        *slow = true;
        if (add_spell(gs, T, g->tick, lost) != 0)
            *st = SF_ENOMEM;
    }
    if (stale == gs->stale)
        return 0;
    gs->stale = stale;
    if (push_alert(out, n_out, stale_alert(g, gs, T, n, expected)) != 0)
        *st = SF_ENOMEM;
    return 1;
}

sf_status score_guards_boundary(score_guards *g, int64_t T, bool *changed, sf_alert ***out,
                                size_t *n_out)
{
    bool ch = false, fresh = false; /* ch: the shards' proofs; fresh: exact rho, new spells */
    sf_status st = SF_OK;
    g->known_to = T + g->tick;
    for (size_t i = 0; i < g->n; i++) {
        guard_sig *gs = &g->sig[i];
        if (gs->cohort) {
            double rho = cohort_rho(gs, T);
            fresh = fresh || rho != gs->rho;
            gs->rho = rho;
            if (rho < gs->band_lo || rho > gs->band_hi) {
                set_band(gs);
                ch = true;
            }
        }
        bool slow = false;
        if (gs->counting && judge(g, gs, T, out, n_out, &slow, &st))
            ch = true;
        /* A new clock spell voids no proof (lower bounds stop at known_to, upper bounds
           assume no slow time ahead), but evaluations must see it. */
        fresh = fresh || (slow && gs->clock);
    }
    *changed = ch || fresh;
    if (ch || fresh) {
        score_guard_snap *s = build_snap(g);
        if (!s)
            return SF_ENOMEM;
        score_guard_snap_unref(g->snap);
        g->snap = s;
    }
    return st;
}

size_t score_guard_status_of(const score_engine *e, score_guard_status *out, size_t max)
{
    const score_guards *g = e->guards;
    size_t n = 0;
    for (size_t i = 0; g && i < g->n && n < max; i++) {
        const guard_sig *gs = &g->sig[i];
        if (!gs->cohort && !gs->counting)
            continue;
        double rho = gs->rho;
        if (gs->clock) /* the clock's speed at the latest boundary */
            rho = gs->n_sp && gs->sp[gs->n_sp - 1].to == g->known_to
                      ? (double)(CLOCK_STEPS - gs->sp[gs->n_sp - 1].lost) / CLOCK_STEPS
                      : 1.0;
        out[n++] = (score_guard_status){.signal = gs->cfg->name,
                                        .cohort = gs->cohort || gs->clock,
                                        .judged = gs->stale_on,
                                        .stale = gs->stale,
                                        .rho = rho};
    }
    return n;
}

/* ---- checkpoint part -------------------------------------------------------------------- */

/*
 * u32 magic "GRD2", u32 n, i64 known_to (INT64_MIN: none); per signal: u8 flags (1 cohort,
 * 2 stale judged, 4 stale now, 8 population clock), f64 rho, decay2 pop and cnt (f64 a,
 * f64 b, i64 t_ref each), i64 first, u32 buckets with an event, (i64 k, u64 n) each,
 * u32 spells, (i64 from, i64 to, u8 lost) each. "GRD1" (read only): no known_to, no first,
 * spells without lost (8).
 */
unsigned char *score_guards_encode(const score_guards *g, size_t *len)
{
    size_t cap = 16;
    for (size_t i = 0; i < g->n; i++)
        cap += 1 + 8 + 48 + 8 + 4 + 16 * (size_t)g->sig[i].nb + 4 + 17 * g->sig[i].n_sp;
    unsigned char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    sb_put32(p, GUARD_MAGIC);
    sb_put32(p + 4, (uint32_t)g->n);
    sb_puti64(p + 8, g->known_to);
    p += 16;
    for (size_t i = 0; i < g->n; i++) {
        const guard_sig *gs = &g->sig[i];
        *p++ = (unsigned char)((gs->cohort ? 1 : 0) | (gs->stale_on ? 2 : 0) | (gs->stale ? 4 : 0) |
                               (gs->clock ? 8 : 0));
        sb_putf64(p, gs->rho);
        const decay2 *d[2] = {&gs->pop, &gs->cnt};
        for (int k = 0; k < 2; k++) {
            sb_putf64(p + 8 + 24 * k, d[k]->a);
            sb_putf64(p + 16 + 24 * k, d[k]->b);
            sb_puti64(p + 24 + 24 * k, d[k]->t_ref);
        }
        p += 56;
        sb_puti64(p, gs->first);
        p += 8;
        unsigned char *cnt = p;
        uint32_t nb = 0;
        p += 4;
        for (int64_t k = 0; k < gs->nb; k++) {
            if (gs->bid[k] == NO_TIME)
                continue;
            sb_puti64(p, gs->bid[k]);
            sb_put64(p + 8, gs->bn[k]);
            p += 16;
            nb++;
        }
        sb_put32(cnt, nb);
        sb_put32(p, (uint32_t)gs->n_sp);
        p += 4;
        for (size_t k = 0; k < gs->n_sp; k++) {
            sb_puti64(p, gs->sp[k].from);
            sb_puti64(p + 8, gs->sp[k].to);
            p[16] = (unsigned char)gs->sp[k].lost;
            p += 17;
        }
    }
    *len = (size_t)(p - out);
    return out;
}

static bool decay_ok(const decay2 *d, int64_t max_time)
{
    if (d->t_ref == NO_TIME)
        return d->a == 0 && d->b == 0;
    return d->t_ref >= SCORE_TIME_MIN_MS && d->t_ref <= max_time && isfinite(d->a) &&
           isfinite(d->b);
}

static sf_status bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "checkpoint: corrupt guard state (%s)", what);
    return SF_EINVAL;
}

static sf_status decode_sig(score_guards *g, guard_sig *gs, const unsigned char **pp,
                            const unsigned char *end, int64_t max_time, bool v1, char *err,
                            size_t errlen)
{
    const unsigned char *p = *pp;
    if (end - p < 1 + 56 + 4)
        return bad(err, errlen, "truncated");
    unsigned flags = *p++;
    if (flags > 15 || (flags & 1) != gs->cohort || ((flags >> 1) & 1) != gs->stale_on ||
        ((flags & 4) && !gs->stale_on) || ((flags >> 3) & 1) != gs->clock)
        return bad(err, errlen, "flags");
    gs->stale = flags & 4;
    gs->rho = sb_getf64(p);
    decay2 *d[2] = {&gs->pop, &gs->cnt};
    for (int k = 0; k < 2; k++) {
        d[k]->a = sb_getf64(p + 8 + 24 * k);
        d[k]->b = sb_getf64(p + 16 + 24 * k);
        d[k]->t_ref = sb_geti64(p + 24 + 24 * k);
        if (!decay_ok(d[k], max_time))
            return bad(err, errlen, "population sums");
    }
    if (!isfinite(gs->rho) || !(gs->rho > 0))
        return bad(err, errlen, "rho");
    set_band(gs);
    p += 56;
    if (!v1) {
        if (end - p < 8 + 4)
            return bad(err, errlen, "truncated");
        gs->first = sb_geti64(p);
        p += 8;
        if (gs->first != NO_TIME &&
            (!gs->counting || gs->first < SCORE_TIME_MIN_MS || gs->first > max_time))
            return bad(err, errlen, "first");
    }
    uint32_t nb = sb_get32(p);
    p += 4;
    if ((int64_t)nb > gs->nb || (size_t)(end - p) < 16 * (size_t)nb + 4)
        return bad(err, errlen, "buckets");
    int64_t kmax = max_time / g->tick + 1;
    for (uint32_t k = 0; k < nb; k++, p += 16) {
        int64_t b = sb_geti64(p);
        int64_t slot = ((b % gs->nb) + gs->nb) % gs->nb;
        if (b > kmax || b < SCORE_TIME_MIN_MS / g->tick - 1 || gs->bid[slot] != NO_TIME)
            return bad(err, errlen, "bucket");
        gs->bid[slot] = b;
        gs->bn[slot] = sb_get64(p + 8);
    }
    uint32_t ns = sb_get32(p);
    p += 4;
    size_t each = v1 ? 16 : 17;
    if (ns > SIGFLOW_MAX_STALE_SPELLS || (size_t)(end - p) < each * (size_t)ns)
        return bad(err, errlen, "spells");
    if (ns && !(gs->sp = calloc(ns, sizeof *gs->sp)))
        return bad(err, errlen, "out of memory");
    for (uint32_t k = 0; k < ns; k++, p += each) {
        gs->sp[k] = (score_spell){sb_geti64(p), sb_geti64(p + 8), v1 ? CLOCK_STEPS : p[16]};
        if (gs->sp[k].from >= gs->sp[k].to || gs->sp[k].from < SCORE_TIME_MIN_MS ||
            gs->sp[k].to > max_time + g->tick || (k && gs->sp[k].from < gs->sp[k - 1].to) ||
            gs->sp[k].lost < 1 || gs->sp[k].lost > CLOCK_STEPS ||
            (gs->sp[k].lost < CLOCK_STEPS && !gs->clock) || (!v1 && gs->sp[k].to > g->known_to))
            return bad(err, errlen, "spell");
        gs->n_sp = k + 1;
    }
    *pp = p;
    return SF_OK;
}

sf_status score_guards_decode(score_guards *g, const unsigned char *in, size_t len,
                              int64_t max_time, char *err, size_t errlen)
{
    const unsigned char *p = in, *end = in + len;
    bool v1 = len >= 4 && sb_get32(p) == GUARD_MAGIC1;
    if (len < (v1 ? 8u : 16u) || (!v1 && sb_get32(p) != GUARD_MAGIC) || sb_get32(p + 4) != g->n)
        return bad(err, errlen, "header");
    g->known_to = v1 ? NO_TIME : sb_geti64(p + 8);
    if (!v1 && g->known_to != NO_TIME &&
        (g->known_to % g->tick != 0 || g->known_to > max_time + g->tick ||
         g->known_to < SCORE_TIME_MIN_MS))
        return bad(err, errlen, "known_to");
    p += v1 ? 8 : 16;
    for (size_t i = 0; i < g->n; i++) {
        sf_status st = decode_sig(g, &g->sig[i], &p, end, max_time, v1, err, errlen);
        if (st != SF_OK)
            return st;
        for (size_t k = 0; v1 && k < g->sig[i].n_sp; k++) /* GRD1 kept no known_to */
            if (g->known_to == NO_TIME || g->sig[i].sp[k].to > g->known_to)
                g->known_to = g->sig[i].sp[k].to;
    }
    if (p != end)
        return bad(err, errlen, "trailing bytes");
    score_guard_snap *s = build_snap(g);
    if (!s)
        return bad(err, errlen, "out of memory");
    score_guard_snap_unref(g->snap);
    g->snap = s;
    return SF_OK;
}
