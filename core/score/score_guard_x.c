/*
 * score_guard_x.c - x under a guard snapshot, on the shard's side (score_guard.h): a stale
 * signal counts 0, a cohort signal's ratio is divided by the snapshot's rho, and an absent
 * signal judged for staleness counts only live time (its stale spells after the entity's
 * latest event are taken out of the time since it), and one on the population's clock counts
 * each slow spell's time only in part. The same rules give the bounds the skip proofs use,
 * which hold while the snapshot does not change (score_guard_snap_differs: the shard then
 * re-checks every entity) or only gains clock spells (they start at or after known_to).
 */
#include "score/score_guard.h"

#include <stdlib.h>

#include "base/strbuf.h"

void score_guard_snap_ref(const score_guard_snap *g)
{
    if (g)
        __atomic_add_fetch(&((score_guard_snap *)g)->refs, 1, __ATOMIC_RELAXED);
}

void score_guard_snap_unref(const score_guard_snap *g)
{
    if (g && __atomic_sub_fetch(&((score_guard_snap *)g)->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free((score_guard_snap *)g);
}

bool score_guard_snap_differs(const score_guard_snap *a, const score_guard_snap *b)
{
    if (!a || !b)
        return a != b;
    if (a->stale != b->stale || a->cohort != b->cohort)
        return true;
    for (size_t i = 0; i < SIGFLOW_MAX_SIGNALS; i++) {
        if ((a->cohort >> i & 1) && (a->rho_lo[i] != b->rho_lo[i] || a->rho_hi[i] != b->rho_hi[i]))
            return true;
    }
    return false;
}

/*
 * The rho in signal i's band that gives the largest (want_hi) or smallest x: drop's x grows
 * with rho (1 - r/rho), rise's falls ((r/rho - 1)/span).
 */
static double rho_worst(const score_guard_snap *g, const score_layout *l, size_t i, bool want_hi)
{
    bool drop = l->sig[i].measure == MEASURE_DROP;
    return want_hi == drop ? g->rho_hi[i] : g->rho_lo[i];
}

/*
 * The time of signal i's spells inside (latest, t] that does not count, rounded up to whole
 * milliseconds: ceil(sum of lost/8 x overlap), exact in integers.
 */
static int64_t slow_after(const score_guard_snap *g, size_t i, int64_t latest, int64_t t)
{
    int64_t d8 = 0;
    for (uint32_t k = g->spell_off[i]; k < g->spell_off[i + 1]; k++) {
        const score_spell *s = &g->spells[k];
        int64_t a = s->from > latest ? s->from : latest, b = s->to < t ? s->to : t;
        if (b > a)
            d8 += (b - a) * s->lost;
    }
    return (d8 + 7) / 8;
}

/* How much earlier an absent signal's clock reads at t (0 when it counts wall-clock time). */
static int64_t live_shift(const score_guard_snap *g, const score_layout *l,
                          const unsigned char *blob, size_t i, int64_t t)
{
    if (!(g->live_time >> i & 1))
        return 0;
    int64_t latest = score_state_latest(l, blob, i);
    return latest == INT64_MIN ? 0 : slow_after(g, i, latest, t);
}

/* The absent signal's x at t on its live clock. */
static double live_x(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                     size_t i, int64_t t)
{
    return score_state_x(l, blob, i, t - live_shift(g, l, blob, i, t));
}

/*
 * Signal i read as without its stale judgement: stale now, and an absent that counts live
 * time only because it is judged (not on the population's clock) reads the wall clock.
 */
static bool wall_clock(const score_guard_snap *g, size_t i, bool real)
{
    return real && (g->stale >> i & 1) && (g->live_time >> i & 1) && !(g->pop_clock >> i & 1);
}

/* x of signal i at t; `real`: as if no signal were stale (what a suppressed alert shows). */
static double guard_x(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                      size_t i, int64_t t, bool real)
{
    if (!g || wall_clock(g, i, real))
        return score_state_x(l, blob, i, t);
    if (!real && (g->stale >> i & 1))
        return 0;
    if (g->cohort >> i & 1)
        return score_state_x_rel(l, blob, i, t, g->rho[i]);
    return live_x(g, l, blob, i, t);
}

double score_guard_x(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                     size_t i, int64_t t)
{
    return guard_x(g, l, blob, i, t, false);
}

double score_guard_x_real(const score_guard_snap *g, const score_layout *l,
                          const unsigned char *blob, size_t i, int64_t t)
{
    return guard_x(g, l, blob, i, t, true);
}

static double guard_extreme(const score_guard_snap *g, const score_layout *l,
                            const unsigned char *blob, size_t i, int64_t a, int64_t b, bool want_hi,
                            bool real)
{
    if (!g || wall_clock(g, i, real))
        return score_state_extreme(l, blob, i, a, b, want_hi);
    if (!real && (g->stale >> i & 1))
        return 0;
    if (g->cohort >> i & 1)
        return score_state_extreme_rel(l, blob, i, a, b, want_hi, rho_worst(g, l, i, want_hi));
    if (!(g->live_time >> i & 1))
        return score_state_extreme(l, blob, i, a, b, want_hi);
    /* absent never shrinks on its live clock (t - slow time is non-decreasing): the largest
       x is at b with no slow time after the spells known (more can only lower it), the
       smallest at a, or at known_to for the clock (spells still to come start there) */
    if (want_hi)
        return live_x(g, l, blob, i, b);
    if ((g->pop_clock >> i & 1) && a > g->known_to)
        a = g->known_to;
    return a == INT64_MIN ? 0 : live_x(g, l, blob, i, a);
}

double score_guard_extreme(const score_guard_snap *g, const score_layout *l,
                           const unsigned char *blob, size_t i, int64_t a, int64_t b, bool want_hi)
{
    return guard_extreme(g, l, blob, i, a, b, want_hi, false);
}

static void guard_future(const score_guard_snap *g, const score_layout *l,
                         const unsigned char *blob, size_t i, int64_t t0, double x_t0, double *lo,
                         double *hi, bool real)
{
    if (!g || wall_clock(g, i, real)) {
        score_state_future(l, blob, i, t0, x_t0, lo, hi);
        return;
    }
    if (!real && (g->stale >> i & 1)) {
        *lo = *hi = 0;
        return;
    }
    if (g->cohort >> i & 1) { /* each side at its worst rho in the band */
        double r_lo = rho_worst(g, l, i, false), r_hi = rho_worst(g, l, i, true), dummy;
        score_state_future_rel(l, blob, i, t0, score_state_x_rel(l, blob, i, t0, r_lo), lo, &dummy,
                               r_lo);
        score_state_future_rel(l, blob, i, t0, score_state_x_rel(l, blob, i, t0, r_hi), &dummy, hi,
                               r_hi);
        return;
    }
    score_state_future(l, blob, i, t0 - live_shift(g, l, blob, i, t0), x_t0, lo, hi);
}

void score_guard_future(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                        size_t i, int64_t t0, double x_t0, double *lo, double *hi)
{
    guard_future(g, l, blob, i, t0, x_t0, lo, hi, false);
}

/* ---- suppressed alerts (docs/scoring.md "Suppressed alerts") ------------------------------ */

bool score_guard_suppresses(const score_guard_snap *g, const score_layout *l)
{
    if (!g || !g->stale)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if ((g->stale >> i & 1) && l->sig[i].weight != 0)
            return true;
    return false;
}

double score_guard_real_z(const score_guard_snap *g, const score_layout *l, double bias,
                          const unsigned char *blob, int64_t t, double *x)
{
    double z = bias;
    for (size_t i = 0; i < l->n; i++) {
        x[i] = guard_x(g, l, blob, i, t, true);
        z += l->sig[i].weight * x[i];
    }
    return z;
}

double score_guard_real_zhi(const score_guard_snap *g, const score_layout *l, double bias,
                            const unsigned char *blob, int64_t a, int64_t b)
{
    double z = bias;
    for (size_t i = 0; i < l->n; i++) {
        double w = l->sig[i].weight;
        if (w != 0)
            z += w * guard_extreme(g, l, blob, i, a, b, w > 0, true);
    }
    return z;
}

double score_guard_real_future_zhi(const score_guard_snap *g, const score_layout *l, double bias,
                                   const unsigned char *blob, int64_t t0)
{
    double z = bias, lo, hi;
    for (size_t i = 0; i < l->n; i++) {
        double w = l->sig[i].weight;
        if (w == 0)
            continue;
        guard_future(g, l, blob, i, t0, guard_x(g, l, blob, i, t0, true), &lo, &hi, true);
        z += w > 0 ? w * hi : w * lo;
    }
    return z;
}

char *score_guard_why(const score_guard_snap *g, const score_layout *l, const double *x_real)
{
    strbuf b = {0};
    strbuf_puts(&b, "stale");
    const char *sep = " ";
    for (size_t i = 0; g && i < l->n; i++) {
        if ((g->stale >> i & 1) && l->sig[i].weight * x_real[i] != 0) {
            strbuf_puts(&b, sep);
            strbuf_puts(&b, l->sig[i].name ? l->sig[i].name : "");
            sep = ", ";
        }
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
