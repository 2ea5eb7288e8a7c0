#include "store/snapshot_store.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

sf_status snapshot_store_write(store *s, journal *j, uint64_t seq, const void *blob, size_t len)
{
    if (len > (size_t)INT32_MAX)
        return SF_EINVAL;
    store_lock(s);
    sf_status rc = store_exec(s, "BEGIN");
    sqlite3_stmt *st = rc == SF_OK ? store_stmt(s, "INSERT OR REPLACE INTO score_checkpoint"
                                                   " VALUES (1, ?1, ?2, ?3)")
                                   : NULL;
    if (rc == SF_OK && !st)
        rc = SF_EIO;
    if (rc == SF_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        sqlite3_bind_int64(st, 2, store_now_ms(s));
        sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = SF_EIO;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (rc == SF_OK)
        rc = journal_mark_checkpointed_locked(j, seq);
    if (rc == SF_OK)
        rc = store_exec(s, "COMMIT");
    if (rc != SF_OK) {
        if (!sqlite3_get_autocommit(store_db(s)))
            store_exec(s, "ROLLBACK");
        log_error("component=checkpoint", "writing the scoring checkpoint failed: %s",
                  sqlite3_errmsg(store_db(s)));
    }
    store_unlock(s);
    /* The store now holds at least `seq`: a copy of it that holds less went backwards. */
    if (rc == SF_OK && store_mark_durable(s, seq) != SF_OK)
        log_warn("component=checkpoint", "cannot record the journal high-water mark");
    return rc;
}

sf_status snapshot_store_read(store *s, uint64_t *seq, void **blob, size_t *len)
{
    *seq = 0;
    *blob = NULL;
    *len = 0;
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, "SELECT seq, data FROM score_checkpoint WHERE id = 1");
    sf_status rc = st ? SF_OK : SF_EIO;
    if (st) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            const void *p = sqlite3_column_blob(st, 1);
            int n = sqlite3_column_bytes(st, 1);
            *seq = (uint64_t)sqlite3_column_int64(st, 0);
            *blob = malloc(n > 0 ? (size_t)n : 1);
            if (!*blob)
                rc = SF_ENOMEM;
            else {
                if (n > 0)
                    memcpy(*blob, p, (size_t)n);
                *len = (size_t)n;
            }
        } else if (r != SQLITE_DONE) {
            rc = SF_EIO;
        }
        sqlite3_reset(st);
    }
    store_unlock(s);
    return rc;
}
