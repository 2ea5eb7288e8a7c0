/*
 * test_ingest_routes.c - the ingest listener's route table (core/ingest/ingest_routes.c): one
 * instance per path and a bounded table, a route taken off its path at once but freed only
 * when no request is inside it, and the list of paths for the 404 message cut with "..." when
 * it does not fit. The listener's own tests (test_ingest_http) cover the same table through
 * HTTP; these cover what a request cannot reach.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ingest/ingest_routes.h"

/* The table keeps the instance pointer only: two distinct addresses stand for two instances. */
static char inst_a_mem, inst_b_mem;
#define INST_A ((sf_instance *)(void *)&inst_a_mem)
#define INST_B ((sf_instance *)(void *)&inst_b_mem)

static int setup(void **state)
{
    static ingest_routes t;
    ingest_routes_init(&t);
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    ingest_routes_destroy(*state);
    return 0;
}

static void a_path_has_one_instance_and_a_full_table_refuses(void **state)
{
    ingest_routes *t = *state;
    assert_int_equal(ingest_routes_add(t, "/a", INST_A), SF_OK);
    assert_int_equal(ingest_routes_add(t, "/a", INST_B), SF_EINVAL);
    assert_int_equal(ingest_routes_add(t, "a", INST_B), SF_EINVAL);
    assert_int_equal(ingest_routes_add(t, NULL, INST_B), SF_EINVAL);
    assert_int_equal(ingest_routes_add(t, "/b", NULL), SF_EINVAL);
    char path[32];
    for (int i = 1; i < SIGFLOW_MAX_INSTANCES; i++) {
        snprintf(path, sizeof path, "/p%d", i);
        assert_int_equal(ingest_routes_add(t, path, INST_B), SF_OK);
    }
    assert_int_equal(ingest_routes_add(t, "/one-too-many", INST_B), SF_EINVAL);
    assert_false(ingest_routes_exists(t, "/one-too-many"));
    ingest_routes_remove(t, INST_B); /* every route of B, A's stays */
    assert_true(ingest_routes_exists(t, "/a"));
    assert_false(ingest_routes_exists(t, "/p1"));
    assert_int_equal(ingest_routes_add(t, "/one-too-many", INST_B), SF_OK);
}

static void a_path_exactly_as_long_as_the_limit_is_taken(void **state)
{
    ingest_routes *t = *state;
    char path[SIGFLOW_MAX_HTTP_PATH + 2];
    memset(path, 'x', sizeof path - 1);
    path[0] = '/';
    path[SIGFLOW_MAX_HTTP_PATH + 1] = '\0';
    assert_int_equal(ingest_routes_add(t, path, INST_A), SF_EINVAL); /* one byte over */
    path[SIGFLOW_MAX_HTTP_PATH] = '\0';
    assert_int_equal(ingest_routes_add(t, path, INST_A), SF_OK);
    assert_true(ingest_routes_exists(t, path));
}

typedef struct remover {
    ingest_routes *t;
    atomic_bool returned;
} remover;

static void *remove_b(void *arg)
{
    remover *r = arg;
    ingest_routes_remove(r->t, INST_B);
    atomic_store(&r->returned, true);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void a_removed_route_is_gone_at_once_and_freed_after_its_last_request(void **state)
{
    ingest_routes *t = *state;
    assert_int_equal(ingest_routes_add(t, "/b", INST_B), SF_OK);
    ingest_route *r = ingest_routes_acquire(t, "/b");
    assert_non_null(r);
    assert_ptr_equal(r->inst, INST_B);
    assert_null(ingest_routes_acquire(t, "/nothing-here"));

    remover rm = {.t = t};
    atomic_init(&rm.returned, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, remove_b, &rm), 0);
    for (int i = 0; i < 2000 && ingest_routes_exists(t, "/b"); i++)
        sleep_ms(1);
    assert_false(ingest_routes_exists(t, "/b")); /* no new request finds it */
    assert_null(ingest_routes_acquire(t, "/b"));
    sleep_ms(50);
    assert_false(atomic_load(&rm.returned)); /* the request inside still holds it */
    assert_string_equal(r->path, "/b");
    ingest_routes_release(t, r);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(atomic_load(&rm.returned));
    assert_int_equal(ingest_routes_add(t, "/b", INST_A), SF_OK); /* the path is free again */
}

static void the_list_of_paths_is_cut_with_dots_when_it_does_not_fit(void **state)
{
    ingest_routes *t = *state;
    char out[16];
    ingest_routes_list(t, out, sizeof out);
    assert_string_equal(out, "");
    assert_int_equal(ingest_routes_add(t, "/one", INST_A), SF_OK);
    assert_int_equal(ingest_routes_add(t, "/two", INST_A), SF_OK);
    ingest_routes_list(t, out, sizeof out);
    assert_string_equal(out, "/one /two");
    assert_int_equal(ingest_routes_add(t, "/three-is-long", INST_A), SF_OK);
    ingest_routes_list(t, out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_string_equal(out + sizeof out - 4, "...");
    assert_memory_equal(out, "/one /two /t", 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_path_has_one_instance_and_a_full_table_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_path_exactly_as_long_as_the_limit_is_taken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_removed_route_is_gone_at_once_and_freed_after_its_last_request, setup, teardown),
        cmocka_unit_test_setup_teardown(the_list_of_paths_is_cut_with_dots_when_it_does_not_fit,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
