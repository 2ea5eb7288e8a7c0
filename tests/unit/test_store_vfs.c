/* Unit tests of core/store/store_vfs.c: a WAL frame's header and page in one write, and no
 * caller ever seeing the file without a header it was given. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_vfs.h"
#include "tmpdir.h"

typedef struct fixture {
    char dir[64];
    char db[128], wal[128];
    sqlite3_vfs *vfs;
    sqlite3_file *file;
    bool open;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
    snprintf(f->wal, sizeof f->wal, "%s/t.db-wal", f->dir);
    int fd = open(f->db, O_CREAT | O_WRONLY, 0600); /* a WAL file takes its database's mode */
    if (fd < 0)
        return -1;
    close(fd);
    assert_non_null(store_vfs_name());
    f->vfs = sqlite3_vfs_find(STORE_VFS_NAME);
    assert_non_null(f->vfs);
    f->file = calloc(1, (size_t)f->vfs->szOsFile);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->open)
        f->file->pMethods->xClose(f->file);
    free(f->file);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Open f->wal (or the database) through the VFS. */
static void open_file(fixture *f, bool wal)
{
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | (wal ? SQLITE_OPEN_WAL : SQLITE_OPEN_MAIN_DB);
    int out = 0;
    assert_int_equal(f->vfs->xOpen(f->vfs, wal ? f->wal : f->db, f->file, flags, &out), SQLITE_OK);
    f->open = true;
}

static int vwrite(fixture *f, const void *buf, int n, sqlite3_int64 off)
{
    return f->file->pMethods->xWrite(f->file, buf, n, off);
}

/* What another reader of the file finds there now (not through the VFS). */
static ssize_t on_disk(const char *path, void *buf, size_t n, off_t off)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t got = pread(fd, buf, n, off);
    close(fd);
    return got;
}

static void fill(unsigned char *b, size_t n, unsigned char seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 7);
}

static void header_and_page_are_one_write(void **state)
{
    fixture *f = *state;
    open_file(f, true);
    unsigned char hdr[24], page[4096], back[24 + 4096];
    fill(hdr, sizeof hdr, 1);
    fill(page, sizeof page, 2);
    uint64_t joined = store_vfs_frames_joined();
    assert_int_equal(vwrite(f, hdr, 24, 32), SQLITE_OK);
    /* Held: not in the file until the page comes (that is the one write). */
    assert_int_equal(on_disk(f->wal, back, 24, 32), 0);
    assert_int_equal(vwrite(f, page, 4096, 56), SQLITE_OK);
    assert_int_equal(store_vfs_frames_joined(), joined + 1);
    assert_int_equal(on_disk(f->wal, back, sizeof back, 32), (ssize_t)sizeof back);
    assert_memory_equal(back, hdr, 24);
    assert_memory_equal(back + 24, page, 4096);
}

static void a_read_sees_a_held_header(void **state)
{
    fixture *f = *state;
    open_file(f, true);
    unsigned char hdr[24], back[24];
    fill(hdr, sizeof hdr, 3);
    assert_int_equal(vwrite(f, hdr, 24, 0), SQLITE_OK);
    assert_int_equal(f->file->pMethods->xRead(f->file, back, 24, 0), SQLITE_OK);
    assert_memory_equal(back, hdr, 24);
    sqlite3_int64 size = 0;
    assert_int_equal(f->file->pMethods->xFileSize(f->file, &size), SQLITE_OK);
    assert_int_equal(size, 24);
}

