/*
 * test_loader.c - loader_load_file against purpose-built plugins: good ones load with
 * their kind and name, every refusal reason fails the load with a text naming the file, the
 * field and both values (expected values from the SDK header and docs/sdk.md).
 */
#include "loader_harness.h"

/* Loads fixture `name` staged with mode 0755 and asserts a refusal of `field`. */
static void assert_refused(harness *h, const char *name, const char *field, const char *v1,
                           const char *v2)
{
    const char *p = th_stage(h, name, NULL, 0755);
    int rc = loader_load_file(h->reg, p, h->err, sizeof h->err);
    assert_true(rc < 0);
    assert_int_equal(loader_count(h->reg), 0);
    th_assert_contains(h->err, p);
    char tag[64];
    snprintf(tag, sizeof tag, ": %s: ", field);
    th_assert_contains(h->err, tag);
    th_assert_contains(h->err, v1);
    th_assert_contains(h->err, v2);
}

/* ---- good plugins -------------------------------------------------------------------- */

static void test_good_connector_loads_with_kind_name_and_options(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    const loaded_plugin *lp = loader_find(h->reg, "good_connector", 0);
    assert_non_null(lp);
    assert_int_equal(loader_count(h->reg), 1);
    assert_ptr_equal(loader_at(h->reg, 0), lp);
    assert_null(loader_at(h->reg, 1));
    assert_string_equal(lp->path, p);
    assert_non_null(lp->dl);
    assert_int_equal(lp->desc.kind, SF_KIND_CONNECTOR);
    assert_int_equal(lp->desc.struct_size, sizeof(sf_plugin));
    assert_non_null(lp->desc.poll);
    assert_int_equal(lp->desc.poll_interval_ms, 1000);
    assert_string_equal(lp->desc.options[0].name, "path");
    assert_string_equal(lp->desc.options[1].name, "interval");
    assert_null(lp->desc.options[2].name);
}

static void test_good_delivery_loads_as_delivery(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_delivery", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    const loaded_plugin *lp = loader_find(h->reg, "good_delivery", 0);
    assert_non_null(lp);
    assert_int_equal(lp->desc.kind, SF_KIND_DELIVERY);
    assert_non_null(lp->desc.deliver);
    assert_null(loader_find(h->reg, "good_connector", 0));
}

/* Every member of sf_plugin is "since 1.0": a descriptor shorter than the whole struct cuts
   off callbacks the plugin set (small_struct's poll, request and deliver). */
static void test_undersized_descriptor_cutting_off_callbacks_is_refused(void **state)
{
    char size[32], full[64];
    snprintf(size, sizeof size, "%zu bytes", offsetof(sf_plugin, poll));
    snprintf(full, sizeof full, "ABI 1.%d descriptor is %zu", SF_ABI_MINOR, sizeof(sf_plugin));
    assert_refused(*state, "small_struct", "struct_size", size, full);
}

static void test_create_fails_plugin_is_accepted_by_the_loader(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "create_fails", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    const loaded_plugin *lp = loader_find(h->reg, "create_fails", 0);
    assert_non_null(lp);
    assert_non_null(lp->desc.create);
}

static void test_same_file_loaded_twice_is_refused(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, "already loaded");
    assert_int_equal(loader_count(h->reg), 1);
}

/* ---- file checks, before dlopen ------------------------------------------------------ */

static void test_world_writable_file_is_refused(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0666);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, p);
    th_assert_contains(h->err, ": mode: ");
    th_assert_contains(h->err, "0666");
    th_assert_contains(h->err, "group or others");
    assert_null(loader_find(h->reg, "good_connector", 0));
}

static void test_group_writable_file_is_refused(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0775);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, ": mode: ");
    th_assert_contains(h->err, "0775");
    assert_int_equal(loader_count(h->reg), 0);
}

