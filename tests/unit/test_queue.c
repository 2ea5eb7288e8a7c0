/* Unit tests of core/base/queue.c: bounded, FIFO, back-pressure, close semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "base/monotime.h"
#include "base/queue.h"

/* One item: true when pushed (waiting up to timeout_ms; 0: not at all). */
static bool push_one(queue *q, void *item, int64_t timeout_ms)
{
    return queue_push_many(q, &item, 1, timeout_ms) == 1;
}

static int items[8];

static void try_push_refuses_when_full(void **state)
{
    (void)state;
    queue *q = queue_new(2);
    assert_true(push_one(q, &items[0], 0));
    assert_true(push_one(q, &items[1], 0));
    assert_false(push_one(q, &items[2], 0));
    assert_int_equal(queue_length(q), 2);
    queue_free(q, NULL);
}

/* One item through the daemon's pop (queue_pop_many with room for one): NULL on timeout or
   closed and empty. */
static void *pop_one(queue *q, int64_t timeout_ms)
{
    void *item = NULL;
    return queue_pop_many(q, &item, 1, timeout_ms) == 1 ? item : NULL;
}

static void pop_is_fifo_across_wraparound(void **state)
{
    (void)state;
    queue *q = queue_new(3);
    for (int round = 0; round < 3; round++) {
        assert_true(push_one(q, &items[0], 0));
        assert_true(push_one(q, &items[1], 0));
        assert_ptr_equal(pop_one(q, 0), &items[0]);
        assert_ptr_equal(pop_one(q, 0), &items[1]);
    }
    queue_free(q, NULL);
}

static void pop_times_out_on_empty(void **state)
{
    (void)state;
    queue *q = queue_new(1);
    assert_null(pop_one(q, 20));
    queue_free(q, NULL);
}

static void close_drains_then_returns_null(void **state)
{
    (void)state;
    queue *q = queue_new(4);
    assert_true(push_one(q, &items[3], 0));
    queue_close(q);
    assert_false(push_one(q, &items[4], 0));
    assert_ptr_equal(pop_one(q, -1), &items[3]);
    assert_null(pop_one(q, -1)); /* closed and empty: no wait */
    queue_free(q, NULL);
}

static void *consume_one(void *arg)
{
    return pop_one(arg, -1);
}

static void blocking_push_waits_for_room(void **state)
{
    (void)state;
    queue *q = queue_new(1);
    assert_true(push_one(q, &items[0], 0));
    assert_false(push_one(q, &items[1], 20)); /* full: times out */
    pthread_t t;
    pthread_create(&t, NULL, consume_one, q);
    assert_true(push_one(q, &items[1], 5000)); /* the consumer makes room */
    void *got;
    pthread_join(t, &got);
    assert_ptr_equal(got, &items[0]);
    assert_ptr_equal(pop_one(q, 0), &items[1]);
    queue_free(q, NULL);
}

/* Pops n items with a 10 s safety net each, for the thread that makes room. */
typedef struct popper {
    queue *q;
    int n;
    void *got[8];
} popper;

static void *pop_n(void *arg)
{
    popper *p = arg;
    for (int i = 0; i < p->n; i++)
        p->got[i] = pop_one(p->q, 10000);
    return NULL;
}

static void push_many_keeps_order_and_waits_for_room(void **state)
{
    (void)state;
    queue *q = queue_new(2);
    void *all[5] = {&items[0], &items[1], &items[2], &items[3], &items[4]};
    /* Room for 2: a timed push_many puts 2 in and says so. */
    assert_int_equal(queue_push_many(q, all, 5, 20), 2);
    popper p = {.q = q, .n = 5};
    pthread_t t;
    pthread_create(&t, NULL, pop_n, &p);
    /* The rest waits for the consumer's room, in order behind the first two. */
    assert_int_equal(queue_push_many(q, all + 2, 3, 10000), 3);
    pthread_join(t, NULL);
    for (int i = 0; i < 5; i++)
        assert_ptr_equal(p.got[i], all[i]);
    queue_close(q);
    assert_int_equal(queue_push_many(q, all, 2, -1), 0); /* closed: nothing taken */
    queue_free(q, NULL);
}

typedef struct waiter {
    queue *q;
    void *got;
} waiter;

static void *pop_forever(void *arg)
{
    waiter *w = arg;
    w->got = pop_one(w->q, -1);
    return NULL;
}

/* queue_defer_wakeups: the first push in an interval wakes the consumer at once; later ones
   are owed (due one interval after that wake-up) until queue_wake_deferred, which the
   blocked consumer then sees; interval 0 owes nothing. */
