/*
 * score_guard.h - the noise guards of docs/scoring.md "Noise guards": cohort-relative
 * measures (`relative = cohort`) and stale signals (`stale_below`, live-time `absent`).
 *
 * The producer (score.c, the one thread that pushes) keeps the population's state of every
 * guarded signal (score_guards: decayed sums over all entities, events per tick for the stale
 * window, stale spells), judges each tick boundary and publishes what the shards need as an
 * immutable, reference-counted snapshot (score_guard_snap: rho per signal, the stale set and
 * the stale spells). Shards read x through score_guard_x & co., which apply the snapshot.
 * Owns: the population state, snapshots and health alerts. Calls score_state, alert,
 * health_alert. Used by score.c, score_shard.c and the checkpoint.
 */
#ifndef SIGFLOW_SCORE_GUARD_H
#define SIGFLOW_SCORE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/alert.h"
#include "score/score_state.h"

/*
 * Slow time [from, to) of one signal: `lost` eighths of each millisecond in it do not count
 * toward an `absent` window (8: a stale spell, none of it counts; 1..7: the population's clock,
 * docs/scoring.md "Noise guards").
 */
typedef struct score_spell {
    int64_t from, to;
    int32_t lost;
} score_spell;

typedef struct score_guard_snap {
    int refs;           /* atomic */
    uint64_t cohort;    /* bit i: signal i is relative = cohort */
    uint64_t stale;     /* bit i: signal i is stale (x counts as 0) */
    uint64_t live_time; /* bit i: an absent signal judged for staleness (window = live time) */
    uint64_t pop_clock; /* bit i: an absent signal on the population's clock (relative = cohort) */
    /* Every spell not in this snapshot starts at or after known_to (the boundary after the
       latest one judged when it was built): what the lower bounds of pop_clock signals use. */
    int64_t known_to;
    double rho[SIGFLOW_MAX_SIGNALS]; /* the latest snapshot of rho: what evaluations use */
    /* A band around rho the skip proofs assume (worst case inside it): while rho stays in
       its band, a new rho voids no proof. */
    double rho_lo[SIGFLOW_MAX_SIGNALS], rho_hi[SIGFLOW_MAX_SIGNALS];
    uint32_t
        spell_off[SIGFLOW_MAX_SIGNALS + 1]; /* signal i: spells[spell_off[i]..spell_off[i+1]) */
    score_spell spells[];
} score_guard_snap;

void score_guard_snap_ref(const score_guard_snap *g);
void score_guard_snap_unref(const score_guard_snap *g);
/* Could a proof made under `a` be wrong under `b`? (a cohort signal's rho band, the stale set) */
bool score_guard_snap_differs(const score_guard_snap *a, const score_guard_snap *b);

/* x of signal i at t under the snapshot (g NULL: no guards, the plain measure). */
double score_guard_x(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                     size_t i, int64_t t);
/* score_state_extreme / score_state_future under the snapshot, assumed to hold from now on. */
double score_guard_extreme(const score_guard_snap *g, const score_layout *l,
                           const unsigned char *blob, size_t i, int64_t a, int64_t b, bool want_hi);
void score_guard_future(const score_guard_snap *g, const score_layout *l, const unsigned char *blob,
                        size_t i, int64_t t0, double x_t0, double *lo, double *hi);

/*
 * Suppressed alerts (docs/scoring.md "Suppressed alerts"): the score as if no signal were
 * stale. score_guard_suppresses: some stale signal has a weight (else that score is the
 * guarded one). score_guard_x_real / _real_z: x and the logit at t (x[] receives every x);
 * _real_zhi: an upper bound of that logit at every boundary in [a, b], _real_future_zhi: at
 * every time from t0 on, both while the snapshot holds (the skip proofs' bounds).
 */
bool score_guard_suppresses(const score_guard_snap *g, const score_layout *l);
double score_guard_x_real(const score_guard_snap *g, const score_layout *l,
                          const unsigned char *blob, size_t i, int64_t t);
double score_guard_real_z(const score_guard_snap *g, const score_layout *l, double bias,
                          const unsigned char *blob, int64_t t, double *x);
double score_guard_real_zhi(const score_guard_snap *g, const score_layout *l, double bias,
                            const unsigned char *blob, int64_t a, int64_t b);
double score_guard_real_future_zhi(const score_guard_snap *g, const score_layout *l, double bias,
                                   const unsigned char *blob, int64_t t0);
/* Why it was suppressed: "stale A, B", the stale signals whose w x is not 0 (malloc'd). */
char *score_guard_why(const score_guard_snap *g, const score_layout *l, const double *x_real);

/* ---- the producer's side ------------------------------------------------------------- */

typedef struct score_guards score_guards;

/*
 * NULL with err[0] == '\0' when no signal uses a guard; NULL with a message for a bad
 * setting (stale_window not a multiple of tick, or too many ticks in it).
 */
score_guards *score_guards_new(const char *decision, const config_signal *sig, size_t n,
                               int64_t tick, char *err, size_t errlen);
void score_guards_free(score_guards *g);
/* An applied event of the signals in mask (any time order). */
void score_guards_event(score_guards *g, uint64_t mask, int64_t t, double value, bool has_value);
/*
 * Judge boundary T (called for every boundary, in increasing order, before the shards run
 * it). *changed: the snapshot changed in a way shards must see. Health alerts for the
 * signals that turned stale or recovered are appended to *out (caller frees them).
 */
sf_status score_guards_boundary(score_guards *g, int64_t T, bool *changed, sf_alert ***out,
                                size_t *n_out);
/* The current snapshot (borrowed; ref it to keep it). */
const score_guard_snap *score_guards_snap(const score_guards *g);

/* What /metrics shows of each guarded signal. */
typedef struct score_guard_status {
    const char *signal; /* borrowed from the engine's config */
    bool cohort, judged, stale;
    double rho;
} score_guard_status;
/* The guarded signals of engine e (on its pushing thread), at most max: how many. */
struct score_engine;
size_t score_guard_status_of(const struct score_engine *e, score_guard_status *out, size_t max);

/* Checkpoint part (docs/scoring.md "Checkpoints"): malloc'd bytes, or NULL on no memory. */
unsigned char *score_guards_encode(const score_guards *g, size_t *len);
/* Restore from score_guards_encode's bytes; every time must be <= max_time. SF_EINVAL. */
sf_status score_guards_decode(score_guards *g, const unsigned char *in, size_t len,
                              int64_t max_time, char *err, size_t errlen);

#endif
