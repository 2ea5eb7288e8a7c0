/* Unit tests of core/store/outbox_writer.c: alerts stored in groups by one thread, a failed
 * write retried while adders wait, the flush barrier, giving up when not patient. The writes
 * go to a real outbox in a scratch store, through a write function that can be held or made
 * to fail. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/log.h"
#include "base/limits.h"
#include "store/outbox.h"
#include "store/outbox_writer.h"
#include "store/store.h"
#include "tmpdir.h"

static const char *const targets[] = {"hook"};

typedef struct fixture {
    char dir[64];
    store *s;
    outbox *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold;         /* the write waits until cleared */
    bool fail;         /* the write fails (SF_EIO) without touching the outbox */
    size_t calls;      /* write calls */
    size_t last_group; /* items in the last write call */
    size_t stored_new; /* items the done callback saw created */
} fixture;

static sf_status write_fn(void *ctx, const outbox_item *items, size_t n, bool *created)
{
    fixture *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->last_group = n;
    pthread_cond_broadcast(&f->cv);
    while (f->hold)
        pthread_cond_wait(&f->cv, &f->mu);
    bool fail = f->fail;
    pthread_mutex_unlock(&f->mu);
    return fail ? SF_EIO : outbox_put_batch(f->o, items, n, targets, 1, created);
}

static void done_fn(void *ctx, const outbox_item *item, bool created)
{
    fixture *f = ctx;
    (void)item;
    pthread_mutex_lock(&f->mu);
    f->stored_new += created;
    pthread_mutex_unlock(&f->mu);
}

static void set(fixture *f, bool *flag, bool v)
{
    pthread_mutex_lock(&f->mu);
    *flag = v;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Wait (up to 20 s, a safety net) until the write was called at least n times. */
static void wait_calls(fixture *f, size_t n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    pthread_mutex_lock(&f->mu);
    while (f->calls < n && pthread_cond_timedwait(&f->cv, &f->mu, &dl) == 0) {
    }
    size_t calls = f->calls;
    pthread_mutex_unlock(&f->mu);
    assert_true(calls >= n);
}

static size_t pending(fixture *f)
{
    size_t n = 0;
    assert_int_equal(outbox_count(f->o, "hook", OUTBOX_PENDING, &n), SF_OK);
    return n;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    if (store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err) != SF_OK ||
        outbox_open(f->s, &f->o) != SF_OK)
        return -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    outbox_close(f->o);
    store_close(f->s);
    tmpdir_remove(f->dir);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

static sf_status add(outbox_writer *w, int i)
{
    char id[32], entity[32];
    snprintf(id, sizeof id, "alert-%d", i);
    snprintf(entity, sizeof entity, "cust-%d", i);
    outbox_item it = {
        .alert_id = id, .decision = "churn", .entity = entity, .json = "{}", .time_ms = i};
    return outbox_writer_add(w, &it);
}

/* What arrives while a write is under way is stored by the next write, all in one group. */
static void alerts_waiting_are_stored_in_one_group(void **state)
{
    fixture *f = *state;
    outbox_writer *w = outbox_writer_start(1000, write_fn, done_fn, f);
    assert_non_null(w);
    outbox_writer_set_patient(w, true);
    set(f, &f->hold, true);
    assert_int_equal(add(w, 0), SF_OK);
    wait_calls(f, 1); /* the first write holds alert 0 */
    for (int i = 1; i < 500; i++)
        assert_int_equal(add(w, i), SF_OK);
    set(f, &f->hold, false);
    assert_true(outbox_writer_flush(w, 20000));
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->last_group, 499);
    assert_int_equal(f->stored_new, 500);
    assert_int_equal(pending(f), 500);
    /* Stored again (a journal replay re-creates alerts): recognised, not new. */
    assert_int_equal(add(w, 7), SF_OK);
    assert_true(outbox_writer_flush(w, 20000));
    assert_int_equal(f->stored_new, 500);
    assert_false(outbox_writer_gave_up(w));
    outbox_writer_stop(w);
}

typedef struct adder {
    fixture *f;
    outbox_writer *w;
    atomic_bool returned;
} adder;

