/* Unit tests of core/store/outbox.c: idempotent put, claim/result, backoff, recovery, DLQ, audit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/log.h"
#include "store/outbox.h"
#include "base/limits.h"
#include "store/store.h"
#include "tmpdir.h"

static int64_t g_now = 1700000000000LL;
static int64_t test_clock(void)
{
    return g_now;
}

typedef struct fixture {
    char dir[64];
    store *s;
    outbox *o;
} fixture;

static void open_all(fixture *f)
{
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    store_set_clock(f->s, test_clock);
    assert_int_equal(outbox_open(f->s, &f->o), SF_OK);
}

static void close_all(fixture *f)
{
    outbox_close(f->o);
    store_close(f->s);
    f->o = NULL;
    f->s = NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    g_now = 1700000000000LL;
    open_all(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_all(f);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static const char *const two_targets[] = {"slack", "hook"};

static void put(fixture *f, const char *id, bool *created)
{
    assert_int_equal(
        outbox_put(f->o, id, "churn", "cust-1", 1234, "{\"id\":1}", two_targets, 2, created),
        SF_OK);
}

static size_t count(fixture *f, const char *target, outbox_state st)
{
    size_t n = 99;
    assert_int_equal(outbox_count(f->o, target, st, &n), SF_OK);
    return n;
}

static void put_is_idempotent_on_alert_id(void **state)
{
    fixture *f = *state;
    bool created = false;
    put(f, "a1", &created);
    assert_true(created);
    put(f, "a1", &created);
    assert_false(created);
    assert_int_equal(count(f, NULL, OUTBOX_PENDING), 2);
    assert_int_equal(count(f, "slack", OUTBOX_PENDING), 1);
    /* a replay naming a new target adds only that delivery */
    const char *three[] = {"slack", "hook", "email"};
    assert_int_equal(outbox_put(f->o, "a1", "churn", "cust-1", 1234, "{}", three, 3, &created),
                     SF_OK);
    assert_false(created);
    assert_int_equal(count(f, NULL, OUTBOX_PENDING), 3);
}

static void put_refuses_bad_arguments(void **state)
{
    fixture *f = *state;
    assert_int_equal(outbox_put(f->o, "", "churn", "e", 1, "{}", two_targets, 2, NULL), SF_EINVAL);
    assert_int_equal(outbox_put(f->o, "a", "churn", "e", 1, NULL, two_targets, 2, NULL), SF_EINVAL);
    const char *bad[] = {""};
    assert_int_equal(outbox_put(f->o, "a", "churn", "e", 1, "{}", bad, 1, NULL), SF_EINVAL);
    assert_int_equal(count(f, NULL, OUTBOX_PENDING), 0);
}

static void claim_marks_inflight_and_returns_the_alert(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    outbox_delivery d[4];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 4, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].alert_id, "a1");
    assert_string_equal(d[0].target, "hook");
    assert_string_equal(d[0].decision, "churn");
    assert_string_equal(d[0].entity, "cust-1");
    assert_string_equal(d[0].json, "{\"id\":1}");
    assert_int_equal(d[0].time_ms, 1234);
    assert_int_equal(d[0].attempts, 0);
    assert_int_equal(d[0].state, OUTBOX_INFLIGHT);
    assert_int_equal(count(f, "hook", OUTBOX_INFLIGHT), 1);
    /* claimed once: a second claim gets nothing */
    size_t m = 9;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 4, d + 1, &m), SF_OK);
    assert_int_equal(m, 0);
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_OK, 0, NULL), SF_OK);
    assert_int_equal(count(f, "hook", OUTBOX_OK), 1);
    /* a result for a delivery that is no longer inflight is refused */
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_OK, 0, NULL), SF_EINVAL);
    outbox_delivery_clear(d, n);
}

static void claim_honours_max_and_due_order(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    g_now += 10;
    put(f, "a2", NULL);
    g_now += 10;
    put(f, "a3", NULL);
    outbox_delivery d[2];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "slack", g_now, g_now, 2, d, &n), SF_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].alert_id, "a1");
    assert_string_equal(d[1].alert_id, "a2");
    outbox_delivery_clear(d, n);
}