static void test_file_owned_by_another_user_is_refused(void **state)
{
    harness *h = *state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    const char *p = th_stage(h, "good_connector", NULL, 0755);
    assert_int_equal(chown(p, 1234, 1234), 0);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, p);
    th_assert_contains(h->err, ": owner: ");
    th_assert_contains(h->err, "owned by uid 1234");
    th_assert_contains(h->err, "expected root or 0");
    assert_int_equal(loader_count(h->reg), 0);
}

static void test_loose_file_is_refused_before_any_plugin_code_runs(void **state)
{
    harness *h = *state;
    char marker[PATH_MAX];
    snprintf(marker, sizeof marker, "%s/constructor-ran", h->dir);
    assert_int_equal(setenv("SF_TEST_CTOR_MARKER", marker, 1), 0);
    const char *p = th_stage(h, "ctor_marker", NULL, 0666);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    assert_int_not_equal(access(marker, F_OK), 0); /* dlopen would have run it */
    /* The same file with a safe mode loads, and its constructor does leave the marker. */
    assert_int_equal(chmod(p, 0755), 0);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    assert_int_equal(access(marker, F_OK), 0);
    unsetenv("SF_TEST_CTOR_MARKER");
}

static void test_directory_is_refused_as_not_a_regular_file(void **state)
{
    harness *h = *state;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sub.so", h->dir);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, p);
    th_assert_contains(h->err, ": file: ");
    th_assert_contains(h->err, "regular file");
}

static void test_missing_file_is_refused(void **state)
{
    harness *h = *state;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/absent.so", h->dir);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, p);
    th_assert_contains(h->err, "No such file");
}

static void test_file_that_is_not_elf_is_refused_with_the_dlopen_error(void **state)
{
    harness *h = *state;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/text.so", h->dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("not a shared object\n", f);
    fclose(f);
    assert_int_equal(chmod(p, 0644), 0);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, p);
    th_assert_contains(h->err, ": dlopen: ");
}

/* ---- entry symbol and descriptor ----------------------------------------------------- */

static void test_missing_entry_symbol_is_refused(void **state)
{
    assert_refused(*state, "no_entry", "entry", "no symbol sigflow_plugin_v1", "expected");
}

static void test_entry_of_another_abi_major_is_named(void **state)
{
    harness *h = *state;
    assert_refused(h, "abi_major_2", "entry", "sigflow_plugin_v2", "plugin ABI 2");
    th_assert_contains(h->err, "host speaks 1");
    th_assert_contains(h->err, "rebuild");
}

static void test_null_descriptor_is_refused(void **state)
{
    assert_refused(*state, "null_descriptor", "entry", "sigflow_plugin_v1", "returned NULL");
}

static void test_bad_magic_is_refused_with_both_values(void **state)
{
    assert_refused(*state, "bad_magic", "magic", "expected 0x53464c57", "found 0xdeadbeef");
}

static void test_abi_major_2_descriptor_is_refused(void **state)
{
    harness *h = *state;
    assert_refused(h, "abi_major_field_2", "abi_major", "plugin built for plugin ABI 2",
                   "host speaks 1");
    th_assert_contains(h->err, "rebuild");
}

static void test_newer_abi_minor_is_refused(void **state)
{
    harness *h = *state;
    char built[32], host[32];
    snprintf(built, sizeof built, "built for plugin ABI 1.%d", SF_ABI_MINOR + 3);
    snprintf(host, sizeof host, "host speaks 1.%d", SF_ABI_MINOR);
    assert_refused(h, "abi_minor_newer", "abi_minor", built, host);
    th_assert_contains(h->err, "upgrade sigflow");
}

static void test_larger_struct_than_host_knows_is_refused(void **state)
{
    harness *h = *state;
    char plugin_size[32], host_size[32];
    snprintf(plugin_size, sizeof plugin_size, "%zu bytes", sizeof(sf_plugin) + 64);
    snprintf(host_size, sizeof host_size, "at most %zu", sizeof(sf_plugin));
    assert_refused(h, "oversized_struct", "struct_size", plugin_size, host_size);
}

