/*
 * learn.h - the engine's learning, on the producer's thread (docs/scoring.md "Outcomes and
 * learning"): at refit boundaries, with every shard idle, it labels the shards' snapshots,
 * cuts the global fit sample, refits bias and weights (fit.h), picks the threshold when it
 * is `auto`, installs the model (or only records it with learning = off), re-proves every
 * entity's schedule, and keeps the history and the label counts model.h shows.
 * Owns: the score_learn record (configured values, history, counts, the published copy
 * under a lock). Calls fit, outcome, score_shard. Used by score.c and the checkpoint code.
 */
#ifndef SIGFLOW_SCORE_LEARN_H
#define SIGFLOW_SCORE_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "score/label.h"
#include "score/model.h"
#include "sigflow.h"

typedef struct score_learn score_learn;

/* After the engine's config and model are set up. NULL: no memory. */
score_learn *learn_new(score_engine *e);
void learn_free(score_learn *l);

/* Is boundary T (a multiple of tick) a refit boundary: the first at or after a multiple of
   refit? Never without `outcome =`. */
bool learn_is_refit(const score_engine *e, int64_t T);
/* Refit at boundary R (already evaluated); every shard idle. */
sf_status learn_refit(score_engine *e, int64_t R);
/* A label on its way out (producer thread): counts and lift. */
void learn_on_label(score_learn *l, const score_label *lab);

#endif
