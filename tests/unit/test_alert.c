/* test_alert.c - alert ids and the one-line JSON rendering (core/model/alert.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>

#include "model/alert.h"

static sf_alert *make(void)
{
    sf_alert *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->decision = strdup("churn_risk");
    a->entity = strdup("c\"1\\\n");
    a->time_ms = 1793491200000LL + 250; /* 2026-11-01T00:00:00.250Z */
    a->score = 0.1 + 0.2;               /* needs 17 digits to round-trip */
    a->n_reasons = 1;
    a->reasons = calloc(1, sizeof *a->reasons);
    assert_non_null(a->reasons);
    a->reasons[0].signal = strdup("tickets");
    a->reasons[0].x = 0.5;
    a->reasons[0].weight = 2;
    a->reasons[0].contribution = 1;
    a->reasons[0].text = strdup("2 tickets");
    alert_make_id(a->decision, a->entity, a->time_ms, a->id);
    return a;
}

static void json_has_every_field_with_exact_numbers(void **state)
{
    (void)state;
    sf_alert *a = make();
    assert_int_equal(alert_render_json(a), SF_OK);
    assert_null(strchr(a->json, '\n')); /* one line, even with a newline in the entity */
    json_object *o = json_tokener_parse(a->json);
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "alert_id", &v));
    assert_string_equal(json_object_get_string(v), a->id);
    assert_true(json_object_object_get_ex(o, "entity", &v));
    assert_string_equal(json_object_get_string(v), "c\"1\\\n");
    assert_true(json_object_object_get_ex(o, "time", &v));
    assert_string_equal(json_object_get_string(v), "2026-11-01T00:00:00.250Z");
    assert_true(json_object_object_get_ex(o, "score", &v));
    assert_true(json_object_get_double(v) == 0.1 + 0.2);
    assert_true(json_object_object_get_ex(o, "reasons", &v));
    assert_int_equal(json_object_array_length(v), 1);
    json_object *r = json_object_array_get_idx(v, 0), *f;
    assert_true(json_object_object_get_ex(r, "text", &f));
    assert_string_equal(json_object_get_string(f), "2 tickets");
    assert_true(json_object_object_get_ex(r, "contribution", &f));
    assert_true(json_object_get_double(f) == 1.0);
    json_object_put(o);
    alert_free(a);
}

/* RFC 8259 section 7, shortest escapes: \" \\ \n by name, other controls \u00XX, "/" as is. */
static void json_strings_use_the_shortest_escapes(void **state)
{
    (void)state;
    sf_alert *a = make();
    free(a->entity);
    a->entity = strdup("c\"1\\\n\x01/x");
    assert_int_equal(alert_render_json(a), SF_OK);
    assert_non_null(strstr(a->json, "\"entity\":\"c\\\"1\\\\\\n\\u0001/x\""));
    alert_free(a);
}

static void id_is_sha256_prefix_of_decision_entity_time(void **state)
{
    (void)state;
    /* python3: hashlib.sha256(b"d\0e\0" + b"0").hexdigest()[:32] */
    char id[40];
    alert_make_id("d", "e", 0, id);
    assert_string_equal(id, "bdf0c55bd5dbb3c172cc4ca432860a5e");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_has_every_field_with_exact_numbers),
        cmocka_unit_test(json_strings_use_the_shortest_escapes),
        cmocka_unit_test(id_is_sha256_prefix_of_decision_entity_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
