/*
 * test_path_log.c - requests to unknown ingest paths in the log (core/ingest/path_log.c):
 * one line per path a minute with the count of the requests not logged since, a bound on
 * the lines of one minute over all paths, a bound on the paths remembered, and the path
 * (outside text) escaped. Time is passed in, so no test waits a minute.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/limits.h"
#include "ingest/path_log.h"

#define MIN 60000

/* stderr into a temporary file for the test's duration; captured() reads it back. */
static FILE *g_cap;
static int g_saved = -1;

static int capture_start(void **state)
{
    (void)state;
    fflush(stderr);
    g_cap = tmpfile();
    g_saved = dup(2);
    if (!g_cap || g_saved < 0 || dup2(fileno(g_cap), 2) < 0)
        return -1;
    return 0;
}

static int capture_stop(void **state)
{
    (void)state;
    fflush(stderr);
    dup2(g_saved, 2);
    close(g_saved);
    fclose(g_cap);
    return 0;
}

/* Everything written to stderr so far (static buffer). */
static const char *captured(void)
{
    static char buf[1 << 16];
    fflush(stderr);
    ssize_t got = pread(fileno(g_cap), buf, sizeof buf - 1, 0);
    buf[got > 0 ? got : 0] = '\0';
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void one_line_per_path_a_minute_with_the_count(void **state)
{
    (void)state;
    path_log *pl = path_log_new();
    assert_non_null(pl);
    int64_t t = 1000;
    assert_int_equal(path_log_unknown(pl, "POST", "/evnts", "10.0.0.1", "/events", t), 1);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(path_log_unknown(pl, "POST", "/evnts", "10.0.0.1", "/events", t + i), 0);
    assert_int_equal(path_log_unknown(pl, "GET", "/other", "10.0.0.2", "/events", t + 5), 1);
    assert_int_equal(path_log_unknown(pl, "POST", "/evnts", "10.0.0.1", "/events", t + MIN - 1), 0);
    assert_int_equal(path_log_unknown(pl, "POST", "/evnts", "10.0.0.1", "/events", t + MIN), 1);
    const char *out = captured();
    assert_int_equal(count(out, "path=/evnts "), 2);
    assert_int_equal(count(out, "path=/other "), 1);
    assert_non_null(strstr(out, "path=/evnts method=POST client=10.0.0.1 suppressed=0 "));
    /* the second line counts the 5 requests not logged in between */
    assert_non_null(strstr(out, "path=/evnts method=POST client=10.0.0.1 suppressed=5 "));
    assert_non_null(strstr(out, "level=warn"));
    assert_non_null(strstr(out, "connector paths: /events"));
    path_log_free(pl);
}

static void all_paths_together_have_a_line_budget(void **state)
{
    (void)state;
    path_log *pl = path_log_new();
    char p[32];
    for (int i = 0; i < SIGFLOW_UNKNOWN_PATH_LINES; i++) {
        snprintf(p, sizeof p, "/scan%d", i);
        assert_int_equal(path_log_unknown(pl, "GET", p, "10.0.0.9", "", 1000 + i), 1);
    }
    for (int i = 0; i < 7; i++) { /* over the budget: counted, not logged */
        snprintf(p, sizeof p, "/more%d", i);
        assert_int_equal(path_log_unknown(pl, "GET", p, "10.0.0.9", "", 2000 + i), 0);
    }
    assert_int_equal(count(captured(), "\n"), SIGFLOW_UNKNOWN_PATH_LINES);
    /* the next minute: a line again, carrying the 7 requests counted nowhere else */
    assert_int_equal(path_log_unknown(pl, "GET", "/late", "10.0.0.9", "", 1000 + MIN), 1);
    assert_non_null(strstr(captured(), "path=/late method=GET client=10.0.0.9 suppressed=0 "
                                       "others_suppressed=7 "));
    assert_non_null(strstr(captured(), "connector paths: none"));
    path_log_free(pl);
}

static void the_least_recently_logged_path_is_forgotten_first(void **state)
{
    (void)state;
    path_log *pl = path_log_new();
    char p[32];
    /* SIGFLOW_MAX_UNKNOWN_PATHS + 1 paths, each in its own minute (no budget limit) */
    for (int i = 0; i <= SIGFLOW_MAX_UNKNOWN_PATHS; i++) {
        snprintf(p, sizeof p, "/p%d", i);
        assert_int_equal(path_log_unknown(pl, "GET", p, "", "", (int64_t)i * MIN), 1);
    }
    int64_t now = (int64_t)SIGFLOW_MAX_UNKNOWN_PATHS * MIN + 1;
    /* the newest, /pN, is remembered within its minute: counted */
    snprintf(p, sizeof p, "/p%d", SIGFLOW_MAX_UNKNOWN_PATHS);
    assert_int_equal(path_log_unknown(pl, "GET", p, "", "", now), 0);
    /* /p0 was forgotten for /pN: a request to it is a new path */
    assert_int_equal(path_log_unknown(pl, "GET", "/p0", "", "", now + 1), 1);
    assert_non_null(strstr(captured(), "path=/p0 method=GET client=- suppressed=0"));
    path_log_free(pl);
}

static void a_hostile_path_stays_one_escaped_value(void **state)
{
    (void)state;
    path_log *pl = path_log_new();
    assert_int_equal(
        path_log_unknown(pl, "POST", "/x\nlevel=error msg=\"forged\"", "::1", "/a /b", 5), 1);
    const char *out = captured();
    assert_int_equal(count(out, "\n"), 1);
    assert_non_null(strstr(out, "path=\"/x\\nlevel=error msg=\\\"forged\\\"\" method=POST"));
    assert_non_null(strstr(out, "client=::1 "));
    /* a path longer than SIGFLOW_MAX_HTTP_PATH is cut to it */
    char big[SIGFLOW_MAX_HTTP_PATH * 2];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    assert_int_equal(path_log_unknown(pl, "POST", big, "", "", 6), 1);
    char want[SIGFLOW_MAX_HTTP_PATH + 16];
    snprintf(want, sizeof want, "path=%.*s ", SIGFLOW_MAX_HTTP_PATH, big);
    assert_non_null(strstr(captured(), want));
    path_log_free(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_line_per_path_a_minute_with_the_count, capture_start,
                                        capture_stop),
        cmocka_unit_test_setup_teardown(all_paths_together_have_a_line_budget, capture_start,
                                        capture_stop),
        cmocka_unit_test_setup_teardown(the_least_recently_logged_path_is_forgotten_first,
                                        capture_start, capture_stop),
        cmocka_unit_test_setup_teardown(a_hostile_path_stays_one_escaped_value, capture_start,
                                        capture_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
