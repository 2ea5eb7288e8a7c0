#include <stdlib.h>
#include <string.h>

#include "store/journal_internal.h"
#include "base/log.h"

#define JOURNAL_READ_PAGE 512     /* rows copied per store lock hold while reading */
#define JOURNAL_DELETE_CHUNK 5000 /* rows deleted per lock hold, so commits go on meanwhile */

/* ---- reading, checkpoints, retention ---- */

sf_event *journal_row_event(sqlite3_stmt *st, int source_id_col)
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
    const char *sid =
        source_id_col >= 0 ? (const char *)sqlite3_column_text(st, source_id_col) : NULL;
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
        if (!(evs[*n] = journal_row_event(st, 6))) {
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

sf_status journal_mark_checkpointed_locked(journal *j, uint64_t seq)
{
    sqlite3_stmt *st =
        store_stmt(j->st, "UPDATE journal_state SET checkpointed_seq = max(checkpointed_seq, ?1)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    return journal_step_done(j, st);
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
        " seq <= (SELECT checkpointed_seq FROM journal_state) AND journaled_ms < ?1"
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
