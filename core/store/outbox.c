#include "store/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/outbox_internal.h"
#include "base/limits.h"

static const char *const result_names[] = {"ok", "retry", "dead", "skipped"};

void outbox_delivery_clear(outbox_delivery *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].alert_id);
        free(d[i].target);
        free(d[i].decision);
        free(d[i].entity);
        free(d[i].json);
        free(d[i].last_error);
        memset(&d[i], 0, sizeof d[i]);
    }
}

/* ---- helpers (store lock held) ---- */

sf_status outbox_done(outbox *o, sqlite3_stmt *st)
{
    return store_step_done(o->st, st, OUTBOX_CTX);
}

sf_status outbox_run(outbox *o, const char *sql)
{
    sqlite3_stmt *st = store_stmt(o->st, sql);
    return st ? outbox_done(o, st) : SF_EIO;
}

sf_status outbox_begin(outbox *o)
{
    o->relaxed = store_get_durability(o->st) == STORE_DURABILITY_FSYNC &&
                 outbox_run(o, "PRAGMA synchronous=NORMAL") == SF_OK;
    return outbox_run(o, "BEGIN IMMEDIATE");
}

sf_status outbox_finish(outbox *o, sf_status rc)
{
    if (rc == SF_OK)
        rc = outbox_run(o, "COMMIT");
    if (rc != SF_OK && !sqlite3_get_autocommit(store_db(o->st)))
        store_exec(o->st, "ROLLBACK"); /* unless SQLite already rolled it back (disk full) */
    if (o->relaxed && outbox_run(o, "PRAGMA synchronous=FULL") != SF_OK && rc == SF_OK)
        rc = SF_EIO; /* the journal's next commit must not go without its fsync */
    o->relaxed = false;
    store_unlock(o->st);
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? strdup(s) : NULL;
}

static sf_status outbox_row(sqlite3_stmt *st, outbox_delivery *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->alert_id = col_dup(st, 1);
    d->target = col_dup(st, 2);
    d->decision = col_dup(st, 3);
    d->entity = col_dup(st, 4);
    d->json = col_dup(st, 5);
    d->last_error = col_dup(st, 6);
    d->time_ms = sqlite3_column_int64(st, 7);
    d->next_attempt_ms = sqlite3_column_int64(st, 8);
    d->attempts = sqlite3_column_int(st, 9);
    d->state = (outbox_state)sqlite3_column_int(st, 10);
    if (!d->alert_id || !d->target || !d->decision || !d->entity || !d->json ||
        (sqlite3_column_type(st, 6) != SQLITE_NULL && !d->last_error)) {
        outbox_delivery_clear(d, 1);
        return SF_ENOMEM;
    }
    return SF_OK;
}

sf_status outbox_collect(outbox *o, sqlite3_stmt *st, outbox_delivery *out, size_t max, size_t *n)
{
    sf_status rc = SF_OK;
    int step;
    *n = 0;
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = outbox_row(st, &out[*n])) != SF_OK)
            break;
        (*n)++;
    }
    if (rc == SF_OK && *n < max && step != SQLITE_DONE) {
        log_error(OUTBOX_CTX, "read failed: %s", sqlite3_errmsg(store_db(o->st)));
        rc = SF_EIO;
    }
    sqlite3_reset(st);
    if (rc != SF_OK) {
        outbox_delivery_clear(out, *n);
        *n = 0;
    }
    return rc;
}

static bool outbox_name_ok(const char *s, size_t max)
{
    return s && *s && strlen(s) <= max;
}

/* ---- open ---- */

sf_status outbox_open(store *s, outbox **out)
{
    return outbox_open_ex(s, true, out);
}

