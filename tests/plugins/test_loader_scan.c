/*
 * test_loader_scan.c - loader_scan and the inotify pickup: deterministic and idempotent
 * scans, a refusal logged once per version of a file, replaced files (refused ones are
 * retried, loaded ones need a restart), and live loading of copied, renamed and linked files.
 */
#include <poll.h>

#include "loader_harness.h"

/* Waits (5 s at most) for the watch descriptor, then handles what arrived. */
static int wait_and_handle(harness *h)
{
    struct pollfd pfd = {.fd = loader_watch_fd(h->reg), .events = POLLIN};
    assert_true(pfd.fd >= 0);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    return loader_watch_handle(h->reg);
}

static void replace_with(harness *h, const char *fixture, const char *as)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", h->dir, as);
    /* unlink first: the refused or loaded copy stays mapped, so the new one gets a new inode */
    assert_int_equal(unlink(p), 0);
    th_stage(h, fixture, as, 0755);
}

/* ---- scan ---------------------------------------------------------------------------- */

static void test_scan_loads_every_so_in_name_order(void **state)
{
    harness *h = *state;
    /* Created in the reverse of name order, so readdir order cannot pass for name order. */
    th_stage(h, "good_connector", "b_connector.so", 0755);
    th_stage(h, "good_delivery", "a_delivery.so", 0755);
    th_stage(h, "bad_magic", "bad_magic.txt", 0755); /* not *.so: never looked at */
    assert_int_equal(loader_scan(h->reg, h->dir), 2);
    assert_int_equal(loader_count(h->reg), 2);
    assert_string_equal(loader_at(h->reg, 0)->desc.name, "good_delivery");
    assert_string_equal(loader_at(h->reg, 1)->desc.name, "good_connector");
}

static void test_second_scan_loads_nothing_new(void **state)
{
    harness *h = *state;
    th_stage(h, "good_connector", NULL, 0755);
    th_stage(h, "good_delivery", NULL, 0755);
    assert_int_equal(loader_scan(h->reg, h->dir), 2);
    assert_int_equal(loader_scan(h->reg, h->dir), 0);
    assert_int_equal(loader_count(h->reg), 2);
}

static void test_scan_picks_up_a_file_added_since_the_last_scan(void **state)
{
    harness *h = *state;
    th_stage(h, "good_connector", NULL, 0755);
    assert_int_equal(loader_scan(h->reg, h->dir), 1);
    th_stage(h, "good_delivery", NULL, 0755);
    assert_int_equal(loader_scan(h->reg, h->dir), 1);
    assert_non_null(loader_find(h->reg, "good_delivery", 0));
}

static void test_scan_of_missing_directory_fails(void **state)
{
    harness *h = *state;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/absent", h->dir);
    assert_true(loader_scan(h->reg, p) < 0);
}

static void test_refused_file_is_logged_once_over_scans(void **state)
{
    harness *h = *state;
    th_stage(h, "bad_magic", NULL, 0755);
    th_stage(h, "good_connector", NULL, 0666);
    th_capture_begin(h);
    int first = loader_scan(h->reg, h->dir);
    int second = loader_scan(h->reg, h->dir);
    char *log = th_capture_end(h);
    assert_int_equal(first, 0);
    assert_int_equal(second, 0);
    assert_int_equal(th_count(log, "check=magic"), 1);
    assert_int_equal(th_count(log, "check=mode"), 1);
    free(log);
}

static void test_replaced_refused_file_is_tried_again(void **state)
{
    harness *h = *state;
    th_stage(h, "bad_magic", "x.so", 0755);
    assert_int_equal(loader_scan(h->reg, h->dir), 0);
    replace_with(h, "good_connector", "x.so");
    assert_int_equal(loader_scan(h->reg, h->dir), 1);
    assert_non_null(loader_find(h->reg, "good_connector", 0));
}

static void test_refused_mode_fixed_by_chmod_is_tried_again(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "good_connector", NULL, 0666);
    assert_int_equal(loader_scan(h->reg, h->dir), 0);
    assert_int_equal(chmod(p, 0755), 0);
    assert_int_equal(loader_scan(h->reg, h->dir), 1);
}

static void test_chmod_of_a_file_refused_for_its_content_is_not_logged_again(void **state)
{
    harness *h = *state;
    const char *p = th_stage(h, "bad_magic", NULL, 0755);
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    th_capture_begin(h);
    int first = loader_scan(h->reg, h->dir);
    assert_int_equal(chmod(p, 0700), 0); /* as install(1) does after writing */
    int second = loader_scan(h->reg, h->dir);
    int watched = loader_watch_handle(h->reg);
    char *log = th_capture_end(h);
    assert_int_equal(first + second + watched, 0);
    assert_int_equal(th_count(log, "check=magic"), 1);
    free(log);
}

