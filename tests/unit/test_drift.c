/*
 * test_drift.c - schema drift (core/ingest/drift.c): the window, the threshold, the healthy /
 * drifted / recovered states with one alert per change, a never-healthy field staying quiet,
 * and the keys-only shape (docs/scoring.md "Schema drift").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "base/limits.h"
#include "ingest/drift.h"

typedef struct got {
    int n;
    char states[16][16];
    char fields[16][32];
} got;

static void sink(void *ctx, sf_alert *a)
{
    got *g = ctx;
    json_object *o = json_tokener_parse(a->json);
    assert_non_null(o);
    if (g->n < 16) {
        snprintf(g->states[g->n], 16, "%s",
                 json_object_get_string(json_object_object_get(o, "state")));
        snprintf(g->fields[g->n], 32, "%s",
                 json_object_get_string(json_object_object_get(o, "field")));
    }
    g->n++;
    json_object_put(o);
    alert_free(a);
}

static void feed(drift *d, json_object *doc, unsigned missed, int times)
{
    for (int i = 0; i < times; i++)
        drift_observe(d, missed, doc);
}

static void one_alert_per_change_with_hysteresis(void **state)
{
    (void)state;
    got g = {0};
    const char *names[] = {"user.id", NULL, "value"};
    drift *d = drift_new("dec", "hooks", names, 3, 10, 0.2, sink, &g);
    assert_non_null(d);
    json_object *doc = json_tokener_parse("{\"user\":{\"uid\":\"secret\"},\"value\":1}");
    /* value is missing from the start: never healthy, never an alert */
    feed(d, doc, 4, 10);
    assert_int_equal(g.n, 0);
    feed(d, doc, 4 | 1, 2); /* user.id: 2 of 10 = threshold, not above */
    assert_int_equal(g.n, 0);
    feed(d, doc, 4 | 1, 1); /* 3 of 10 > 0.2 */
    assert_int_equal(g.n, 1);
    assert_string_equal(g.states[0], "drift");
    assert_string_equal(g.fields[0], "user.id");
    feed(d, doc, 4 | 1, 10); /* stays drifted: no second alert */
    assert_int_equal(g.n, 1);
    feed(d, doc, 4, 8); /* 2 of 10 misses: at the threshold, not yet half of it */
    assert_int_equal(g.n, 1);
    feed(d, doc, 4, 1); /* 1 of 10 = threshold / 2: recovered */
    assert_int_equal(g.n, 2);
    assert_string_equal(g.states[1], "recovered");
    feed(d, doc, 4, 20);
    assert_int_equal(g.n, 2);
    json_object_put(doc);
    drift_free(d);
}

static void shape_has_keys_never_values_and_is_bounded(void **state)
{
    (void)state;
    char out[SIGFLOW_MAX_SHAPE_LEN];
    json_object *doc = json_tokener_parse(
        "{\"user\":{\"id\":\"u1\",\"email\":\"a@b.c\"},\"items\":[{\"sku\":\"x\"}],\"n\":42,"
        "\"q\\\"x\":1}");
    drift_shape(doc, out, sizeof out);
    assert_string_equal(out, "{\"user\":{\"id\",\"email\"},\"items\":[{\"sku\"}],\"n\",\"qx\"}");
    json_object_put(doc);
    /* a wide document: cut, still bounded */
    char big[20000] = "{";
    for (int i = 0; i < 1000; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"key_%d\":%d", i ? "," : "", i,
                 i);
    strcat(big, "}");
    doc = json_tokener_parse(big);
    assert_non_null(doc);
    drift_shape(doc, out, sizeof out);
    assert_true(strlen(out) < SIGFLOW_MAX_SHAPE_LEN);
    assert_non_null(strstr(out, "..."));
    json_object_put(doc);
    json_object *num = json_object_new_int(3);
    drift_shape(num, out, sizeof out);
    assert_string_equal(out, "(not an object)");
    json_object_put(num);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_alert_per_change_with_hysteresis),
        cmocka_unit_test(shape_has_keys_never_values_and_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
