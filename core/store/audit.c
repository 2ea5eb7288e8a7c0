/*
 * audit.c - alerts with their deliveries and labels, read back (audit.h).
 */
#include "store/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *audit_state_name(outbox_state st)
{
    static const char *const names[] = {"pending", "inflight", "delivered", "dead", "dropped"};
    return (unsigned)st < 5 ? names[st] : "?";
}

void audit_alerts_free(audit_alert *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].json);
        for (size_t d = 0; d < a[i].n_deliveries; d++)
            free(a[i].deliveries[d].last_error);
        free(a[i].deliveries);
    }
    free(a);
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* The label that counts, as text, for the filter: 'none' when there is none. */
#define AUDIT_LABEL_OF                                                                             \
    "COALESCE((SELECT l.label FROM labels l WHERE l.alert_id = a.alert_id"                         \
    " ORDER BY l.source DESC LIMIT 1), 'none')"

static sf_status read_alerts(store *s, const audit_filter *f, audit_alert *out, size_t *n,
                             bool *more)
{
    sqlite3_stmt *st = store_stmt(
        s, "SELECT a.alert_id, a.entity, a.time_ms, a.created_ms, a.json FROM outbox_alert a"
           " WHERE (?1 IS NULL OR a.entity = ?1) AND a.time_ms >= ?2"
           " AND (?3 IS NULL OR " AUDIT_LABEL_OF " = ?3)"
           " ORDER BY CASE WHEN ?5 THEN -a.time_ms ELSE a.time_ms END, a.alert_id LIMIT ?4");
    if (!st)
        return SF_EIO;
    if (f->entity)
        sqlite3_bind_text(st, 1, f->entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->since_ms);
    if (f->label == AUDIT_LABEL_NONE)
        sqlite3_bind_text(st, 3, "none", -1, SQLITE_STATIC);
    else if (f->label != AUDIT_LABEL_ANY)
        sqlite3_bind_text(st, 3, label_kind_name((label_kind)f->label), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->limit + 1);
    sqlite3_bind_int(st, 5, f->newest_first);
    int step;
    sf_status rc = SF_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == f->limit) {
            *more = true;
            break;
        }
        audit_alert *a = &out[*n];
        snprintf(a->alert_id, sizeof a->alert_id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(a->entity, sizeof a->entity, "%s", (const char *)sqlite3_column_text(st, 1));
        a->time_ms = sqlite3_column_int64(st, 2);
        a->created_ms = sqlite3_column_int64(st, 3);
        a->json = dup_col(st, 4);
        (*n)++;
        if (!a->json) {
            rc = SF_ENOMEM;
            break;
        }
    }
    if (rc == SF_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = SF_EIO;
    sqlite3_reset(st);
    return rc;
}

static sf_status read_deliveries(store *s, audit_alert *a)
{
    sqlite3_stmt *st = store_stmt(s, "SELECT target, state, attempts, updated_ms, last_error"
                                     " FROM outbox_delivery WHERE alert_id = ?1 ORDER BY target");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, a->alert_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step;
    sf_status rc = SF_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n_deliveries == cap) {
            cap = cap ? cap * 2 : 4;
            audit_delivery *g = realloc(a->deliveries, cap * sizeof *g);
            if (!g) {
                rc = SF_ENOMEM;
                break;
            }
            a->deliveries = g;
        }
        audit_delivery *d = &a->deliveries[a->n_deliveries++];
        snprintf(d->target, sizeof d->target, "%s", (const char *)sqlite3_column_text(st, 0));
        d->state = (outbox_state)sqlite3_column_int(st, 1);
        d->attempts = sqlite3_column_int(st, 2);
        d->updated_ms = sqlite3_column_int64(st, 3);
        d->last_error = dup_col(st, 4);
    }
    if (rc == SF_OK && step != SQLITE_DONE)
        rc = SF_EIO;
    sqlite3_reset(st);
    return rc;
}

sf_status audit_alerts(store *s, const audit_filter *f, audit_alert **out, size_t *n, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    if (!s || !f || f->limit == 0)
        return SF_EINVAL;
    audit_alert *a = calloc(f->limit, sizeof *a);
    if (!a)
        return SF_ENOMEM;
    store_lock(s);
    sf_status rc = read_alerts(s, f, a, n, more);
    for (size_t i = 0; rc == SF_OK && i < *n; i++)
        rc = read_deliveries(s, &a[i]);
    store_unlock(s);
    for (size_t i = 0; rc == SF_OK && i < *n; i++)
        rc = labels_get_alert(s, a[i].alert_id, &a[i].label, &a[i].has_label);
    if (rc != SF_OK) {
        audit_alerts_free(a, *n);
        *n = 0;
        return rc;
    }
    *out = a;
    return SF_OK;
}
