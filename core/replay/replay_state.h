/*
 * replay_state.h - `sigflow replay --state`: seed a new instance's store with the scoring
 * state a replay of history built, so `run` starts knowing each entity's usual rates (and
 * its arming and cooldown) without re-raising history's alerts. Calls store, journal,
 * score_image, snapshot_store. Called by replay.c.
 */
#ifndef SIGFLOW_REPLAY_STATE_H
#define SIGFLOW_REPLAY_STATE_H

#include "config/config.h"
#include "score/score.h"

/* Save e's state into cfg's state_dir. Refuses a store that already journaled events or
   holds a checkpoint (it seeds new instances only). 0 ok, 1 refused or failed (said why). */
int replay_state_save(const sigflow_config *cfg, score_engine *e);

#endif
