#include "store/journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/journal_internal.h"
#include "base/log.h"
#include "base/log_limit.h"
#include "base/monotime.h"
#include "store/store_kv.h"

const double journal_commit_bounds[JOURNAL_COMMIT_NBOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

/* A commit this long is logged: a sender at `fsync` waited as long for its answer. */
#define JOURNAL_SLOW_COMMIT_S 1.0

void journal_config_default(journal_config *c)
{
    c->max_batch = 4096;
    c->max_delay_us = 0;
    c->max_pending = 65536;
    c->dedup_window_ms = 7LL * 24 * 3600 * 1000;
}

/* ---- writing (committer thread, store lock held) ---- */

sf_status journal__step_done(journal *j, sqlite3_stmt *st)
{
    return store_step_done(j->st, st, JOURNAL_CTX);
}

static sf_status journal_exec_cached(journal *j, const char *sql)
{
    sqlite3_stmt *st = store_stmt(j->st, sql);
    return st ? journal__step_done(j, st) : SF_EIO;
}

/* 1: new (recorded), 0: a duplicate within the window, <0: error. */
static int journal_dedup_claim(journal *j, const char *connector, const char *source_id,
                               int64_t now)
{
    sqlite3_stmt *st =
        store_stmt(j->st, "INSERT INTO dedup VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE"
                          " SET seen_ms = excluded.seen_ms WHERE seen_ms < ?4");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, connector, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now - j->cfg.dedup_window_ms);
    if (journal__step_done(j, st) != SF_OK)
        return SF_EIO;
    return sqlite3_changes(store_db(j->st)) > 0;
}

static sf_status journal_insert(journal *j, const sf_event *ev, const char *connector, uint64_t seq,
                                int64_t now)
{
    sqlite3_stmt *st = store_stmt(j->st, "INSERT INTO journal (seq, entity, type, time_ms, value,"
                                         " attrs, source_id, journaled_ms, connector)"
                                         " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, ev->entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ev->time_ms);
    sqlite3_bind_int64(st, 8, now);
    if (ev->has_value)
        sqlite3_bind_double(st, 5, ev->value);
    if (ev->attrs)
        sqlite3_bind_text(st, 6, ev->attrs, (int)ev->attrs_len, SQLITE_STATIC);
    if (ev->source_id)
        sqlite3_bind_text(st, 7, ev->source_id, -1, SQLITE_STATIC);
    if (connector)
        sqlite3_bind_text(st, 9, connector, -1, SQLITE_STATIC);
    return journal__step_done(j, st);
}

/* Write one entry's events and cursor, numbering from *next. */
static sf_status journal_write_entry(journal *j, journal_entry *e, uint64_t *next, int64_t now)
{
    for (size_t i = 0; i < e->n; i++) {
        const sf_event *ev = e->evs[i];
        if (e->connector && ev->source_id) {
            int fresh = journal_dedup_claim(j, e->connector, ev->source_id, now);
            if (fresh < 0)
                return SF_EIO;
            if (!fresh) {
                if (e->seqs)
                    e->seqs[i] = JOURNAL_DUPLICATE;
                e->dups++;
                continue;
            }
        }
        if (journal_insert(j, ev, e->connector, *next, now) != SF_OK)
            return SF_EIO;
        if (e->seqs)
            e->seqs[i] = *next;
        (*next)++;
    }
    if (e->cursor_key)
        return store_kv_set_locked(j->st, e->connector, e->cursor_key, e->cursor_value);
    return SF_OK;
}

static bool journal_entry_compound(const journal_entry *e)
{
    return e->n > 1 || e->cursor_key || (e->connector && e->evs[0]->source_id);
}

/* An entry that writes more than one row runs in a savepoint: a failure undoes that entry
   alone, and the others sharing the commit go on. */
static void journal_write_one(journal *j, journal_entry *e, uint64_t *next, int64_t now)
{
    bool sp = journal_entry_compound(e);
    uint64_t first = *next;
    if (sp && journal_exec_cached(j, "SAVEPOINT entry") != SF_OK) {
        e->status = SF_EIO;
        return;
    }
    e->status = journal_write_entry(j, e, next, now);
    if (e->status != SF_OK) {
        *next = first;
        if (e->seqs)
            memset(e->seqs, 0, e->n * sizeof *e->seqs);
    }
    if (!sp || sqlite3_get_autocommit(store_db(j->st)))
        return; /* no savepoint, or SQLite already rolled the transaction back */
    if (e->status != SF_OK)
        journal_exec_cached(j, "ROLLBACK TO entry");
    journal_exec_cached(j, "RELEASE entry");
}

/*
 * Write and commit the batch. `here` (a producer's thread, journal_commit_here): only when
 * the store is free now, and without waiting for another connection's write lock; false
 * then, nothing written (the committer thread takes the batch instead). *took: the
 * transaction's time in seconds, BEGIN to COMMIT (journal_stats).
 */
static bool journal_commit_batch(journal *j, journal_entry *batch, bool here, double *took)
{
    uint64_t next = j->next_seq;
    sf_status rc;
    int64_t t0;
    if (here) {
        if (!store_trylock_pinned(j->st))
            return false;
        t0 = monotime_us();
        rc = store_begin_pinned(j->st, false);
        if (rc == SF_ERETRY) {
            store_unlock(j->st);
            return false;
        }
    } else {
        store_lock_pinned(j->st);
        t0 = monotime_us();
        rc = store_begin_pinned(j->st, true);
    }
    int64_t now = store_now_ms(j->st);
    for (journal_entry *e = batch; e; e = e->next) {
        if (rc != SF_OK) {
            e->status = rc;
            continue;
        }
        journal_write_one(j, e, &next, now);
        /* I/O errors, a full disk or no memory make SQLite roll the whole transaction back:
           writing on would autocommit the rest one by one. Fail the batch instead. */
        if (e->status != SF_OK && sqlite3_get_autocommit(store_db(j->st)))
            rc = SF_EIO;
    }
    if (rc == SF_OK)
        rc = journal_exec_cached(j, "COMMIT");
    if (rc != SF_OK) {
        /* The whole transaction is gone: nobody's events are stored. */
        if (!sqlite3_get_autocommit(store_db(j->st)))
            store_exec(j->st, "ROLLBACK");
        next = j->next_seq;
        for (journal_entry *e = batch; e; e = e->next) {
            e->status = SF_EIO;
            if (e->seqs)
                memset(e->seqs, 0, e->n * sizeof *e->seqs);
        }
    }
    *took = (double)(monotime_us() - t0) / 1e6; /* BEGIN to COMMIT: the pin's renewal after */
    store_end_pinned(j->st, rc == SF_OK);
    store_unlock(j->st);
    j->next_seq = next;
    return true;
}

/* ---- the committer ---- */

static void journal_wait_for_more(journal *j)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = until.tv_nsec + j->cfg.max_delay_us * 1000;
    until.tv_sec += ns / 1000000000;
    until.tv_nsec = ns % 1000000000;
    while (!j->stopping && j->pending_events < j->cfg.max_batch)
        if (pthread_cond_timedwait(&j->work, &j->mu, &until) == ETIMEDOUT)
            break;
}

