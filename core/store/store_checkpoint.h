/*
 * store_checkpoint.h - the store's WAL checkpointer (docs/reliability.md, "The WAL stays
 * bounded"): SQLite's automatic checkpoint is off on the store's connection, so no commit
 * (an ingest loop's, the journal committer's, the outbox writer's) copies the WAL into the
 * database itself; a thread of the store's own, on a second connection to the same file,
 * runs PASSIVE checkpoints instead once the WAL has grown past STORE_CKPT_THRESHOLD pages
 * (a WAL hook on the writing connection tells it: an atomic store per commit, a wake-up
 * only when the threshold is crossed), and re-checks once a second while a grown WAL is not
 * yet settled. PASSIVE never waits for and never blocks a writer; a round ends with the
 * store lock held for the few pages left, so that the next commit starts the WAL over (a
 * commit is always under way otherwise, under load). When the WAL passes the hard bound
 * (STORE_CKPT_HARD_FACTOR times the threshold) anyway, because a reader holds an old
 * snapshot or commits outpace the copying, the thread takes the store's lock and runs a
 * RESTART with a short busy timeout so that the next commit starts the WAL over; and
 * past STORE_CKPT_INLINE_FACTOR times the hard bound (the thread not keeping up at all) the
 * committing connection checkpoints itself, as SQLite would, so the WAL cannot fill the disk.
 * Owns: the thread, its connection, the counters. Calls sqlite3, store (lock), log_limit.
 * Started by store_open_ex, stopped by store_close; read by the runtime (/metrics, /readyz).
 */
#ifndef SIGFLOW_STORE_CHECKPOINT_H
#define SIGFLOW_STORE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sigflow.h"
#include "store/store.h"

/* WAL pages after which a checkpoint runs: SQLite's own default for its automatic one. */
#define STORE_CKPT_THRESHOLD 1000
/* Past threshold x this, the WAL is forced back (store lock, RESTART). */
#define STORE_CKPT_HARD_FACTOR 16
/* Past hard bound x this, with the forced reset failing, the WAL counts as out of bounds. */
#define STORE_CKPT_TROUBLE_FACTOR 2
/* Past hard bound x this, the committing connection checkpoints itself (PASSIVE), as SQLite
   would: the thread has not kept up at all, and the WAL must not outgrow the disk. */
#define STORE_CKPT_INLINE_FACTOR 4
/* How long a forced RESTART waits for readers and other writers (the store lock held). */
#define STORE_CKPT_FORCE_BUSY_MS 50
/* A failed forced RESTART is retried no sooner than this; also the idle re-check period. */
#define STORE_CKPT_RETRY_MS 1000

typedef struct store_ckpt store_ckpt;

/*
 * Turn the automatic checkpoint off on `writer` (the store's connection), install the WAL
 * hook and start the thread on its own connection to `path`, synchronous as `d` (so a
 * checkpoint syncs what a commit would). Called by store_open_ex once the schema is there,
 * before anyone else uses the store. On error *out is NULL and err says why.
 */
sf_status store_ckpt_start(store *s, sqlite3 *writer, const char *path, store_durability d,
                           store_ckpt **out, char *err, size_t errlen);
/* Stop and join the thread, close its connection, remove the hook. NULL is accepted. Called
   by store_close before the writer's own close (whose final checkpoint removes the WAL). */
void store_ckpt_stop(store_ckpt *c, sqlite3 *writer);

/* What /metrics shows (counters since open). */
typedef struct store_wal_stats {
    uint64_t checkpoints; /* checkpoint passes that ran (PASSIVE and forced) */
    uint64_t pages;       /* WAL pages copied into the database by them */
    uint64_t forced;      /* forced RESTARTs that succeeded (the hard bound was reached) */
    uint64_t failures;    /* passes that failed with an error, forced RESTARTs that could not */
    uint64_t inline_checkpoints; /* run by the committing connection past the inline bound */
    uint64_t wal_pages;          /* pages in the WAL after the last commit */
    uint64_t locked_rounds;      /* rounds run with the store lock held, so the WAL starts over */
    uint64_t locked_pages;       /* pages those rounds copied while every commit waited */
    uint64_t locked_pages_max;   /* the most one of them copied */
} store_wal_stats;
void store_wal_stats_get(store *s, store_wal_stats *out);

/*
 * True (with the reason in why) while the WAL cannot be kept bounded: the last checkpoint
 * failed with an error, or the WAL is past hard bound x STORE_CKPT_TROUBLE_FACTOR and the
 * forced reset keeps failing (a reader holding an old snapshot). What /readyz says.
 */
bool store_wal_trouble(store *s, char *why, size_t len);

/* Tests: a smaller threshold (the hard bound follows it). */
void store_wal_set_threshold(store *s, unsigned pages);
/* Tests: fn(ctx) on the checkpointer thread after each pass's first round (commits made
   there are the commits that come while a round copies). Set before the WAL reaches the
   threshold; NULL removes it. */
void store_wal_set_after_first_round(store *s, void (*fn)(void *), void *ctx);

/* The WAL is past the threshold: the checkpointer has work (a pass to run or running). */
bool store_ckpt_has_work(store_ckpt *c);

/* store.c's, for this module only: the store's checkpointer (for the functions above), and
   the store lock taken ahead of every other waiter (then released by store__unlock_first). */
store_ckpt *store__ckpt(store *s);
void store__lock_first(store *s);
void store__unlock_first(store *s);

#endif
