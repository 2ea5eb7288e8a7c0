/*
 * test_host_metric.c - a plugin's counters through host->metric_add (core/plugin/host.c and
 * host_metric.c): the series names docs/sdk.md gives (sigflow_plugin_PLUGIN_NAME_total with
 * the connector/target label), the same totals once names are remembered per instance, more
 * names than an instance remembers, refused names, and adds from several threads at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"
#include "metrics_text.h"
#include "plugin/host.h"

static const sf_host *H;

/* Does the exposition hold this whole line? */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static void expect_line(const char *line)
{
    char *t = metrics_text();
    bool ok = has_line(t, line);
    if (!ok)
        fail_msg("missing line `%s` in:\n%s", line, t);
    free(t);
}

static loaded_plugin plugin_named(const char *name, sf_plugin_kind kind)
{
    loaded_plugin p = {.path = "test.so"};
    p.desc.name = name;
    p.desc.kind = kind;
    return p;
}

static void counts_under_the_instance_series(void **state)
{
    (void)state;
    config_instance cfg = {.name = "billing", .plugin = "hookx", .kind = SF_KIND_CONNECTOR};
    loaded_plugin p = plugin_named("hookx", SF_KIND_CONNECTOR);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_non_null(in);
    for (int i = 0; i < 5; i++)
        H->metric_add(in, "accepted", 2);
    H->metric_add(in, "rejected", 1);
    expect_line("sigflow_plugin_hookx_accepted_total{connector=\"billing\"} 10");
    expect_line("sigflow_plugin_hookx_rejected_total{connector=\"billing\"} 1");
    /* a delivery's label is target; a second instance has its own series */
    config_instance cfg2 = {.name = "pager", .plugin = "outx", .kind = SF_KIND_DELIVERY};
    loaded_plugin p2 = plugin_named("outx", SF_KIND_DELIVERY);
    sf_instance *in2 = instance_new(&cfg2, &p2, NULL, NULL, NULL);
    assert_non_null(in2);
    H->metric_add(in2, "accepted", 1);
    H->metric_add(in2, "accepted", 1);
    expect_line("sigflow_plugin_outx_accepted_total{target=\"pager\"} 2");
    expect_line("sigflow_plugin_hookx_accepted_total{connector=\"billing\"} 10");
    instance_free(in2);
    instance_free(in);
}

static void more_names_than_remembered_still_count(void **state)
{
    (void)state;
    config_instance cfg = {.name = "many", .plugin = "manyx", .kind = SF_KIND_CONNECTOR};
    loaded_plugin p = plugin_named("manyx", SF_KIND_CONNECTOR);
    sf_instance *in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_non_null(in);
    char name[32], line[128];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 20; i++) {
            snprintf(name, sizeof name, "n%02d", i);
            H->metric_add(in, name, i);
        }
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof line, "sigflow_plugin_manyx_n%02d_total{connector=\"many\"} %d", i,
                 3 * i);
        expect_line(line);
    }
    /* refused names make no series, before and after names are remembered */
    H->metric_add(in, "bad-name", 1);
    H->metric_add(in, NULL, 1);
    H->metric_add(in, "", 1);
    char *t = metrics_text();
    assert_null(strstr(t, "bad-name"));
    assert_null(strstr(t, "manyx__total"));
    free(t);
    instance_free(in);
}

static sf_instance *g_in;

static void *add_many(void *arg)
{
    const char *name = arg;
    for (int i = 0; i < 10000; i++)
        H->metric_add(g_in, name, 1);
    return NULL;
}

static void concurrent_adds_lose_nothing(void **state)
{
    (void)state;
    config_instance cfg = {.name = "race", .plugin = "racex", .kind = SF_KIND_CONNECTOR};
    loaded_plugin p = plugin_named("racex", SF_KIND_CONNECTOR);
    g_in = instance_new(&cfg, &p, NULL, NULL, NULL);
    assert_non_null(g_in);
    /* two threads per name, all starting with nothing remembered */
    static char *const names[] = {"a", "b", "a", "b", "c", "c"};
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&th[i], NULL, add_many, names[i]), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    expect_line("sigflow_plugin_racex_a_total{connector=\"race\"} 20000");
    expect_line("sigflow_plugin_racex_b_total{connector=\"race\"} 20000");
    expect_line("sigflow_plugin_racex_c_total{connector=\"race\"} 20000");
    instance_free(g_in);
}

int main(void)
{
    H = host_table();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_under_the_instance_series),
        cmocka_unit_test(more_names_than_remembered_still_count),
        cmocka_unit_test(concurrent_adds_lose_nothing),
    };
    return cmocka_run_group_tests_name("host_metric", tests, NULL, NULL);
}