/* Detach the oldest entries holding up to max_batch events (at least one entry), under mu. */
static journal_entry *journal_take_batch(journal *j)
{
    journal_entry *batch = j->head, *last = j->head;
    size_t events = last->n;
    while (last->next && events + last->next->n <= j->cfg.max_batch) {
        last = last->next;
        events += last->n;
    }
    j->head = last->next;
    if (!j->head)
        j->tail = NULL;
    last->next = NULL;
    j->pending_events -= events;
    return batch;
}

/* A commit that wrote rows, and the time it took (mu held). */
static void journal_count_commit(journal_stats *s, uint64_t written, double took)
{
    s->commits++;
    s->events += written;
    if (written > s->largest_commit)
        s->largest_commit = written;
    size_t b = 0;
    while (b < JOURNAL_COMMIT_NBOUNDS && took > journal_commit_bounds[b])
        b++;
    s->commit_buckets[b]++;
    s->commit_seconds += took;
    if (took > s->slowest_commit)
        s->slowest_commit = took;
}

/* After a commit, under mu: publish the new position and count the outcome. */
static void journal_settle(journal *j, journal_entry *batch, double took)
{
    uint64_t written = j->next_seq - 1 - j->last_seq;
    j->last_seq = j->next_seq - 1;
    for (journal_entry *e = batch; e; e = e->next) {
        if (e->status != SF_OK)
            j->stats.failed += e->n;
        else
            j->stats.duplicates += e->dups;
    }
    if (written)
        journal_count_commit(&j->stats, written, took);
}

