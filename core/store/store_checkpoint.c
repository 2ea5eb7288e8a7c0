/*
 * store_checkpoint.c - the store's WAL checkpointer (store_checkpoint.h says what it owns).
 *
 * The hook runs on the committing thread after every commit of the store's connection (the
 * store lock held): it records the WAL's size and wakes the thread only when the size is
 * past the threshold and past `mark` (set by the thread after a pass: a quarter threshold
 * further on, so a WAL that cannot start over is not checkpointed once per commit), at most
 * once per pass (`signalled`). Below the threshold a commit costs three atomic operations and
 * no system call. The thread's passes copy what the WAL holds into the database without the
 * store lock (PASSIVE); the next commit after a pass that copied everything starts the WAL
 * over (SQLite does that itself when no reader is in it).
 */
#include "store/store_checkpoint.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/log_limit.h"
#include "base/monotime.h"

#define CKPT_CTX "component=store"
#define CKPT_CATCH_UP 4 /* passes after the first that copy what commits added meanwhile */

struct store_ckpt {
    store *st;
    sqlite3 *db; /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu; /* guards stopping and the wake-up */
    pthread_cond_t wake;
    bool stopping;
    /* written by the hook (the committing thread), read by the thread */
    atomic_uint threshold;
    atomic_uint wal_frames;  /* pages in the WAL after the last commit */
    atomic_uint restarts;    /* times the hook saw the WAL start over */
    atomic_uint mark;        /* no wake-up before the WAL holds this many pages */
    atomic_uint inline_mark; /* no checkpoint by the committing connection before this */
    atomic_bool signalled;   /* a wake-up is pending: the hook wakes the thread once */
    atomic_uint_fast64_t commits;
    /* tests: store_wal_set_after_first_round (set from the test's thread: atomic) */
    _Atomic(void (*)(void *)) after_first_round;
    _Atomic(void *) after_first_round_ctx;
    /* the thread's own */
    uint64_t commits_seen; /* commits when the last pass began */
    bool settled;          /* the last pass copied everything and nothing failed */
    unsigned acct_restarts;
    int acct_log, acct_done; /* the last pass's report, to count the pages it copied */
    int64_t next_force_ms;
    bool forced_ok;          /* the last forced reset succeeded ... */
    uint64_t forced_commits; /* ... and no commit came since (the next one starts it over) */
    /* read by others (stats_mu) */
    pthread_mutex_t stats_mu;
    store_wal_stats stats;
    bool failing;   /* the last pass failed with an error */
    bool unbounded; /* the last forced reset could not finish */
    char last_error[200];
};

/* ---- the hook (committing thread, store lock held) ---- */

/* The thread has not kept up at all (starved of CPU, or a disk far slower than the writes):
   the committing connection checkpoints itself, as SQLite's own automatic checkpoint would,
   once per quarter threshold further on, so that the WAL cannot outgrow the disk. */
static void ckpt_inline(store_ckpt *c, sqlite3 *db, unsigned next_mark)
{
    atomic_store(&c->inline_mark, next_mark);
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&c->stats_mu);
    c->stats.inline_checkpoints++;
    pthread_mutex_unlock(&c->stats_mu);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
        log_limited(SF_LOG_ERROR, CKPT_CTX, "WAL checkpoint by the writer failed (%d): %s", rc,
                    sqlite3_errmsg(db));
    log_limited(SF_LOG_WARN, CKPT_CTX,
                "the WAL passed %u pages: the committing thread checkpointed it itself (the "
                "checkpointer thread is not keeping up)",
                next_mark - atomic_load(&c->threshold) / 4);
}

static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    store_ckpt *c = arg;
    unsigned n = pages > 0 ? (unsigned)pages : 0;
    unsigned prev = atomic_exchange(&c->wal_frames, n);
    atomic_fetch_add(&c->commits, 1);
    if (n < prev) { /* the WAL started over: the next threshold counts from 0 */
        atomic_fetch_add(&c->restarts, 1);
        atomic_store(&c->mark, 0);
        atomic_store(&c->inline_mark, 0);
    }
    unsigned t = atomic_load(&c->threshold);
    if (n >= t * STORE_CKPT_HARD_FACTOR * STORE_CKPT_INLINE_FACTOR &&
        n >= atomic_load(&c->inline_mark))
        ckpt_inline(c, db, n + t / 4);
    if (n < t || n < atomic_load(&c->mark) || atomic_load(&c->signalled) ||
        atomic_exchange(&c->signalled, true))
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

/* ---- the thread ---- */

