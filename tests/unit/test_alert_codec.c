/* Unit tests of core/model/alert_codec.c: a stored alert comes back field for field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model/alert_codec.h"

static void round_trip_keeps_every_field_exactly(void **state)
{
    (void)state;
    alert_reason r[2] = {{.signal = "logins",
                          .x = 0.1 + 0.2,
                          .weight = 2.5,
                          .contribution = 2.5 * (0.1 + 0.2),
                          .text = "logins 30% below \"usual\""},
                         {.signal = "tickets",
                          .x = 1.0 / 3.0,
                          .weight = -1,
                          .contribution = -1.0 / 3.0,
                          .text = ""}};
    double feats[2] = {0.1 + 0.2, 1.0 / 3.0};
    sf_alert a = {.id = "00112233445566778899aabbccddeeff",
                  .decision = "churn",
                  .question = "Will they churn?",
                  .entity = "c\xc3\xa9",
                  .time_ms = 1793491200123,
                  .score = 0.80000000000000004,
                  .reasons = r,
                  .n_reasons = 2,
                  .features = feats,
                  .attrs = "{\"owner\":\"ann@example.com\"}"};
    char *text = alert_encode(&a);
    assert_non_null(text);
    sf_alert *b = alert_decode(text);
    assert_non_null(b);
    assert_string_equal(b->id, a.id);
    assert_string_equal(b->decision, "churn");
    assert_string_equal(b->question, "Will they churn?");
    assert_string_equal(b->entity, "c\xc3\xa9");
    assert_true(b->time_ms == a.time_ms);
    assert_true(b->score == a.score); /* bit-exact doubles */
    assert_int_equal(b->n_reasons, 2);
    assert_true(b->reasons[0].x == 0.1 + 0.2);
    assert_true(b->reasons[1].contribution == -1.0 / 3.0);
    assert_string_equal(b->reasons[0].text, "logins 30% below \"usual\"");
    assert_true(b->features[1] == 1.0 / 3.0);
    assert_string_equal(b->attrs, a.attrs);
    /* The public JSON is rebuilt the same way a fresh alert's is. */
    assert_int_equal(alert_render_json(&a), SF_OK);
    assert_string_equal(b->json, a.json);
    free(a.json);
    free(text);
    alert_free(b);
}

static void text_that_is_not_an_alert_is_refused(void **state)
{
    (void)state;
    assert_null(alert_decode("not json"));
    assert_null(alert_decode("{}"));
    assert_null(alert_decode("{\"id\":\"x\",\"decision\":\"d\",\"entity\":\"e\",\"time_ms\":1,"
                             "\"score\":0.5,\"reasons\":[{}],\"features\":[1]}"));
    assert_null(alert_decode("{\"id\":\"x\",\"decision\":\"d\",\"entity\":\"e\",\"time_ms\":1,"
                             "\"score\":0.5,\"reasons\":[],\"features\":[1]}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_every_field_exactly),
        cmocka_unit_test(text_that_is_not_an_alert_is_refused),
    };
    return cmocka_run_group_tests_name("alert_codec", tests, NULL, NULL);
}
