/*
 * score_queue.h - the hand-off between the engine's single producer and one shard thread:
 * messages (events, "run boundaries A..B") go in batches, the thread runs them on its shard
 * and hands back the alerts it fired, with how far in the stream it has got.
 * Owns: the thread, its batches and the alerts not yet collected. Calls score_shard.
 * Used by score.c when there is more than one shard.
 */
#ifndef SIGFLOW_SCORE_QUEUE_H
#define SIGFLOW_SCORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "score/score_shard.h"

typedef struct score_queue score_queue;

/* Start a thread that owns `shard` (still freed by the caller, after score_queue_free). */
score_queue *score_queue_new(score_shard *shard);
/* Stop and join the thread; drop what was not run or collected. NULL is ignored. */
void score_queue_free(score_queue *q);

/* Append an event message (strings copied). Full batches are handed over as they fill. */
sf_status score_queue_event(score_queue *q, uint64_t seq, const char *entity, size_t entity_len,
                            uint64_t hash, uint64_t sigmask, int64_t time, double value,
                            bool has_value, const char *attrs, size_t attrs_len, int64_t clock,
                            int64_t next_tick, uint64_t upto);
/* Append "run boundaries from..to" for stream position seq. */
sf_status score_queue_ticks(score_queue *q, uint64_t seq, int64_t from, int64_t to, uint64_t upto);
/* Append "put guard snapshot g in force" (the message carries the caller's reference). */
sf_status score_queue_guard(score_queue *q, uint64_t seq, const struct score_guard_snap *g,
                            uint64_t upto);
/*
 * Hand over the current batch, even empty: `upto` promises that every message with a seq
 * below it has been appended. Waits while the thread is too far behind (back-pressure).
 */
sf_status score_queue_dispatch(score_queue *q, uint64_t upto);
/*
 * Move the alerts fired so far to *out (caller frees the array and the alerts) and return
 * the position below which the thread has run everything. *err: its sticky error.
 */
uint64_t score_queue_collect(score_queue *q, score_shard_alert **out, size_t *n, sf_status *err);
/* Wait until the thread has run everything below `upto` (or failed). */
void score_queue_wait(score_queue *q, uint64_t upto);
/*
 * Wait until the thread has run every batch handed over (it is then idle until the next
 * dispatch, and its shard may be read and changed by the caller: refits).
 */
void score_queue_drain(score_queue *q);
/* The shard's counters, read under the queue's lock. */
void score_queue_stats(score_queue *q, score_shard_stats *out);

#endif