void journal_get_stats(journal *j, journal_stats *out)
{
    pthread_mutex_lock(&j->mu);
    *out = j->stats;
    pthread_mutex_unlock(&j->mu);
}

/* The events of a round on their way to the sink, in sequence order (committing thread). */
typedef struct sink_run {
    journal_sink_many_fn many;
    void *ctx;
    sf_event **buf; /* the journal's hand_buf: JOURNAL_HAND_BUF events */
    size_t n;
} sink_run;

static void sink_flush(sink_run *r)
{
    if (r->n > 0)
        r->many(r->ctx, r->buf, r->n);
    r->n = 0;
}

/* One committed event to the sink (a duplicate, or anything without a sink, is freed). */
static void sink_add(sink_run *r, uint64_t seq, sf_event *ev)
{
    if (seq == JOURNAL_DUPLICATE || !r->many) {
        event_free(ev);
        return;
    }
    ev->seq = seq;
    r->buf[r->n++] = ev;
    if (r->n == JOURNAL_HAND_BUF)
        sink_flush(r);
}

/* An entry's events: committed ones to the sink, the rest freed (a submitted batch) or left
   to their blocking owner (who keeps them on failure). */
static void journal_sink_entry(sink_run *r, journal_entry *e)
{
    if (!e->async) {
        if (e->status == SF_OK)
            for (size_t i = 0; i < e->n; i++)
                sink_add(r, e->seqs[i], (sf_event *)e->evs[i]); /* handed over by the caller */
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        if (e->status == SF_OK)
            sink_add(r, e->seqs[i], e->owned[i]);
        else
            event_free(e->owned[i]);
    }
}

/* After a commit: a submitted batch's done runs first (a waiting HTTP sender's answer: its
   loop is woken before the sink's push wakes the scorer, which on a shared CPU would run
   ahead of it; docs/performance.md, "How a request is served"), then every committed event
   to the sink at once (one call of the batch sink), then a blocking caller returns. */
static void journal_hand_over(journal *j, journal_entry *batch, journal_sink_many_fn many,
                              void *sink_ctx)
{
    for (journal_entry *e = batch; e; e = e->next)
        if (e->async)
            e->on_done(e->done_ctx, e->status);
    sink_run r = {.many = many, .ctx = sink_ctx, .buf = j->hand_buf};
    for (journal_entry *e = batch; e; e = e->next)
        journal_sink_entry(&r, e);
    sink_flush(&r);
    for (journal_entry *e = batch, *next; e; e = next) {
        next = e->next; /* a blocking owner returns (and its entry goes) once posted */
        if (!e->async) {
            sem_post(&e->done);
            continue;
        }
        free(e->seqs);
        free(e->owned);
        free(e);
    }
}

/* A batch that could not be committed here goes back to the front of the queue (mu held). */
static void journal_put_back(journal *j, journal_entry *batch)
{
    journal_entry *last = batch;
    size_t events = last->n;
    for (; last->next; last = last->next)
        events += last->next->n;
    last->next = j->head;
    j->head = batch;
    if (!j->tail)
        j->tail = last;
    j->pending_events += events;
}

/*
 * One commit of the oldest queued entries and their hand-over, by whoever set `committing`
 * (mu held on entry and on return; released meanwhile). Hand-overs happen in commit order
 * because only the holder of `committing` commits. False when `here` could not commit now.
 */
static bool journal_round(journal *j, bool here)
{
    journal_entry *batch = journal_take_batch(j);
    pthread_mutex_unlock(&j->mu);
    double took = 0;
    bool done = journal_commit_batch(j, batch, here, &took);
    if (took >= JOURNAL_SLOW_COMMIT_S) /* the disk stalled (or the machine): said, limited */
        log_limited(SF_LOG_WARN, JOURNAL_CTX,
                    "a journal commit took %.2f s: its senders waited as long for their answer"
                    " (a disk that stalls its writes or flushes; sigflow_journal_commit_seconds)",
                    took);
    pthread_mutex_lock(&j->mu);
    if (!done) {
        journal_put_back(j, batch);
        return false;
    }
    journal_settle(j, batch, took);
    journal_sink_many_fn many = j->sink_many;
    void *sink_ctx = j->sink_ctx;
    pthread_mutex_unlock(&j->mu);
    journal_hand_over(j, batch, many, sink_ctx);
    pthread_mutex_lock(&j->mu);
    return true;
}

