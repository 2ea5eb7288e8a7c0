#include "journal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sf_limits.h"
#include "store_kv.h"

#define JOURNAL_CTX "module=journal"
#define JOURNAL_READ_PAGE 512     /* rows copied per store lock hold while reading */
#define JOURNAL_DELETE_CHUNK 5000 /* rows deleted per lock hold, so commits go on meanwhile */

/* One caller's request, on the caller's stack while it waits. */
typedef struct journal_entry {
    struct journal_entry *next;
    const char *connector;
    const sf_event *const *evs;
    size_t n;
    const char *cursor_key, *cursor_value;
    uint64_t *seqs;
    sf_status status;
    sem_t done; /* posted when committed: wakes only its owner, who then needs no lock */
} journal_entry;

struct journal {
    store *st;
    journal_config cfg;
    pthread_mutex_t mu;  /* guards everything below */
    pthread_cond_t work; /* committer: something to do */
    journal_entry *head, *tail;
    size_t pending_events;
    bool stopping;
    uint64_t last_seq; /* last committed */
    uint64_t next_seq; /* committer's own: first seq of the next commit */
    pthread_t thread;
};

void journal_config_default(journal_config *c)
{
    c->max_batch = 4096;
    c->max_delay_us = 0;
    c->max_pending = 65536;
    c->dedup_window_ms = 7LL * 24 * 3600 * 1000;
}

/* ---- writing (committer thread, store lock held) ---- */

static sf_status journal_step_done(journal *j, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SF_OK;
    log_error(JOURNAL_CTX, "write failed: %s", sqlite3_errmsg(store_db(j->st)));
    return SF_EIO;
}

static sf_status journal_exec_cached(journal *j, const char *sql)
{
    sqlite3_stmt *st = store_stmt(j->st, sql);
    return st ? journal_step_done(j, st) : SF_EIO;
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
    if (journal_step_done(j, st) != SF_OK)
        return SF_EIO;
    return sqlite3_changes(store_db(j->st)) > 0;
}

static sf_status journal_insert(journal *j, const sf_event *ev, uint64_t seq)
{
    sqlite3_stmt *st = store_stmt(j->st, "INSERT INTO journal VALUES (?1,?2,?3,?4,?5,?6,?7)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, ev->entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ev->time_ms);
    if (ev->has_value)
        sqlite3_bind_double(st, 5, ev->value);
    if (ev->attrs)
        sqlite3_bind_text(st, 6, ev->attrs, (int)ev->attrs_len, SQLITE_STATIC);
    if (ev->source_id)
        sqlite3_bind_text(st, 7, ev->source_id, -1, SQLITE_STATIC);
    return journal_step_done(j, st);
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
                continue;
            }
        }
        if (journal_insert(j, ev, *next) != SF_OK)
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
        if (sp)
            journal_exec_cached(j, "ROLLBACK TO entry");
    }
    if (sp)
        journal_exec_cached(j, "RELEASE entry");
}

static void journal_commit_batch(journal *j, journal_entry *batch)
{
    uint64_t next = j->next_seq;
    store_lock(j->st);
    int64_t now = store_now_ms(j->st);
    sf_status rc = journal_exec_cached(j, "BEGIN");
    for (journal_entry *e = batch; e; e = e->next) {
        if (rc != SF_OK)
            e->status = rc;
        else
            journal_write_one(j, e, &next, now);
    }
    if (rc == SF_OK)
        rc = journal_exec_cached(j, "COMMIT");
    if (rc != SF_OK) {
        /* The whole transaction is gone: nobody's events are stored. */
        store_exec(j->st, "ROLLBACK");
        next = j->next_seq;
        for (journal_entry *e = batch; e; e = e->next) {
            e->status = SF_EIO;
            if (e->seqs)
                memset(e->seqs, 0, e->n * sizeof *e->seqs);
        }
    }
    store_unlock(j->st);
    j->next_seq = next;
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

static void *journal_committer(void *arg)
{
    journal *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->work, &j->mu);
        if (!j->head)
            break;
        if (j->cfg.max_delay_us > 0)
            journal_wait_for_more(j);
        journal_entry *batch = j->head;
        j->head = j->tail = NULL;
        j->pending_events = 0;
        pthread_mutex_unlock(&j->mu);

        journal_commit_batch(j, batch);

        pthread_mutex_lock(&j->mu);
        j->last_seq = j->next_seq - 1;
        pthread_mutex_unlock(&j->mu);
        for (journal_entry *e = batch, *next; e; e = next) {
            next = e->next; /* the owner returns (and its entry goes) once posted */
            sem_post(&e->done);
        }
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
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
        if (!ev || !ev->entity || !ev->type || ev->attrs_len > SF_MAX_ATTRS_LEN ||
            (ev->source_id && strlen(ev->source_id) > SF_MAX_SOURCE_ID_LEN))
            return SF_EINVAL;
    }
    return SF_OK;
}