static unsigned ckpt_hard(store_ckpt *c)
{
    return atomic_load(&c->threshold) * STORE_CKPT_HARD_FACTOR;
}

static void ckpt_failed(store_ckpt *c, const char *what, int rc)
{
    pthread_mutex_lock(&c->stats_mu);
    c->stats.failures++;
    c->failing = true;
    snprintf(c->last_error, sizeof c->last_error, "%s: %s", what, sqlite3_errmsg(c->db));
    pthread_mutex_unlock(&c->stats_mu);
    log_limited(SF_LOG_ERROR, CKPT_CTX, "WAL %s failed (%d): %s; retried", what, rc,
                sqlite3_errmsg(c->db));
}

/* A pass that ran: count it and the pages it copied (its report is cumulative for the WAL
   as it is now; after the WAL started over, everything it reports is new). */
static void ckpt_account(store_ckpt *c, unsigned restarts, int log, int done, bool forced)
{
    if (log < 0 || done < 0)
        log = done = 0;
    int fresh = done;
    if (restarts == c->acct_restarts && log >= c->acct_log && done >= c->acct_done)
        fresh = done - c->acct_done;
    c->acct_restarts = restarts;
    c->acct_log = log;
    c->acct_done = done;
    pthread_mutex_lock(&c->stats_mu);
    c->stats.checkpoints++;
    c->stats.pages += (uint64_t)fresh;
    c->stats.forced += forced;
    c->failing = false;
    pthread_mutex_unlock(&c->stats_mu);
}

static void ckpt_set_unbounded(store_ckpt *c, bool unbounded)
{
    pthread_mutex_lock(&c->stats_mu);
    c->unbounded = unbounded;
    if (unbounded)
        c->stats.failures++;
    pthread_mutex_unlock(&c->stats_mu);
}

/*
 * The WAL is past the hard bound: with the store lock held (no commit of ours can start;
 * an event loop's journal_commit_here hands its batch to the committer thread instead of
 * waiting), RESTART copies what is left and waits up to STORE_CKPT_FORCE_BUSY_MS for
 * readers, so the next commit starts the WAL over. Retried no sooner than
 * STORE_CKPT_RETRY_MS after a failure.
 */
static void ckpt_force(store_ckpt *c, int log_before)
{
    int64_t now = monotime_ms();
    if (now < c->next_force_ms) {
        c->settled = false; /* not yet: the timer comes back for it */
        return;
    }
    unsigned r0 = atomic_load(&c->restarts);
    int log = -1, done = -1;
    store__lock_first(c->st);
    int rc = sqlite3_busy_timeout(c->db, STORE_CKPT_FORCE_BUSY_MS);
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    int rc0 = sqlite3_busy_timeout(c->db, 0);
    store__unlock_first(c->st);
    if (rc0 != SQLITE_OK)
        ckpt_failed(c, "busy timeout reset", rc0);
    if (rc == SQLITE_OK) {
        ckpt_account(c, r0, log, done, true);
        ckpt_set_unbounded(c, false);
        c->settled = true;
        c->forced_ok = true;
        c->forced_commits = atomic_load(&c->commits);
        return;
    }
    c->settled = false;
    c->forced_ok = false;
    c->next_force_ms = now + STORE_CKPT_RETRY_MS;
    if ((rc & 0xff) != SQLITE_BUSY) {
        ckpt_failed(c, "forced checkpoint", rc);
        return;
    }
    ckpt_account(c, r0, log, done, false);
    ckpt_set_unbounded(c, true);
    log_limited(SF_LOG_WARN, CKPT_CTX,
                "the WAL holds %d pages (bound %u) and cannot start over: a reader keeps an "
                "old snapshot open, or another connection writes; retried",
                log_before, ckpt_hard(c));
}

/*
 * The WAL starts over at the first commit that *begins* after a checkpoint copied all of it.
 * Under load a commit is always under way while a pass runs (and leaves a tail besides), so
 * the WAL would never start over before the hard bound, and a WAL file that keeps growing
 * makes every fsync'd commit update the file's size on disk too. So a pass ends with the
 * store lock held, taken ahead of other waiters: no commit of ours is under way, what the
 * pass left (at most half a threshold) is copied, and the next commit starts the WAL over.
 * The price is a short wait of the committer thread (an event loop hands its batch on
 * instead of waiting).
 */
