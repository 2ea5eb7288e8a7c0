/* test_metrics.c - counters, gauges and histograms in Prometheus text (core/base/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "base/metrics.h"
#include "metrics_text.h"

static void has_line(const char *text, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s\n", line);
    char *padded = malloc(strlen(text) + 2);
    assert_non_null(padded);
    padded[0] = '\n';
    strcpy(padded + 1, text);
    if (!strstr(padded, want)) {
        free(padded);
        fail_msg("missing line `%s` in:\n%s", line, text);
    }
    free(padded);
}

static void histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    static const double bounds[] = {0.1, 1, 10};
    /* the first observation is above the lowest bound: that bucket still exists, at 0 */
    metrics_observe("t_lag_seconds", bounds, 3, 2);
    char *t = metrics_text();
    has_line(t, "t_lag_seconds_bucket{le=\"0.1\"} 0");
    has_line(t, "t_lag_seconds_bucket{le=\"1\"} 0");
    has_line(t, "t_lag_seconds_bucket{le=\"10\"} 1");
    has_line(t, "t_lag_seconds_bucket{le=\"+Inf\"} 1");
    free(t);
    metrics_observe("t_lag_seconds", bounds, 3, 0.05);
    metrics_observe("t_lag_seconds", bounds, 3, 1); /* on a bound: counted in it */
    metrics_observe("t_lag_seconds", bounds, 3, 100000);
    t = metrics_text();
    has_line(t, "t_lag_seconds_bucket{le=\"0.1\"} 1");
    has_line(t, "t_lag_seconds_bucket{le=\"1\"} 2");
    has_line(t, "t_lag_seconds_bucket{le=\"10\"} 3");
    has_line(t, "t_lag_seconds_bucket{le=\"+Inf\"} 4");
    has_line(t, "t_lag_seconds_sum 100003.05");
    has_line(t, "t_lag_seconds_count 4");
    free(t);
}

/* A histogram kept elsewhere is published cumulative, and setting it again replaces it. */
static void set_histogram_is_cumulative_and_replaces(void **state)
{
    (void)state;
    static const double bounds[] = {0.001, 0.01, 0.1};
    const uint64_t first[] = {2, 0, 3, 1};
    metrics_set_histogram("t_commit_seconds", bounds, 3, first, 0.5);
    char *t = metrics_text();
    has_line(t, "# TYPE t_commit_seconds histogram");
    has_line(t, "t_commit_seconds_bucket{le=\"0.001\"} 2");
    has_line(t, "t_commit_seconds_bucket{le=\"0.01\"} 2");
    has_line(t, "t_commit_seconds_bucket{le=\"0.1\"} 5");
    has_line(t, "t_commit_seconds_bucket{le=\"+Inf\"} 6");
    has_line(t, "t_commit_seconds_count 6");
    has_line(t, "t_commit_seconds_sum 0.5");
    free(t);
    const uint64_t later[] = {4, 1, 3, 1};
    metrics_set_histogram("t_commit_seconds", bounds, 3, later, 0.75);
    t = metrics_text();
    has_line(t, "t_commit_seconds_bucket{le=\"0.001\"} 4");
    has_line(t, "t_commit_seconds_bucket{le=\"0.01\"} 5");
    has_line(t, "t_commit_seconds_bucket{le=\"+Inf\"} 9");
    has_line(t, "t_commit_seconds_count 9");
    has_line(t, "t_commit_seconds_sum 0.75");
    free(t);
}

static void counters_and_gauges(void **state)
{
    (void)state;
    metrics_add("t_total{x=\"a\"}", 2);
    metrics_add("t_total{x=\"a\"}", 3);
    metrics_set("t_gauge", 7);
    metrics_set("t_gauge", 4);
    char *t = metrics_text();
    has_line(t, "t_total{x=\"a\"} 5");
    has_line(t, "t_gauge 4");
    free(t);
}

static void latency_bounds_ascend(void **state)
{
    (void)state;
    assert_true(metrics_latency_nbounds > 5);
    for (size_t i = 1; i < metrics_latency_nbounds; i++)
        assert_true(metrics_latency_bounds[i] > metrics_latency_bounds[i - 1]);
}

/* A handle adds to the series its name adds to, stays valid as the table grows and is sorted
   by /metrics, and adds from several threads at once lose nothing. */
static metrics_series *g_handle;

static void *add_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        metrics_series_add(g_handle, 1);
    return NULL;
}

static void series_handles_add_without_the_name(void **state)
{
    (void)state;
    metrics_series *h = metrics_series_get("t_handle_total{c=\"h\"}");
    assert_non_null(h);
    assert_ptr_equal(metrics_series_get("t_handle_total{c=\"h\"}"), h);
    metrics_series_add(h, 2);
    metrics_add("t_handle_total{c=\"h\"}", 3); /* the name and the handle: one series */
    char *t = metrics_text();
    has_line(t, "t_handle_total{c=\"h\"} 5");
    free(t);
    /* enough new series to grow the table, then /metrics sorts it: the handle still holds */
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t_a%03d_total", 99 - i);
        metrics_add(name, 1);
    }
    free(metrics_text());
    g_handle = h;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, add_many, NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    t = metrics_text();
    has_line(t, "t_handle_total{c=\"h\"} 80005");
    has_line(t, "t_a000_total 1");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(set_histogram_is_cumulative_and_replaces),
        cmocka_unit_test(counters_and_gauges),
        cmocka_unit_test(latency_bounds_ascend),
        cmocka_unit_test(series_handles_add_without_the_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
