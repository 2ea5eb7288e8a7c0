#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/outbox_internal.h"

/* ---- dead letters, counts, audit ---- */

/* Deliveries in state `state` (3 dead, 5 held) in the given order. */
static sf_status outbox_list_state(outbox *o, const char *sql, const char *target, size_t max,
                                   outbox_delivery *out, size_t *n)
{
    *n = 0;
    if (max == 0)
        return SF_EINVAL;
    store_lock(o->st);
    sqlite3_stmt *st = store_stmt(o->st, sql);
    sf_status rc = SF_EIO;
    if (st) {
        if (target)
            sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        rc = outbox__collect(o, st, out, max, n);
    }
    store_unlock(o->st);
    return rc;
}

sf_status outbox_dlq_list(outbox *o, const char *target, size_t max, outbox_delivery *out,
                          size_t *n)
{
    return outbox_list_state(o,
                             DELIVERY_COLUMNS "WHERE d.state = " OUTBOX_SQL(
                                 OUTBOX_STATE_DEAD) " AND (?1 IS NULL OR d.target = ?1)"
                                                    " ORDER BY d.updated_ms, d.id LIMIT ?2",
                             target, max, out, n);
}

sf_status outbox_held_list(outbox *o, const char *target, size_t max, outbox_delivery *out,
                           size_t *n)
{
    return outbox_list_state(o,
                             DELIVERY_COLUMNS "WHERE d.state = " OUTBOX_SQL(
                                 OUTBOX_STATE_HELD) " AND (?1 IS NULL OR d.target = ?1)"
                                                    " ORDER BY d.next_attempt_ms, d.id LIMIT ?2",
                             target, max, out, n);
}

sf_status outbox_dlq_retry(outbox *o, int64_t id, size_t *count)
{
    if (count)
        *count = 0;
    store_lock(o->st);
    sqlite3_stmt *st = store_stmt(
        o->st, "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
                   OUTBOX_STATE_PENDING) ", attempts = 0,"
                                         " next_attempt_ms = ?2, updated_ms = ?2"
                                         " WHERE state = " OUTBOX_SQL(
                                             OUTBOX_STATE_DEAD) " AND (?1 = 0 OR id = ?1)");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, store_now_ms(o->st));
        rc = outbox__done(o, st);
    }
    int changed = rc == SF_OK ? sqlite3_changes(store_db(o->st)) : 0;
    store_unlock(o->st);
    if (count)
        *count = (size_t)changed;
    if (rc == SF_OK && id != OUTBOX_ALL && changed == 0)
        return SF_EINVAL;
    if (changed)
        log_info(OUTBOX_CTX, "dead letters back to pending count=%d", changed);
    return rc;
}

sf_status outbox_dlq_drop(outbox *o, int64_t id)
{
    store_lock(o->st);
    sqlite3_stmt *st = store_stmt(
        o->st,
        "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
            OUTBOX_STATE_DROPPED) ", updated_ms = ?2"
                                  " WHERE state = " OUTBOX_SQL(OUTBOX_STATE_DEAD) " AND id = ?1");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, store_now_ms(o->st));
        rc = outbox__done(o, st);
        if (rc == SF_OK && sqlite3_changes(store_db(o->st)) != 1)
            rc = SF_EINVAL;
    }
    store_unlock(o->st);
    return rc;
}

sf_status outbox_count(outbox *o, const char *target, outbox_state state, size_t *n)
{
    *n = 0;
    store_lock(o->st);
    sqlite3_stmt *st = store_stmt(o->st, "SELECT count(*) FROM outbox_delivery"
                                         " WHERE state = ?2 AND (?1 IS NULL OR target = ?1)");
    sf_status rc = SF_EIO;
    if (st) {
        if (target)
            sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)state);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *n = (size_t)sqlite3_column_int64(st, 0);
            rc = SF_OK;
        }
        sqlite3_reset(st);
    }
    store_unlock(o->st);
    return rc;
}

sf_status outbox_attempts(outbox *o, const char *alert_id, outbox_attempt_fn fn, void *ctx)
{
    store_lock(o->st);
    sqlite3_stmt *st = store_stmt(o->st, "SELECT d.target, t.time_ms, t.result, t.error"
                                         " FROM outbox_attempt t JOIN outbox_delivery d"
                                         " ON d.id = t.delivery_id WHERE d.alert_id = ?1"
                                         " ORDER BY t.id");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
        int step;
        /* The audit trail is small per alert; fn runs under the lock and must not call in. */
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
               (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
        rc = step == SQLITE_DONE ? SF_OK : SF_EIO;
        sqlite3_reset(st);
    }
    store_unlock(o->st);
    return rc;
}
