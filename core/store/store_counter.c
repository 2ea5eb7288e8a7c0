/*
 * store_counter.c - durable counters as kv rows (store_counter.h).
 */
#include "store/store_counter.h"

#include <stdlib.h>

#include "base/log.h"

sf_status store_counter_add(store *s, const char *ns, const char *key, int64_t delta)
{
    store_lock(s);
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO kv (ns, key, value, updated_ms) VALUES (?1, ?2, CAST(?3 AS TEXT), ?4)"
           " ON CONFLICT (ns, key) DO UPDATE SET"
           " value = CAST(CAST(value AS INTEGER) + ?3 AS TEXT), updated_ms = ?4");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, delta);
        sqlite3_bind_int64(st, 4, store_now_ms(s));
        rc = sqlite3_step(st) == SQLITE_DONE ? SF_OK : SF_EIO;
        if (rc != SF_OK)
            log_error("component=store", "counter %s/%s: %s", ns, key, sqlite3_errmsg(store_db(s)));
        sqlite3_reset(st);
    }
    store_unlock(s);
    return rc;
}

sf_status store_counter_get(store *s, const char *ns, const char *key, int64_t *value)
{
    *value = 0;
    store_lock(s);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT CAST(value AS INTEGER) FROM kv WHERE ns = ?1 AND key = ?2");
    sf_status rc = SF_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *value = sqlite3_column_int64(st, 0);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? SF_OK : SF_EIO;
        sqlite3_reset(st);
    }
    store_unlock(s);
    return rc;
}