sf_status journal_append(journal *j, const char *connector, const sf_event *const *evs, size_t n,
                         const char *cursor_key, const char *cursor_value, uint64_t *seqs)
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
    pthread_mutex_lock(&j->mu);
    if (j->stopping || (j->pending_events > 0 && j->pending_events + n > j->cfg.max_pending)) {
        rc = j->stopping ? SF_EFATAL : SF_ERETRY;
        pthread_mutex_unlock(&j->mu);
        return rc;
    }
    sem_init(&e.done, 0, 0);
    if (j->tail)
        j->tail->next = &e;
    else
        j->head = &e;
    j->tail = &e;
    j->pending_events += n;
    if (j->head == &e || j->pending_events >= j->cfg.max_batch)
        pthread_cond_signal(&j->work);
    pthread_mutex_unlock(&j->mu);
    while (sem_wait(&e.done) != 0)
        ; /* EINTR: a signal handler ran; keep waiting for the commit */
    sem_destroy(&e.done);
    return e.status;
}

sf_status journal_append_one(journal *j, const char *connector, const sf_event *ev, uint64_t *seq)
{
    return journal_append(j, connector, &ev, 1, NULL, NULL, seq);
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
    if (pthread_create(&j->thread, NULL, journal_committer, j) != 0) {
        pthread_cond_destroy(&j->work);
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

/* ---- reading, dedup lookups, checkpoints, retention ---- */

bool journal_seen_id(journal *j, const char *connector, const char *source_id, int64_t now_ms)
{
    bool seen = false;
    if (!connector || !source_id)
        return false;
    store_lock(j->st);
    sqlite3_stmt *st = store_stmt(j->st, "SELECT 1 FROM dedup WHERE connector = ?1 AND"
                                         " source_id = ?2 AND seen_ms >= ?3");
    if (st) {
        sqlite3_bind_text(st, 1, connector, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, source_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms - j->cfg.dedup_window_ms);
        seen = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
    }
    store_unlock(j->st);
    return seen;
}

static sf_event *journal_row_event(sqlite3_stmt *st)
{
    sf_event *ev =
        event_new((const char *)sqlite3_column_text(st, 1),
                  (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3), NULL, 0);
    if (!ev)
        return NULL;
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        ev->value = sqlite3_column_double(st, 4);
        ev->has_value = true;
    }
    const char *attrs = (const char *)sqlite3_column_text(st, 5);
    if (attrs && event_set_attrs(ev, attrs, (size_t)sqlite3_column_bytes(st, 5)) != SF_OK)
        goto fail;
    const char *sid = (const char *)sqlite3_column_text(st, 6);
    if (sid && !(ev->source_id = strdup(sid)))
        goto fail;
    return ev;
fail:
    event_free(ev);
    return NULL;
}

/* Copy up to JOURNAL_READ_PAGE events after `after` under the lock; *n set. */
static sf_status journal_read_page(journal *j, uint64_t after, sf_event **evs, uint64_t *seqs,
                                   size_t *n)
{
    sf_status rc = SF_OK;
    *n = 0;
    store_lock(j->st);
    sqlite3_stmt *st = store_stmt(j->st, "SELECT seq, entity, type, time_ms, value, attrs,"
                                         " source_id FROM journal WHERE seq > ?1"
                                         " ORDER BY seq LIMIT ?2");
    if (!st) {
        store_unlock(j->st);
        return SF_EIO;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int(st, 2, JOURNAL_READ_PAGE);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!(evs[*n] = journal_row_event(st))) {
            rc = SF_ENOMEM;
            break;
        }
        seqs[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    if (rc == SF_OK && step != SQLITE_DONE) {
        log_error(JOURNAL_CTX, "read failed: %s", sqlite3_errmsg(store_db(j->st)));
        rc = SF_EIO;
    }
    sqlite3_reset(st);
    store_unlock(j->st);
    return rc;
}

sf_status journal_read(journal *j, uint64_t after_seq, journal_read_fn fn, void *ctx)
{
    sf_event **evs = calloc(JOURNAL_READ_PAGE, sizeof *evs);
    uint64_t *seqs = calloc(JOURNAL_READ_PAGE, sizeof *seqs);
    sf_status rc = evs && seqs ? SF_OK : SF_ENOMEM;
    size_t n = 0, i = 0;
    while (rc == SF_OK) {
        rc = journal_read_page(j, after_seq, evs, seqs, &n);
        /* Callbacks run without the store lock, so a slow consumer never stalls commits. */
        for (i = 0; rc == SF_OK && i < n; i++) {
            sf_event *ev = evs[i];
            evs[i] = NULL;
            rc = fn(ctx, seqs[i], ev);
            after_seq = seqs[i];
        }
        for (size_t k = 0; k < n; k++)
            event_free(evs[k]); /* what a stopped read or a failed page left */
        if (n < JOURNAL_READ_PAGE)
            break;
    }
    free(evs);
    free(seqs);
    return rc;
}

sf_status journal_mark_checkpointed(journal *j, uint64_t seq)
{
    store_lock(j->st);
    sqlite3_stmt *st =
        store_stmt(j->st, "UPDATE journal_state SET checkpointed_seq = max(checkpointed_seq, ?1)");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        rc = journal_step_done(j, st);
    }
    store_unlock(j->st);
    return rc;
}

uint64_t journal_checkpointed_seq(journal *j)
{
    uint64_t v = 0;
    store_lock(j->st);
    sqlite3_stmt *st = store_stmt(j->st, "SELECT checkpointed_seq FROM journal_state");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    store_unlock(j->st);
    return v;
}

/* Run a DELETE bound to one cutoff in chunks; adds the rows removed to *count. */
static sf_status journal_delete_chunked(journal *j, const char *sql, int64_t cutoff, size_t *count)
{
    for (;;) {
        store_lock(j->st);
        sqlite3_stmt *st = store_stmt(j->st, sql);
        sf_status rc = SF_EIO;
        int changed = 0;
        if (st) {
            sqlite3_bind_int64(st, 1, cutoff);
            sqlite3_bind_int(st, 2, JOURNAL_DELETE_CHUNK);
            rc = journal_step_done(j, st);
            changed = sqlite3_changes(store_db(j->st));
        }
        store_unlock(j->st);
        if (rc != SF_OK)
            return rc;
        *count += (size_t)changed;
        if (changed < JOURNAL_DELETE_CHUNK)
            return SF_OK;
    }
}

sf_status journal_retain(journal *j, int64_t keep_ms, size_t *deleted)
{
    size_t events = 0, ids = 0;
    int64_t now = store_now_ms(j->st);
    sf_status rc = journal_delete_chunked(
        j,
        "DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE"
        " seq <= (SELECT checkpointed_seq FROM journal_state) AND time_ms < ?1"
        " ORDER BY seq LIMIT ?2)",
        now - keep_ms, &events);
    if (rc == SF_OK)
        rc = journal_delete_chunked(j,
                                    "DELETE FROM dedup WHERE (connector, source_id) IN"
                                    " (SELECT connector, source_id FROM dedup"
                                    " WHERE seen_ms < ?1 LIMIT ?2)",
                                    now - j->cfg.dedup_window_ms, &ids);
    if (deleted)
        *deleted = events;
    if (rc == SF_OK && (events || ids))
        log_info(JOURNAL_CTX, "retention removed events=%zu dedup_ids=%zu", events, ids);
    return rc;
}
