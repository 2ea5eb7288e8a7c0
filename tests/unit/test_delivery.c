/* Unit tests of core/daemon/delivery.c: backoff bounds; a worker settles outbox rows: retry until
   ok, dead letter on a permanent failure or after max_attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "model/alert.h"
#include "model/alert_codec.h"
#include "daemon/delivery.h"
#include "plugin/host.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tmpdir.h"

static atomic_int attempts;
static int fail_first;          /* RETRY this many times, then OK */
static sf_deliver_result after; /* what to return once fail_first is used up */

static sf_deliver_result deliver(sf_instance *in, void *st, const sf_alert *a, int64_t *ra)
{
    (void)in;
    (void)st;
    (void)a;
    int n = atomic_fetch_add(&attempts, 1) + 1;
    if (n <= fail_first) {
        *ra = 1; /* a server's Retry-After of 1 ms keeps the test fast */
        return SF_DELIVER_RETRY;
    }
    return after;
}

static void backoff_stays_within_the_doubling_ceiling(void **state)
{
    (void)state;
    delivery_policy p = {.retry_base_ms = 100, .retry_max_ms = 1000, .max_attempts = 5};
    uint64_t rng = 42;
    for (int failed = 1; failed <= 8; failed++) {
        int64_t ceil = 100;
        for (int i = 1; i < failed; i++)
            ceil = ceil * 2 > 1000 ? 1000 : ceil * 2;
        int64_t hi = 0;
        for (int k = 0; k < 2000; k++) {
            int64_t b = delivery_backoff_ms(&p, failed, &rng);
            assert_in_range(b, 0, ceil);
            if (b > hi)
                hi = b;
        }
        assert_true(hi > ceil / 2); /* full jitter spreads over the whole range */
    }
}

static sf_alert *make_alert(void)
{
    sf_alert *a = calloc(1, sizeof *a);
    strcpy(a->id, "0123456789abcdef");
    a->decision = strdup("churn");
    a->entity = strdup("acme");
    a->n_reasons = 1;
    a->reasons = calloc(1, sizeof *a->reasons);
    a->reasons[0].signal = strdup("logins");
    a->reasons[0].text = strdup("logins 80% below usual");
    a->reasons[0].x = 0.8;
    a->features = calloc(1, sizeof *a->features);
    a->features[0] = 0.8;
    return a;
}

static int64_t g_retry_for_ms; /* the policy's retry_for for run_worker */

/* Put one alert for target "out" in a fresh outbox and let a worker settle it. */
static outbox_state run_worker(int max_attempts, int *tries)
{
    char dir[64], err[256];
    assert_non_null(tmpdir_make(dir, sizeof dir));
    store *st;
    outbox *ob;
    assert_int_equal(store_open(dir, STORE_DURABILITY_OFF, &st, err, sizeof err), SF_OK);
    assert_int_equal(outbox_open(st, &ob), SF_OK);
    sf_alert *a = make_alert();
    char *stored = alert_encode(a);
    const char *targets[] = {"out"};
    assert_int_equal(outbox_put(ob, a->id, a->decision, a->entity, 0, stored, targets, 1, NULL),
                     SF_OK);
    free(stored);
    alert_free(a);

    static config_instance cfg = {.name = "out", .plugin = "t", .kind = SF_KIND_DELIVERY};
    loaded_plugin p = {.path = "t.so"};
    p.desc.name = "t";
    p.desc.kind = SF_KIND_DELIVERY;
    p.desc.deliver = deliver;
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    instance_create(in);
    instance_start(in);
    delivery_policy pol = {.retry_base_ms = 1,
                           .retry_max_ms = 2,
                           .max_attempts = max_attempts,
                           .retry_for_ms = g_retry_for_ms};
    atomic_store(&attempts, 0);
    delivery_worker *w = delivery_start(in, ob, &pol);
    /* Bounded wait (10 s) for the delivery to be settled, ok or dead. */
    size_t n_ok = 0, n_dead = 0;
    for (int i = 0; i < 1000 && n_ok + n_dead == 0; i++) {
        usleep(10000);
        outbox_count(ob, "out", OUTBOX_OK, &n_ok);
        outbox_count(ob, "out", OUTBOX_DEAD, &n_dead);
    }
    delivery_stop(w);
    instance_free(in);
    *tries = atomic_load(&attempts);
    outbox_close(ob);
    store_close(st);
    tmpdir_remove(dir);
    return n_ok ? OUTBOX_OK : n_dead ? OUTBOX_DEAD : OUTBOX_PENDING;
}

