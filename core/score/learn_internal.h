/*
 * learn_internal.h - the learning record, shared by learn.c (refits, the view) and
 * learn_image.c (saving and restoring it with the scoring checkpoint). Nothing else
 * includes it.
 */
#ifndef SIGFLOW_SCORE_LEARN_INTERNAL_H
#define SIGFLOW_SCORE_LEARN_INTERNAL_H

#include <pthread.h>

#include "score/learn.h"

/* A refit needs this many labelled snapshots of each class (else nothing changes). */
#define LEARN_MIN_POSITIVES 5
#define LEARN_MIN_NEGATIVES 5
/* A person's label on an alert counts as this many snapshots in a refit (docs/scoring.md
   "People's labels"). */
#define LEARN_PERSON_WEIGHT 20.0f
/* threshold = auto: a candidate needs this many judged alerts to count. */
#define LEARN_MIN_JUDGED 30

struct score_learn {
    pthread_mutex_t mu; /* guards everything below against score_model_get */
    /* as configured (the L2 prior's centre) */
    double cfg_bias, cfg_threshold, cfg_rearm;
    double cfg_w[SIGFLOW_MAX_SIGNALS];
    /* mirror of the model in use (the engine's own copy is read by the shards) */
    uint32_t version;
    double bias, threshold, rearm_below;
    double w[SIGFLOW_MAX_SIGNALS];
    int64_t last_refit;
    uint64_t trace_rate; /* threshold = auto: entities with outcome_trace_key < rate traced */
    uint64_t confirmed, false_positive, missed;
    uint64_t high_confirmed[SIGFLOW_MAX_SIGNALS], high_false[SIGFLOW_MAX_SIGNALS];
    score_model_change *hist;
    size_t n_hist, cap_hist;
};

/* Append one change to the history (takes the lock). */
void learn__record(score_learn *l, const score_model_change *c);

#endif