static void retry_is_not_claimed_before_its_time(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    outbox_delivery d[1];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    int64_t id = d[0].id;
    outbox_delivery_clear(d, n);
    int64_t at = g_now + 30000;
    assert_int_equal(outbox_result(f->o, id, OUTBOX_RESULT_RETRY, at, "HTTP 503"), SF_OK);
    int64_t due = 0;
    assert_int_equal(outbox_next_due(f->o, "hook", &due), SF_OK);
    assert_int_equal(due, at);
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", at - 1, at - 1, 1, d, &n), SF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", at, at, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].attempts, 1);
    assert_string_equal(d[0].last_error, "HTTP 503");
    outbox_delivery_clear(d, n);
    assert_int_equal(outbox_next_due(f->o, "hook", &due), SF_OK);
    assert_int_equal(due, -1);
}

static void inflight_is_pending_again_after_reopen(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    outbox_delivery d[1];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    int64_t id = d[0].id;
    outbox_delivery_clear(d, n);
    close_all(f); /* the process died before the result was recorded */
    open_all(f);
    assert_int_equal(count(f, "hook", OUTBOX_INFLIGHT), 0);
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, id);
    outbox_delivery_clear(d, n);
}

static void dead_letters_list_retry_and_drop(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    put(f, "a2", NULL);
    outbox_delivery d[4];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 4, d, &n), SF_OK);
    assert_int_equal(n, 2);
    int64_t id1 = d[0].id, id2 = d[1].id;
    outbox_delivery_clear(d, n);
    assert_int_equal(outbox_result(f->o, id1, OUTBOX_RESULT_DEAD, 0, "HTTP 400: bad"), SF_OK);
    assert_int_equal(outbox_result(f->o, id2, OUTBOX_RESULT_DEAD, 0, "HTTP 404"), SF_OK);

    assert_int_equal(outbox_dlq_list(f->o, "hook", 4, d, &n), SF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].state, OUTBOX_DEAD);
    assert_string_equal(d[0].last_error, "HTTP 400: bad");
    outbox_delivery_clear(d, n);
    assert_int_equal(outbox_dlq_list(f->o, "slack", 4, d, &n), SF_OK);
    assert_int_equal(n, 0);

    assert_int_equal(outbox_dlq_drop(f->o, id2), SF_OK);
    assert_int_equal(outbox_dlq_drop(f->o, id2), SF_EINVAL); /* no longer dead */
    assert_int_equal(count(f, "hook", OUTBOX_DROPPED), 1);

    g_now += 1000;
    size_t retried = 0;
    assert_int_equal(outbox_dlq_retry(f->o, id1, &retried), SF_OK);
    assert_int_equal(retried, 1);
    assert_int_equal(outbox_dlq_retry(f->o, id1, &retried), SF_EINVAL);
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 4, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, id1);
    assert_int_equal(d[0].attempts, 0); /* a fresh set of tries */
    outbox_delivery_clear(d, n);
}

static void dlq_retry_all_moves_every_dead_delivery(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    outbox_delivery d[4];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 4, d, &n), SF_OK);
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_DEAD, 0, "x"), SF_OK);
    outbox_delivery_clear(d, n);
    assert_int_equal(outbox_claim_due_ex(f->o, "slack", g_now, g_now, 4, d, &n), SF_OK);
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_DEAD, 0, "y"), SF_OK);
    outbox_delivery_clear(d, n);
    size_t retried = 0;
    assert_int_equal(outbox_dlq_retry(f->o, OUTBOX_ALL, &retried), SF_OK);
    assert_int_equal(retried, 2);
    assert_int_equal(count(f, NULL, OUTBOX_DEAD), 0);
    assert_int_equal(count(f, NULL, OUTBOX_PENDING), 2);
}

typedef struct trail {
    int n;
    char results[8][16];
    char errors[8][64];
    int64_t times[8];
} trail;

