/*
 * outbox_attempt.c - an attempt counted before it is made (docs/reliability.md, Delivery
 * retries): outbox_attempt_begin adds one to the delivery's attempts before the plugin's
 * deliver runs, so an attempt that never finishes (the daemon crashed inside deliver, or the
 * attempt was abandoned at deliver_timeout) still counts, and tells how many attempts of the
 * delivery never finished and when its alert was stored (the start of its retry budget).
 * Each begun attempt is an outbox_attempt row "started" until its outcome replaces it; the
 * rows still "started" are the attempts that never finished (since the last dlq retry:
 * at most `attempts` of them count). Calls store. Used by the delivery workers.
 */
#include "store/outbox_internal.h"

/* The begin's reads and writes, inside an open transaction. */
static sf_status attempt_begin_locked(outbox *o, int64_t delivery_id, int *unfinished,
                                      int64_t *created_ms)
{
    sqlite3_stmt *st = store_stmt(o->st, "SELECT a.created_ms, min(d.attempts, (SELECT count(*)"
                                         " FROM outbox_attempt t WHERE t.delivery_id = d.id"
                                         " AND t.result = 'started'))"
                                         " FROM outbox_delivery d JOIN outbox_alert a"
                                         " ON a.alert_id = d.alert_id WHERE d.id = ?1 AND"
                                         " d.state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT));
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, delivery_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *created_ms = sqlite3_column_int64(st, 0);
        *unfinished = sqlite3_column_int(st, 1);
    }
    sf_status rc = step == SQLITE_ROW ? SF_OK : step == SQLITE_DONE ? SF_EINVAL : SF_EIO;
    sqlite3_reset(st);
    if (rc != SF_OK)
        return rc;
    st = store_stmt(
        o->st, "UPDATE outbox_delivery SET attempts = attempts + 1,"
               " updated_ms = ?2 WHERE id = ?1 AND state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT));
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, delivery_id);
    sqlite3_bind_int64(st, 2, store_now_ms(o->st));
    if ((rc = outbox__done(o, st)) != SF_OK)
        return rc;
    /* The audit trail shows an attempt that never finished as "started". */
    st = store_stmt(o->st, "INSERT INTO outbox_attempt (delivery_id, time_ms, result)"
                           " VALUES (?1, ?2, 'started')");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, delivery_id);
    sqlite3_bind_int64(st, 2, store_now_ms(o->st));
    return outbox__done(o, st);
}

sf_status outbox_attempt_begin(outbox *o, int64_t delivery_id, int *unfinished, int64_t *created_ms)
{
    *unfinished = 0;
    *created_ms = 0;
    store_lock(o->st);
    sf_status rc = outbox__begin(o);
    if (rc == SF_OK)
        rc = attempt_begin_locked(o, delivery_id, unfinished, created_ms);
    return outbox__finish(o, rc);
}

sf_status outbox_attempt_begin_after(outbox *o, const outbox_outcome *prev, int64_t delivery_id,
                                     int *unfinished, int64_t *created_ms)
{
    char bounded[SIGFLOW_MAX_ERROR_LEN + 1];
    *unfinished = 0;
    *created_ms = 0;
    if ((unsigned)prev->result > OUTBOX_RESULT_SKIP)
        return SF_EINVAL;
    const char *error = outbox__bound_error(prev->error, bounded);
    store_lock(o->st);
    sf_status rc = outbox__begin(o);
    if (rc == SF_OK)
        rc = outbox__result_locked(o, prev->delivery_id, prev->result, prev->retry_at_ms, error,
                                   true);
    if (rc == SF_OK)
        rc = attempt_begin_locked(o, delivery_id, unfinished, created_ms);
    return outbox__finish(o, rc);
}

sf_status outbox_release(outbox *o, int64_t delivery_id)
{
    store_lock(o->st);
    sf_status rc = outbox__begin(o);
    sqlite3_stmt *st =
        rc == SF_OK
            ? store_stmt(o->st, "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
                                    OUTBOX_STATE_PENDING) " WHERE id = ?1 AND state "
                                                          "= " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT))
            : NULL;
    if (rc == SF_OK && !st)
        rc = SF_EIO;
    if (rc == SF_OK) {
        sqlite3_bind_int64(st, 1, delivery_id);
        rc = outbox__done(o, st);
    }
    return outbox__finish(o, rc);
}