static void test_struct_shorter_than_frozen_prefix_is_refused(void **state)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%zu-byte frozen prefix", offsetof(sf_plugin, name));
    assert_refused(*state, "undersized_struct", "struct_size", "8 bytes", prefix);
}

static void test_struct_size_cutting_a_member_is_refused(void **state)
{
    char size[32];
    snprintf(size, sizeof size, "%zu bytes", offsetof(sf_plugin, options) + 4);
    assert_refused(*state, "misaligned_struct", "struct_size", size, "multiple of 8");
}

static void test_newer_min_host_minor_is_refused(void **state)
{
    char needs[32], host[32];
    snprintf(needs, sizeof needs, "host ABI 1.%d", SF_ABI_MINOR + 1);
    snprintf(host, sizeof host, "host speaks 1.%d", SF_ABI_MINOR);
    assert_refused(*state, "min_host_minor_newer", "min_host_minor", needs, host);
}

static void test_name_with_bad_characters_is_refused(void **state)
{
    assert_refused(*state, "bad_name", "name", "\"Bad-Name\"", "[a-z0-9_]{1,32}");
}

static void test_missing_name_is_refused(void **state)
{
    assert_refused(*state, "name_missing", "name", "missing", "[a-z0-9_]{1,32}");
}

static void test_name_longer_than_32_is_refused(void **state)
{
    assert_refused(*state, "long_name", "name", "abcdefghijklmnopqrstuvwxyz0123456", "{1,32}");
}

static void test_unknown_kind_is_refused(void **state)
{
    assert_refused(*state, "bad_kind", "kind", "7 is not", "connector (1) or delivery (2)");
}

static void test_connector_without_capture_callback_is_refused(void **state)
{
    assert_refused(*state, "connector_no_callbacks", "kind", "connector without",
                   "poll, request or start");
}

static void test_delivery_without_deliver_is_refused(void **state)
{
    assert_refused(*state, "delivery_no_deliver", "kind", "delivery without deliver", "expected");
}

static void test_duplicate_name_refuses_the_second_naming_both_files(void **state)
{
    harness *h = *state;
    char first[PATH_MAX];
    snprintf(first, sizeof first, "%s", th_stage(h, "dup_name_a", NULL, 0755));
    assert_int_equal(loader_load_file(h->reg, first, h->err, sizeof h->err), SF_OK);
    const char *second = th_stage(h, "dup_name_b", NULL, 0755);
    assert_true(loader_load_file(h->reg, second, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, second);
    th_assert_contains(h->err, first);
    th_assert_contains(h->err, ": name: ");
    th_assert_contains(h->err, "\"dup_name\"");
    assert_int_equal(loader_count(h->reg), 1);
    assert_int_equal(loader_find(h->reg, "dup_name", 0)->desc.kind, SF_KIND_CONNECTOR);
}

static void test_connector_and_delivery_may_share_a_name(void **state)
{
    harness *h = *state;
    char first[PATH_MAX];
    snprintf(first, sizeof first, "%s", th_stage(h, "dup_name_a", NULL, 0755));
    assert_int_equal(loader_load_file(h->reg, first, h->err, sizeof h->err), SF_OK);
    const char *second = th_stage(h, "dup_name_delivery", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, second, h->err, sizeof h->err), SF_OK);
    assert_int_equal(loader_count(h->reg), 2);
    assert_int_equal(loader_find(h->reg, "dup_name", SF_KIND_CONNECTOR)->desc.kind,
                     SF_KIND_CONNECTOR);
    assert_int_equal(loader_find(h->reg, "dup_name", SF_KIND_DELIVERY)->desc.kind,
                     SF_KIND_DELIVERY);
}

