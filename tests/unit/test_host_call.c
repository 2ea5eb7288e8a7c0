/*
 * test_host_call.c - which plugin call the calling thread is in (core/plugin/host_call.c), as
 * the crash handler reads it: "plugin=P instance=I callback=C" inside an instance callback,
 * the loader's noted call outside one, nothing after leaving; and per thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "plugin/host_call.h"

static void an_instance_call_is_named_until_it_is_left(void **state)
{
    (void)state;
    assert_null(host_current_call());
    assert_null(host_current_plugin());
    char ctx[64] = "plugin=webhook instance=billing";
    host_call_enter(ctx, "webhook", "request");
    assert_string_equal(host_current_call(), "plugin=webhook instance=billing callback=request");
    assert_string_equal(host_current_plugin(), "webhook");
    assert_string_equal(host_current_callback(), "request");
    host_call_leave();
    assert_null(host_current_call());
    assert_null(host_current_plugin());
    assert_null(host_current_callback());
    /* a second call names its own callback, not the text of the first */
    host_call_enter(ctx, "webhook", "stop");
    assert_string_equal(host_current_call(), "plugin=webhook instance=billing callback=stop");
    host_call_leave();
}

static void the_loaders_calls_are_named_too(void **state)
{
    (void)state;
    host_call_note("crashy", "/p/crashy.so", "init");
    assert_string_equal(host_current_call(),
                        "plugin=crashy plugin_file=/p/crashy.so callback=init");
    assert_string_equal(host_current_plugin(), "crashy");
    assert_string_equal(host_call_log_ctx(), "plugin=crashy");
    host_call_clear();
    assert_null(host_current_call());
    assert_null(host_current_plugin());
    assert_null(host_call_log_ctx());
}

static void *other_thread(void *arg)
{
    *(const char **)arg = host_current_call();
    return NULL;
}

static void each_thread_has_its_own(void **state)
{
    (void)state;
    host_call_enter("plugin=a instance=b", "a", "poll");
    const char *seen = "unset";
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_null(seen);
    assert_string_equal(host_current_call(), "plugin=a instance=b callback=poll");
    host_call_leave();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_instance_call_is_named_until_it_is_left),
        cmocka_unit_test(the_loaders_calls_are_named_too),
        cmocka_unit_test(each_thread_has_its_own),
    };
    return cmocka_run_group_tests_name("host_call", tests, NULL, NULL);
}
