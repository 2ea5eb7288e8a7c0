/*
 * score_shard.h - one scoring shard: the entities it owns (hash table), their signal state,
 * alert state (armed, last_alert) and the schedule of tick evaluations that can matter.
 * Owns: its entities and the alerts it fired until the engine takes them. Calls score_state,
 * explain, alert. Used by score.c, one thread per shard (never shared between threads).
 */
#ifndef SIGFLOW_SCORE_SHARD_H
#define SIGFLOW_SCORE_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/alert.h"
#include "config/config.h"
#include "score/label.h"
#include "score/inspect.h"
#include "score/outcome.h"
#include "score/score_state.h"

#define SHARD_SUB_EVENT INT64_MAX /* order key of an event's own evaluation */
#define SHARD_NO_TIME INT64_MIN   /* last_alert of an entity that never fired */

/* What every shard reads (never writes) once the engine is built. */
typedef struct score_model {
    const config_decision *dec;
    score_layout layout;
    int64_t tick;
    double z_fire;    /* logit at or above which p >= threshold may hold (conservative) */
    double z_rearm;   /* logit below which p < rearm_below may hold (conservative) */
    uint32_t version; /* model_version: changed by a refit while every shard is idle */
    bool outcomes;    /* `outcome =` set: labels, retirement, snapshots (outcome.h) */
    outcome_cfg ocfg;
} score_model;

/* An alert with its position in the stream: (seq, sub, entity) orders all alerts. */
typedef struct score_shard_alert {
    uint64_t seq;       /* index of the event that caused it, or before which its tick ran */
    int64_t sub;        /* tick boundary, or SHARD_SUB_EVENT */
    sf_alert *alert;    /* an alert, or NULL and: */
    score_label *label; /* a label (outcome.h) */
    uint64_t n;         /* the shard's output counter: orders one entity's items */
} score_shard_alert;

/* The entity an item is about; free an item (alert or label). */
const char *score_shard_item_entity(const score_shard_alert *a);
void score_shard_item_free(score_shard_alert *a);

typedef struct score_shard_stats {
    uint64_t applied, entities, evaluations, alerts;
    uint64_t retired; /* entities retired by an outcome now */
    size_t state_bytes;
} score_shard_stats;

typedef struct score_shard score_shard;

sf_status score_model_init(score_model *m, const config_decision *dec, const config_signal *sig,
                           size_t n, char *err, size_t errlen);
/* Recompute the logit limits after dec->threshold / rearm_below changed (a refit). */
void score_model_set_limits(score_model *m);

score_shard *score_shard_new(const score_model *m);
void score_shard_free(score_shard *s);

/*
 * Apply an event of the signals in `sigmask` to `entity` (creating it), then evaluate it at
 * `clock`. next_tick: the first tick boundary not yet evaluated. sigmask 0: the decision's
 * outcome event (labels, then the entity is retired until its next event).
 */
sf_status score_shard_event(score_shard *s, uint64_t seq, const char *entity, size_t entity_len,
                            uint64_t hash, uint64_t sigmask, int64_t time, double value,
                            bool has_value, const char *attrs, size_t attrs_len, int64_t clock,
                            int64_t next_tick);
/*
 * Put guard snapshot g in force (the shard takes over the caller's reference). When it
 * could change a proof, every entity is evaluated at the next boundary run.
 */
struct score_guard_snap;
void score_shard_set_guard(score_shard *s, const struct score_guard_snap *g);
/* Evaluate the boundaries from..to (inclusive, multiples of tick) for seq. */
sf_status score_shard_ticks(score_shard *s, uint64_t seq, int64_t from, int64_t to);

/*
 * After a refit changed the model (every shard idle): prove every live entity's schedule
 * again as if just evaluated at `clock`, from `next_tick`.
 */
sf_status score_shard_reschedule(score_shard *s, int64_t clock, int64_t next_tick);
/* The shard's outcome tables (outcome.h), for refits and checkpoints while it is idle. */
outcome_tables *score_shard_outcomes(score_shard *s);
/* Inspect one entity at t (inspect.h); the shard idle or on its own thread. */
sf_status score_shard_inspect(score_shard *s, const char *id, size_t len, uint64_t hash, int64_t t,
                              score_inspection *out);
/* The stable id pointer of an entity (NULL if unknown): outcome tables name entities so. */
/* Fetch the table slot of hash into the cache ahead; deep 1: the entity it points at, 2: its attrs.
 */
void score_shard_prefetch(const score_shard *s, uint64_t hash, int deep);
const char *score_shard_find_id(score_shard *s, const char *id, size_t len, uint64_t hash);

/* Alerts fired since the last call, in firing order; the caller owns them. */
score_shard_alert *score_shard_take_alerts(score_shard *s, size_t *n);
/* Order of two tagged alerts: position, then entity id bytes. */
int score_shard_alert_cmp(const void *a, const void *b);
void score_shard_get_stats(const score_shard *s, score_shard_stats *out);

/*
 * Checkpoints (score_image.c). The engine calls these only while the shard's thread is
 * idle (after score_flush, or before anything was pushed).
 */
typedef struct score_shard_entity score_shard_entity;
typedef struct score_shard_entity_view {
    const char *id; /* NUL-terminated, no NUL inside */
    size_t id_len;
    const unsigned char *blob; /* the signal state: layout.size bytes */
    const char *attrs;         /* latest event's attrs or NULL */
    int64_t last_alert;        /* SHARD_NO_TIME: never fired */
    bool armed;
    bool retired;  /* reached its outcome; no evaluation until its next event */
    bool recorded; /* a suppressed alert recorded in the current stale spell */
} score_shard_entity_view;

size_t score_shard_entity_count(const score_shard *s);
/* Fill out[] (score_shard_entity_count entries) in table order; returns the count. */
size_t score_shard_list_entities(const score_shard *s, const score_shard_entity **out);
const char *score_shard_entity_id(const score_model *m, const score_shard_entity *e);
void score_shard_entity_get(const score_model *m, const score_shard_entity *e,
                            score_shard_entity_view *out);
/*
 * Add a checkpointed entity (everything in v copied) and schedule it as if just evaluated
 * at `clock` (>= every event time in it), next_tick being the first boundary not yet run.
 * SF_EINVAL if the entity is already there.
 */
sf_status score_shard_restore(score_shard *s, const score_shard_entity_view *v, uint64_t hash,
                              int64_t clock, int64_t next_tick);
/* Carry counters over from a checkpoint (applied, evaluations, alerts). */
void score_shard_add_stats(score_shard *s, const score_shard_stats *add);

#endif