sf_status outbox_open_ex(store *s, bool recover, outbox **out)
{
    *out = NULL;
    outbox *o = calloc(1, sizeof *o);
    if (!o)
        return SF_ENOMEM;
    o->st = s;
    if (!recover) {
        *out = o;
        return SF_OK;
    }
    store_lock(s);
    /* A crash left these claimed but unanswered: try them again (at-least-once). */
    sqlite3_stmt *st = store_stmt(
        s, "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
               OUTBOX_STATE_PENDING) " WHERE state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT));
    sf_status rc = st ? outbox_done(o, st) : SF_EIO;
    int recovered = rc == SF_OK ? sqlite3_changes(store_db(s)) : 0;
    store_unlock(s);
    if (rc != SF_OK) {
        free(o);
        return rc;
    }
    if (recovered)
        log_warn(OUTBOX_CTX, "recovered %d in-flight deliveries to pending", recovered);
    *out = o;
    return SF_OK;
}

void outbox_close(outbox *o)
{
    free(o);
}

/* ---- put ---- */

static sf_status outbox_put_locked(outbox *o, const char *alert_id, const char *decision,
                                   const char *entity, int64_t time_ms, const char *json,
                                   const char *const *targets, size_t n, bool *created)
{
    int64_t now = store_now_ms(o->st);
    sqlite3_stmt *st = store_stmt(o->st, "INSERT OR IGNORE INTO outbox_alert"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, time_ms);
    sqlite3_bind_text(st, 5, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    sf_status rc = outbox_done(o, st);
    if (rc != SF_OK)
        return rc;
    if (created)
        *created = sqlite3_changes(store_db(o->st)) > 0;
    for (size_t i = 0; i < n && rc == SF_OK; i++) {
        st = store_stmt(o->st, "INSERT OR IGNORE INTO outbox_delivery (alert_id, target, state,"
                               " attempts, next_attempt_ms, updated_ms)"
                               " VALUES (?1, ?2, 0, 0, ?3, ?3)");
        if (!st)
            return SF_EIO;
        sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, targets[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        rc = outbox_done(o, st);
    }
    return rc;
}

sf_status outbox_put(outbox *o, const char *alert_id, const char *decision, const char *entity,
                     int64_t time_ms, const char *json, const char *const *targets, size_t n,
                     bool *created)
{
    if (!outbox_name_ok(alert_id, OUTBOX_MAX_ALERT_ID_LEN) ||
        !outbox_name_ok(decision, SIGFLOW_MAX_NAME_LEN) ||
        !outbox_name_ok(entity, SIGFLOW_MAX_ENTITY_LEN) || !json || (n > 0 && !targets))
        return SF_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!outbox_name_ok(targets[i], SIGFLOW_MAX_NAME_LEN))
            return SF_EINVAL;
    store_lock(o->st);
    sf_status rc = outbox_begin(o);
    if (rc == SF_OK)
        rc = outbox_put_locked(o, alert_id, decision, entity, time_ms, json, targets, n, created);
    return outbox_finish(o, rc);
}

bool outbox_item_ok(const outbox_item *it)
{
    return outbox_name_ok(it->alert_id, OUTBOX_MAX_ALERT_ID_LEN) &&
           outbox_name_ok(it->decision, SIGFLOW_MAX_NAME_LEN) &&
           outbox_name_ok(it->entity, SIGFLOW_MAX_ENTITY_LEN) && it->json;
}

sf_status outbox_put_batch(outbox *o, const outbox_item *items, size_t n,
                           const char *const *targets, size_t n_targets, bool *created)
{
    if (n_targets > 0 && !targets)
        return SF_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!outbox_item_ok(&items[i]))
            return SF_EINVAL;
    for (size_t i = 0; i < n_targets; i++)
        if (!outbox_name_ok(targets[i], SIGFLOW_MAX_NAME_LEN))
            return SF_EINVAL;
    store_lock(o->st);
    sf_status rc = outbox_begin(o);
    for (size_t i = 0; rc == SF_OK && i < n; i++)
        rc = outbox_put_locked(o, items[i].alert_id, items[i].decision, items[i].entity,
                               items[i].time_ms, items[i].json, targets, n_targets, &created[i]);
    return outbox_finish(o, rc);
}

/* ---- claim / result ---- */

/*
 * Due rows of one state, oldest first, appended to out[*n..max). One state per query, so the
 * search stays inside outbox_due's (target, state, next_attempt_ms) range: with both states
 * in one OR, SQLite searched by target alone and stepped over every delivered row of the
 * target at each claim, a cost that grew with the outbox's whole history.
 */