static void retries_until_delivered(void **state)
{
    (void)state;
    fail_first = 3;
    after = SF_DELIVER_OK;
    int tries;
    assert_int_equal(run_worker(8, &tries), OUTBOX_OK);
    assert_int_equal(tries, 4);
}

static void permanent_failure_is_dead_lettered_at_once(void **state)
{
    (void)state;
    fail_first = 0;
    after = SF_DELIVER_FAIL;
    int tries;
    assert_int_equal(run_worker(8, &tries), OUTBOX_DEAD);
    assert_int_equal(tries, 1);
}

static void gives_up_after_max_attempts(void **state)
{
    (void)state;
    fail_first = 1000;
    int tries;
    assert_int_equal(run_worker(5, &tries), OUTBOX_DEAD);
    assert_int_equal(tries, 5);
}

/* The budget is a duration: with no count limit, 30 failures in a row are retried. */
static void retry_budget_is_a_duration_not_a_count(void **state)
{
    (void)state;
    fail_first = 30;
    after = SF_DELIVER_OK;
    g_retry_for_ms = 60 * 1000;
    int tries;
    assert_int_equal(run_worker(0, &tries), OUTBOX_OK);
    assert_int_equal(tries, 31);
    g_retry_for_ms = 0;
}

static void retry_for_dead_letters_once_spent(void **state)
{
    (void)state;
    fail_first = 1 << 30;
    g_retry_for_ms = 200;
    int tries;
    assert_int_equal(run_worker(0, &tries), OUTBOX_DEAD);
    assert_true(tries > 1); /* retried meanwhile, at 1 ms Retry-After each */
    g_retry_for_ms = 0;
}

/* An attempt counts before deliver runs: one that never finishes (a crash) still counts, and
   shows as "started" in the audit trail; the recorded outcome does not count it twice. */
static void attempt_is_counted_before_deliver(void **state)
{
    (void)state;
    char dir[64], err[256];
    assert_non_null(tmpdir_make(dir, sizeof dir));
    store *st;
    outbox *ob;
    assert_int_equal(store_open(dir, STORE_DURABILITY_OFF, &st, err, sizeof err), SF_OK);
    assert_int_equal(outbox_open(st, &ob), SF_OK);
    const char *targets[] = {"out"};
    assert_int_equal(outbox_put(ob, "a1", "d", "e", 0, "{}", targets, 1, NULL), SF_OK);
    outbox_delivery d[1];
    size_t n = 0;
    assert_int_equal(outbox_claim_due_ex(ob, "out", INT64_MAX, INT64_MAX, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    int unfinished = -1;
    int64_t created = 0;
    assert_int_equal(outbox_attempt_begin(ob, d[0].id, &unfinished, &created), SF_OK);
    assert_int_equal(unfinished, 0);
    assert_true(created > 0);
    int64_t id = d[0].id;
    outbox_delivery_clear(d, n);
    /* "Crash": reopen, which makes in-flight rows pending again. */
    outbox_close(ob);
    assert_int_equal(outbox_open(st, &ob), SF_OK);
    assert_int_equal(outbox_claim_due_ex(ob, "out", INT64_MAX, INT64_MAX, 1, d, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].attempts, 1); /* the unfinished attempt counted */
    assert_int_equal(outbox_attempt_begin(ob, id, &unfinished, &created), SF_OK);
    assert_int_equal(unfinished, 1);
    assert_int_equal(outbox_result_counted(ob, id, OUTBOX_RESULT_OK, 0, NULL), SF_OK);
    outbox_delivery_clear(d, n);
    size_t ok = 0;
    assert_int_equal(outbox_count(ob, "out", OUTBOX_OK, &ok), SF_OK);
    assert_int_equal(ok, 1);
    outbox_close(ob);
    store_close(st);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_stays_within_the_doubling_ceiling),
        cmocka_unit_test(retries_until_delivered),
        cmocka_unit_test(permanent_failure_is_dead_lettered_at_once),
        cmocka_unit_test(gives_up_after_max_attempts),
        cmocka_unit_test(retry_budget_is_a_duration_not_a_count),
        cmocka_unit_test(retry_for_dead_letters_once_spent),
        cmocka_unit_test(attempt_is_counted_before_deliver),
    };
    return cmocka_run_group_tests_name("delivery", tests, NULL, NULL);
}
