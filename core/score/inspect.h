/*
 * inspect.h - one entity's live scoring state, read from its shard (docs/admin-api.md
 * "GET /v1/entities/ID"): every signal's x, weight, contribution and sentence and the score at
 * the engine's clock, as an alert raised now would carry them, and whether it is retired or
 * armed and when it last alerted. Owns: the inspection record. Filled by score.c (which first
 * lets every shard go idle) and score_shard.c; called on the engine's own thread (the
 * daemon's scorer thread answers the admin API's requests, core/daemon/runtime_inspect.c).
 */
#ifndef SIGFLOW_SCORE_INSPECT_H
#define SIGFLOW_SCORE_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "sigflow.h"

typedef struct score_engine score_engine;

typedef struct score_inspection {
    bool found;         /* the engine holds state for the entity */
    bool retired;       /* reached its outcome; no evaluation until its next event */
    bool armed;         /* may alert (re-armed, or never alerted) */
    int64_t at;         /* engine clock the state is evaluated at (ms) */
    int64_t last_alert; /* ms; INT64_MIN: none in this life */
    /* the alert an evaluation at `at` would carry (not raised, not stored): score, features,
       reasons with x, weight, contribution and text, model_version; NULL when !found */
    sf_alert *now;
} score_inspection;

/*
 * Inspect entity `id` at the engine clock (after every pushed event is applied). SF_OK with
 * found = false when the engine never saw it (or nothing was pushed yet); SF_EINVAL for a bad
 * id; SF_ENOMEM. Same thread as score_push.
 */
sf_status score_inspect(score_engine *e, const char *id, score_inspection *out);
void score_inspection_clear(score_inspection *in);

#endif
