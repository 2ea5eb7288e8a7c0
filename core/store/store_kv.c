#include "store/store_kv.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"

#define KV_CTX "component=store_kv"

static bool kv_args_ok(const char *ns, const char *key, const char *value)
{
    if (!ns || !key || !*ns || !*key || strlen(ns) > SIGFLOW_MAX_KV_KEY_LEN ||
        strlen(key) > SIGFLOW_MAX_KV_KEY_LEN)
        return false;
    return !value || strlen(value) <= SIGFLOW_MAX_KV_VALUE_LEN;
}

sf_status store_kv_get(store *s, const char *ns, const char *key, char **value)
{
    sf_status rc = SF_EIO;
    *value = NULL;
    if (!kv_args_ok(ns, key, NULL))
        return SF_EINVAL;
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
    if (!st)
        goto done;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *value = strdup(v ? v : "");
        rc = *value ? SF_OK : SF_ENOMEM;
    } else if (step == SQLITE_DONE) {
        rc = SF_OK;
    } else {
        log_error(KV_CTX, "read %s/%s: %s", ns, key, sqlite3_errmsg(store_db(s)));
    }
    sqlite3_reset(st);
done:
    store_unlock(s);
    return rc;
}

sf_status store_kv_set_locked(store *s, const char *ns, const char *key, const char *value)
{
    if (!kv_args_ok(ns, key, value) || !value)
        return SF_EINVAL;
    sqlite3_stmt *st = store_stmt(s, "INSERT OR REPLACE INTO kv VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return SF_EIO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, store_now_ms(s));
    return store_step_done(s, st, KV_CTX);
}

sf_status store_kv_set(store *s, const char *ns, const char *key, const char *value)
{
    store_lock(s);
    /* Autocommit: one statement is its own transaction, durable per the store's level. */
    sf_status rc = store_kv_set_locked(s, ns, key, value);
    store_unlock(s);
    return rc;
}