static void test_failing_init_is_refused_with_its_status(void **state)
{
    harness *h = *state;
    assert_refused(h, "init_fails", "init", "returned -6", "expected 0");
    assert_null(loader_find(h->reg, "init_fails", 0));
}

static void test_refusal_is_logged_as_one_line_naming_file_and_field(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "bad_magic", NULL, 0755);
    th_capture_begin(h);
    int rc = loader_load_file(h->reg, p, NULL, 0);
    char *log = th_capture_end(h);
    assert_true(rc < 0);
    assert_int_equal(th_count(log, "\n"), 1);
    th_assert_contains(log, "level=error");
    th_assert_contains(log, "check=magic");
    th_assert_contains(log, p);
    th_assert_contains(log, "0xdeadbeef");
    free(log);
}

/* ---- host table growth, seen from a plugin built against a newer header ---------------- */

/* The test's own host with the hypothetical 1.1 slot future_host_fn.c looks for. */
typedef struct host_next {
    sf_host base;
    void (*future_fn)(void);
} host_next;

static int future_calls;

static void future_fn(void)
{
    future_calls++;
}

static host_next next_host;

static void load_future_plugin(harness *h, uint32_t host_size)
{
    next_host.base = th_host;
    next_host.base.size = host_size;
    next_host.future_fn = future_fn;
    loader_free(h->reg);
    h->reg = loader_new(&next_host.base, &th_info);
    assert_non_null(h->reg);
    future_calls = 0;
    const char *p = th_stage(h, "future_host_fn", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
}

static void test_newer_plugin_skips_host_function_past_host_size(void **state)
{
    /* The slot is physically there and filled, but the host's size says it has none. */
    load_future_plugin(*state, sizeof(sf_host));
    assert_int_equal(future_calls, 0);
}

static void test_newer_plugin_calls_host_function_within_host_size(void **state)
{
    load_future_plugin(*state, sizeof(host_next));
    assert_int_equal(future_calls, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, th_setup, th_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_good_connector_loads_with_kind_name_and_options),
        T(test_good_delivery_loads_as_delivery),
        T(test_undersized_descriptor_cutting_off_callbacks_is_refused),
        T(test_create_fails_plugin_is_accepted_by_the_loader),
        T(test_same_file_loaded_twice_is_refused),
        T(test_world_writable_file_is_refused),
        T(test_group_writable_file_is_refused),
        T(test_file_owned_by_another_user_is_refused),
        T(test_loose_file_is_refused_before_any_plugin_code_runs),
        T(test_directory_is_refused_as_not_a_regular_file),
        T(test_missing_file_is_refused),
        T(test_file_that_is_not_elf_is_refused_with_the_dlopen_error),
        T(test_missing_entry_symbol_is_refused),
        T(test_entry_of_another_abi_major_is_named),
        T(test_null_descriptor_is_refused),
        T(test_bad_magic_is_refused_with_both_values),
        T(test_abi_major_2_descriptor_is_refused),
        T(test_newer_abi_minor_is_refused),
        T(test_larger_struct_than_host_knows_is_refused),
        T(test_struct_shorter_than_frozen_prefix_is_refused),
        T(test_struct_size_cutting_a_member_is_refused),
        T(test_newer_min_host_minor_is_refused),
        T(test_name_with_bad_characters_is_refused),
        T(test_missing_name_is_refused),
        T(test_name_longer_than_32_is_refused),
        T(test_unknown_kind_is_refused),
        T(test_connector_without_capture_callback_is_refused),
        T(test_delivery_without_deliver_is_refused),
        T(test_duplicate_name_refuses_the_second_naming_both_files),
        T(test_connector_and_delivery_may_share_a_name),
        T(test_failing_init_is_refused_with_its_status),
        T(test_refusal_is_logged_as_one_line_naming_file_and_field),
        T(test_newer_plugin_skips_host_function_past_host_size),
        T(test_newer_plugin_calls_host_function_within_host_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
