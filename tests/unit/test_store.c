/* Unit tests of core/store/store.c and core/store/store_kv.c: open, migrations, durability,
 * key-values, the journal's read pin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/log.h"
#include "store/store.h"
#include "base/limits.h"
#include "store/store_kv.h"
#include "tmpdir.h"

typedef struct fixture {
    char dir[64];
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static char *query_text(store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void fresh_database_is_migrated_to_current_version(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &f->s, err, sizeof err), SF_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
    char *mode = query_text(f->s, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    char *sync = query_text(f->s, "PRAGMA synchronous");
    assert_string_equal(sync, "2"); /* FULL */
    free(sync);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE_NAME);
    assert_int_equal(access(path, F_OK), 0);
}

static void durability_level_sets_synchronous(void **state)
{
    fixture *f = *state;
    char err[256];
    static const char *const expect[] = {"2", "1", "0"}; /* FULL, NORMAL, OFF */
    for (int d = STORE_DURABILITY_FSYNC; d <= STORE_DURABILITY_OFF; d++) {
        assert_int_equal(store_open(f->dir, (store_durability)d, &f->s, err, sizeof err), SF_OK);
        char *sync = query_text(f->s, "PRAGMA synchronous");
        assert_string_equal(sync, expect[d]);
        free(sync);
        store_close(f->s);
        f->s = NULL;
    }
}

static void durability_names_parse(void **state)
{
    (void)state;
    assert_int_equal(store_durability_parse("fsync"), STORE_DURABILITY_FSYNC);
    assert_int_equal(store_durability_parse("batch"), STORE_DURABILITY_BATCH);
    assert_int_equal(store_durability_parse("off"), STORE_DURABILITY_OFF);
    assert_int_equal(store_durability_parse("FULL"), -1);
    assert_int_equal(store_durability_parse(NULL), -1);
}

static void reopen_keeps_data_and_does_not_migrate_twice(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    assert_int_equal(store_kv_set(f->s, "billing", "cursor", "page-7"), SF_OK);
    store_close(f->s);
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    char *rows = query_text(f->s, "SELECT count(*) FROM schema_version");
    char want[16];
    snprintf(want, sizeof want, "%d", STORE_SCHEMA_VERSION); /* one row per migration, once */
    assert_string_equal(rows, want);
    free(rows);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "billing", "cursor", &v), SF_OK);
    assert_string_equal(v, "page-7");
    free(v);
}

static void newer_schema_is_refused_with_a_clear_message(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &f->s, err, sizeof err), SF_OK);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "INSERT INTO schema_version VALUES (99, 0)"), SF_OK);
    store_unlock(f->s);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &f->s, err, sizeof err), SF_EFATAL);
    assert_null(f->s);
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, "99"));
}

static void unwritable_state_dir_is_an_error(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_not_equal(
        store_open("/proc/sigflow-no-such/dir", STORE_DURABILITY_FSYNC, &f->s, err, sizeof err),
        SF_OK);
    assert_null(f->s);
    assert_true(strlen(err) > 0);
}

static void kv_get_missing_is_null_and_set_replaces(void **state)
{
    fixture *f = *state;
    char err[256];
    char *v = (char *)"sentinel";
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_OFF, &f->s, err, sizeof err), SF_OK);
    assert_int_equal(store_kv_get(f->s, "ns", "k", &v), SF_OK);
    assert_null(v);
    assert_int_equal(store_kv_set(f->s, "ns", "k", "1"), SF_OK);
    assert_int_equal(store_kv_set(f->s, "ns", "k", "2"), SF_OK);
    assert_int_equal(store_kv_set(f->s, "other", "k", "x"), SF_OK);
    assert_int_equal(store_kv_get(f->s, "ns", "k", &v), SF_OK);
    assert_string_equal(v, "2");
    free(v);
    assert_int_equal(store_kv_get(f->s, "other", "k", &v), SF_OK);
    assert_string_equal(v, "x");
    free(v);
}

static void kv_rejects_empty_and_oversized_arguments(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_OFF, &f->s, err, sizeof err), SF_OK);
    assert_int_equal(store_kv_set(f->s, "", "k", "v"), SF_EINVAL);
    assert_int_equal(store_kv_set(f->s, "ns", "k", NULL), SF_EINVAL);
    char *big = malloc(SIGFLOW_MAX_KV_VALUE_LEN + 2);
    memset(big, 'a', SIGFLOW_MAX_KV_VALUE_LEN + 1);
    big[SIGFLOW_MAX_KV_VALUE_LEN + 1] = '\0';
    assert_int_equal(store_kv_set(f->s, "ns", "k", big), SF_EINVAL);
    big[SIGFLOW_MAX_KV_VALUE_LEN] = '\0';
    assert_int_equal(store_kv_set(f->s, "ns", "k", big), SF_OK);
    free(big);
}

/* ---- the read pin: the journal's commits keep one read transaction between them ---- */

/* A store with table t, and a second connection (another writer: the admin API's, or
   another process's) on the same file. */
static sqlite3 *pin_open(fixture *f)
{
    char err[256] = "", path[128];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    store_lock(f->s);
    assert_int_equal(store_exec(f->s, "CREATE TABLE t (x INTEGER)"), SF_OK);
    store_unlock(f->s);
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE_NAME);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "SELECT 1 FROM t", NULL, NULL, NULL), SQLITE_OK);
    return other;
}

