/*
 * test_loader_guard.c - what the loader does so that a plugin file cannot crash or hold the
 * process that loads it (docs/reliability.md, Plugins): a private copy is what runs (`cp`
 * over the loaded file changes nothing), the descriptor's strings are the host's, init has a
 * deadline, probe mode (check, plugins) survives a crashing or hanging init, safe mode
 * refuses a file named in <state_dir>/crashes, init's log lines name the plugin, and a scan
 * refuses a plugin_dir others can write to and links leading out of it.
 */
#include "loader_harness.h"

#include <dlfcn.h>

#include "plugin/host.h"

/* Rewrites `path` in place (same inode), as `cp other.so path` does: truncate, then write. */
static void overwrite_in_place(const char *path, const char *fixture)
{
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s.so", th_fixtures(), fixture);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    int out = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(out >= 0);
    char buf[8192];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    /* Past the new end too, so no page of the old file survives anywhere. */
    memset(buf, 0xcc, sizeof buf);
    for (int i = 0; i < 64; i++)
        assert_int_equal(write(out, buf, sizeof buf), (ssize_t)sizeof buf);
    close(out);
    close(in);
}

static void test_cp_over_a_loaded_plugin_does_not_reach_the_running_code(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_delivery", "p.so", 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    const loaded_plugin *lp = loader_find(h->reg, "good_delivery", 0);
    assert_non_null(lp);
    overwrite_in_place(p, "good_connector");
    /* Today's mapping of the file itself would now run other bytes, or fault. */
    int64_t retry = -1;
    assert_int_equal(lp->desc.deliver(NULL, NULL, NULL, &retry), SF_DELIVER_OK);
    void *st = (void *)1;
    assert_int_equal(lp->desc.create(NULL, &st), SF_OK);
    assert_null(st);
    assert_string_equal(lp->desc.name, "good_delivery");
    assert_string_equal(lp->desc.description, "test fixture");
}

static void test_descriptor_strings_and_options_are_host_copies(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
    const loaded_plugin *lp = loader_find(h->reg, "good_connector", 0);
    assert_non_null(lp);
    /* What the plugin's entry function hands out today, read again from the plugin. */
    void *sym = dlsym(lp->dl, SF_ENTRY_SYMBOL);
    assert_non_null(sym);
    sf_entry_fn entry;
    memcpy(&entry, &sym, sizeof sym);
    const sf_plugin *theirs = entry(&th_info);
    assert_ptr_not_equal(lp->desc.name, theirs->name);
    assert_string_equal(lp->desc.name, theirs->name);
    assert_non_null(theirs->options);
    assert_ptr_not_equal(lp->desc.options, theirs->options);
    assert_string_equal(lp->desc.options[0].name, theirs->options[0].name);
    assert_ptr_not_equal(lp->desc.options[0].name, theirs->options[0].name);
}

static void test_init_that_hangs_is_refused_at_its_deadline(void **state)
{
    harness *h = *state;
    loader_set_call_timeout(h->reg, 300);
    const char *p = th_stage(h, "init_hangs", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_ETIMEOUT);
    th_assert_contains(h->err, ": init: ");
    th_assert_contains(h->err, "did not return within 300 ms");
    assert_null(loader_find(h->reg, "init_hangs", 0));
    /* The registry goes on: the next file loads. */
    p = th_stage(h, "good_delivery", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
}

static void test_probe_refuses_an_init_that_crashes_and_lives(void **state)
{
    harness *h = *state;
    loader_set_probe(h->reg, true);
    th_stage(h, "init_crashes", NULL, 0755);
    th_stage(h, "good_delivery", NULL, 0755);
    th_capture_begin(h);
    int loaded = loader_scan(h->reg, h->dir);
    char *log = th_capture_end(h);
    assert_int_equal(loaded, 1);
    assert_non_null(loader_find(h->reg, "good_delivery", 0));
    assert_null(loader_find(h->reg, "init_crashes", 0));
    th_assert_contains(log, "check=init");
    th_assert_contains(log, "tried in a child process");
    const char *why = loader_refusal_for(h->reg, "init_crashes");
    assert_non_null(why);
    th_assert_contains(why, "init_crashes.so: init: ");
    free(log);
}

static void test_probe_refuses_an_init_that_hangs(void **state)
{
    harness *h = *state;
    loader_set_probe(h->reg, true);
    loader_set_call_timeout(h->reg, 300);
    const char *p = th_stage(h, "init_hangs", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_ETIMEOUT);
    th_assert_contains(h->err, ": init: did not return within 300 ms");
}

static void test_probe_reports_a_failing_init_with_its_status(void **state)
{
    harness *h = *state;
    loader_set_probe(h->reg, true);
    const char *p = th_stage(h, "init_fails", NULL, 0755);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, ": init: returned ");
}

static void test_probe_runs_init_in_a_child_first(void **state)
{
    harness *h = *state;
    loader_free(h->reg);
    h->reg = loader_new(host_table(), host_info());
    assert_non_null(h->reg);
    loader_set_probe(h->reg, true);
    const char *p = th_stage(h, "init_logs", NULL, 0755);
    th_capture_begin(h);
    int rc = loader_load_file(h->reg, p, h->err, sizeof h->err);
    char *log = th_capture_end(h);
    assert_int_equal(rc, SF_OK);
    assert_non_null(loader_find(h->reg, "init_logs", 0));
    /* The child shares our stderr: once there, then once here after it survived. */
    assert_int_equal(th_count(log, "init_logs says hello"), 2);
    free(log);
}

