#include "store/journal_export.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/journal_internal.h"
#include "store/store.h"

#define EXPORT_PAGE 1024         /* rows read in one read transaction */
#define EXPORT_BUSY_MS 10000     /* wait this long for a lock the daemon holds (WAL recovery) */
#define EXPORT_FIRST_CONNECTOR 3 /* schema version that added journal.connector */

typedef struct export_db {
    sqlite3 *db;
    const char *path;
    int version;
} export_db;

static sf_status export_fail(export_db *x, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s: %s", x->path, what, x->db ? sqlite3_errmsg(x->db) : "");
    return SF_EIO;
}

static sf_status export_open(export_db *x, char *err, size_t errlen)
{
    struct stat st;
    if (stat(x->path, &st) != 0) {
        snprintf(err, errlen, "%s: %s (has the daemon run with this state_dir?)", x->path,
                 strerror(errno));
        return SF_EIO;
    }
    if (sqlite3_open_v2(x->path, &x->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(x->db, EXPORT_BUSY_MS) != SQLITE_OK)
        return export_fail(x, err, errlen, "cannot open read-only");
    sqlite3_stmt *v = NULL;
    if (sqlite3_prepare_v2(x->db, "SELECT max(version) FROM schema_version", -1, &v, NULL) !=
        SQLITE_OK)
        return export_fail(x, err, errlen, "not a sigflow database");
    x->version = sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : 0;
    sqlite3_finalize(v);
    if (x->version > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: written by a newer sigflow (schema %d, this one reads up to %d)",
                 x->path, x->version, STORE_SCHEMA_VERSION);
        return SF_EFATAL;
    }
    if (x->version < 2) {
        snprintf(err, errlen, "%s: schema %d is too old to read (start the daemon once)", x->path,
                 x->version);
        return SF_EFATAL;
    }
    return SF_OK;
}

/* One page after *after, up to `last`; *n rows delivered. */
static sf_status export_page(export_db *x, sqlite3_stmt *st, uint64_t *after, size_t *n,
                             journal_export_fn fn, void *ctx, char *err, size_t errlen)
{
    sf_status rc = SF_OK;
    *n = 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)*after);
    int step;
    while (rc == SF_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        *after = seq;
        (*n)++;
        if (sqlite3_column_type(st, 6) == SQLITE_NULL)
            continue; /* filtered out (kept in the page count so paging moves on) */
        sf_event *ev = journal__row_event(st, -1);
        if (!ev) {
            snprintf(err, errlen, "%s: event %llu cannot be read back (out of memory?)", x->path,
                     (unsigned long long)seq);
            rc = SF_ENOMEM;
            break;
        }
        rc = fn(ctx, seq, ev, (const char *)sqlite3_column_text(st, 7));
        event_free(ev);
    }
    if (rc == SF_OK && step != SQLITE_DONE)
        rc = export_fail(x, err, errlen, "read failed");
    sqlite3_reset(st);
    return rc;
}

sf_status journal_export(const char *state_dir, const journal_filter *f, journal_export_fn fn,
                         void *ctx, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", state_dir, STORE_FILE_NAME);
    export_db x = {.path = path};
    sqlite3_stmt *st = NULL, *top = NULL;
    sf_status rc = export_open(&x, err, errlen);
    if (rc != SF_OK)
        goto done;
    /* Column 6 is 1 when the row passes the filter: filtered rows still page, so a filter
       matching nothing reads the journal once, in pages, without a full scan per page. */
    const char *sql = x.version >= EXPORT_FIRST_CONNECTOR
                          ? "SELECT seq, entity, type, time_ms, value, attrs,"
                            " CASE WHEN (?3 IS NULL OR journaled_ms >= ?3) AND"
                            " (?4 IS NULL OR connector = ?4) THEN 1 END, connector"
                            " FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?5"
                          : "SELECT seq, entity, type, time_ms, value, attrs,"
                            " CASE WHEN (?3 IS NULL OR journaled_ms >= ?3) AND ?4 IS NULL"
                            " THEN 1 END, NULL"
                            " FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?5";
    if (sqlite3_prepare_v2(x.db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(x.db, "SELECT coalesce(max(seq), 0) FROM journal", -1, &top, NULL) !=
            SQLITE_OK) {
        rc = export_fail(&x, err, errlen, "cannot read the journal");
        goto done;
    }
    if (sqlite3_step(top) != SQLITE_ROW) {
        rc = export_fail(&x, err, errlen, "cannot read the journal");
        goto done;
    }
    /* What is committed now; events the daemon commits while we read are for the next run. */
    sqlite3_bind_int64(st, 2, sqlite3_column_int64(top, 0));
    sqlite3_reset(top);
    if (f && f->has_since)
        sqlite3_bind_int64(st, 3, f->since_ms);
    if (f && f->connector)
        sqlite3_bind_text(st, 4, f->connector, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, EXPORT_PAGE);
    uint64_t after = 0;
    size_t n;
    do
        rc = export_page(&x, st, &after, &n, fn, ctx, err, errlen);
    while (rc == SF_OK && n == EXPORT_PAGE);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(top);
    sqlite3_close(x.db);
    return rc;
}
