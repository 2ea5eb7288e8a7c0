#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "base/log_limit.h"
#include "store/store_checkpoint.h"
#include "store/store_vfs.h"
#include "store/store_guard.h"
#include "store/store_schema.h"

_Static_assert(STORE_MIGRATION_COUNT == STORE_SCHEMA_VERSION, "one migration per schema version");

#define STORE_STMT_CACHE 64
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_DURABLE_TRIES 500        /* store_mark_durable's checkpoint: about 1 s ... */
#define STORE_DURABLE_WAIT_NS 2000000L /* ... of 2 ms waits for another checkpoint's end */
#define STORE_CTX "component=store"

typedef struct store_cached {
    const char *sql;
    sqlite3_stmt *stmt;
} store_cached;

struct store {
    sqlite3 *db;
    char *state_dir;      /* where the high-water mark lives */
    store_durability dur; /* what a commit survives: when the mark may be raised */
    pthread_mutex_t mu;
    atomic_bool lock_wanted;  /* the checkpointer waits for mu: it goes next (store__lock_first) */
    pthread_cond_t lock_free; /* lockers that found lock_wanted wait here meanwhile */
    store_cached cache[STORE_STMT_CACHE];
    size_t ncache;
    int64_t (*now_ms)(void);
    store_ckpt *ckpt;     /* the WAL checkpointer: its thread and connection */
    sqlite3_stmt *pin;    /* the read pin: stepped to its first row and left there */
    bool pinned;          /* pin holds a read transaction open (lock held to change it) */
    unsigned pin_commits; /* commits since it was taken */
};

static const char *const durability_names[] = {"fsync", "batch", "off"};

int store_durability_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, durability_names[i]) == 0)
            return i;
    return -1;
}

const char *store_durability_name(store_durability d)
{
    return (unsigned)d < 3 ? durability_names[d] : "?";
}

static int64_t store_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t store_now_ms(const store *s)
{
    return s->now_ms();
}

void store_set_clock(store *s, int64_t (*now_ms)(void))
{
    s->now_ms = now_ms ? now_ms : store_realtime_ms;
}

store_durability store_get_durability(const store *s)
{
    return s->dur;
}

/* End the read pin (lock held): the connection's next statement reads the newest commit. */
static void store_unpin(store *s)
{
    if (!s->pinned)
        return;
    sqlite3_reset(s->pin);
    s->pinned = false;
}

void store_lock_pinned(store *s)
{
    pthread_mutex_lock(&s->mu);
    while (atomic_load_explicit(&s->lock_wanted, memory_order_relaxed))
        pthread_cond_wait(&s->lock_free, &s->mu);
}

void store_lock(store *s)
{
    store_lock_pinned(s);
    store_unpin(s);
}

void store_unlock(store *s)
{
    pthread_mutex_unlock(&s->mu);
}

bool store_trylock_pinned(store *s)
{
    if (atomic_load(&s->lock_wanted) || pthread_mutex_trylock(&s->mu) != 0)
        return false;
    if (!atomic_load(&s->lock_wanted))
        return true;
    pthread_mutex_unlock(&s->mu);
    return false;
}

/* A mutex does not queue its waiters: a writer that commits back to back could take it again
   and again ahead of the checkpointer. This one lock is handed on first (one thread only).
   It ends the pin: a checkpoint may then copy every frame, and the next commit starts the
   WAL over (SQLite does that only for a transaction that began after the checkpoint). */
void store__lock_first(store *s)
{
    atomic_store(&s->lock_wanted, true);
    pthread_mutex_lock(&s->mu);
    store_unpin(s);
}

void store__unlock_first(store *s)
{
    atomic_store(&s->lock_wanted, false);
    pthread_cond_broadcast(&s->lock_free);
    pthread_mutex_unlock(&s->mu);
}