static sf_status claim_collect(outbox *o, const char *target, int state, int64_t due_ms, size_t max,
                               outbox_delivery *out, size_t *n)
{
    sqlite3_stmt *st =
        store_stmt(o->st, DELIVERY_COLUMNS "WHERE d.target = ?1 AND d.state = ?4"
                                           " AND d.next_attempt_ms <= ?2"
                                           " ORDER BY d.next_attempt_ms, d.id LIMIT ?3");
    if (!st)
        return SF_EIO;
    size_t got = 0;
    sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, due_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(max - *n));
    sqlite3_bind_int(st, 4, state);
    sf_status rc = outbox_collect(o, st, out + *n, max - *n, &got);
    *n += got;
    return rc;
}

sf_status outbox_claim_due_ex(outbox *o, const char *target, int64_t now_ms, int64_t hold_now_ms,
                              size_t max, outbox_delivery *out, size_t *n)
{
    *n = 0;
    if (!outbox_name_ok(target, SIGFLOW_MAX_NAME_LEN) || max == 0)
        return SF_EINVAL;
    store_lock(o->st);
    sf_status rc = outbox_begin(o);
    /* held rows whose hold is over first (a digest sends them together), then pending ones */
    if (rc == SF_OK)
        rc = claim_collect(o, target, OUTBOX_STATE_HELD, hold_now_ms, max, out, n);
    if (rc == SF_OK && *n < max)
        rc = claim_collect(o, target, OUTBOX_STATE_PENDING, now_ms, max, out, n);
    sqlite3_stmt *st;
    for (size_t i = 0; rc == SF_OK && i < *n; i++) {
        st = store_stmt(o->st, "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
                                   OUTBOX_STATE_INFLIGHT) ", updated_ms = ?2"
                                                          " WHERE id = ?1");
        if (!st) {
            rc = SF_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, out[i].id);
        sqlite3_bind_int64(st, 2, store_now_ms(o->st));
        rc = outbox_done(o, st);
        out[i].was_held = out[i].state == OUTBOX_HELD;
        out[i].state = OUTBOX_INFLIGHT;
    }
    rc = outbox_finish(o, rc);
    if (rc != SF_OK) {
        outbox_delivery_clear(out, *n);
        *n = 0;
    }
    return rc;
}

sf_status outbox_next_due(outbox *o, const char *target, int64_t *at_ms)
{
    *at_ms = -1;
    store_lock(o->st);
    sqlite3_stmt *st =
        store_stmt(o->st, "SELECT min(next_attempt_ms) FROM outbox_delivery"
                          " WHERE target = ?1 AND state = " OUTBOX_SQL(OUTBOX_STATE_PENDING));
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                *at_ms = sqlite3_column_int64(st, 0);
            rc = SF_OK;
        }
        sqlite3_reset(st);
    }
    store_unlock(o->st);
    return rc;
}

