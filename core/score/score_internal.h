/*
 * score_internal.h - the engine's private state, shared by score.c (which runs it) and
 * score_image.c (which saves and restores it). Nothing outside core/score/ includes it.
 */
#ifndef SIGFLOW_SCORE_INTERNAL_H
#define SIGFLOW_SCORE_INTERNAL_H

#include "score/learn.h"
#include "score/score.h"
#include "score/score_queue.h"
#include "score/score_shard.h"

#define SYNC_EVERY 65536 /* events between forced batch hand-offs (bounds alert latency) */

struct score_engine {
    config_decision dec;
    config_signal *sig;
    size_t n_sig;
    score_model model;
    score_alert_fn on_alert;
    void *ctx;
    score_label_fn on_label; /* outcome labels (score_set_label_fn) */
    void *label_ctx;
    score_learn *learn; /* refits, history, the model view (learn.h) */
    score_shard **shards;
    score_queue **queues; /* one per shard when threaded, else NULL */
    int n_shards;
    int threaded;
    char **types; /* distinct event types, with the signals reading each */
    uint64_t *type_mask;
    size_t n_types;
    int started;
    int64_t watermark, clock, next_tick, advanced;
    uint64_t seq; /* stream position: one per pushed event and per advance */
    uint64_t events, ticks, since_sync, delivered;
    score_shard_alert *pending;
    size_t pend_n, pend_cap;
    struct score_guards *guards; /* noise guards (score_guard.h); NULL: none configured */
    sf_status err;
};

/* The hash that picks an entity's shard (and its table slot). */
uint64_t score__hash_id(const char *s, size_t len);
/* Index of the shard owning an entity with hash h. */
static inline int score__shard_of(const score_engine *e, uint64_t h)
{
    return (int)((h >> 40) % (uint64_t)e->n_shards);
}

#endif