sf_status store_begin_pinned(store *s, bool wait)
{
    sqlite3_stmt *st = store_stmt(s, "BEGIN IMMEDIATE");
    if (!st)
        return SF_EIO;
    /* !wait: no busy handler for this one statement: another writer means "not now". */
    if (!wait && sqlite3_busy_timeout(s->db, 0) != SQLITE_OK)
        return SF_EIO;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if ((rc & 0xff) == SQLITE_BUSY && s->pinned) {
        /* Another connection committed since the pin was taken (SQLITE_BUSY_SNAPSHOT), or
           holds the write lock, for which a reader may not wait: a fresh start, and the
           wait (if any) now. */
        store_unpin(s);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (!wait && sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK) {
        if (rc == SQLITE_DONE)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return SF_EIO;
    }
    if (rc == SQLITE_DONE)
        return SF_OK;
    if (!wait && ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED))
        return SF_ERETRY;
    log_limited(SF_LOG_ERROR, STORE_CTX, "BEGIN IMMEDIATE failed: %s", sqlite3_errmsg(s->db));
    return SF_EIO;
}

void store_end_pinned(store *s, bool committed)
{
    if (!committed || !sqlite3_get_autocommit(s->db)) {
        store_unpin(s); /* a rollback aborted it anyway */
        return;
    }
    if (s->pinned && ++s->pin_commits < STORE_PIN_COMMITS && !store_ckpt_has_work(s->ckpt))
        return;
    store_unpin(s); /* renewed: the checkpointer may copy up to here */
    if (sqlite3_step(s->pin) == SQLITE_ROW) {
        s->pinned = true;
        s->pin_commits = 0;
    } else {
        sqlite3_reset(s->pin); /* no pin: each commit takes its own read lock, as without */
    }
}

bool store_pinned(const store *s)
{
    return s->pinned;
}

store_ckpt *store__ckpt(store *s)
{
    return s->ckpt;
}

sqlite3 *store_db(store *s)
{
    return s->db;
}

sqlite3_stmt *store_stmt(store *s, const char *sql)
{
    for (size_t i = 0; i < s->ncache; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].stmt);
            sqlite3_clear_bindings(s->cache[i].stmt);
            return s->cache[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    /* PERSISTENT: these live as long as the connection, so keep them out of the lookaside. */
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error(STORE_CTX, "cannot prepare statement: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    if (s->ncache == STORE_STMT_CACHE) {
        /* Full cache means a caller builds SQL dynamically: a bug, but stay correct. */
        log_error(STORE_CTX, "statement cache full (%d)", STORE_STMT_CACHE);
        sqlite3_finalize(st);
        return NULL;
    }
    s->cache[s->ncache].sql = sql;
    s->cache[s->ncache].stmt = st;
    s->ncache++;
    return st;
}

sf_status store_step_done(store *s, sqlite3_stmt *st, const char *ctx)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SF_OK;
    /* a full disk fails every write: once per interval, not once per commit */
    log_limited(SF_LOG_ERROR, ctx, "write failed: %s", sqlite3_errmsg(s->db));
    return SF_EIO;
}

sf_status store_exec(store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_limited(SF_LOG_ERROR, STORE_CTX, "sql failed: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return SF_EIO;
    }
    return SF_OK;
}

static int store_read_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0); /* NULL (no row yet) reads as 0 */
    sqlite3_finalize(st);
    return v;
}

int store_schema_version(store *s)
{
    store_lock(s);
    int v = store_read_version(s->db);
    store_unlock(s);
    return v;
}

