/*
 * test_health_alert.c - integration-health alerts (core/model/health_alert.c): the JSON shape
 * of docs/scoring.md "Health alerts", deterministic ids, the outbox codec round trip, and
 * decision alerts marked "kind":"decision".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "model/alert.h"
#include "model/alert_codec.h"
#include "model/health_alert.h"
#include "plugin/host_alert.h"

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    assert_non_null(o);
    return o;
}

static const char *get(json_object *o, const char *k)
{
    json_object *v;
    assert_true(json_object_object_get_ex(o, k, &v));
    return json_object_get_string(v);
}

static void stale_alert_has_the_documented_shape(void **state)
{
    (void)state;
    health_figure fig[] = {{"events", 0, NULL}, {"expected", 4200, NULL}, {"window", 0, "1d"}};
    sf_alert *a = health_alert_new("churn", 1767225600000LL, "stale", "login_drop", NULL, NULL,
                                   "login_drop is \"stale\"", fig, 3);
    assert_non_null(a);
    assert_int_equal(a->kind, ALERT_HEALTH);
    assert_string_equal(a->entity, "");
    json_object *o = parse(a->json);
    assert_string_equal(get(o, "kind"), "health");
    assert_string_equal(get(o, "alert_id"), a->id);
    assert_string_equal(get(o, "decision"), "churn");
    assert_string_equal(get(o, "time"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(get(o, "state"), "stale");
    assert_string_equal(get(o, "signal"), "login_drop");
    assert_string_equal(get(o, "text"), "login_drop is \"stale\"");
    json_object *f;
    assert_true(json_object_object_get_ex(o, "figures", &f));
    assert_int_equal(json_object_get_int(json_object_object_get(f, "expected")), 4200);
    assert_string_equal(json_object_get_string(json_object_object_get(f, "window")), "1d");
    assert_false(json_object_object_get_ex(o, "entity", NULL));
    json_object_put(o);

    /* same inputs, same id; another state or time, another id */
    sf_alert *b =
        health_alert_new("churn", 1767225600000LL, "stale", "login_drop", NULL, NULL, "x", NULL, 0);
    sf_alert *c = health_alert_new("churn", 1767225600000LL, "recovered", "login_drop", NULL, NULL,
                                   "x", NULL, 0);
    assert_string_equal(a->id, b->id);
    assert_string_not_equal(a->id, c->id);
    alert_free(a);
    alert_free(b);
    alert_free(c);
}

static void drift_alert_names_connector_and_field(void **state)
{
    (void)state;
    health_figure fig[] = {{"share", 0.35, NULL}, {"shape", 0, "{\"user\":{\"id\"}}"}};
    sf_alert *a = health_alert_new("churn", 0, "drift", NULL, "hooks", "map.entity", "t", fig, 2);
    assert_non_null(a);
    json_object *o = parse(a->json);
    assert_string_equal(get(o, "connector"), "hooks");
    assert_string_equal(get(o, "field"), "map.entity");
    assert_false(json_object_object_get_ex(o, "signal", NULL));
    json_object_put(o);
    alert_free(a);
}

static void health_alert_survives_the_outbox_codec(void **state)
{
    (void)state;
    sf_alert *a =
        health_alert_new("churn", 5, "recovered", "quiet", NULL, NULL, "quiet recovered", NULL, 0);
    char *text = alert_encode(a);
    assert_non_null(text);
    sf_alert *b = alert_decode(text);
    assert_non_null(b);
    assert_int_equal(b->kind, ALERT_HEALTH);
    assert_string_equal(b->json, a->json);
    assert_string_equal(b->id, a->id);
    free(text);
    alert_free(a);
    alert_free(b);
    /* an unknown kind is not an alert this build can deliver */
    assert_null(alert_decode("{\"id\":\"x\",\"kind\":\"weather\",\"decision\":\"d\",\"entity\":"
                             "\"e\",\"time_ms\":1,\"score\":0.5,\"reasons\":[],\"features\":[]}"));
}

static void decision_alert_json_says_its_kind(void **state)
{
    (void)state;
    sf_alert a = {.decision = "d", .entity = "e", .time_ms = 0, .score = 0.5};
    assert_int_equal(alert_render_json(&a), SF_OK);
    json_object *o = parse(a.json);
    assert_string_equal(get(o, "kind"), "decision");
    assert_string_equal(get(o, "entity"), "e");
    json_object_put(o);
    free(a.json);
}

/* docs/scoring.md "Suppressed alerts": the JSON, its own id, and the outbox codec. */
static void suppressed_alert_has_kind_reason_and_own_id(void **state)
{
    (void)state;
    char plain[40];
    sf_alert a = {.kind = ALERT_SUPPRESSED,
                  .decision = "churn",
                  .entity = "c1",
                  .time_ms = 3600000,
                  .score = 0.8,
                  .model_version = 1,
                  .suppressed = "stale quiet"};
    alert_make_suppressed_id(a.decision, a.entity, a.time_ms, a.id);
    alert_make_id(a.decision, a.entity, a.time_ms, plain);
    assert_int_equal(strlen(a.id), 32);
    assert_string_not_equal(a.id, plain); /* never the id of the alert that did fire */
    assert_int_equal(alert_render_json(&a), SF_OK);
    json_object *o = parse(a.json), *v;
    assert_true(json_object_object_get_ex(o, "kind", &v));
    assert_string_equal(json_object_get_string(v), "suppressed");
    assert_true(json_object_object_get_ex(o, "suppressed", &v));
    assert_string_equal(json_object_get_string(v), "stale quiet");
    assert_true(json_object_object_get_ex(o, "entity", &v));
    assert_string_equal(json_object_get_string(v), "c1");
    json_object_put(o);
    char *text = alert_encode(&a);
    assert_non_null(text);
    sf_alert *b = alert_decode(text);
    assert_non_null(b);
    assert_int_equal(b->kind, ALERT_SUPPRESSED);
    assert_string_equal(b->suppressed, "stale quiet");
    assert_string_equal(b->id, a.id);
    free(text);
    free(a.json);
    alert_free(b);
}

static void templates_render_health_alerts_as_one_line(void **state)
{
    (void)state;
    sf_alert *a = health_alert_new("d", 0, "stale", "login_drop", NULL, NULL,
                                   "login_drop is stale: 0 login events", NULL, 0);
    char *s = host_alert_render(a, "{{entity}} {{score}} {{reasons}}");
    assert_non_null(s);
    assert_string_equal(s, "health stale: login_drop is stale: 0 login events");
    free(s);
    alert_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_alert_has_the_documented_shape),
        cmocka_unit_test(drift_alert_names_connector_and_field),
        cmocka_unit_test(health_alert_survives_the_outbox_codec),
        cmocka_unit_test(decision_alert_json_says_its_kind),
        cmocka_unit_test(templates_render_health_alerts_as_one_line),
        cmocka_unit_test(suppressed_alert_has_kind_reason_and_own_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