static void *add_in_thread(void *arg)
{
    adder *a = arg;
    add(a->w, 1);
    atomic_store(&a->returned, true);
    return NULL;
}

/* A failing write is retried (patient) and the next hand-over waits meanwhile: scoring does not
   move past an alert that could not be stored. The checkpoint's flush does not succeed. */
static void a_failed_write_is_retried_and_adders_wait(void **state)
{
    fixture *f = *state;
    outbox_writer *w = outbox_writer_start(1000, write_fn, done_fn, f);
    assert_non_null(w);
    outbox_writer_set_patient(w, true);
    set(f, &f->fail, true);
    assert_int_equal(add(w, 0), SF_OK);
    wait_calls(f, 2); /* failed, and retried after a backoff */
    assert_false(outbox_writer_flush(w, 100));
    adder a = {.f = f, .w = w};
    atomic_init(&a.returned, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, add_in_thread, &a), 0);
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000000L};
    nanosleep(&pause, NULL);
    assert_false(atomic_load(&a.returned)); /* still waiting for the failing write */
    assert_int_equal(pending(f), 0);
    set(f, &f->fail, false);
    pthread_join(t, NULL);
    assert_true(outbox_writer_flush(w, 20000));
    assert_int_equal(pending(f), 2);
    assert_false(outbox_writer_gave_up(w));
    outbox_writer_stop(w);
}

/* Not patient (stopping, recovering): a write that keeps failing is given up on after a few
   attempts, and the writer says so (the run then writes no checkpoint). */
static void not_patient_gives_up_and_says_so(void **state)
{
    fixture *f = *state;
    outbox_writer *w = outbox_writer_start(1000, write_fn, done_fn, f);
    assert_non_null(w);
    set(f, &f->fail, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(add(w, i), SF_OK);
    assert_true(outbox_writer_flush(w, 20000)); /* done: given up on, not stored */
    assert_true(outbox_writer_gave_up(w));
    assert_int_equal(pending(f), 0);
    assert_true(f->calls >= 3);
    outbox_writer_stop(w);
}

/* Stopping while a patient write fails: the stop ends the wait, the group is given up on. */
static void stop_ends_a_patient_retry(void **state)
{
    fixture *f = *state;
    outbox_writer *w = outbox_writer_start(1000, write_fn, done_fn, f);
    assert_non_null(w);
    outbox_writer_set_patient(w, true);
    set(f, &f->fail, true);
    assert_int_equal(add(w, 0), SF_OK);
    wait_calls(f, 1);
    outbox_writer_set_patient(w, false);
    assert_true(outbox_writer_flush(w, 20000));
    assert_true(outbox_writer_gave_up(w));
    outbox_writer_stop(w);
}

/* An alert that can never be stored is refused at once, the others are not held up. */
static void an_alert_over_the_limits_is_refused_at_add(void **state)
{
    fixture *f = *state;
    outbox_writer *w = outbox_writer_start(4, write_fn, done_fn, f);
    assert_non_null(w);
    char entity[SIGFLOW_MAX_ENTITY_LEN + 2];
    memset(entity, 'e', sizeof entity - 1);
    entity[sizeof entity - 1] = '\0';
    outbox_item bad = {.alert_id = "x", .decision = "churn", .entity = entity, .json = "{}"};
    assert_int_equal(outbox_writer_add(w, &bad), SF_EINVAL);
    for (int i = 0; i < 20; i++) /* more than max_pending: adds wait for room, then go on */
        assert_int_equal(add(w, i), SF_OK);
    assert_true(outbox_writer_flush(w, 20000));
    assert_int_equal(pending(f), 20);
    outbox_writer_stop(w);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    log_set_level(SF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        T(alerts_waiting_are_stored_in_one_group),     T(a_failed_write_is_retried_and_adders_wait),
        T(not_patient_gives_up_and_says_so),           T(stop_ends_a_patient_retry),
        T(an_alert_over_the_limits_is_refused_at_add),
    };
    return cmocka_run_group_tests_name("outbox_writer", tests, NULL, NULL);
}