static void ckpt_finish(store_ckpt *c, int *log, int *done)
{
    unsigned r0 = atomic_load(&c->restarts);
    int l = -1, d = -1;
    store__lock_first(c->st);
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &l, &d);
    store__unlock_first(c->st);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) != SQLITE_BUSY)
            ckpt_failed(c, "checkpoint", rc);
        return;
    }
    int before = c->acct_done;
    bool same_wal = atomic_load(&c->restarts) == r0;
    ckpt_account(c, r0, l, d, false);
    pthread_mutex_lock(&c->stats_mu);
    c->stats.locked_rounds++;
    if (same_wal && d > before) {
        c->stats.locked_pages += (uint64_t)(d - before);
        if ((uint64_t)(d - before) > c->stats.locked_pages_max)
            c->stats.locked_pages_max = (uint64_t)(d - before);
    }
    pthread_mutex_unlock(&c->stats_mu);
    *log = l;
    *done = d;
}

/* What a round would have left to copy: the WAL as the last commit left it (a round's `log`
   is the WAL when the round began: the commits that came while it copied are not in it; a
   round that took 500 ms on a stalling disk left thousands of pages that way) less what is
   copied. */
static unsigned ckpt_tail(store_ckpt *c, int log, int done)
{
    unsigned now = atomic_load(&c->wal_frames);
    unsigned size = log > 0 && (unsigned)log > now ? (unsigned)log : now;
    unsigned copied = done > 0 ? (unsigned)done : 0;
    return size > copied ? size - copied : 0;
}

static void ckpt_pass(store_ckpt *c)
{
    unsigned r0 = atomic_load(&c->restarts);
    c->commits_seen = atomic_load(&c->commits);
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc != SQLITE_OK) {
        c->settled = false;
        /* BUSY: another connection checkpoints this WAL right now; the next tick retries */
        if ((rc & 0xff) != SQLITE_BUSY)
            ckpt_failed(c, "checkpoint", rc);
        return;
    }
    ckpt_account(c, r0, log, done, false);
    void (*after)(void *) = atomic_load(&c->after_first_round);
    if (after)
        after(atomic_load(&c->after_first_round_ctx));
    unsigned t = atomic_load(&c->threshold);
    /* The tail shrinks from round to round while copying outpaces the commits. It counts the
       commits that came during the last round: the round under the store lock copies them
       all while every commit waits, through two flushes (ckpt_finish). */
    for (int i = 0; i < CKPT_CATCH_UP && ckpt_tail(c, log, done) > t / 2; i++) {
        unsigned before = ckpt_tail(c, log, done);
        r0 = atomic_load(&c->restarts);
        if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
            SQLITE_OK)
            break; /* judged at the next pass */
        ckpt_account(c, r0, log, done, false);
        if (atomic_load(&c->restarts) != r0 || ckpt_tail(c, log, done) >= before)
            break; /* started over, or not catching up (a reader, commits faster than copy) */
    }
    if (log >= 0 && (unsigned)log >= t && atomic_load(&c->restarts) == r0 &&
        ckpt_tail(c, log, done) <= t / 2)
        ckpt_finish(c, &log, &done);
    c->settled = done >= log;
    /* forced already, and nothing written since: the next commit starts the WAL over (a
       commit that could not, because a checkpoint held a read lock just then, forces again) */
    bool reset_pending =
        c->forced_ok && c->forced_commits == atomic_load(&c->commits) && c->settled;
    if (log >= 0 && (unsigned)log >= ckpt_hard(c) && !reset_pending)
        ckpt_force(c, log);
    else if (c->unbounded)
        ckpt_set_unbounded(c, false); /* back under the bound */
    atomic_store(&c->mark, (unsigned)(log > 0 ? log : 0) + t / 4);
    if (atomic_load(&c->restarts) != r0)
        atomic_store(&c->mark, 0); /* the WAL started over meanwhile */
}

/* Re-check on a timer: the WAL is past the threshold and the last pass left work (or
   commits came since, under the mark). Mutex held. */
static bool ckpt_wants_tick(store_ckpt *c)
{
    if (atomic_load(&c->wal_frames) < atomic_load(&c->threshold))
        return false;
    return !c->settled || atomic_load(&c->commits) != c->commits_seen;
}

bool store_ckpt_has_work(store_ckpt *c)
{
    return c && atomic_load(&c->wal_frames) >= atomic_load(&c->threshold);
}

