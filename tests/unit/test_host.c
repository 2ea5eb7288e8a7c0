/* Unit tests of core/plugin/host.c: the lifecycle state machine, the threading contract, the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/alert.h"
#include "model/event.h"
#include "plugin/host.h"

static const sf_host *H;
static int destroyed;
static int creates;
static atomic_int inside, max_inside;
static atomic_bool thread_saw_stop;

static sf_status create_ok(sf_instance *in, void **st)
{
    (void)in;
    creates++;
    *st = malloc(8);
    return SF_OK;
}

static sf_status create_fails(sf_instance *in, void **st)
{
    *st = NULL;
    H->set_error(in, "port %d is taken", 8080);
    return SF_EIO;
}

static void destroy(sf_instance *in, void *st)
{
    (void)in;
    free(st);
    destroyed++;
}

static void sleeper(sf_instance *in, void *arg)
{
    (void)arg;
    while (!H->sleep_ms(in, 60000)) {
    }
    atomic_store(&thread_saw_stop, true);
}

static sf_status start_spawns(sf_instance *in, void *st)
{
    (void)st;
    return H->thread_spawn(in, sleeper, NULL);
}

static sf_status poll_counts(sf_instance *in, void *st)
{
    (void)in;
    (void)st;
    int now = atomic_fetch_add(&inside, 1) + 1;
    int seen = atomic_load(&max_inside);
    while (now > seen && !atomic_compare_exchange_weak(&max_inside, &seen, now)) {
    }
    usleep(200);
    atomic_fetch_sub(&inside, 1);
    return SF_OK;
}

static config_instance cfg = {.name = "t", .plugin = "test", .kind = SF_KIND_CONNECTOR};

static loaded_plugin plugin_with(sf_status (*create)(sf_instance *, void **))
{
    loaded_plugin p = {.path = "test.so"};
    p.desc.name = "test";
    p.desc.kind = SF_KIND_CONNECTOR;
    p.desc.create = create;
    p.desc.destroy = destroy;
    p.desc.start = start_spawns;
    p.desc.poll = poll_counts;
    return p;
}

static void calls_out_of_order_are_refused(void **state)
{
    (void)state;
    loaded_plugin p = plugin_with(create_ok);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_int_equal(instance_start(in), SF_EINVAL); /* start before create */
    assert_int_equal(instance_stop(in), SF_EINVAL);
    assert_int_equal(instance_poll(in), SF_EINVAL);
    assert_int_equal(instance_create(in), SF_OK);
    assert_int_equal(instance_create(in), SF_EINVAL); /* twice */
    assert_int_equal(instance_get_state(in), INST_CREATED);
    destroyed = 0;
    instance_free(in);
    assert_int_equal(destroyed, 1);
}

static void failed_create_keeps_plugin_error_and_still_destroys(void **state)
{
    (void)state;
    loaded_plugin p = plugin_with(create_fails);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_int_equal(instance_create(in), SF_EIO);
    assert_int_equal(instance_get_state(in), INST_FAILED);
    assert_string_equal(instance_last_error(in), "port 8080 is taken");
    assert_int_equal(instance_start(in), SF_EINVAL);
    destroyed = 0;
    instance_free(in);
    assert_int_equal(destroyed, 1); /* destroy runs after a failed create, with NULL state */
}

static void stop_wakes_sleepers_and_joins_threads(void **state)
{
    (void)state;
    loaded_plugin p = plugin_with(create_ok);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_int_equal(instance_create(in), SF_OK);
    atomic_store(&thread_saw_stop, false);
    assert_int_equal(instance_start(in), SF_OK);
    assert_int_equal(instance_stop(in), SF_OK); /* would hang a minute without the wake-up */
    assert_true(atomic_load(&thread_saw_stop));
    assert_int_equal(instance_get_state(in), INST_STOPPED);
    instance_free(in);
}

static void *poll_many(void *arg)
{
    for (int i = 0; i < 50; i++)
        instance_poll(arg);
    return NULL;
}

static void callbacks_of_one_instance_never_overlap(void **state)
{
    (void)state;
    loaded_plugin p = plugin_with(create_ok);
    p.desc.start = NULL;
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    instance_create(in);
    instance_start(in);
    atomic_store(&max_inside, 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, poll_many, in);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&max_inside), 1);
    instance_free(in);
}

static void emit_consumes_the_event_even_when_refused(void **state)
{
    (void)state;
    loaded_plugin p = plugin_with(create_ok);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    sf_event *ev = H->event_new(in, "acme", "login", 1);
    assert_non_null(ev);
    /* Not started: refused, and freed (ASan/valgrind would report the leak otherwise). */
    assert_int_equal(H->emit(in, ev), SF_EINVAL);
    assert_null(H->event_new(in, "", "login", 1));
    assert_string_equal(instance_last_error(in), "empty entity");
    instance_free(in);
}

static void table_size_gates_sf_host_has(void **state)
{
    (void)state;
    assert_int_equal(H->size, sizeof(sf_host));
    assert_true(SF_HOST_HAS(H, alloc));
    assert_true(SF_HOST_HAS(H, map_json));
    sf_host shorter = *H;
    shorter.size = (uint32_t)offsetof(sf_host, alloc);
    assert_false(SF_HOST_HAS(&shorter, alloc));
    assert_true(SF_HOST_HAS(&shorter, log));
}

static void render_fills_alert_variables(void **state)
{
    (void)state;
    alert_reason r[2] = {
        {.signal = "logins",
         .x = 1,
         .weight = 2,
         .contribution = 2,
         .text = "logins 100% below usual"},
        {.signal = "tickets", .x = 0.5, .weight = 1, .contribution = 0.5, .text = ""}};
    sf_alert a = {.id = "abc",
                  .decision = "churn",
                  .question = "Q?",
                  .entity = "acme",
                  .time_ms = 0,
                  .score = 0.875,
                  .reasons = r,
                  .n_reasons = 2,
                  .attrs = "{\"owner\":\"ann@example.com\",\"seats\":3}"};
    char *s = H->render(&a, "{{entity}} {{score}} {{score_pct}}% {{time}} {{attr.owner}} "
                            "{{attr.seats}}\n{{reasons}}");
    assert_non_null(s);
    assert_string_equal(s, "acme 0.88 88% 1970-01-01T00:00:00.000Z ann@example.com 3\n"
                           "logins 100% below usual\ntickets");
    H->free(s);
    assert_null(H->render(&a, "{{nosuch}}"));
    assert_null(H->render(&a, "{{entity"));
}

int main(void)
{
    H = host_table();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_out_of_order_are_refused),
        cmocka_unit_test(failed_create_keeps_plugin_error_and_still_destroys),
        cmocka_unit_test(stop_wakes_sleepers_and_joins_threads),
        cmocka_unit_test(callbacks_of_one_instance_never_overlap),
        cmocka_unit_test(emit_consumes_the_event_even_when_refused),
        cmocka_unit_test(table_size_gates_sf_host_has),
        cmocka_unit_test(render_fills_alert_variables),
    };
    return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
