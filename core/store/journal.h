/*
 * journal.h - the durable, ordered log of accepted events: an event is appended (and
 * committed at the store's durability) before its connector acknowledges it. Group commit:
 * producers queue requests (submit_batch, or append_handoff, which blocks) while one
 * committer thread writes everything pending in one transaction; a producer that must not block (an
 * event loop) may commit what is queued on its own thread when nobody else is committing
 * (journal_commit_here). Also the inbound dedup window and connector cursors committed with events.
 * Owns: the committer thread, the journal/dedup/journal_state rows. Calls store, store_kv, event.
 * Used by ingest (submit_batch), pull connectors and labels (append_handoff), recovery and replay
 * (read), checkpointing (retain).
 *
 * This header is the whole interface: a distributed log (docs/design.md, Beyond one machine)
 * replaces journal.c, not its callers. Sequence numbers start at 1, increase without gaps per
 * commit, never reused.
 */
#ifndef SIGFLOW_JOURNAL_H
#define SIGFLOW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model/event.h"
#include "sigflow.h"
#include "store/store.h"

/* The sequence number reported for an event dropped as a duplicate (not appended). */
#define JOURNAL_DUPLICATE 0

typedef struct journal_config {
    size_t max_batch;        /* events in one commit at most; default 4096 */
    int64_t max_delay_us;    /* extra wait for more events before a commit; default 0 */
    size_t max_pending;      /* events waiting beyond which a request gets SF_ERETRY; 65536 */
    int64_t dedup_window_ms; /* a source id seen this recently is a duplicate; 7 days */
} journal_config;

void journal_config_default(journal_config *c);

typedef struct journal journal;

/* Start the committer on an open store (borrowed; outlives the journal). c may be NULL. */
sf_status journal_open(store *s, const journal_config *c, journal **out);
/* Commit what is pending, stop the committer, free. NULL is accepted. Nobody may be in
   append_handoff or submit_batch any more. */
void journal_close(journal *j);

/*
 * Append n events and, when cursor_key is set, store the connector's cursor (cursor_key =
 * cursor_value in the kv namespace `connector`) in the same transaction: after a crash either
 * all of them are there or none is. `connector` (may be NULL) also scopes dedup: an event with
 * a source_id its connector already had within the window is not appended (it is freed).
 * Blocks until committed. On SF_OK the events were committed and given to the sink in
 * sequence order before it returns; on any error nothing was stored and the caller still owns
 * them (to retry). SF_ERETRY when too much is pending (back-pressure), SF_EINVAL for a bad
 * batch, SF_EIO when the write failed. n may be 0 with a cursor (a poll that found nothing
 * new). This is how a pull connector's batch and its cursor become durable together.
 */
sf_status journal_append_handoff(journal *j, const char *connector, sf_event *const *evs, size_t n,
                                 const char *cursor_key, const char *cursor_value);

/*
 * Where committed events go (the shard router), a commit's events at once: ev->seq set, in
 * sequence order; fn owns them, not the array. One call per commit (per 1024 events of a
 * larger one), so a sink that hands them to another thread takes its lock once. Runs on
 * the committing thread (the committer's, or a producer's in journal_commit_here); a slow
 * sink holds up commits, and pending submits then meet SF_ERETRY (back-pressure). Set it
 * before the first submit. Without a sink committed events are freed.
 */
typedef void (*journal_sink_many_fn)(void *ctx, sf_event *const *evs, size_t n);
void journal_set_sink_many(journal *j, journal_sink_many_fn fn, void *ctx);

/*
 * A request's events, queued without blocking the caller (the HTTP listener's path: the
 * connection waits, not a thread). Takes `evs` (malloc'd) and its n events on every return.
 * On SF_OK `done(ctx, status)` is called exactly once on the committing thread: status SF_OK
 * when all n committed in one transaction (given to the sink right after done returns,
 * duplicates freed), else nothing of them is stored (they were freed). Concurrent batches
 * share a commit (group commit). SF_ERETRY when too much is pending, SF_EINVAL for a bad
 * batch, SF_EFATAL once closing: done is not called then.
 */