static void *ckpt_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-checkpoint"); /* top -H, perf: docs/operating.md */
    store_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        if (!atomic_load(&c->signalled)) {
            if (ckpt_wants_tick(c)) {
                struct timespec until = monotime_after(STORE_CKPT_RETRY_MS);
                pthread_cond_timedwait(&c->wake, &c->mu, &until);
            } else {
                pthread_cond_wait(&c->wake, &c->mu);
            }
            if (c->stopping)
                break;
            if (!atomic_load(&c->signalled) && !ckpt_wants_tick(c))
                continue;
        }
        atomic_store(&c->signalled, false);
        pthread_mutex_unlock(&c->mu);
        ckpt_pass(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- life cycle ---- */

/* The thread's connection: the same file, syncing as the writer does. */
static sf_status ckpt_connect(store_ckpt *c, const char *path, store_durability d, char *err,
                              size_t errlen)
{
    static const char *const sync_sql[] = {"PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL",
                                           "PRAGMA synchronous=OFF"};
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s for its checkpointer: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        return SF_EIO;
    }
    /* A first read opens the WAL, so that the first checkpoint has one to work on. */
    if (sqlite3_exec(c->db, sync_sql[d], NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure the checkpointer's connection to %s: %s", path,
                 sqlite3_errmsg(c->db));
        return SF_EIO;
    }
    return SF_OK;
}

static void ckpt_free(store_ckpt *c)
{
    if (c->db && sqlite3_close(c->db) != SQLITE_OK)
        log_error(CKPT_CTX, "closing the checkpointer's connection: %s", sqlite3_errmsg(c->db));
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->stats_mu);
    free(c);
}

sf_status store_ckpt_start(store *s, sqlite3 *writer, const char *path, store_durability d,
                           store_ckpt **out, char *err, size_t errlen)
{
    *out = NULL;
    store_ckpt *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return SF_ENOMEM;
    }
    c->st = s;
    atomic_init(&c->threshold, STORE_CKPT_THRESHOLD);
    if (pthread_mutex_init(&c->mu, NULL) != 0 || pthread_mutex_init(&c->stats_mu, NULL) != 0 ||
        monotime_cond_init(&c->wake) != 0) {
        free(c); /* nothing to destroy on these paths in practice (glibc cannot fail them) */
        snprintf(err, errlen, "cannot create the checkpointer's lock");
        return SF_EIO;
    }
    sf_status rc = ckpt_connect(c, path, d, err, errlen);
    if (rc != SF_OK)
        goto fail;
    /* Off on the writer: its commits never checkpoint; the hook replaces SQLite's. */
    if (sqlite3_exec(writer, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot turn the automatic checkpoint off: %s",
                 sqlite3_errmsg(writer));
        rc = SF_EIO;
        goto fail;
    }
    sqlite3_wal_hook(writer, ckpt_hook, c);
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        sqlite3_wal_hook(writer, NULL, NULL);
        snprintf(err, errlen, "cannot start the checkpointer thread");
        rc = SF_EIO;
        goto fail;
    }
    *out = c;
    return SF_OK;
fail:
    ckpt_free(c);
    return rc;
}

void store_ckpt_stop(store_ckpt *c, sqlite3 *writer)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    if (writer)
        sqlite3_wal_hook(writer, NULL, NULL);
    ckpt_free(c);
}

/* ---- readers ---- */

void store_wal_stats_get(store *s, store_wal_stats *out)
{
    store_ckpt *c = s ? store__ckpt(s) : NULL;
    if (!c) {
        *out = (store_wal_stats){0};
        return;
    }
    pthread_mutex_lock(&c->stats_mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->stats_mu);
    out->wal_pages = atomic_load(&c->wal_frames);
}

bool store_wal_trouble(store *s, char *why, size_t len)
{
    store_ckpt *c = s ? store__ckpt(s) : NULL;
    if (!c)
        return false;
    unsigned frames = atomic_load(&c->wal_frames);
    unsigned limit = ckpt_hard(c) * STORE_CKPT_TROUBLE_FACTOR;
    bool trouble = false;
    pthread_mutex_lock(&c->stats_mu);
    if (c->failing) {
        snprintf(why, len, "WAL checkpoints fail (%s); the WAL grows (%u pages)", c->last_error,
                 frames);
        trouble = true;
    } else if (c->unbounded && frames >= limit) {
        snprintf(why, len,
                 "the WAL holds %u pages (bound %u) and cannot start over: a reader keeps an "
                 "old snapshot open, or the disk cannot keep up",
                 frames, ckpt_hard(c));
        trouble = true;
    }
    pthread_mutex_unlock(&c->stats_mu);
    return trouble;
}

void store_wal_set_after_first_round(store *s, void (*fn)(void *), void *ctx)
{
    store_ckpt *c = store__ckpt(s);
    atomic_store(&c->after_first_round_ctx, ctx);
    atomic_store(&c->after_first_round, fn);
}

void store_wal_set_threshold(store *s, unsigned pages)
{
    store_ckpt *c = store__ckpt(s);
    atomic_store(&c->threshold, pages ? pages : 1);
}
