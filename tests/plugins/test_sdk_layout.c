/*
 * test_sdk_layout.c - pins the ABI 1.0 layout of sdk/sigflow.h on x86_64 (LP64): offsets and
 * sizes of sf_plugin, sf_host, sf_option, sf_host_info and sf_http_response, and the values
 * of every public constant. A member inserted, removed, reordered or retyped fails the
 * build here. The runtime tests cover SF_HOST_HAS, SF_PLUGIN_INIT and SF_PLUGIN_DEFINE.
 */
#include "sigflow.h" /* first: the header must compile on its own */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define PIN(type, member, off)                                                                     \
    _Static_assert(offsetof(type, member) == (off), #type "." #member " moved: ABI break")
#define PIN_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " resized: ABI break")

/* ---- constants (any platform) -------------------------------------------------------- */

_Static_assert(SF_ABI_MAJOR == 1, "this file pins ABI major 1");
_Static_assert(SF_PLUGIN_MAGIC == 0x53464c57u, "magic is \"SFLW\"");
_Static_assert(SF_OK == 0 && SF_EINVAL == -1 && SF_ENOMEM == -2 && SF_EIO == -3 &&
                   SF_ETIMEOUT == -4 && SF_ERETRY == -5 && SF_EFATAL == -6 &&
                   SF_EUNSUPPORTED == -7 && SF_EABI == -8,
               "sf_status values are frozen");
_Static_assert(SF_KIND_CONNECTOR == 1 && SF_KIND_DELIVERY == 2, "kinds are frozen");
_Static_assert(SF_LOG_ERROR == 0 && SF_LOG_WARN == 1 && SF_LOG_INFO == 2 && SF_LOG_DEBUG == 3,
               "log levels are frozen");
_Static_assert(SF_OPT_STRING == 1 && SF_OPT_INT == 2 && SF_OPT_DOUBLE == 3 && SF_OPT_BOOL == 4 &&
                   SF_OPT_DURATION == 5 && SF_OPT_ENUM == 6 && SF_OPT_SECRET == 7,
               "option types are frozen");
_Static_assert(SF_OPT_REQUIRED == 0x1u && SF_OPT_SENSITIVE == 0x2u && SF_OPT_HAS_RANGE == 0x4u,
               "option flags are frozen");
_Static_assert(SF_DELIVER_OK == 0 && SF_DELIVER_RETRY == 1 && SF_DELIVER_FAIL == 2,
               "delivery results are frozen");
_Static_assert(SF_PLUGIN_REENTRANT == 0x1u, "descriptor flags are frozen");

#if defined(__x86_64__) && defined(__LP64__)

/* ---- sf_plugin: the frozen prefix, then the 1.0 members ---- */
PIN(sf_plugin, magic, 0);
PIN(sf_plugin, abi_major, 4);
PIN(sf_plugin, abi_minor, 6);
PIN(sf_plugin, struct_size, 8);
PIN(sf_plugin, min_host_minor, 12);
PIN(sf_plugin, flags, 14);
PIN(sf_plugin, name, 16);
PIN(sf_plugin, version, 24);
PIN(sf_plugin, description, 32);
PIN(sf_plugin, kind, 40);
PIN(sf_plugin, options, 48);
PIN(sf_plugin, init, 56);
PIN(sf_plugin, create, 64);
PIN(sf_plugin, start, 72);
PIN(sf_plugin, stop, 80);
PIN(sf_plugin, destroy, 88);
PIN(sf_plugin, poll, 96);
PIN(sf_plugin, poll_interval_ms, 104);
PIN(sf_plugin, request, 112);
PIN(sf_plugin, deliver, 120);
PIN_SIZE(sf_plugin, 128);
_Static_assert(sizeof(sf_plugin_kind) == 4, "sf_plugin.kind is 4 bytes");
_Static_assert(SF_OPT_TEMPLATE == 8 && SF_ESCAPE_JSON == 3 && SF_PLUGIN_DIGEST == 0x2u,
               "1.2 enum values are frozen");

/* ---- sf_host: size and version, then every 1.0 function in order ---- */
PIN(sf_host, size, 0);
PIN(sf_host, abi_major, 4);
PIN(sf_host, abi_minor, 6);
PIN(sf_host, log, 8);
PIN(sf_host, vlog, 16);
PIN(sf_host, set_error, 24);
PIN(sf_host, instance_name, 32);
PIN(sf_host, opt_is_set, 40);
PIN(sf_host, opt_string, 48);
PIN(sf_host, opt_int, 56);
PIN(sf_host, opt_double, 64);
PIN(sf_host, opt_bool, 72);
PIN(sf_host, opt_duration_ms, 80);
PIN(sf_host, event_new, 88);
PIN(sf_host, event_set_value, 96);
PIN(sf_host, event_set_attrs_json, 104);
PIN(sf_host, event_free, 112);
PIN(sf_host, emit, 120);
PIN(sf_host, map_json, 128);
PIN(sf_host, checkpoint_get, 136);
PIN(sf_host, checkpoint_set, 144);
PIN(sf_host, metric_add, 152);
PIN(sf_host, should_stop, 160);
PIN(sf_host, thread_spawn, 168);
PIN(sf_host, sleep_ms, 176);
PIN(sf_host, alert_id, 184);
PIN(sf_host, alert_decision, 192);
PIN(sf_host, alert_question, 200);
PIN(sf_host, alert_entity, 208);
PIN(sf_host, alert_time_ms, 216);
PIN(sf_host, alert_score, 224);
PIN(sf_host, alert_reason_count, 232);
PIN(sf_host, alert_reason_signal, 240);
PIN(sf_host, alert_reason_text, 248);
PIN(sf_host, alert_reason_x, 256);
PIN(sf_host, alert_reason_weight, 264);
PIN(sf_host, alert_json, 272);
PIN(sf_host, alert_attr, 280);
PIN(sf_host, render, 288);
PIN(sf_host, alloc, 296);
PIN(sf_host, free, 304);
PIN(sf_host, req_method, 312);
PIN(sf_host, req_path, 320);
PIN(sf_host, req_header, 328);
PIN(sf_host, req_body, 336);
PIN(sf_host, last_error, 344);
/* since 1.1 */
PIN(sf_host, hmac_sha256, 352);
PIN(sf_host, equal_ct, 360);
/* since 1.2 */
PIN(sf_host, metric_set, 368);
PIN(sf_host, opt_prefixed, 376);
/* since 1.3: the message model */
PIN(sf_host, msg_title, 384);
PIN(sf_host, msg_reason_count, 392);
PIN(sf_host, msg_reason_signal, 400);
PIN(sf_host, msg_reason_text, 408);
PIN(sf_host, msg_reason_contribution, 416);
PIN(sf_host, msg_attr_count, 424);
PIN(sf_host, msg_attr_name, 432);
PIN(sf_host, msg_attr_value, 440);
PIN(sf_host, msg_link_count, 448);
PIN(sf_host, msg_link_name, 456);
PIN(sf_host, msg_link_url, 464);
PIN(sf_host, msg_feedback_url, 472);
PIN(sf_host, msg_json, 480);
PIN(sf_host, msg_item_count, 488);
PIN(sf_host, msg_item, 496);
PIN(sf_host, render_as, 504);
PIN(sf_host, template_check, 512);
PIN(sf_host, health_set, 520); /* since 1.4 */
PIN_SIZE(sf_host, 528);        /* grows only at its end, with a "since 1.N" marker */

/* ---- sf_option ---- */
PIN(sf_option, name, 0);
PIN(sf_option, type, 8);
PIN(sf_option, default_value, 16);
PIN(sf_option, flags, 24);
PIN(sf_option, min, 32);
PIN(sf_option, max, 40);
PIN(sf_option, choices, 48);
PIN(sf_option, help, 56);
PIN(sf_option, reserved, 64);
PIN_SIZE(sf_option, 80);

/* ---- sf_host_info and sf_http_response ---- */
PIN(sf_host_info, size, 0);
PIN(sf_host_info, abi_major, 4);
PIN(sf_host_info, abi_minor, 6);
PIN(sf_host_info, host_version, 8);
PIN_SIZE(sf_host_info, 16);
PIN(sf_http_response, status, 0);
PIN(sf_http_response, body, 8);
PIN(sf_http_response, content_type, 16);
PIN_SIZE(sf_http_response, 24);

#endif /* x86_64 LP64 */

/* ---- SF_HOST_HAS ------------------------------------------------------------------------ */

static void *fake_alloc(size_t size)
{
    (void)size;
    return NULL;
}

static void test_host_has_alloc_when_full_size_and_filled(void **state)
{
    (void)state;
    sf_host host = {.size = sizeof(sf_host), .alloc = fake_alloc};
    assert_true(SF_HOST_HAS(&host, alloc));
}

static void test_host_lacks_alloc_when_size_stops_before_it(void **state)
{
    (void)state;
    /* The slot holds a pointer, but an older host's table ends before it. */
    sf_host host = {.size = offsetof(sf_host, alloc), .alloc = fake_alloc};
    assert_false(SF_HOST_HAS(&host, alloc));
    host.size = offsetof(sf_host, alloc) + sizeof(void *) - 1; /* half a slot is no slot */
    assert_false(SF_HOST_HAS(&host, alloc));
    host.size = offsetof(sf_host, alloc) + sizeof(void *);
    assert_true(SF_HOST_HAS(&host, alloc));
}

static void test_host_lacks_a_function_left_null(void **state)
{
    (void)state;
    sf_host host = {.size = sizeof(sf_host)};
    assert_false(SF_HOST_HAS(&host, alloc));
}

static void test_null_host_has_nothing(void **state)
{
    (void)state;
    const sf_host *none = NULL;
    assert_false(SF_HOST_HAS(none, log));
}

/* ---- SF_PLUGIN_INIT and SF_PLUGIN_DEFINE ----------------------------------------------- */

static const sf_plugin test_descriptor = {SF_PLUGIN_INIT, .name = "layout_test",
                                          .kind = SF_KIND_DELIVERY};

SF_PLUGIN_DEFINE(test_descriptor)

static void test_plugin_init_fills_the_frozen_prefix(void **state)
{
    (void)state;
    assert_int_equal(test_descriptor.magic, SF_PLUGIN_MAGIC);
    assert_int_equal(test_descriptor.abi_major, SF_ABI_MAJOR);
    assert_int_equal(test_descriptor.abi_minor, SF_ABI_MINOR);
    assert_int_equal(test_descriptor.struct_size, sizeof(sf_plugin));
    assert_int_equal(test_descriptor.min_host_minor, 0);
    assert_int_equal(test_descriptor.flags, 0);
}

static void test_plugin_define_exports_the_v1_entry(void **state)
{
    (void)state;
    sf_host_info info = {.size = sizeof info, .abi_major = SF_ABI_MAJOR};
    sf_entry_fn entry = sigflow_plugin_v1;
    assert_ptr_equal(entry(&info), &test_descriptor);
    assert_string_equal(SF_ENTRY_SYMBOL, "sigflow_plugin_v1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_has_alloc_when_full_size_and_filled),
        cmocka_unit_test(test_host_lacks_alloc_when_size_stops_before_it),
        cmocka_unit_test(test_host_lacks_a_function_left_null),
        cmocka_unit_test(test_null_host_has_nothing),
        cmocka_unit_test(test_plugin_init_fills_the_frozen_prefix),
        cmocka_unit_test(test_plugin_define_exports_the_v1_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