typedef void (*journal_done_fn)(void *ctx, sf_status st);
sf_status journal_submit_batch(journal *j, const char *connector, sf_event **evs, size_t n,
                               journal_done_fn done, void *ctx);
/*
 * journal_submit_batch for a producer that commits itself: the committer is not woken; the
 * caller queues what it has (an event loop: every request of one pass) and then calls
 * journal_commit_here. `done` runs on whichever thread commits the batch.
 */
sf_status journal_submit_batch_deferred(journal *j, const char *connector, sf_event **evs, size_t n,
                                        journal_done_fn done, void *ctx);
/*
 * Commit what is queued on the calling thread when no other commit is under way, the store
 * is free and no other connection holds the database's write lock (leader/follower group
 * commit: no hand-off to the committer thread and back); the done callbacks and the sink run
 * here before it returns. Otherwise, or for what is queued meanwhile, the committer thread
 * does it. Never waits for another writer, but does wait for its own commit (an fsync under
 * `durability = fsync`) and for the sink.
 */
void journal_commit_here(journal *j);
/* What is queued goes to the committer thread (woken if idle); the caller does not wait. */
void journal_commit_hand_off(journal *j);
/*
 * Wait until nothing is queued and no commit or hand-over is under way: every event
 * submitted before is committed (or failed) and with the sink. A submitted batch's done runs
 * before its sink call (journal_submit_batch), so a producer whose requests are all answered
 * calls this before it closes what the sink feeds (the runtime's stop). Returns at once
 * when the journal is closing.
 */
void journal_quiesce(journal *j);
/* True when a commit waits for the disk (`durability = fsync`): a thread with other work
   (an event loop) hands its commits off rather than idle through the fsync. */
bool journal_commit_waits_for_disk(const journal *j);

/*
 * Read committed events with seq > after_seq in order. fn receives each event and owns it
 * (event_free it or pass it on); a status other than SF_OK stops the read and is returned.
 */
typedef sf_status (*journal_read_fn)(void *ctx, uint64_t seq, sf_event *ev);
sf_status journal_read(journal *j, uint64_t after_seq, journal_read_fn fn, void *ctx);

/* Upper bounds of the commit-time histogram, in seconds, ascending (one bucket above them). */
#define JOURNAL_COMMIT_NBOUNDS 12
extern const double journal_commit_bounds[JOURNAL_COMMIT_NBOUNDS];

/* Counters since open, for /metrics and tests. */
typedef struct journal_stats {
    uint64_t commits;        /* transactions committed */
    uint64_t events;         /* events appended */
    uint64_t duplicates;     /* events dropped by dedup */
    uint64_t failed;         /* events whose write failed */
    uint64_t largest_commit; /* most events written in one transaction */
    /* The time each of those commits took, BEGIN to COMMIT with the store lock held (the
       rows' writes, the WAL's, at `fsync` the disk's flush, and a wait for another process's
       write lock; not the wait for the store lock):
       commit_buckets[i] counts those of at most journal_commit_bounds[i] and above the bound
       before (not cumulative; the last, those above every bound). A sender at `fsync` waits
       for one. A disk that stalls shows here (docs/operating.md, "Metrics"). */
    uint64_t commit_buckets[JOURNAL_COMMIT_NBOUNDS + 1];
    double commit_seconds; /* their sum */
    double slowest_commit; /* the longest, in seconds */
} journal_stats;
void journal_get_stats(journal *j, journal_stats *out);

/* The last sequence number committed (0 when none ever was). */
uint64_t journal_last_seq(journal *j);

/*
 * Record that state up to seq is checkpointed elsewhere (only moves forward), inside the
 * caller's transaction on the journal's store (lock held, BEGIN done), so an entity-state
 * checkpoint and the journal position it covers commit together.
 */
sf_status journal_mark_checkpointed_locked(journal *j, uint64_t seq);
uint64_t journal_checkpointed_seq(journal *j);

/*
 * Delete events journaled before now - keep_ms (arrival, not event time: a backfill of old
 * events is kept as long as live ones) that a checkpoint covers, and
 * dedup ids older than the window. *deleted (may be NULL) counts the events removed.
 */
sf_status journal_retain(journal *j, int64_t keep_ms, size_t *deleted);

#endif