static void test_init_log_lines_name_the_plugin(void **state)
{
    harness *h = *state;
    loader_free(h->reg);
    h->reg = loader_new(host_table(), host_info());
    assert_non_null(h->reg);
    const char *p = th_stage(h, "init_logs", NULL, 0755);
    th_capture_begin(h);
    int rc = loader_load_file(h->reg, p, h->err, sizeof h->err);
    char *log = th_capture_end(h);
    assert_int_equal(rc, SF_OK);
    th_assert_contains(log, "plugin=init_logs");
    th_assert_contains(log, "init_logs says hello");
    assert_null(strstr(log, "plugin=?"));
    free(log);
}

static void write_crashes(harness *h, const char *name, int times)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/crashes", h->dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < times; i++)
        fprintf(f, "%s\n", name);
    assert_int_equal(fclose(f), 0);
}

static void test_safe_mode_refuses_a_plugin_whose_init_crashed_twice(void **state)
{
    harness *h = *state;
    write_crashes(h, "init_logs", 2);
    assert_int_equal(loader_set_crash_dir(h->reg, h->dir), SF_OK);
    const char *p = th_stage(h, "init_logs", NULL, 0755);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err, ": safe_mode: SAFE MODE: init_logs crashed the daemon 2 times");
    assert_int_equal(loader_safe_mode_refusals(h->reg), 1);
}

static void test_safe_mode_refuses_a_file_that_crashed_in_dlopen_twice(void **state)
{
    harness *h = *state;
    write_crashes(h, "x.so", 2);
    assert_int_equal(loader_set_crash_dir(h->reg, h->dir), SF_OK);
    const char *p = th_stage(h, "good_delivery", "x.so", 0755);
    assert_true(loader_load_file(h->reg, p, h->err, sizeof h->err) < 0);
    th_assert_contains(h->err,
                       "SAFE MODE: x.so crashed the daemon 2 times; its dlopen is not run again");
}

static void test_one_crash_is_not_safe_mode(void **state)
{
    harness *h = *state;
    write_crashes(h, "init_logs", 1);
    assert_int_equal(loader_set_crash_dir(h->reg, h->dir), SF_OK);
    const char *p = th_stage(h, "init_logs", NULL, 0755);
    assert_int_equal(loader_load_file(h->reg, p, h->err, sizeof h->err), SF_OK);
}

static void test_scan_refuses_a_group_writable_plugin_dir(void **state)
{
    harness *h = *state;
    th_stage(h, "good_delivery", NULL, 0755);
    assert_int_equal(chmod(h->dir, 0775), 0);
    th_capture_begin(h);
    int rc = loader_scan(h->reg, h->dir);
    char *log = th_capture_end(h);
    assert_int_equal(rc, SF_EINVAL);
    assert_int_equal(loader_count(h->reg), 0);
    th_assert_contains(log, "plugin directory refused: mode 0775");
    th_assert_contains(log, "chmod go-w");
    free(log);
}

static void test_scan_refuses_a_link_leading_out_of_the_plugin_dir(void **state)
{
    harness *h = *state;
    char outside[64], target[PATH_MAX], link[PATH_MAX];
    snprintf(outside, sizeof outside, "/tmp/sf_outside_XXXXXX");
    assert_non_null(mkdtemp(outside));
    snprintf(target, sizeof target, "%s/good_delivery.so", outside);
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s/good_delivery.so", th_fixtures());
    th_copy(from, target, 0755);
    snprintf(link, sizeof link, "%s/evil.so", h->dir);
    assert_int_equal(symlink(target, link), 0);
    th_capture_begin(h);
    int first = loader_scan(h->reg, h->dir);
    int second = loader_scan(h->reg, h->dir);
    char *log = th_capture_end(h);
    unlink(target);
    rmdir(outside);
    assert_int_equal(first, 0);
    assert_int_equal(second, 0);
    assert_null(loader_find(h->reg, "good_delivery", 0));
    assert_int_equal(th_count(log, "outside plugin_dir"), 1); /* once, not every scan */
    free(log);
}

static void test_scan_of_an_empty_dir_loads_nothing(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_scan(h->reg, h->dir), 0); /* UBSan: no qsort(NULL, 0, ...) */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, th_setup, th_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cp_over_a_loaded_plugin_does_not_reach_the_running_code),
        T(test_descriptor_strings_and_options_are_host_copies),
        T(test_init_that_hangs_is_refused_at_its_deadline),
        T(test_probe_refuses_an_init_that_crashes_and_lives),
        T(test_probe_refuses_an_init_that_hangs),
        T(test_probe_reports_a_failing_init_with_its_status),
        T(test_probe_runs_init_in_a_child_first),
        T(test_init_log_lines_name_the_plugin),
        T(test_safe_mode_refuses_a_plugin_whose_init_crashed_twice),
        T(test_safe_mode_refuses_a_file_that_crashed_in_dlopen_twice),
        T(test_one_crash_is_not_safe_mode),
        T(test_scan_refuses_a_group_writable_plugin_dir),
        T(test_scan_refuses_a_link_leading_out_of_the_plugin_dir),
        T(test_scan_of_an_empty_dir_loads_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
