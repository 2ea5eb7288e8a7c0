/* Unit tests of core/ingest/intake.c against a real journal in a scratch state_dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "ingest/intake.h"
#include "store/journal.h"
#include "store/store.h"
#include "store/store_kv.h"
#include "tmpdir.h"

typedef struct fixture {
    char dir[64];
    store *s;
    journal *j;
    pthread_mutex_t mu;
    int sunk;
    char last[32];
} fixture;

static void sink(void *ctx, sf_event *const *evs, size_t n)
{
    fixture *f = ctx;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++) {
        f->sunk++;
        snprintf(f->last, sizeof f->last, "%s", evs[i]->entity);
        event_free(evs[i]);
    }
    pthread_mutex_unlock(&f->mu);
}

static int sunk(fixture *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->sunk;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!tmpdir_make(f->dir, sizeof f->dir) ||
        store_open(f->dir, STORE_DURABILITY_OFF, &f->s, err, sizeof err) != SF_OK ||
        journal_open(f->s, NULL, &f->j) != SF_OK)
        return -1;
    pthread_mutex_init(&f->mu, NULL);
    journal_set_sink_many(f->j, sink, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    journal_close(f->j);
    store_close(f->s);
    tmpdir_remove(f->dir);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

static sf_event *ev(const char *entity)
{
    return event_new(entity, "login", 1000, NULL, 0);
}

static void commit_with_cursor_makes_both_durable_before_returning(void **state)
{
    fixture *f = *state;
    intake *in = intake_new(f->j, "files", 64, 64, 60000);
    assert_int_equal(intake_add(in, ev("a")), SF_OK);
    assert_int_equal(intake_add(in, ev("b")), SF_OK);
    assert_int_equal(sunk(f), 0); /* buffered: not yet journaled */
    assert_int_equal(intake_commit(in, "offset", "123"), SF_OK);
    assert_int_equal(sunk(f), 2);
    assert_string_equal(f->last, "b");
    assert_int_equal(journal_last_seq(f->j), 2);
    char *v = NULL;
    assert_int_equal(store_kv_get(f->s, "files", "offset", &v), SF_OK);
    assert_string_equal(v, "123");
    free(v);
    intake_free(in);
}

static void a_full_buffer_is_committed_before_the_next_event(void **state)
{
    fixture *f = *state;
    intake *in = intake_new(f->j, "files", 2, 2, 60000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(intake_add(in, ev("x")), SF_OK);
    assert_int_equal(sunk(f), 4); /* two full buffers; the fifth event waits */
    intake_free(in);              /* commits the rest */
    assert_int_equal(sunk(f), 5);
}

static void linger_commits_without_a_cursor(void **state)
{
    fixture *f = *state;
    intake *in = intake_new(f->j, "hooks", 64, 64, 5);
    assert_int_equal(intake_add(in, ev("late")), SF_OK);
    for (int i = 0; i < 500 && sunk(f) == 0; i++)
        usleep(10000); /* bounded: 5 s */
    assert_int_equal(sunk(f), 1);
    intake_free(in);
}

static void cursor_mode_commits_only_with_a_cursor_and_drops_the_rest_at_stop(void **state)
{
    fixture *f = *state;
    intake *in = intake_new(f->j, "files", 2, 4, 5);
    intake_cursor_mode(in);
    assert_int_equal(intake_add(in, ev("a")), SF_OK);
    assert_int_equal(intake_add(in, ev("b")), SF_OK);
    assert_int_equal(intake_add(in, ev("c")), SF_OK); /* past `batch`: still buffered */
    usleep(50000);                                    /* ten lingers: no commit without cursor */
    assert_int_equal(sunk(f), 0);
    assert_int_equal(intake_commit(in, "offset", "3"), SF_OK);
    assert_int_equal(sunk(f), 3);
    assert_int_equal(intake_add(in, ev("d")), SF_OK); /* after the last cursor */
    intake_free(in);
    /* d is not journaled: the connector reads it again from offset 3 */
    assert_int_equal(sunk(f), 3);
    assert_int_equal(journal_last_seq(f->j), 3);
}

static void cursor_mode_past_capacity_commits_without_the_cursor(void **state)
{
    fixture *f = *state;
    intake *in = intake_new(f->j, "files", 2, 4, 5);
    intake_cursor_mode(in);
    for (int i = 0; i < 5; i++)
        assert_int_equal(intake_add(in, ev("x")), SF_OK);
    assert_int_equal(sunk(f), 4); /* the fifth found the buffer full: the four went first */
    intake_free(in);
    assert_int_equal(sunk(f), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_with_cursor_makes_both_durable_before_returning,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_buffer_is_committed_before_the_next_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(linger_commits_without_a_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(
            cursor_mode_commits_only_with_a_cursor_and_drops_the_rest_at_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(cursor_mode_past_capacity_commits_without_the_cursor, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
