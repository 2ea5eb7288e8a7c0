/*
 * score.h - the central scoring module (docs/scoring.md): events in stream order in, alerts
 * out, exactly per the semantics. Entities are partitioned by a hash of their id over
 * `shards` threads that own their entities' state; output never depends on the shard count.
 * Owns: entity state, the watermark, tick scheduling, arming/cooldown. Calls alert (to
 * build alerts). Used by the runtime (live) and replay.
 */
#ifndef SIGFLOW_SCORE_H
#define SIGFLOW_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "model/alert.h"
#include "config/config.h"
#include "model/event.h"
#include "score/label.h"

typedef struct score_engine score_engine;

/* Event times the engine accepts: years 0000-9999 (keeps every time sum far from overflow). */
#define SCORE_TIME_MIN_MS (-62167219200000LL)
#define SCORE_TIME_MAX_MS 253402300799999LL
#define SCORE_MAX_TICK_MS (366LL * 86400000LL)

/*
 * Called once per alert, from one thread at a time, in firing order: by time, and within
 * one tick in ascending byte order of entity id. The alert is borrowed for the call.
 * It runs on the thread calling score_push/score_advance/score_flush. With shards > 1,
 * alerts are merged and handed over every 65536 pushes and at score_flush: a live caller
 * flushes after each batch it ingests.
 */
typedef void (*score_alert_fn)(void *ctx, sf_alert *alert);

typedef struct score_stats {
    uint64_t events;      /* events pushed */
    uint64_t applied;     /* events whose type a signal uses */
    uint64_t entities;    /* entities with history */
    uint64_t ticks;       /* tick boundaries evaluated */
    uint64_t evaluations; /* entity evaluations done (after skipping) */
    uint64_t alerts;
    uint64_t retired;   /* entities retired by their outcome now (docs/scoring.md) */
    size_t state_bytes; /* bytes of entity state (ids, attrs, tables included) */
} score_stats;

/*
 * shards <= 0: number of online cores; 1 runs everything on the caller's thread. The decision
 * and signals are copied (the caller may free them). Errors (bad config) to err.
 */
score_engine *score_new(const config_decision *dec, const config_signal *signals, size_t n_signals,
                        int shards, score_alert_fn on_alert, void *ctx, char *err, size_t errlen);
void score_free(score_engine *e);

/*
 * Push one event (borrowed; the engine copies what it keeps). Must be called from one
 * thread, in stream order. Evaluates due tick boundaries before applying it. SF_EINVAL (and
 * nothing changes) for a time outside SCORE_TIME_MIN_MS..SCORE_TIME_MAX_MS or an entity
 * over SIGFLOW_MAX_ENTITY_LEN.
 */
sf_status score_push(score_engine *e, const sf_event *ev);
/* The entity id's hash as the engine computes it (score_push does it per event): a producer
   on another thread computes it once at parse and hands it over with score_push_hashed. */
uint64_t score_entity_hash(const char *entity, size_t len);
/* score_push with the hash of ev->entity already computed (score_entity_hash of its bytes). */
sf_status score_push_hashed(score_engine *e, const sf_event *ev, uint64_t hash);
/*
 * A hint that an event of the entity with this hash comes soon (one shard, the pushing
 * thread; nothing else changes): level 0 its table slot is fetched into the cache, 1 the
 * entity the slot points at, 2 the entity's attrs (give each level later than the one before,
 * once what it reads is cached).
 */
void score_prefetch(score_engine *e, uint64_t hash, int level);
/*
 * Advance the clock without an event (live: the wall clock; replay: --until). Evaluates the
 * tick boundaries <= now_ms that are due. Same thread as score_push.
 */
sf_status score_advance(score_engine *e, int64_t now_ms);
/*
 * Labels the stream's outcome events decide (label.h), handed over like alerts: in stream
 * order, on the thread that pushes, merged with the alerts. Set before the first push.
 */
void score_set_label_fn(score_engine *e, score_label_fn fn, void *ctx);
/* Wait until every pushed event is applied and its alerts handed to on_alert. */
void score_flush(score_engine *e);
int64_t score_watermark(const score_engine *e);
/* Exact after score_flush (shard counters are read while shards may still run). */
void score_get_stats(score_engine *e, score_stats *out);

#endif
