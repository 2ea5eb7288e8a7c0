/* Unit tests of core/store/store.c and core/store/store_kv.c: open, migrations, durability,
 * key-values. */
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
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