static void deferred_wakeups_are_owed_until_woken(void **state)
{
    (void)state;
    queue *q = queue_new(8);
    void *one[1] = {&items[0]}, *two[1] = {&items[1]};
    int64_t due = 0;
    queue_defer_wakeups(3600LL * 1000000); /* an hour: nothing comes due during the test */
    waiter w = {.q = q};
    pthread_t t;
    pthread_create(&t, NULL, pop_forever, &w);
    assert_int_equal(queue_push_many(q, one, 1, -1), 1);
    assert_false(queue_wakeups_owed(&due)); /* the first wake-up is given at once */
    pthread_join(t, NULL);
    assert_ptr_equal(w.got, &items[0]);

    int64_t before = monotime_us();
    w.got = NULL;
    pthread_create(&t, NULL, pop_forever, &w);
    assert_int_equal(queue_push_many(q, two, 1, -1), 1);
    assert_true(queue_wakeups_owed(&due));
    assert_true(due > before); /* an hour after the first wake-up */
    queue_wake_deferred();
    assert_false(queue_wakeups_owed(NULL));
    pthread_join(t, NULL); /* woken by queue_wake_deferred (or found the item at once) */
    assert_ptr_equal(w.got, &items[1]);

    queue_defer_wakeups(0);
    assert_int_equal(queue_push_many(q, one, 1, -1), 1);
    assert_false(queue_wakeups_owed(NULL));
    assert_ptr_equal(pop_one(q, 0), &items[0]);
    queue_free(q, NULL);
}

/* A full queue wakes its consumer even while wake-ups are held back: the producer waits for
   room, so holding it back would stall both. */
static void deferred_wakeups_do_not_stall_a_full_queue(void **state)
{
    (void)state;
    queue *q = queue_new(1);
    void *all[4] = {&items[0], &items[1], &items[2], &items[3]};
    queue_defer_wakeups(3600LL * 1000000);
    assert_int_equal(queue_push_many(q, all, 1, -1), 1); /* the interval starts */
    popper p = {.q = q, .n = 4};
    pthread_t t;
    pthread_create(&t, NULL, pop_n, &p);
    /* 3 more through a queue of 1: each waits for the consumer's room (safety net 10 s). */
    assert_int_equal(queue_push_many(q, all + 1, 3, 10000), 3);
    queue_wake_deferred();
    pthread_join(t, NULL);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(p.got[i], all[i]);
    queue_defer_wakeups(0);
    queue_free(q, NULL);
}

static int freed;
/* Many at once: in order across the wrap, at most max, and room made for a blocked producer. */
static void pop_many_takes_in_order_up_to_max(void **state)
{
    (void)state;
    queue *q = queue_new(4);
    void *got[8];
    assert_true(push_one(q, &items[0], 0));
    assert_true(push_one(q, &items[1], 0));
    assert_int_equal(queue_pop_many(q, got, 1, 0), 1);
    assert_ptr_equal(got[0], &items[0]);
    for (int i = 2; i < 5; i++) /* wraps: the ring holds 1, 2, 3, 4 */
        assert_true(push_one(q, &items[i], 0));
    assert_false(push_one(q, &items[5], 0));
    assert_int_equal(queue_pop_many(q, got, 3, 0), 3);
    assert_ptr_equal(got[0], &items[1]);
    assert_ptr_equal(got[1], &items[2]);
    assert_ptr_equal(got[2], &items[3]);
    assert_int_equal(queue_pop_many(q, got, 8, 0), 1);
    assert_ptr_equal(got[0], &items[4]);
    assert_int_equal(queue_pop_many(q, got, 8, 10), 0); /* empty: times out */
    assert_int_equal(queue_length(q), 0);
    queue_close(q);
    assert_int_equal(queue_pop_many(q, got, 8, -1), 0); /* closed and empty: at once */
    queue_free(q, NULL);
}

static void *push_three_blocking(void *arg)
{
    queue *q = arg;
    for (int i = 0; i < 3; i++)
        if (!push_one(q, &items[i], 5000))
            return NULL;
    return q;
}

static void pop_many_waits_for_the_first_and_frees_room(void **state)
{
    (void)state;
    queue *q = queue_new(1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_three_blocking, q), 0);
    void *got[4];
    size_t total = 0;
    while (total < 3) {
        size_t n = queue_pop_many(q, got, 4, 5000);
        assert_true(n == 1); /* a ring of one: never more than one at a time */
        assert_ptr_equal(got[0], &items[total]);
        total += n;
    }
    void *ret = NULL;
    pthread_join(t, &ret);
    assert_ptr_equal(ret, q); /* the producer was never left blocked */
    queue_free(q, NULL);
}

static void count_free(void *p)
{
    (void)p;
    freed++;
}

static void free_hands_leftovers_to_callback(void **state)
{
    (void)state;
    queue *q = queue_new(4);
    push_one(q, &items[0], 0);
    push_one(q, &items[1], 0);
    freed = 0;
    queue_free(q, count_free);
    assert_int_equal(freed, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(try_push_refuses_when_full),
        cmocka_unit_test(pop_is_fifo_across_wraparound),
        cmocka_unit_test(pop_times_out_on_empty),
        cmocka_unit_test(close_drains_then_returns_null),
        cmocka_unit_test(blocking_push_waits_for_room),
        cmocka_unit_test(free_hands_leftovers_to_callback),
        cmocka_unit_test(push_many_keeps_order_and_waits_for_room),
        cmocka_unit_test(deferred_wakeups_are_owed_until_woken),
        cmocka_unit_test(deferred_wakeups_do_not_stall_a_full_queue),
        cmocka_unit_test(pop_many_takes_in_order_up_to_max),
        cmocka_unit_test(pop_many_waits_for_the_first_and_frees_room),
    };
    return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
