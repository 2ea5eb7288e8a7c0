/*
 * labels.c - the labels table (labels.h): person over outcome, conflicts, missed entities.
 * Owns: the labels rows. Calls store. Used by the admin API and the CLI.
 */
#include "store/labels.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"

#define LABELS_CTX "component=labels"
#define LABEL_COLUMNS                                                                              \
    "SELECT id, alert_id, entity, label, source, via, time_ms, recorded_ms FROM labels "

static const char *const kind_names[] = {"confirmed", "false_positive", "missed"};
static const char *const source_names[] = {"outcome", "person"};

const char *label_kind_name(label_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

int label_kind_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *label_source_name(label_source s)
{
    return (unsigned)s < 2 ? source_names[s] : "?";
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* One row of LABEL_COLUMNS. */
static void label_from_row(sqlite3_stmt *st, label_rec *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    copy_text(out->alert_id, sizeof out->alert_id, sqlite3_column_text(st, 1));
    copy_text(out->entity, sizeof out->entity, sqlite3_column_text(st, 2));
    int k = label_kind_parse((const char *)sqlite3_column_text(st, 3));
    out->kind = k < 0 ? LABEL_CONFIRMED : (label_kind)k;
    const char *src = (const char *)sqlite3_column_text(st, 4);
    out->source = src && strcmp(src, "person") == 0 ? LABEL_SOURCE_PERSON : LABEL_SOURCE_OUTCOME;
    copy_text(out->via, sizeof out->via, sqlite3_column_text(st, 5));
    out->time_ms = sqlite3_column_int64(st, 6);
    out->recorded_ms = sqlite3_column_int64(st, 7);
}

/* Step a statement that may give one row of LABEL_COLUMNS; resets it. Lock held. */
static sf_status label_one(sqlite3_stmt *st, label_rec *out, bool *found)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && out)
        label_from_row(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SF_OK : SF_EIO;
}

/* Step a statement expected to finish; resets it. Lock held. */
static sf_status label_done(store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error(LABELS_CTX, "write failed: %s", sqlite3_errmsg(store_db(s)));
        return SF_EIO;
    }
    return SF_OK;
}

/* Lock the store and open a write transaction (label_finish ends both); unlocked on error. */
static sf_status label_begin(store *s)
{
    store_lock(s);
    sf_status rc = store_exec(s, "BEGIN IMMEDIATE");
    if (rc != SF_OK)
        store_unlock(s);
    return rc;
}

static sf_status label_finish(store *s, sf_status rc)
{
    if (store_exec(s, rc == SF_OK ? "COMMIT" : "ROLLBACK") != SF_OK && rc == SF_OK) {
        store_exec(s, "ROLLBACK");
        rc = SF_EIO;
    }
    store_unlock(s);
    return rc;
}

/* The alert's entity and time, from the outbox or an earlier label. Lock held. */
static sf_status alert_subject(store *s, const char *alert_id, char *entity, size_t cap,
                               int64_t *time_ms, bool *found)
{
    sqlite3_stmt *st =
        store_stmt(s, "SELECT entity, time_ms FROM outbox_alert WHERE alert_id = ?1 UNION ALL"
                      " SELECT entity, time_ms FROM labels WHERE alert_id = ?1 LIMIT 1");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        copy_text(entity, cap, sqlite3_column_text(st, 0));
        *time_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SF_OK : SF_EIO;
}

static sf_status label_existing(store *s, const char *alert_id, label_source src, label_rec *out,
                                bool *found)
{
    sqlite3_stmt *st = store_stmt(s, LABEL_COLUMNS "WHERE alert_id = ?1 AND source = ?2");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label_source_name(src), -1, SQLITE_STATIC);
    return label_one(st, out, found);
}

static sf_status label_write_alert(store *s, const char *alert_id, const char *entity,
                                   label_kind kind, label_source src, const char *via,
                                   int64_t time_ms)
{
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO labels (alert_id, entity, label, source, via, time_ms, recorded_ms)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (alert_id, source)"
           " WHERE alert_id IS NOT NULL DO UPDATE SET label = excluded.label,"
           " via = excluded.via, recorded_ms = excluded.recorded_ms");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, label_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, label_source_name(src), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, via, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, time_ms);
    sqlite3_bind_int64(st, 7, store_now_ms(s));
    return label_done(s, st);
}

/* Inside the transaction: decide and write. */
static sf_status put_alert_locked(store *s, const char *alert_id, label_kind kind, label_source src,
                                  const char *via, bool replace, label_rec *stored,
                                  labels_result *res)
{
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    int64_t time_ms = 0;
    bool found = false;
    sf_status rc = alert_subject(s, alert_id, entity, sizeof entity, &time_ms, &found);
    if (rc != SF_OK || !found) {
        *res = LABELS_NOT_FOUND;
        return rc;
    }
    label_rec old;
    if ((rc = label_existing(s, alert_id, src, &old, &found)) != SF_OK)
        return rc;
    if (found && old.kind == kind) {
        *res = LABELS_UNCHANGED;
        *stored = old;
        return SF_OK;
    }
    if (found && src == LABEL_SOURCE_PERSON && !replace) {
        *res = LABELS_CONFLICT;
        *stored = old;
        return SF_OK;
    }
    if ((rc = label_write_alert(s, alert_id, entity, kind, src, via, time_ms)) != SF_OK)
        return rc;
    *res = found ? LABELS_REPLACED : LABELS_CREATED;
    return label_existing(s, alert_id, src, stored, &found);
}

