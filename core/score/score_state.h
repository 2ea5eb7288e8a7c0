/*
 * score_state.h - per-entity, per-signal scoring state and the measures of docs/scoring.md:
 * apply an event, compute x at a time, and bound x over a time range (for exact skipping).
 * Owns: the byte layout of one entity's signal state, in memory and in checkpoints. Calls
 * only libm. Used by score_shard and score_image.
 */
#ifndef SIGFLOW_SCORE_STATE_H
#define SIGFLOW_SCORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "base/limits.h"

#define SCORE_STATE_MAX_CAP 64 /* largest count `cap` (event times kept per entity) */
/* Longest window/recent/usual: 100 years keeps every time difference far from overflow. */
#define SCORE_STATE_MAX_SPAN_MS (36500LL * 86400000LL)

typedef struct score_layout {
    const config_signal *sig;
    size_t n;
    size_t off[SIGFLOW_MAX_SIGNALS];    /* byte offset of signal i's state in the entity blob */
    unsigned kcap[SIGFLOW_MAX_SIGNALS]; /* count: event times kept, ceil(cap) */
    size_t size;                        /* bytes of one entity's blob (multiple of 8) */
} score_layout;

/* What a template may show about one signal at time t (explain.c renders it). */
typedef struct score_detail {
    double x;
    bool has_event;   /* the entity has an event of this signal */
    int64_t latest;   /* latest event time (when has_event) */
    long n;           /* count: events in window, at most kcap */
    bool n_saturated; /* count: n >= kcap, so the true count may be larger */
    double s_recent;  /* drop/rise: decayed sums at t */
    double s_usual;
    double value; /* value_*: latest value */
    bool has_value;
} score_detail;

/* Check the measures' keys and compute the layout. SF_EINVAL with a message in err. */
sf_status score_layout_init(score_layout *l, const config_signal *sig, size_t n, char *err,
                            size_t errlen);
/* A fresh entity: no events. blob is l->size bytes, 8-aligned. */
void score_state_init(const score_layout *l, unsigned char *blob);
/* Apply one event of signal i (any time order; value ignored unless has_value). */
void score_state_apply(const score_layout *l, unsigned char *blob, size_t i, int64_t t,
                       double value, bool has_value);
/* x of signal i at time t; t must be >= every applied event time. */
double score_state_x(const score_layout *l, const unsigned char *blob, size_t i, int64_t t);
/* x plus what templates show. */
void score_state_detail(const score_layout *l, const unsigned char *blob, size_t i, int64_t t,
                        score_detail *out);
/*
 * Bounds on x of signal i over every time in [a, b] (a <= b, both >= every event time),
 * assuming no new event. Exact in the sense that x(t) in [lo, hi] for all such t.
 */
void score_state_range(const score_layout *l, const unsigned char *blob, size_t i, int64_t a,
                       int64_t b, double *lo, double *hi);
/* One side of score_state_range (cheaper: one evaluation). */
double score_state_extreme(const score_layout *l, const unsigned char *blob, size_t i, int64_t a,
                           int64_t b, bool want_hi);
/* The same over [t0, forever), given x_t0 = x at t0. */
void score_state_future(const score_layout *l, const unsigned char *blob, size_t i, int64_t t0,
                        double x_t0, double *lo, double *hi);

/*
 * The same three with the entity's rate ratio divided by rho (relative = cohort, the
 * population's ratio; docs/scoring.md "Noise guards"); only drop and rise read rho.
 */
double score_state_x_rel(const score_layout *l, const unsigned char *blob, size_t i, int64_t t,
                         double rho);
double score_state_extreme_rel(const score_layout *l, const unsigned char *blob, size_t i,
                               int64_t a, int64_t b, bool want_hi, double rho);
void score_state_future_rel(const score_layout *l, const unsigned char *blob, size_t i, int64_t t0,
                            double x_t0, double *lo, double *hi, double rho);
/* Latest event time of signal i (INT64_MIN: none). */
int64_t score_state_latest(const score_layout *l, const unsigned char *blob, size_t i);

/*
 * Checkpoint encoding of signal i's state (little-endian, see docs/scoring.md "Checkpoints").
 * encode writes at most score_state_encoded_max bytes and returns how many. decode reads
 * from in[0..avail) into a blob made by score_state_init and returns the bytes used, or 0
 * when they are not a state this engine could have built with every time in
 * [SCORE_TIME_MIN_MS, max_time] (the caller's watermark).
 */
size_t score_state_encoded_max(const score_layout *l, size_t i);
size_t score_state_encode(const score_layout *l, const unsigned char *blob, size_t i,
                          unsigned char *out);
size_t score_state_decode(const score_layout *l, unsigned char *blob, size_t i,
                          const unsigned char *in, size_t avail, int64_t max_time);

#endif