static void on_attempt(void *ctx, const char *target, int64_t time_ms, const char *result,
                       const char *error)
{
    trail *t = ctx;
    assert_string_equal(target, "hook");
    if (t->n < 8) {
        snprintf(t->results[t->n], sizeof t->results[0], "%s", result);
        snprintf(t->errors[t->n], sizeof t->errors[0], "%s", error ? error : "-");
        t->times[t->n] = time_ms;
    }
    t->n++;
}

static void every_attempt_is_recorded_for_the_audit_trail(void **state)
{
    fixture *f = *state;
    const char *one[] = {"hook"};
    assert_int_equal(outbox_put(f->o, "a1", "churn", "c", 1, "{}", one, 1, NULL), SF_OK);
    outbox_delivery d[1];
    size_t n;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 1, d, &n), SF_OK);
        assert_int_equal(n, 1);
        assert_int_equal(outbox_result(f->o, d[0].id, i ? OUTBOX_RESULT_OK : OUTBOX_RESULT_RETRY,
                                       g_now, i ? NULL : "timeout"),
                         SF_OK);
        outbox_delivery_clear(d, n);
        g_now += 500;
    }
    trail t = {0};
    assert_int_equal(outbox_attempts(f->o, "a1", on_attempt, &t), SF_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.results[0], "retry");
    assert_string_equal(t.errors[0], "timeout");
    assert_string_equal(t.results[1], "ok");
    assert_string_equal(t.errors[1], "-");
    assert_int_equal(t.times[1] - t.times[0], 500);
}

static void long_error_text_is_bounded(void **state)
{
    fixture *f = *state;
    put(f, "a1", NULL);
    outbox_delivery d[1];
    size_t n;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 1, d, &n), SF_OK);
    int64_t id = d[0].id;
    outbox_delivery_clear(d, n);
    char big[4000];
    memset(big, 'e', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(outbox_result(f->o, id, OUTBOX_RESULT_DEAD, 0, big), SF_OK);
    assert_int_equal(outbox_dlq_list(f->o, NULL, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(d[0].last_error), SIGFLOW_MAX_ERROR_LEN);
    outbox_delivery_clear(d, n);
}

static void put_batch_stores_a_group_in_one_transaction(void **state)
{
    fixture *f = *state;
    put(f, "b2", NULL); /* stored before: the batch recognises it */
    outbox_item items[] = {
        {.alert_id = "b1", .decision = "churn", .entity = "c1", .json = "{\"n\":1}", .time_ms = 1},
        {.alert_id = "b2", .decision = "churn", .entity = "c2", .json = "{\"n\":2}", .time_ms = 2},
        {.alert_id = "b3", .decision = "churn", .entity = "c3", .json = "{\"n\":3}", .time_ms = 3},
    };
    bool created[3] = {false, true, false};
    assert_int_equal(outbox_put_batch(f->o, items, 3, two_targets, 2, created), SF_OK);
    assert_true(created[0]);
    assert_false(created[1]);
    assert_true(created[2]);
    assert_int_equal(count(f, "slack", OUTBOX_PENDING), 3);
    assert_int_equal(count(f, "hook", OUTBOX_PENDING), 3);
    /* One item that can never be stored refuses the whole group: nothing is written. */
    char long_entity[SIGFLOW_MAX_ENTITY_LEN + 2];
    memset(long_entity, 'e', sizeof long_entity - 1);
    long_entity[sizeof long_entity - 1] = '\0';
    outbox_item bad[] = {
        {.alert_id = "b4", .decision = "churn", .entity = "c4", .json = "{}", .time_ms = 4},
        {.alert_id = "b5", .decision = "churn", .entity = long_entity, .json = "{}", .time_ms = 5},
    };
    assert_false(outbox_item_ok(&bad[1]));
    assert_int_equal(outbox_put_batch(f->o, bad, 2, two_targets, 2, created), SF_EINVAL);
    assert_int_equal(count(f, "slack", OUTBOX_PENDING), 3);
}

static int synchronous_level(fixture *f)
{
    store_lock(f->s);
    sqlite3_stmt *st = NULL;
    int level = -1;
    if (sqlite3_prepare_v2(store_db(f->s), "PRAGMA synchronous", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        level = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    store_unlock(f->s);
    return level;
}

/* At durability = fsync the outbox commits at synchronous=NORMAL, then gives the connection
   back at FULL: the journal's next commit (the same connection) is fsync'd as configured. */
static void outbox_writes_leave_the_connection_at_full_sync(void **state)
{
    fixture *f = *state;
    close_all(f);
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_FSYNC, &f->s, err, sizeof err), SF_OK);
    store_set_clock(f->s, test_clock);
    assert_int_equal(outbox_open(f->s, &f->o), SF_OK);
    assert_int_equal(synchronous_level(f), 2); /* FULL */
    put(f, "s1", NULL);
    assert_int_equal(synchronous_level(f), 2);
    outbox_delivery d[2];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "slack", g_now, g_now, 2, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(synchronous_level(f), 2);
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_OK, 0, NULL), SF_OK);
    assert_int_equal(synchronous_level(f), 2);
    /* A failed transaction also gives the connection back at FULL. */
    assert_int_equal(outbox_result(f->o, d[0].id, OUTBOX_RESULT_OK, 0, NULL), SF_EINVAL);
    assert_int_equal(synchronous_level(f), 2);
    outbox_delivery_clear(d, n);
}

