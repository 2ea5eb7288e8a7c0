/*
 * store.h - the embedded SQLite store under <state_dir>/sigflow.db: opens it in WAL mode with
 * the configured durability, runs forward schema migrations, caches prepared statements and
 * serialises use of its one connection. Owns: the connection, the schema. Calls sqlite3 and
 * log. Used by journal, outbox and store_kv (and the runtime, which opens and closes it).
 */
#ifndef SIGFLOW_STORE_H
#define SIGFLOW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sigflow.h"

/* The schema version this binary writes; a database at a higher version is refused. */
#define STORE_SCHEMA_VERSION 4
#define STORE_FILE_NAME "sigflow.db"

/* What a commit survives (docs/durability.md says precisely what each level risks). */
typedef enum store_durability {
    STORE_DURABILITY_FSYNC = 0, /* synchronous=FULL: a commit is on disk when it returns */
    STORE_DURABILITY_BATCH = 1, /* synchronous=NORMAL: survives a process crash */
    STORE_DURABILITY_OFF = 2    /* synchronous=OFF: may lose recent commits on an OS crash */
} store_durability;

typedef struct store store;

/* "fsync" | "batch" | "off" -> level; -1 for anything else. */
int store_durability_parse(const char *s);
const char *store_durability_name(store_durability d);

/*
 * Open (creating state_dir and the file when missing) and migrate the schema. On error *out
 * is NULL and err holds the operator-facing reason; a database written by a newer sigflow is
 * refused with SF_EFATAL. Same as store_open_ex with STORE_OPEN_CREATE.
 */
sf_status store_open(const char *state_dir, store_durability d, store **out, char *err,
                     size_t errlen);

#define STORE_OPEN_CREATE 0x1u /* a missing state_dir or database is created: a first start */
#define STORE_OPEN_CHECK 0x2u  /* PRAGMA quick_check, and the high-water mark */
/*
 * Open with checks (docs/reliability.md, Storage). Always: state_dir not group/other-
 * writable, database files 0600. Without STORE_OPEN_CREATE a missing state_dir or database
 * is refused with SF_EFATAL saying how to start a new store; an empty (0-byte) database is
 * refused always.
 * With STORE_OPEN_CHECK a damaged database (quick_check) or one behind the high-water mark
 * in <state_dir>/sigflow.hwm is refused with SF_EFATAL.
 */
sf_status store_open_ex(const char *state_dir, store_durability d, unsigned flags, store **out,
                        char *err, size_t errlen);
/*
 * Journal position `seq` is committed: record it as the high-water mark (fsync'd), after
 * making it durable under `batch`. Nothing is recorded under `off`.
 */
sf_status store_mark_durable(store *s, uint64_t seq);
/* Finalise the cached statements and close. NULL is accepted. */
void store_close(store *s);

/* The connection's owner lock: hold it around every use of store_db / store_stmt. Taking it
   ends the journal's read pin (below): whoever holds it reads the newest commit. */
void store_lock(store *s);
void store_unlock(store *s);

/*
 * The journal's commits, one after another on this connection, keep one read transaction
 * open between them (the read pin): each commit then takes only the WAL's write lock, not
 * a read lock and a read mark of its own as well (four fcntl calls fewer per commit, about
 * 5 us here; docs/performance.md, "How a request is served"). A pinned connection sees its
 * own commits; what another connection commits meanwhile only ends the pin at the next
 * store_begin_pinned (SQLite refuses the write on an old snapshot, and it starts a fresh one).
 * The WAL checkpointer copies no frame past the oldest reader's mark, so the pin is renewed
 * every STORE_PIN_COMMITS commits, and at every commit while the WAL is past the
 * checkpointer's threshold (a pass has work); store_lock and the checkpointer's own lock
 * end it.
 */
#define STORE_PIN_COMMITS 64
/* Lock for a commit that keeps the pin: store_begin_pinned is the next statement. */
void store_lock_pinned(store *s);
/* store_lock_pinned when nobody holds the lock now: false (not locked) otherwise. */
bool store_trylock_pinned(store *s);
/*
 * BEGIN IMMEDIATE on the pinned connection (caller holds store_lock_pinned). wait: for
 * another connection's write lock as long as the busy timeout (then SF_EIO); !wait: SF_ERETRY
 * when another connection holds it now (for a caller that must not block, an event loop,
 * and has somewhere else to send the work). SF_EIO on another error.
 */
sf_status store_begin_pinned(store *s, bool wait);
/* After the transaction store_begin_pinned began: committed (the pin is kept, or renewed),
   or not (rolled back: the pin is ended). */
void store_end_pinned(store *s, bool committed);
/* Whether the read pin is held now (tests). Caller holds the lock. */
bool store_pinned(const store *s);
sqlite3 *store_db(store *s);
/*
 * A prepared statement for `sql`, compiled once and cached (reset, bindings cleared). `sql`
 * must be a string that lives as long as the store (a literal). NULL on a compile error,
 * which is logged. Caller holds the lock.
 */
sqlite3_stmt *store_stmt(store *s, const char *sql);
/*
 * Step a cached statement that returns no rows and reset it: SF_OK on SQLITE_DONE, else the
 * error is logged under `ctx` ("component=journal") and SF_EIO returned. The one place a
 * write's sqlite3_step result is judged. Caller holds the lock.
 */
sf_status store_step_done(store *s, sqlite3_stmt *st, const char *ctx);
/* Run SQL without results; logs and returns SF_EIO on error. Caller holds the lock. */
sf_status store_exec(store *s, const char *sql);
/* The durability the store was opened with. */
store_durability store_get_durability(const store *s);
/* The schema version recorded in the database. */
int store_schema_version(store *s);

/* Wall-clock milliseconds as the store sees them; tests may replace the clock. */
int64_t store_now_ms(const store *s);
void store_set_clock(store *s, int64_t (*now_ms)(void));

#endif
