/*
 * queue.h - a bounded blocking queue of pointers (many producers, one or more consumers).
 * Bounded so that a fast source meets back-pressure (a push waits, or gives up at its timeout)
 * instead of growing memory. Owns: the ring, not the items. Calls pthreads only. Used by the
 * runtime: the `journaled` queue from the journal's sink (whoever commits) to the scorer
 * thread (docs/design.md).
 */
#ifndef SIGFLOW_QUEUE_H
#define SIGFLOW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct queue queue;

queue *queue_new(size_t capacity);
/* Frees the ring; items still inside are handed to free_item (may be NULL). */
void queue_free(queue *q, void (*free_item)(void *));
/* Push n items in order under one lock (one wake-up for the consumer, not n), waiting while
   full (up to timeout_ms; 0: not at all; <0 forever). The count pushed: fewer than n on
   timeout or closed (the caller keeps the rest). */
size_t queue_push_many(queue *q, void *const *items, size_t n, int64_t timeout_ms);
/* On the calling thread only: queue_push_many wakes the consumers at most once per
   `interval_us` (0: every time, the default); a wake-up held back is owed until
   queue_wake_deferred (a full queue wakes them at once). An ingest loop uses it to wake the
   scorer once a millisecond at most, not once a commit. 0 also wakes what is owed. */
void queue_defer_wakeups(int64_t interval_us);
/* Whether this thread owes wake-ups; *due_us (monotime_us) when they are due. */
bool queue_wakeups_owed(int64_t *due_us);
/* Wake the consumers of every queue this thread owes a wake-up, now. */
void queue_wake_deferred(void);
/* No more pushes; pops drain what is left, then return NULL at once. */
void queue_close(queue *q);
size_t queue_length(queue *q);
size_t queue_capacity(const queue *q);
/* Up to max items in order under one lock, waiting up to timeout_ms (<0 forever) for the
   first: the count taken, 0 on timeout or closed and empty (the scorer's pop). */
size_t queue_pop_many(queue *q, void **items, size_t max, int64_t timeout_ms);

#endif