static void *journal_committer(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-journal"); /* top -H, perf: docs/operating.md */
    journal *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while ((!j->head || j->committing) && !j->stopping)
            pthread_cond_wait(&j->work, &j->mu);
        if (!j->head)
            break;
        if (j->committing) { /* stopping while a producer commits: its round ends soon */
            pthread_cond_wait(&j->work, &j->mu);
            continue;
        }
        j->committing = true;
        if (j->cfg.max_delay_us > 0)
            journal_wait_for_more(j);
        journal_round(j, false);
        j->committing = false;
        pthread_cond_broadcast(&j->settled); /* journal_quiesce; no waiter: no syscall */
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* Commit here (`here`) or leave it to the committer thread (woken when it is idle). */
static void journal_commit(journal *j, bool here)
{
    pthread_mutex_lock(&j->mu);
    if (here && j->head && !j->committing && j->cfg.max_delay_us == 0) {
        j->committing = true;
        journal_round(j, true);
        j->committing = false;
        pthread_cond_broadcast(&j->settled);
    }
    /* Left over (queued meanwhile, or not committable here): the committer thread's. When
       another round is under way, its holder hands the queue on when it ends. */
    if (j->head && !j->committing)
        pthread_cond_signal(&j->work);
    pthread_mutex_unlock(&j->mu);
}

void journal_quiesce(journal *j)
{
    pthread_mutex_lock(&j->mu);
    while ((j->head || j->committing) && !j->stopping)
        pthread_cond_wait(&j->settled, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

void journal_commit_here(journal *j)
{
    journal_commit(j, true);
}

void journal_commit_hand_off(journal *j)
{
    journal_commit(j, false);
}

bool journal_commit_waits_for_disk(const journal *j)
{
    return store_get_durability(j->st) == STORE_DURABILITY_FSYNC;
}

/* ---- producers ---- */

static sf_status journal_check_batch(const journal *j, const char *connector,
                                     const sf_event *const *evs, size_t n, const char *cursor_key,
                                     const char *cursor_value)
{
    if ((n > 0 && !evs) || (n == 0 && !cursor_key) || n > j->cfg.max_pending)
        return SF_EINVAL;
    if (cursor_key && (!connector || !cursor_value))
        return SF_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const sf_event *ev = evs[i];
        if (!ev || !ev->entity || !ev->type || ev->attrs_len > SIGFLOW_MAX_ATTRS_LEN ||
            (ev->source_id && strlen(ev->source_id) > SIGFLOW_MAX_SOURCE_ID_LEN))
            return SF_EINVAL;
    }
    return SF_OK;
}

/* Queue e (mu held): linked, committer woken when useful (unless `defer`: the producer
   calls journal_commit_here). */
static sf_status journal_enqueue(journal *j, journal_entry *e, bool defer)
{
    if (j->stopping)
        return SF_EFATAL;
    if (j->pending_events > 0 && j->pending_events + e->n > j->cfg.max_pending)
        return SF_ERETRY;
    if (j->tail)
        j->tail->next = e;
    else
        j->head = e;
    j->tail = e;
    j->pending_events += e->n;
    if (!defer && (j->head == e || j->pending_events >= j->cfg.max_batch))
        pthread_cond_signal(&j->work);
    return SF_OK;
}

/* Queue a blocking entry on the caller's stack and wait for its commit. */
static sf_status journal_append_entry(journal *j, const char *connector, const sf_event *const *evs,
                                      size_t n, const char *cursor_key, const char *cursor_value,
                                      uint64_t *seqs)
{
    sf_status rc = journal_check_batch(j, connector, evs, n, cursor_key, cursor_value);
    if (rc != SF_OK)
        return rc;
    journal_entry e = {.connector = connector,
                       .evs = evs,
                       .n = n,
                       .cursor_key = cursor_key,
                       .cursor_value = cursor_value,
                       .seqs = seqs};
    sem_init(&e.done, 0, 0);
    pthread_mutex_lock(&j->mu);
    rc = journal_enqueue(j, &e, false);
    pthread_mutex_unlock(&j->mu);
    if (rc == SF_OK) {
        while (sem_wait(&e.done) != 0)
            ; /* EINTR: a signal handler ran; keep waiting for the commit */
        rc = e.status;
    }
    sem_destroy(&e.done);
    return rc;
}

sf_status journal_append_handoff(journal *j, const char *connector, sf_event *const *evs, size_t n,
                                 const char *cursor_key, const char *cursor_value)
{
    uint64_t one, *seqs = n <= 1 ? &one : malloc(n * sizeof *seqs);
    if (!seqs)
        return SF_ENOMEM;
    sf_status rc = journal_append_entry(j, connector, (const sf_event *const *)evs, n, cursor_key,
                                        cursor_value, seqs);
    if (seqs != &one)
        free(seqs);
    return rc;
}

static void journal_free_events(sf_event **evs, size_t n)
{
    for (size_t i = 0; evs && i < n; i++)
        event_free(evs[i]);
    free(evs);
}

static sf_status journal_submit_batch_as(journal *j, const char *connector, sf_event **evs,
                                         size_t n, journal_done_fn done, void *ctx, bool defer)
{
    journal_entry *e = NULL;
    sf_status rc = SF_EINVAL;
    if (!done || n == 0 ||
        journal_check_batch(j, connector, (const sf_event *const *)evs, n, NULL, NULL) != SF_OK ||
        (connector && strlen(connector) > SIGFLOW_MAX_NAME_LEN))
        goto fail;
    rc = SF_ENOMEM;
    if (!(e = calloc(1, sizeof *e)) || !(e->seqs = calloc(n, sizeof *e->seqs)))
        goto fail;
    e->async = true;
    e->owned = evs;
    e->evs = (const sf_event *const *)evs;
    e->n = n;
    e->on_done = done;
    e->done_ctx = ctx;
    if (connector) {
        strcpy(e->connector_buf, connector); /* length checked above */
        e->connector = e->connector_buf;
    }
    pthread_mutex_lock(&j->mu);
    rc = journal_enqueue(j, e, defer);
    pthread_mutex_unlock(&j->mu);
    if (rc == SF_OK)
        return SF_OK;
fail:
    if (e)
        free(e->seqs);
    free(e);
    journal_free_events(evs, n);
    return rc;
}

sf_status journal_submit_batch(journal *j, const char *connector, sf_event **evs, size_t n,
                               journal_done_fn done, void *ctx)
{
    return journal_submit_batch_as(j, connector, evs, n, done, ctx, false);
}

sf_status journal_submit_batch_deferred(journal *j, const char *connector, sf_event **evs, size_t n,
                                        journal_done_fn done, void *ctx)
{
    return journal_submit_batch_as(j, connector, evs, n, done, ctx, true);
}

void journal_set_sink_many(journal *j, journal_sink_many_fn fn, void *ctx)
{
    pthread_mutex_lock(&j->mu);
    j->sink_many = fn;
    j->sink_ctx = ctx;
    pthread_mutex_unlock(&j->mu);
}

/* ---- open / close ---- */

static sf_status journal_load_state(journal *j)
{
    sf_status rc = SF_EIO;
    store_lock(j->st);
    /* Retention may have removed the newest rows; the checkpoint still bounds what was used. */
    sqlite3_stmt *st = store_stmt(
        j->st, "SELECT max(coalesce((SELECT max(seq) FROM journal), 0), checkpointed_seq)"
               " FROM journal_state");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        j->last_seq = (uint64_t)sqlite3_column_int64(st, 0);
        j->next_seq = j->last_seq + 1;
        rc = SF_OK;
    }
    if (st)
        sqlite3_reset(st);
    store_unlock(j->st);
    return rc;
}

sf_status journal_open(store *s, const journal_config *c, journal **out)
{
    *out = NULL;
    journal *j = calloc(1, sizeof *j);
    if (!j)
        return SF_ENOMEM;
    j->st = s;
    if (c)
        j->cfg = *c;
    else
        journal_config_default(&j->cfg);
    if (j->cfg.max_batch == 0 || j->cfg.max_pending == 0 || j->cfg.max_delay_us < 0) {
        free(j);
        return SF_EINVAL;
    }
    sf_status rc = journal_load_state(j);
    if (rc != SF_OK) {
        free(j);
        return rc;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->work, NULL);
    pthread_cond_init(&j->settled, NULL);
    if (pthread_create(&j->thread, NULL, journal_committer, j) != 0) {
        pthread_cond_destroy(&j->work);
        pthread_cond_destroy(&j->settled);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return SF_EIO;
    }
    *out = j;
    return SF_OK;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_signal(&j->work);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->work);
    pthread_cond_destroy(&j->settled);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

uint64_t journal_last_seq(journal *j)
{
    pthread_mutex_lock(&j->mu);
    uint64_t v = j->last_seq;
    pthread_mutex_unlock(&j->mu);
    return v;
}