static void test_replaced_loaded_plugin_needs_a_restart_and_is_logged_once(void **state)
{
    harness *h = *state;
    th_stage(h, "good_connector", "p.so", 0755);
    assert_int_equal(loader_scan(h->reg, h->dir), 1);
    replace_with(h, "good_delivery", "p.so");
    th_capture_begin(h);
    int first = loader_scan(h->reg, h->dir);
    int second = loader_scan(h->reg, h->dir);
    char *log = th_capture_end(h);
    assert_int_equal(first, 0);
    assert_int_equal(second, 0);
    assert_int_equal(th_count(log, "restarted"), 1);
    assert_int_equal(th_count(log, "level=warn"), 1);
    assert_null(loader_find(h->reg, "good_delivery", 0));
    assert_non_null(loader_find(h->reg, "good_connector", 0));
    free(log);
}

/* ---- watch --------------------------------------------------------------------------- */

static void test_watch_loads_a_file_copied_in(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    th_stage(h, "good_connector", "w.so", 0755); /* open, write, close: IN_CLOSE_WRITE */
    assert_int_equal(wait_and_handle(h), 1);
    assert_non_null(loader_find(h->reg, "good_connector", 0));
}

static void test_watch_loads_a_file_renamed_in(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    const char *tmp = th_stage(h, "good_delivery", ".w.so.tmp", 0755);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/w.so", h->dir);
    assert_int_equal(rename(tmp, p), 0); /* IN_MOVED_TO, as install(1) or mv */
    assert_int_equal(wait_and_handle(h), 1);
    assert_non_null(loader_find(h->reg, "good_delivery", 0));
}

static void test_watch_loads_a_symlink_created_in(void **state)
{
    harness *h = *state;
    char src[PATH_MAX], link[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", h->dir);
    assert_int_equal(mkdir(src, 0755), 0);
    snprintf(link, sizeof link, "%s/l.so", h->dir);
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    th_stage(h, "good_connector", "src/good_connector.so", 0755);
    assert_int_equal(symlink(h->path, link), 0); /* IN_CREATE only */
    assert_int_equal(wait_and_handle(h), 1);
    assert_non_null(loader_find(h->reg, "good_connector", 0));
}

static void test_watch_waits_for_a_file_being_written(void **state)
{
    harness *h = *state;
    char from[PATH_MAX], p[PATH_MAX];
    snprintf(from, sizeof from, "%s/good_connector.so", th_fixtures());
    snprintf(p, sizeof p, "%s/slow.so", h->dir);
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    int out = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    assert_true(out >= 0);
    assert_int_equal(write(out,
                           "\x7f"
                           "ELF",
                           4),
                     4); /* a first chunk only */
    th_capture_begin(h);
    int early = wait_and_handle(h); /* IN_CREATE of a regular file: not yet */
    char *log = th_capture_end(h);
    assert_int_equal(early, 0);
    assert_int_equal(th_count(log, "refused"), 0);
    free(log);
    /* Write the rest and close: now it loads. */
    int in = open(from, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    assert_int_equal(ftruncate(out, 0), 0);
    assert_int_equal(lseek(out, 0, SEEK_SET), 0);
    char buf[8192];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    assert_int_equal(fchmod(out, 0755), 0);
    assert_int_equal(close(out), 0);
    assert_int_equal(wait_and_handle(h), 1);
    assert_non_null(loader_find(h->reg, "good_connector", 0));
}

static void test_watch_loads_a_refused_file_once_its_mode_is_fixed(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    const char *p = th_stage(h, "good_connector", NULL, 0666);
    assert_int_equal(wait_and_handle(h), 0); /* refused: world-writable */
    assert_int_equal(chmod(p, 0755), 0);     /* IN_ATTRIB, as the refusal asked */
    assert_int_equal(wait_and_handle(h), 1);
    assert_non_null(loader_find(h->reg, "good_connector", 0));
}

static void test_watch_ignores_files_that_are_not_so(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    th_stage(h, "good_connector", "notes.txt", 0644);
    assert_int_equal(wait_and_handle(h), 0);
    assert_int_equal(loader_count(h->reg), 0);
}

static void test_second_watch_on_one_registry_is_refused(void **state)
{
    harness *h = *state;
    assert_int_equal(loader_watch_fd(h->reg), -1);
    assert_int_equal(loader_watch(h->reg, h->dir), SF_OK);
    assert_true(loader_watch_fd(h->reg) >= 0);
    assert_int_equal(loader_watch(h->reg, h->dir), SF_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, th_setup, th_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_scan_loads_every_so_in_name_order),
        T(test_second_scan_loads_nothing_new),
        T(test_scan_picks_up_a_file_added_since_the_last_scan),
        T(test_scan_of_missing_directory_fails),
        T(test_refused_file_is_logged_once_over_scans),
        T(test_replaced_refused_file_is_tried_again),
        T(test_refused_mode_fixed_by_chmod_is_tried_again),
        T(test_chmod_of_a_file_refused_for_its_content_is_not_logged_again),
        T(test_replaced_loaded_plugin_needs_a_restart_and_is_logged_once),
        T(test_watch_loads_a_file_copied_in),
        T(test_watch_loads_a_file_renamed_in),
        T(test_watch_loads_a_symlink_created_in),
        T(test_watch_waits_for_a_file_being_written),
        T(test_watch_loads_a_refused_file_once_its_mode_is_fixed),
        T(test_watch_ignores_files_that_are_not_so),
        T(test_second_watch_on_one_registry_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