sf_status outbox_result_locked(outbox *o, int64_t id, outbox_result_kind r, int64_t retry_at_ms,
                               const char *error, bool counted)
{
    static const int next_state[] = {OUTBOX_OK, OUTBOX_PENDING, OUTBOX_DEAD, OUTBOX_OK};
    int64_t now = store_now_ms(o->st);
    sqlite3_stmt *st = store_stmt(
        o->st, counted ? "UPDATE outbox_delivery SET state = ?2,"
                         " next_attempt_ms = ?3,"
                         " last_error = ?4, updated_ms = ?5"
                         " WHERE id = ?1 AND state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT)
                       : "UPDATE outbox_delivery SET state = ?2,"
                         " attempts = attempts + 1, next_attempt_ms = ?3,"
                         " last_error = ?4, updated_ms = ?5"
                         " WHERE id = ?1 AND state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT));
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, next_state[r]);
    sqlite3_bind_int64(st, 3, r == OUTBOX_RESULT_RETRY ? retry_at_ms : now);
    if (error)
        sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sf_status rc = outbox_done(o, st);
    if (rc != SF_OK)
        return rc;
    if (sqlite3_changes(store_db(o->st)) != 1)
        return SF_EINVAL;
    /* A counted attempt has its "started" row (outbox_attempt.c): the outcome replaces it. */
    st = store_stmt(o->st, counted ? "UPDATE outbox_attempt SET time_ms = ?2, result = ?3,"
                                     " error = ?4 WHERE id = (SELECT max(id) FROM outbox_attempt"
                                     " WHERE delivery_id = ?1 AND result = 'started')"
                                   : "INSERT INTO outbox_attempt (delivery_id, time_ms, result,"
                                     " error) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, result_names[r], -1, SQLITE_STATIC);
    if (error)
        sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
    return outbox_done(o, st);
}

const char *outbox_bound_error(const char *error, char bounded[SIGFLOW_MAX_ERROR_LEN + 1])
{
    if (!error || strlen(error) <= SIGFLOW_MAX_ERROR_LEN)
        return error;
    memcpy(bounded, error, SIGFLOW_MAX_ERROR_LEN);
    bounded[SIGFLOW_MAX_ERROR_LEN] = '\0';
    return bounded;
}

static sf_status outbox_result_ex(outbox *o, int64_t delivery_id, outbox_result_kind r,
                                  int64_t retry_at_ms, const char *error, bool counted)
{
    char bounded[SIGFLOW_MAX_ERROR_LEN + 1];
    if ((unsigned)r > OUTBOX_RESULT_SKIP)
        return SF_EINVAL;
    error = outbox_bound_error(error, bounded);
    store_lock(o->st);
    sf_status rc = outbox_begin(o);
    if (rc == SF_OK)
        rc = outbox_result_locked(o, delivery_id, r, retry_at_ms, error, counted);
    return outbox_finish(o, rc);
}

sf_status outbox_result(outbox *o, int64_t delivery_id, outbox_result_kind r, int64_t retry_at_ms,
                        const char *error)
{
    return outbox_result_ex(o, delivery_id, r, retry_at_ms, error, false);
}

sf_status outbox_result_counted(outbox *o, int64_t delivery_id, outbox_result_kind r,
                                int64_t retry_at_ms, const char *error)
{
    return outbox_result_ex(o, delivery_id, r, retry_at_ms, error, true);
}

static sf_status outbox_hold_locked(outbox *o, int64_t id, int64_t until_ms, const char *why)
{
    int64_t now = store_now_ms(o->st);
    sqlite3_stmt *st = store_stmt(
        o->st,
        "UPDATE outbox_delivery SET state = " OUTBOX_SQL(
            OUTBOX_STATE_HELD) ","
                               " next_attempt_ms = ?2, last_error = ?3, updated_ms = ?4"
                               " WHERE id = ?1 AND state = " OUTBOX_SQL(OUTBOX_STATE_INFLIGHT));
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, until_ms);
    sqlite3_bind_text(st, 3, why ? why : "held", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sf_status rc = outbox_done(o, st);
    if (rc != SF_OK)
        return rc;
    if (sqlite3_changes(store_db(o->st)) != 1)
        return SF_EINVAL;
    st = store_stmt(o->st, "INSERT INTO outbox_attempt (delivery_id, time_ms, result, error)"
                           " VALUES (?1, ?2, 'held', ?3)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, why ? why : "held", -1, SQLITE_STATIC);
    return outbox_done(o, st);
}

sf_status outbox_hold(outbox *o, int64_t delivery_id, int64_t until_ms, const char *why)
{
    char bounded[SIGFLOW_MAX_ERROR_LEN + 1];
    if (why && strlen(why) > SIGFLOW_MAX_ERROR_LEN) {
        memcpy(bounded, why, SIGFLOW_MAX_ERROR_LEN);
        bounded[SIGFLOW_MAX_ERROR_LEN] = '\0';
        why = bounded;
    }
    store_lock(o->st);
    sf_status rc = outbox_begin(o);
    if (rc == SF_OK)
        rc = outbox_hold_locked(o, delivery_id, until_ms, why);
    return outbox_finish(o, rc);
}