/* Bring the schema to STORE_SCHEMA_VERSION in one transaction, or refuse a newer one. */
static sf_status store_migrate(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    sf_status rc = SF_EIO;
    /* IMMEDIATE: two processes opening one fresh database must not both migrate it. */
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE;"
                     "CREATE TABLE IF NOT EXISTS schema_version ("
                     "  version INTEGER NOT NULL, applied_ms INTEGER NOT NULL);",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    int v = store_read_version(db);
    if (v < 0)
        goto fail;
    if (v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this sigflow knows (%d): run the "
                 "sigflow that wrote it, or restore a backup made for this version",
                 v, STORE_SCHEMA_VERSION);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return SF_EFATAL;
    }
    for (int i = v; i < STORE_SCHEMA_VERSION; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d, %lld)", i + 1,
                 (long long)store_realtime_ms());
        if (sqlite3_exec(db, store_migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        log_info(STORE_CTX, "schema migrated to version %d", i + 1);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return SF_OK;
fail:
    snprintf(err, errlen, "schema migration failed: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static sf_status store_configure(sqlite3 *db, store_durability d, char *err, size_t errlen)
{
    static const char *const sync_sql[] = {"PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL",
                                           "PRAGMA synchronous=OFF"};
    sqlite3_stmt *st = NULL;
    const char *mode = NULL;
    if (sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
        goto fail;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "cannot switch the database to WAL mode (got %s)",
                 mode ? mode : "an error");
        sqlite3_finalize(st);
        return SF_EIO;
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, sync_sql[d], NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return SF_OK;
fail:
    snprintf(err, errlen, "cannot configure the database: %s", sqlite3_errmsg(db));
    return SF_EIO;
}

/* PRAGMA quick_check: the whole file's structure, before anything trusts it. */
static sf_status store_quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    sf_status rc = SF_OK;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot check the database: %s", path, sqlite3_errmsg(db));
        return SF_EFATAL;
    }
    int r = sqlite3_step(st);
    const char *res = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!res || strcmp(res, "ok") != 0) {
        snprintf(err, errlen,
                 "%s is damaged (quick_check: %s): restore it from a backup; sigflow will not "
                 "run on a damaged store",
                 path, res ? res : sqlite3_errmsg(db));
        rc = SF_EFATAL;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The journal position the database holds: its last event or its last checkpoint. */
static sf_status store_position(sqlite3 *db, uint64_t *pos)
{
    sqlite3_stmt *st = NULL;
    *pos = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT max(coalesce((SELECT max(seq) FROM journal), 0),"
                           " coalesce((SELECT checkpointed_seq FROM journal_state), 0))",
                           -1, &st, NULL) != SQLITE_OK)
        return SF_EIO;
    sf_status rc = SF_EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *pos = (uint64_t)sqlite3_column_int64(st, 0);
        rc = SF_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* A database behind its high-water mark went backwards: refused, with both positions. */
static sf_status store_check_hwm(sqlite3 *db, const char *dir, const char *path, char *err,
                                 size_t errlen)
{
    uint64_t hwm = 0, pos = 0;
    bool present = false;
    if (store_guard_hwm_read(dir, &hwm, &present) != SF_OK) {
        snprintf(err, errlen, "%s/%s is unreadable: restore it, or delete it to accept %s as it is",
                 dir, STORE_HWM_FILE, path);
        return SF_EFATAL;
    }
    if (!present)
        return SF_OK;
    if (store_position(db, &pos) != SF_OK) {
        snprintf(err, errlen, "%s: cannot read the journal position: %s", path, sqlite3_errmsg(db));
        return SF_EIO;
    }
    if (pos >= hwm)
        return SF_OK;
    snprintf(err, errlen,
             "%s went backwards: it holds journal position %llu but %s/%s records that %llu was "
             "reached and made durable; the database was restored from an older copy or lost its "
             "WAL, and acknowledged events are missing. Restore the newest copy; to continue "
             "from this one knowingly, delete %s/%s",
             path, (unsigned long long)pos, dir, STORE_HWM_FILE, (unsigned long long)hwm, dir,
             STORE_HWM_FILE);
    return SF_EFATAL;
}

sf_status store_mark_durable(store *s, uint64_t seq)
{
    if (!s || s->dur == STORE_DURABILITY_OFF)
        return SF_OK; /* nothing is durable there: a mark would refuse a legitimate loss */
    if (s->dur == STORE_DURABILITY_BATCH) {
        /* NORMAL syncs the WAL only at a checkpoint: make this position durable first. One
           checkpoint runs at a time: while the checkpointer thread's does, this one is BUSY
           and waits for it, a few ms at a time (the store lock not held meanwhile). */
        int r = SQLITE_BUSY;
        for (int i = 0; i < STORE_DURABLE_TRIES && (r & 0xff) == SQLITE_BUSY; i++) {
            if (i > 0)
                nanosleep(&(struct timespec){0, STORE_DURABLE_WAIT_NS}, NULL);
            store_lock(s);
            r = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            store_unlock(s);
        }
        if (r != SQLITE_OK)
            return SF_EIO;
    }
    return store_guard_hwm_write(s->state_dir, seq);
}

sf_status store_open(const char *state_dir, store_durability d, store **out, char *err,
                     size_t errlen)
{
    return store_open_ex(state_dir, d, STORE_OPEN_CREATE, out, err, errlen);
}

sf_status store_open_ex(const char *state_dir, store_durability d, unsigned flags, store **out,
                        char *err, size_t errlen)
{
    char path[PATH_MAX];
    sf_status rc = SF_EIO;
    store *s = NULL;
    *out = NULL;
    if (!state_dir || (unsigned)d > STORE_DURABILITY_OFF) {
        snprintf(err, errlen, "invalid store arguments");
        return SF_EINVAL;
    }
    int n = snprintf(path, sizeof path, "%s/%s", state_dir, STORE_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "state_dir path too long");
        return SF_EINVAL;
    }
    bool create = flags & STORE_OPEN_CREATE;
    if ((rc = store_guard_dir(state_dir, create, err, errlen)) != SF_OK ||
        (rc = store_guard_file(path, create, err, errlen)) != SF_OK)
        return rc;
    s = calloc(1, sizeof *s);
    if (!s || !(s->state_dir = strdup(state_dir))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return SF_ENOMEM;
    }
    s->dur = d;
    s->now_ms = store_realtime_ms;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->state_dir);
        free(s);
        snprintf(err, errlen, "cannot create the store lock");
        return SF_EIO;
    }
    if (pthread_cond_init(&s->lock_free, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s->state_dir);
        free(s);
        snprintf(err, errlen, "cannot create the store lock");
        return SF_EIO;
    }
    /* FULLMUTEX off: our own lock serialises the connection, SQLite's would be redundant. */
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* The WAL's frames each in one write (store_vfs.c); the default VFS if it cannot be had. */
    if (sqlite3_open_v2(path, &s->db, oflags, store_vfs_name()) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if ((flags & STORE_OPEN_CHECK) && (rc = store_quick_check(s->db, path, err, errlen)) != SF_OK)
        goto fail;
    if ((rc = store_configure(s->db, d, err, errlen)) != SF_OK)
        goto fail;
    if ((rc = store_migrate(s->db, err, errlen)) != SF_OK)
        goto fail;
    if (create)
        store_guard_created(path);
    if ((flags & STORE_OPEN_CHECK) &&
        (rc = store_check_hwm(s->db, state_dir, path, err, errlen)) != SF_OK)
        goto fail;
    /* Any table read holds a read transaction while the statement is on its row. */
    if (sqlite3_prepare_v3(s->db, "SELECT 1 FROM schema_version", -1, SQLITE_PREPARE_PERSISTENT,
                           &s->pin, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot prepare the read pin: %s", sqlite3_errmsg(s->db));
        goto fail;
    }
    if ((rc = store_ckpt_start(s, s->db, path, d, &s->ckpt, err, errlen)) != SF_OK)
        goto fail;
    log_info(STORE_CTX, "opened %s durability=%s schema=%d", path, store_durability_name(d),
             STORE_SCHEMA_VERSION);
    *out = s;
    return SF_OK;
fail:
    store_close(s);
    return rc == SF_OK ? SF_EIO : rc;
}

void store_close(store *s)
{
    if (!s)
        return;
    /* The checkpointer's connection first: the writer's close is then the last, and its
       final checkpoint copies the WAL into the database and removes it. */
    store_ckpt_stop(s->ckpt, s->db);
    sqlite3_finalize(s->pin);
    for (size_t i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].stmt);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        log_error(STORE_CTX, "close: %s", sqlite3_errmsg(s->db));
    pthread_cond_destroy(&s->lock_free);
    pthread_mutex_destroy(&s->mu);
    free(s->state_dir);
    free(s);
}
