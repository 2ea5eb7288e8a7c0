/*
 * outcome.h - a scoring shard's share of outcomes and learning (docs/scoring.md "Outcomes
 * and learning"): the alerts still waiting for a label, the outcomes seen (to label
 * snapshots), its part of the bounded sample of per-tick feature snapshots the refits fit
 * on, and, with threshold = auto, the feature traces of a sample of entities the threshold
 * picker re-runs the alert rule over. Owns those tables. Calls label (records). Used by
 * score_shard.c (on its thread) and, while every shard is idle at a refit boundary, by
 * learn.c and the checkpoint code on the producer's thread.
 *
 * Entities are named by their id pointer: the shard's entities live as long as the shard, so
 * the pointer is stable and the string is the id.
 */
#ifndef SIGFLOW_SCORE_OUTCOME_H
#define SIGFLOW_SCORE_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "score/label.h"
#include "sigflow.h"

/* What the outcome tables read from the decision (set once, by the engine). */
typedef struct outcome_cfg {
    const char *decision; /* its name: alert ids */
    size_t d;             /* signals */
    int64_t horizon;      /* ms */
    int64_t fit_horizon;  /* ms */
    uint64_t fit_sample;  /* rows kept */
    bool traces;          /* threshold = auto: keep traces */
    int64_t trace_keep;   /* ms of trace kept behind the clock: horizon + auto_window */
} outcome_cfg;

/* A labelled alert or miss goes out through this (the shard tags it with its position). */
typedef sf_status (*outcome_emit_fn)(void *ctx, score_label *label);

typedef struct outcome_row { /* one feature snapshot in the fit sample */
    const char *id;
    int64_t t;
    uint64_t prio;
    int8_t label; /* -1 not yet known, 0 no outcome within fit_horizon after t, 1 outcome */
} outcome_row;

typedef struct outcome_trace { /* one evaluation (tick or event) of a traced entity */
    const char *id;
    uint64_t hash;
    int64_t t;
    uint64_t n; /* the shard's trace counter: orders one entity's evaluations at one time */
} outcome_trace;

typedef struct outcome_seen { /* an outcome, kept while a snapshot or trace may need it */
    const char *id;
    int64_t t;
} outcome_seen;

typedef struct outcome_person { /* a person's label on an alert, with the alert's features */
    const char *id;
    int64_t t; /* the alert's time */
    uint8_t y; /* 1 confirmed, 0 false_positive */
} outcome_person;

typedef struct outcome_open { /* an alert of the last horizon (waiting, or labelled: done) */
    const char *id;
    int64_t t;
    uint32_t version;
    bool done; /* labelled (by an outcome); dropped when it reaches the front */
} outcome_open;

typedef struct outcome_tables {
    const outcome_cfg *cfg;
    outcome_emit_fn emit;
    void *emit_ctx;
    /* alerts of the last horizon, in firing (time) order; features d floats each in open_x */
    outcome_open *open;
    float *open_x;
    size_t open_head, open_n, open_cap;
    /* outcomes seen, unsorted; sorted by (id pointer, t) by outcome_sort_seen */
    outcome_seen *seen;
    size_t seen_n, seen_cap;
    bool seen_sorted;
    /* fit sample: rows with prio < cut; features d floats each in row_x */
    outcome_row *rows;
    float *row_x;
    size_t rows_n, rows_cap;
    uint64_t cut;
    /* traces (threshold = auto) of the entities with mix(hash) < trace_rate */
    outcome_trace *tr;
    float *tr_x;
    size_t tr_n, tr_cap;
    uint64_t tr_count;
    uint64_t trace_rate;
    /* people's labels on alerts (fitted with the snapshots); features d floats each */
    outcome_person *per;
    float *per_x;
    size_t per_n, per_cap;
    uint64_t per_unmatched; /* labels on alerts no longer held (older than the horizon) */
} outcome_tables;

sf_status outcome_init(outcome_tables *o, const outcome_cfg *cfg, outcome_emit_fn emit,
                       void *emit_ctx);
void outcome_free(outcome_tables *o);

/* An alert fired at t for id, with features x (d doubles). */
sf_status outcome_alert(outcome_tables *o, const char *id, int64_t t, uint32_t version,
                        const double *x);
/*
 * id reached its outcome at t (x: features now, NULL for an entity with no history). Its
 * waiting alerts from [t - horizon, t] are confirmed, later ones (fired after the outcome's
 * time, seen late) false positives; with none confirmed the entity is missed.
 */
sf_status outcome_reached(outcome_tables *o, const char *id, int64_t t, int64_t clock,
                          uint32_t version, const double *x, bool known);
/* Tick boundary T: alerts with t + horizon <= T that no outcome labelled are false positives;
   every alert that old leaves the table. */
sf_status outcome_expire(outcome_tables *o, int64_t T);
/* A person labelled id's alert at t (y: 1 confirmed, 0 false_positive): kept with the alert's
   features for the refits, replacing an earlier person label on it. An alert the table no
   longer holds is counted in per_unmatched. */
sf_status outcome_person_label(outcome_tables *o, const char *id, int64_t t, uint8_t y);
/* Append one person row (checkpoint restore; no check for an earlier one). */
sf_status outcome_add_person(outcome_tables *o, const char *id, int64_t t, uint8_t y,
                             const double *x);
/* Keep only person rows with t >= from (the refit's bound, the same on every shard). */
void outcome_cut_persons(outcome_tables *o, int64_t from);

/* Snapshot priority of (entity, T): a hash, the same whatever the shard count. */
uint64_t outcome_prio(uint64_t entity_hash, int64_t T);
/* Would a snapshot with this priority enter the sample? */
static inline bool outcome_wants_row(const outcome_tables *o, uint64_t prio)
{
    return prio < o->cut;
}
sf_status outcome_add_row(outcome_tables *o, const char *id, int64_t T, uint64_t prio, int8_t label,
                          const double *x);
/* An entity's trace sampling key: traced while key < trace_rate. */
uint64_t outcome_trace_key(uint64_t entity_hash);
/* Is the entity traced (threshold = auto)? */
bool outcome_traced(const outcome_tables *o, uint64_t entity_hash);
sf_status outcome_add_trace(outcome_tables *o, const char *id, uint64_t hash, int64_t T,
                            const double *x);

/* ---- at a refit boundary (shards idle), from learn.c ---- */

/* Label the rows whose window (t, t + fit_horizon] closed by R. */
void outcome_label_rows(outcome_tables *o, int64_t R);
/* Sort the outcomes seen (for outcome_next_after). */
void outcome_sort_seen(outcome_tables *o);
/* First outcome of id after t (strictly), or SCORE_LABEL_NO_TIME. Needs outcome_sort_seen. */
int64_t outcome_next_after(const outcome_tables *o, const char *id, int64_t t);
/* Keep only rows with prio <= cut (the global fit sample's largest). */
void outcome_cut_rows(outcome_tables *o, uint64_t cut);
/* Drop traces before `from`, and of entities no longer below `rate`. */
void outcome_prune_traces(outcome_tables *o, int64_t from, uint64_t rate);
/* Drop outcomes seen at or before t (no row or trace can need them). */
void outcome_prune_seen(outcome_tables *o, int64_t t);
/* Earliest t among unlabelled rows (INT64_MAX: none). */
int64_t outcome_oldest_unlabelled(const outcome_tables *o);

#endif
