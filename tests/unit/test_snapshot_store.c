/* Unit tests of core/store/snapshot_store.c: the blob and its journal position, together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/journal.h"
#include "store/snapshot_store.h"
#include "store/store.h"
#include "tmpdir.h"

static void write_then_read_returns_blob_and_position_and_marks_the_journal(void **state)
{
    (void)state;
    char dir[64], err[256];
    store *s;
    journal *j;
    assert_non_null(tmpdir_make(dir, sizeof dir));
    assert_int_equal(store_open(dir, STORE_DURABILITY_OFF, &s, err, sizeof err), SF_OK);
    assert_int_equal(journal_open(s, NULL, &j), SF_OK);

    uint64_t seq = 99;
    void *blob = (void *)1;
    size_t len = 7;
    assert_int_equal(snapshot_store_read(s, &seq, &blob, &len), SF_OK);
    assert_null(blob); /* none yet */
    assert_int_equal(seq, 0);
    assert_int_equal(len, 0);

    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7); /* zero bytes included: a blob, not text */
    assert_int_equal(snapshot_store_write(s, j, 41, data, sizeof data), SF_OK);
    assert_int_equal(journal_checkpointed_seq(j), 41);
    assert_int_equal(snapshot_store_write(s, j, 57, data, 10), SF_OK); /* replaces */
    assert_int_equal(snapshot_store_read(s, &seq, &blob, &len), SF_OK);
    assert_int_equal(seq, 57);
    assert_int_equal(len, 10);
    assert_memory_equal(blob, data, 10);
    assert_int_equal(journal_checkpointed_seq(j), 57);
    free(blob);

    journal_close(j);
    store_close(s);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_then_read_returns_blob_and_position_and_marks_the_journal),
    };
    return cmocka_run_group_tests_name("snapshot_store", tests, NULL, NULL);
}