/* One pinned commit of INSERT x, as the journal makes it. */
static sf_status pin_commit(store *s, int x, bool wait)
{
    char sql[64];
    snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d)", x);
    store_lock_pinned(s);
    sf_status rc = store_begin_pinned(s, wait);
    if (rc == SF_OK)
        rc = store_exec(s, sql);
    if (rc == SF_OK)
        rc = store_exec(s, "COMMIT");
    else if (!sqlite3_get_autocommit(store_db(s)))
        store_exec(s, "ROLLBACK");
    store_end_pinned(s, rc == SF_OK);
    store_unlock(s);
    return rc;
}

static int count_rows(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void a_pinned_commit_after_another_connections_write_starts_afresh(void **state)
{
    fixture *f = *state;
    sqlite3 *other = pin_open(f);
    assert_int_equal(pin_commit(f->s, 1, true), SF_OK);
    store_lock(f->s);
    store_unlock(f->s);
    assert_int_equal(pin_commit(f->s, 2, true), SF_OK);
    store_lock_pinned(f->s);
    assert_true(store_pinned(f->s)); /* held between the journal's commits */
    store_unlock(f->s);
    /* Another connection commits while the pin holds an older snapshot: a write on that
       snapshot is refused by SQLite, and the next pinned commit must start afresh, not fail
       (an event loop's commit, which does not wait, as well as the committer's). */
    assert_int_equal(sqlite3_exec(other, "INSERT INTO t VALUES (10)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pin_commit(f->s, 3, false), SF_OK);
    assert_int_equal(sqlite3_exec(other, "INSERT INTO t VALUES (11)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pin_commit(f->s, 4, true), SF_OK);
    assert_int_equal(count_rows(other), 6);
    sqlite3_close(other);
}

static void store_lock_ends_the_pin_so_a_read_sees_the_newest_commit(void **state)
{
    fixture *f = *state;
    sqlite3 *other = pin_open(f);
    assert_int_equal(pin_commit(f->s, 1, true), SF_OK);
    assert_int_equal(sqlite3_exec(other, "INSERT INTO t VALUES (10)", NULL, NULL, NULL), SQLITE_OK);
    store_lock(f->s);
    assert_false(store_pinned(f->s));
    assert_int_equal(count_rows(store_db(f->s)), 2); /* the pinned snapshot held 1 */
    store_unlock(f->s);
    sqlite3_close(other);
}

static void a_rolled_back_commit_ends_the_pin(void **state)
{
    fixture *f = *state;
    sqlite3 *other = pin_open(f);
    assert_int_equal(pin_commit(f->s, 1, true), SF_OK);
    store_lock_pinned(f->s);
    assert_int_equal(store_begin_pinned(f->s, true), SF_OK);
    assert_int_equal(store_exec(f->s, "ROLLBACK"), SF_OK);
    store_end_pinned(f->s, false);
    assert_false(store_pinned(f->s));
    store_unlock(f->s);
    assert_int_equal(pin_commit(f->s, 2, true), SF_OK);
    assert_int_equal(count_rows(other), 2);
    sqlite3_close(other);
}

/* The WAL frames a PASSIVE checkpoint from `other` copies now, and how many there are. */
static void checkpoint_from(sqlite3 *other, int *log, int *copied)
{
    assert_int_equal(sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_PASSIVE, log, copied),
                     SQLITE_OK);
}

static void the_pin_is_renewed_so_a_checkpoint_is_never_held_back_long(void **state)
{
    fixture *f = *state;
    sqlite3 *other = pin_open(f);
    int log = 0, copied = 0;
    checkpoint_from(other, &log, &copied);
    assert_true(log > 0);
    assert_int_equal(copied, log);                      /* nothing pinned yet: all of it */
    assert_int_equal(pin_commit(f->s, 0, true), SF_OK); /* takes the pin */
    for (int i = 1; i < STORE_PIN_COMMITS; i++)
        assert_int_equal(pin_commit(f->s, i, true), SF_OK);
    /* The pin's snapshot is older than these commits: a checkpoint may not copy them. */
    checkpoint_from(other, &log, &copied);
    assert_true(copied > 0 && copied < log);
    /* The STORE_PIN_COMMITS-th commit after it was taken renews it: all of it now. */
    assert_int_equal(pin_commit(f->s, STORE_PIN_COMMITS, true), SF_OK);
    checkpoint_from(other, &log, &copied);
    assert_int_equal(copied, log);
    assert_int_equal(count_rows(other), STORE_PIN_COMMITS + 1);
    sqlite3_close(other);
}

int main(void)
{
    log_set_level(SF_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fresh_database_is_migrated_to_current_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(durability_level_sets_synchronous, setup, teardown),
        cmocka_unit_test(durability_names_parse),
        cmocka_unit_test_setup_teardown(reopen_keeps_data_and_does_not_migrate_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(newer_schema_is_refused_with_a_clear_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unwritable_state_dir_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(kv_get_missing_is_null_and_set_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(kv_rejects_empty_and_oversized_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_pinned_commit_after_another_connections_write_starts_afresh, setup, teardown),
        cmocka_unit_test_setup_teardown(store_lock_ends_the_pin_so_a_read_sees_the_newest_commit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_rolled_back_commit_ends_the_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(the_pin_is_renewed_so_a_checkpoint_is_never_held_back_long,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