sf_status labels_put_alert(store *s, const char *alert_id, label_kind kind, label_source src,
                           const char *via, bool replace, label_rec *stored, labels_result *res)
{
    label_rec scratch;
    if (!stored)
        stored = &scratch;
    memset(stored, 0, sizeof *stored);
    *res = LABELS_NOT_FOUND;
    if (!s || !alert_id || !*alert_id || strlen(alert_id) > SIGFLOW_MAX_ALERT_ID_LEN || !via ||
        (kind != LABEL_CONFIRMED && kind != LABEL_FALSE_POSITIVE))
        return SF_EINVAL;
    sf_status rc = label_begin(s);
    if (rc != SF_OK)
        return rc;
    rc = put_alert_locked(s, alert_id, kind, src, via, replace, stored, res);
    return label_finish(s, rc);
}

static sf_status entity_known_locked(store *s, const char *entity, bool *known)
{
    /* outbox and labels are indexed by entity; the journal is scanned (its index would slow
       every ingest), once, and only when the other two do not know the entity. */
    sqlite3_stmt *st = store_stmt(s, "SELECT EXISTS (SELECT 1 FROM outbox_alert WHERE entity = ?1)"
                                     " OR EXISTS (SELECT 1 FROM labels WHERE entity = ?1)"
                                     " OR EXISTS (SELECT 1 FROM journal WHERE entity = ?1)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *known = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SF_OK : SF_EIO;
}

sf_status labels_entity_known(store *s, const char *entity, bool *known)
{
    *known = false;
    if (!s || !entity)
        return SF_EINVAL;
    store_lock(s);
    sf_status rc = entity_known_locked(s, entity, known);
    store_unlock(s);
    return rc;
}

static sf_status put_missed_locked(store *s, const char *entity, int64_t time_ms, label_source src,
                                   const char *via, label_rec *stored, labels_result *res)
{
    bool known = false;
    sf_status rc = entity_known_locked(s, entity, &known);
    if (rc != SF_OK || !known) {
        *res = LABELS_NOT_FOUND;
        return rc;
    }
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO labels (alert_id, entity, label, source, via, time_ms, recorded_ms)"
           " VALUES (NULL, ?1, 'missed', ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label_source_name(src), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, via, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, time_ms);
    sqlite3_bind_int64(st, 5, store_now_ms(s));
    if ((rc = label_done(s, st)) != SF_OK)
        return rc;
    *res = sqlite3_changes(store_db(s)) == 1 ? LABELS_CREATED : LABELS_UNCHANGED;
    st = store_stmt(s, LABEL_COLUMNS "WHERE alert_id IS NULL AND entity = ?1 AND time_ms = ?2"
                                     " AND source = ?3");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, time_ms);
    sqlite3_bind_text(st, 3, label_source_name(src), -1, SQLITE_STATIC);
    bool found = false;
    rc = label_one(st, stored, &found);
    return rc == SF_OK && !found ? SF_EIO : rc;
}

sf_status labels_put_missed(store *s, const char *entity, int64_t time_ms, label_source src,
                            const char *via, label_rec *stored, labels_result *res)
{
    label_rec scratch;
    if (!stored)
        stored = &scratch;
    memset(stored, 0, sizeof *stored);
    *res = LABELS_NOT_FOUND;
    if (!s || !entity || !*entity || strlen(entity) > SIGFLOW_MAX_ENTITY_LEN || !via)
        return SF_EINVAL;
    sf_status rc = label_begin(s);
    if (rc != SF_OK)
        return rc;
    rc = put_missed_locked(s, entity, time_ms, src, via, stored, res);
    return label_finish(s, rc);
}

sf_status labels_get_alert(store *s, const char *alert_id, label_rec *out, bool *found)
{
    *found = false;
    if (!s || !alert_id)
        return SF_EINVAL;
    store_lock(s);
    /* 'person' > 'outcome': the person's label first */
    sqlite3_stmt *st =
        store_stmt(s, LABEL_COLUMNS "WHERE alert_id = ?1 ORDER BY source DESC LIMIT 1");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
        rc = label_one(st, out, found);
    }
    store_unlock(s);
    return rc;
}

sf_status labels_each(store *s, const char *entity, int64_t since_ms, labels_fn fn, void *ctx)
{
    if (!s || !fn)
        return SF_EINVAL;
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, LABEL_COLUMNS "WHERE (?1 IS NULL OR entity = ?1)"
                                                   " AND time_ms >= ?2 ORDER BY time_ms, id");
    sf_status rc = SF_EIO;
    if (st) {
        if (entity)
            sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, since_ms);
        int step;
        label_rec l;
        /* fn runs under the store lock and must not call into the store */
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            label_from_row(st, &l);
            fn(ctx, &l);
        }
        rc = step == SQLITE_DONE ? SF_OK : SF_EIO;
        sqlite3_reset(st);
    }
    store_unlock(s);
    return rc;
}

sf_status labels_count(store *s, uint64_t n[2])
{
    n[0] = n[1] = 0;
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, "SELECT source, count(*) FROM labels GROUP BY source");
    sf_status rc = SF_EIO;
    if (st) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *src = (const char *)sqlite3_column_text(st, 0);
            n[src && strcmp(src, "person") == 0] = (uint64_t)sqlite3_column_int64(st, 1);
        }
        rc = step == SQLITE_DONE ? SF_OK : SF_EIO;
        sqlite3_reset(st);
    }
    store_unlock(s);
    return rc;
}