static void a_sync_and_a_close_write_a_held_header(void **state)
{
    fixture *f = *state;
    open_file(f, true);
    unsigned char hdr[24], back[24];
    fill(hdr, sizeof hdr, 4);
    assert_int_equal(vwrite(f, hdr, 24, 100), SQLITE_OK);
    assert_int_equal(f->file->pMethods->xSync(f->file, SQLITE_SYNC_NORMAL), SQLITE_OK);
    assert_int_equal(on_disk(f->wal, back, 24, 100), 24);
    assert_memory_equal(back, hdr, 24);

    fill(hdr, sizeof hdr, 5);
    assert_int_equal(vwrite(f, hdr, 24, 200), SQLITE_OK);
    assert_int_equal(f->file->pMethods->xClose(f->file), SQLITE_OK);
    f->open = false;
    assert_int_equal(on_disk(f->wal, back, 24, 200), 24);
    assert_memory_equal(back, hdr, 24);
}

static void a_write_elsewhere_is_not_joined(void **state)
{
    fixture *f = *state;
    open_file(f, true);
    unsigned char hdr[24], other[100], back[24];
    fill(hdr, sizeof hdr, 6);
    fill(other, sizeof other, 7);
    uint64_t joined = store_vfs_frames_joined();
    assert_int_equal(vwrite(f, hdr, 24, 0), SQLITE_OK);
    assert_int_equal(vwrite(f, other, sizeof other, 1000), SQLITE_OK); /* not at 24 */
    assert_int_equal(store_vfs_frames_joined(), joined);
    assert_int_equal(on_disk(f->wal, back, 24, 0), 24);
    assert_memory_equal(back, hdr, 24);
    /* Two headers in a row (SQLite rewriting checksums): the first is written, not lost. */
    unsigned char hdr2[24];
    fill(hdr2, sizeof hdr2, 8);
    assert_int_equal(vwrite(f, hdr, 24, 2000), SQLITE_OK);
    assert_int_equal(vwrite(f, hdr2, 24, 3000), SQLITE_OK);
    assert_int_equal(on_disk(f->wal, back, 24, 2000), 24);
    assert_memory_equal(back, hdr, 24);
    assert_int_equal(f->file->pMethods->xSync(f->file, SQLITE_SYNC_NORMAL), SQLITE_OK);
    assert_int_equal(on_disk(f->wal, back, 24, 3000), 24);
    assert_memory_equal(back, hdr2, 24);
}

static void the_database_file_is_written_at_once(void **state)
{
    fixture *f = *state;
    open_file(f, false);
    unsigned char b[24], back[24];
    fill(b, sizeof b, 9);
    assert_int_equal(vwrite(f, b, 24, 0), SQLITE_OK);
    assert_int_equal(on_disk(f->db, back, 24, 0), 24);
    assert_memory_equal(back, b, 24);
}

/* The store's own commits go through it, and a reader with SQLite's default VFS (another
   process: `sigflow journal`) reads them, during and after. */
static void the_store_commits_through_it(void **state)
{
    fixture *f = *state;
    store *s = NULL;
    char err[256] = "";
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &s, err, sizeof err), SF_OK);
    uint64_t joined = store_vfs_frames_joined();
    store_lock(s);
    assert_int_equal(store_exec(s, "CREATE TABLE t(x)"), SF_OK);
    for (int i = 0; i < 50; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d)", i);
        assert_int_equal(store_exec(s, sql), SF_OK);
    }
    store_unlock(s);
    assert_true(store_vfs_frames_joined() >= joined + 51); /* a frame at least per commit */

    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->dir, STORE_FILE_NAME);
    sqlite3 *other = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(other, "SELECT count(*), sum(x) FROM t", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 50);
    assert_int_equal(sqlite3_column_int(st, 1), 49 * 50 / 2);
    sqlite3_finalize(st);
    sqlite3_close(other);
    store_close(s);

    assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(other, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(header_and_page_are_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(a_read_sees_a_held_header, setup, teardown),
        cmocka_unit_test_setup_teardown(a_sync_and_a_close_write_a_held_header, setup, teardown),
        cmocka_unit_test_setup_teardown(a_write_elsewhere_is_not_joined, setup, teardown),
        cmocka_unit_test_setup_teardown(the_database_file_is_written_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(the_store_commits_through_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
