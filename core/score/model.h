/*
 * model.h - a read-only copy of the decision's model as the engine holds it now: bias,
 * weights and threshold in use, the configured values they started from, the outcome labels
 * counted so far, per-signal lift and the history of changes (docs/scoring.md "Outcomes and
 * learning"). Owns: the view type. Filled by learn.c under a lock, so any thread (the admin
 * HTTP server for GET /v1/model, `sigflow model`) may take a copy while scoring runs.
 */
#ifndef SIGFLOW_SCORE_MODEL_H
#define SIGFLOW_SCORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

typedef struct score_engine score_engine;

/* One recorded model change (or a refit that learning = off only recorded). */
typedef struct score_model_change {
    int64_t time;      /* engine time (ms) of the tick boundary it happened at */
    uint32_t version;  /* model_version in use after it */
    const char *cause; /* static text: "config", "refit", "refit (learning off: recorded only)" */
    bool applied;      /* false: learning = off, the change was only recorded */
    double old_bias, new_bias, old_threshold, new_threshold;
    double old_w[SIGFLOW_MAX_SIGNALS],
        new_w[SIGFLOW_MAX_SIGNALS]; /* config order, n_signals long */
    uint64_t rows;                  /* labelled snapshots the fit used */
    uint64_t positives;             /* of which had the outcome within fit_horizon */
    uint64_t alerts_judged;         /* threshold = auto: replayed alerts with a known outcome */
    double alert_precision;         /* their precision at the new threshold (NaN: not judged) */
} score_model_change;

typedef struct score_model_signal {
    char name[SIGFLOW_MAX_NAME_LEN + 1];
    double weight;     /* in use */
    double configured; /* as written in the INI */
    /* lift: alerts labelled confirmed / false_positive in which this signal had x >= 0.5 */
    uint64_t high_confirmed, high_false;
} score_model_signal;

typedef struct score_model_view {
    char decision[SIGFLOW_MAX_NAME_LEN + 1];
    char outcome[SIGFLOW_MAX_TYPE_LEN + 1]; /* "" without `outcome =` */
    bool learning;                          /* refits apply (else recorded only) */
    bool threshold_auto;
    uint32_t version; /* model_version of the alerts raised now; 1 = as configured */
    double bias, threshold, rearm_below;
    double configured_bias, configured_threshold; /* threshold = auto: the start value */
    double prior, target_precision;
    int64_t horizon_ms, fit_horizon_ms, refit_ms;
    uint64_t fit_sample;
    int64_t last_refit; /* INT64_MIN: none yet */
    size_t n_signals;
    score_model_signal signals[SIGFLOW_MAX_SIGNALS];
    /* labels recorded with source = outcome */
    uint64_t confirmed, false_positive, missed;
    size_t n_history; /* oldest first; at most SIGFLOW_MAX_MODEL_HISTORY */
    score_model_change *history;
} score_model_view;

/* A copy of the model now (any thread). NULL when out of memory. */
score_model_view *score_model_get(score_engine *e);
void score_model_view_free(score_model_view *v);

#endif