/* One transaction: the last attempt's outcome and the next attempt's start, all or nothing. */
static void attempt_begin_after_records_both_or_neither(void **state)
{
    fixture *f = *state;
    static const char *const one[] = {"hook"};
    assert_int_equal(outbox_put(f->o, "p1", "churn", "c1", 1, "{}", one, 1, NULL), SF_OK);
    assert_int_equal(outbox_put(f->o, "p2", "churn", "c2", 2, "{}", one, 1, NULL), SF_OK);
    outbox_delivery d[2];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(f->o, "hook", g_now, g_now, 2, d, &n), SF_OK);
    assert_int_equal(n, 2);
    int unfinished = -1;
    int64_t created = 0;
    assert_int_equal(outbox_attempt_begin(f->o, d[0].id, &unfinished, &created), SF_OK);
    outbox_outcome ok = {.delivery_id = d[0].id, .result = OUTBOX_RESULT_OK};
    assert_int_equal(outbox_attempt_begin_after(f->o, &ok, d[1].id, &unfinished, &created), SF_OK);
    assert_int_equal(unfinished, 0);
    assert_int_equal(created, g_now);
    assert_int_equal(count(f, "hook", OUTBOX_OK), 1);
    trail t = {0};
    assert_int_equal(outbox_attempts(f->o, "p2", on_attempt, &t), SF_OK);
    assert_int_equal(t.n, 1); /* p2's attempt is counted: "started" */
    /* The first delivery is not in flight any more: neither write happens. */
    outbox_outcome again = {.delivery_id = d[0].id,
                            .result = OUTBOX_RESULT_RETRY,
                            .retry_at_ms = g_now + 1000,
                            .error = "503"};
    assert_int_equal(outbox_attempt_begin_after(f->o, &again, d[1].id, &unfinished, &created),
                     SF_EINVAL);
    trail t2 = {0};
    assert_int_equal(outbox_attempts(f->o, "p2", on_attempt, &t2), SF_OK);
    assert_int_equal(t2.n, 1);
    assert_int_equal(count(f, "hook", OUTBOX_OK), 1);
    outbox_delivery_clear(d, n);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    log_set_level(SF_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        T(put_is_idempotent_on_alert_id),
        T(put_refuses_bad_arguments),
        T(claim_marks_inflight_and_returns_the_alert),
        T(claim_honours_max_and_due_order),
        T(retry_is_not_claimed_before_its_time),
        T(inflight_is_pending_again_after_reopen),
        T(dead_letters_list_retry_and_drop),
        T(dlq_retry_all_moves_every_dead_delivery),
        T(every_attempt_is_recorded_for_the_audit_trail),
        T(long_error_text_is_bounded),
        T(put_batch_stores_a_group_in_one_transaction),
        T(outbox_writes_leave_the_connection_at_full_sync),
        T(attempt_begin_after_records_both_or_neither),
    };
    return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
