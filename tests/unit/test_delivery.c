/* Unit tests of core/delivery.c: backoff bounds, retry until ok, dead letter, deep copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "delivery.h"
#include "host.h"

static atomic_int attempts;
static int fail_first; /* RETRY this many times, then OK */
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
    a->json = strdup("{\"alert_id\":\"0123456789abcdef\"}");
    a->n_reasons = 1;
    a->reasons = calloc(1, sizeof *a->reasons);
    a->reasons[0].signal = strdup("logins");
    a->reasons[0].text = strdup("logins 80% below usual");
    a->reasons[0].x = 0.8;
    a->features = calloc(1, sizeof *a->features);
    a->features[0] = 0.8;
    return a;
}

static void clone_is_deep_and_equal(void **state)
{
    (void)state;
    sf_alert *a = make_alert();
    sf_alert *c = alert_clone(a);
    assert_non_null(c);
    assert_string_equal(c->id, a->id);
    assert_string_equal(c->entity, "acme");
    assert_ptr_not_equal(c->entity, a->entity);
    assert_string_equal(c->reasons[0].text, "logins 80% below usual");
    assert_ptr_not_equal(c->reasons[0].signal, a->reasons[0].signal);
    assert_true(c->features[0] == 0.8);
    alert_free(a);
    alert_free(c);
}

static int run_worker(int max_attempts)
{
    static cfg_instance cfg = {.name = "out", .plugin = "t", .kind = SF_KIND_DELIVERY};
    loaded_plugin p = {.path = "t.so"};
    p.desc.name = "t";
    p.desc.kind = SF_KIND_DELIVERY;
    p.desc.deliver = deliver;
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL, NULL);
    instance_create(in);
    instance_start(in);
    delivery_policy pol;
    delivery_policy_default(&pol);
    pol.retry_base_ms = 1;
    pol.retry_max_ms = 2;
    pol.max_attempts = max_attempts;
    delivery_worker *w = delivery_start(in, &pol);
    sf_alert *a = make_alert();
    atomic_store(&attempts, 0);
    assert_int_equal(delivery_enqueue(w, a), SF_OK);
    alert_free(a); /* the worker holds its own copy */
    delivery_stop(w, 10000); /* drains: returns once the alert is settled */
    instance_free(in);
    return atomic_load(&attempts);
}

static void retries_until_delivered(void **state)
{
    (void)state;
    fail_first = 3;
    after = SF_DELIVER_OK;
    assert_int_equal(run_worker(8), 4);
}

static void permanent_failure_is_not_retried(void **state)
{
    (void)state;
    fail_first = 0;
    after = SF_DELIVER_FAIL;
    assert_int_equal(run_worker(8), 1);
}

static void gives_up_after_max_attempts(void **state)
{
    (void)state;
    fail_first = 1000;
    assert_int_equal(run_worker(5), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_stays_within_the_doubling_ceiling),
        cmocka_unit_test(clone_is_deep_and_equal),
        cmocka_unit_test(retries_until_delivered),
        cmocka_unit_test(permanent_failure_is_not_retried),
        cmocka_unit_test(gives_up_after_max_attempts),
    };
    return cmocka_run_group_tests_name("delivery", tests, NULL, NULL);
}
