/*
 * snapshot_store_ro.c - the state snapshot through a read-only connection. See
 * snapshot_store_ro.h.
 */
#include "store/snapshot_store_ro.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RO_BUSY_MS 5000

sf_status snapshot_store_read_ro(const char *state_dir, void **blob, size_t *len, uint64_t *seq,
                                 int64_t *written_ms, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    sf_status rc = SF_EIO;
    *blob = NULL;
    *len = 0;
    *seq = 0;
    *written_ms = 0;
    snprintf(path, sizeof path, "%s/sigflow.db", state_dir);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s (has the daemon run with this state_dir?)", path,
                 strerror(errno));
        return SF_EIO;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, RO_BUSY_MS) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT seq, written_ms, data FROM score_checkpoint WHERE id = 1",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read the checkpoint: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        const void *d = sqlite3_column_blob(q, 2);
        size_t n = (size_t)sqlite3_column_bytes(q, 2);
        *blob = malloc(n ? n : 1);
        if (!*blob) {
            snprintf(err, errlen, "out of memory");
            rc = SF_ENOMEM;
            goto fail;
        }
        if (n)
            memcpy(*blob, d, n);
        *len = n;
        *seq = (uint64_t)sqlite3_column_int64(q, 0);
        *written_ms = sqlite3_column_int64(q, 1);
    } else if (r != SQLITE_DONE) {
        snprintf(err, errlen, "%s: cannot read the checkpoint: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    rc = SF_OK;
fail:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}
