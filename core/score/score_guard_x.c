/*
 * score_guard_x.c - x under a guard snapshot, on the shard's side (score_guard.h): a stale
 * signal counts 0, a cohort signal's ratio is divided by the snapshot's rho, and an absent
 * signal judged for staleness counts only live time (its stale spells after the entity's
 * latest event are taken out of the time since it). The same rules give the bounds the
 * skip proofs use, which hold while the snapshot does not change (score_guard_snap_differs:
 * the shard then re-checks every entity).
 */
#include "score/score_guard.h"

#include <stdlib.h>

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
 * Stale time of signal i after `latest`. The signal is live (checked by the callers), so no
 * spell reaches past the latest boundary, which is <= every time evaluated from now on.
 */
static int64_t stale_after(const score_guard_snap *g, size_t i, int64_t latest)
{
    int64_t d = 0;
    for (uint32_t k = g->spell_off[i]; k < g->spell_off[i + 1]; k++) {
        const score_spell *s = &g->spells[k];
        if (s->to > latest)
            d += s->to - (s->from > latest ? s->from : latest);
    }
    return d;
}

/* How much earlier an absent signal's clock reads (0 when it does not count live time). */
static int64_t live_shift(const score_guard_snap *g, const score_layout *l,
                          const unsigned char *blob, size_t i)
{
    if (!(g->live_time >> i & 1))
        return 0;
    int64_t latest = score_state_latest(l, blob, i);
    return latest == INT64_MIN ? 0 : stale_after(g, i, latest);
}

double score_guard_x(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                     size_t i, int64_t t)
{
    if (!g)
        return score_state_x(l, blob, i, t);
    if (g->stale >> i & 1)
        return 0;
    if (g->cohort >> i & 1)
        return score_state_x_rel(l, blob, i, t, g->rho[i]);
    return score_state_x(l, blob, i, t - live_shift(g, l, blob, i));
}

double score_guard_extreme(const score_guard_snap *g, const score_layout *l,
                           const unsigned char *blob, size_t i, int64_t a, int64_t b, bool want_hi)
{
    if (!g)
        return score_state_extreme(l, blob, i, a, b, want_hi);
    if (g->stale >> i & 1)
        return 0;
    if (g->cohort >> i & 1)
        return score_state_extreme_rel(l, blob, i, a, b, want_hi, rho_worst(g, l, i, want_hi));
    int64_t d = live_shift(g, l, blob, i);
    return score_state_extreme(l, blob, i, a - d, b - d, want_hi);
}

void score_guard_future(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                        size_t i, int64_t t0, double x_t0, double *lo, double *hi)
{
    if (!g) {
        score_state_future(l, blob, i, t0, x_t0, lo, hi);
        return;
    }
    if (g->stale >> i & 1) {
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
    score_state_future(l, blob, i, t0 - live_shift(g, l, blob, i), x_t0, lo, hi);
}
