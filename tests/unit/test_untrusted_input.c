/*
 * test_untrusted_input.c - what a sender's bytes cannot do through the mapping
 * (core/ingest/mapping.c, core/ingest/utf8.c; docs/reliability.md, Untrusted input): an
 * escaped NUL cannot cut an id, entity or type short; invalid UTF-8 is refused with its
 * position; an event dated beyond max_future_skew is refused and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/limits.h"
#include "ingest/mapping.h"
#include "ingest/utf8.h"
#include "model/event.h"

static char err[SIGFLOW_MAX_ERROR_LEN];

static sf_status apply(mapping *m, const char *json, size_t len, sf_event **ev)
{
    err[0] = '\0';
    *ev = NULL;
    return mapping_apply(m, json, len, ev, err, sizeof err);
}

static mapping *canonical(void)
{
    diag d = {0};
    mapping *m = mapping_new(NULL, "t.ini", &d);
    assert_non_null(m);
    return m;
}

/* A JSON text with an escaped NUL in `field`: C would read "evt" for "evt\u0000A". */
static void escaped_nul_is_refused_in_entity_type_and_id(void **state)
{
    (void)state;
    mapping *m = canonical();
    static const char *docs[] = {
        "{\"entity\":\"victim\\u0000attacker\",\"type\":\"login\",\"time\":1}",
        "{\"entity\":\"e\",\"type\":\"log\\u0000in\",\"time\":1}",
    };
    for (size_t i = 0; i < 2; i++) {
        sf_event *ev;
        assert_int_equal(apply(m, docs[i], strlen(docs[i]), &ev), SF_EINVAL);
        assert_null(ev);
        assert_non_null(strstr(err, "contains an escaped NUL (\\u0000)"));
    }
    mapping_free(m);

    config_kv kv[] = {{.key = "map.entity", .value = "entity", .line = 2},
                      {.key = "map.type", .value = "type", .line = 3},
                      {.key = "map.time", .value = "time", .line = 4},
                      {.key = "map.id", .value = "id", .line = 5}};
    config_instance ci = {.name = "c",
                          .plugin = "webhook",
                          .kind = SF_KIND_CONNECTOR,
                          .line = 1,
                          .kv = kv,
                          .n_kv = 4};
    diag d = {0};
    m = mapping_new(&ci, "t.ini", &d);
    assert_non_null(m);
    const char *doc = "{\"entity\":\"e\",\"type\":\"t\",\"time\":1,\"id\":\"evt\\u0000A\"}";
    sf_event *ev;
    assert_int_equal(apply(m, doc, strlen(doc), &ev), SF_EINVAL);
    assert_non_null(strstr(err, "id contains an escaped NUL"));
    mapping_free(m);
}

static void invalid_utf8_is_refused_with_its_position(void **state)
{
    (void)state;
    mapping *m = canonical();
    const char doc[] = "{\"entity\":\"caf\xc3\xa9\",\"type\":\"t\",\"time\":1,\"note\":\"\xff\"}";
    sf_event *ev;
    assert_int_equal(apply(m, doc, sizeof doc - 1, &ev), SF_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err, "invalid UTF-8"));
    assert_non_null(strstr(err, "line 1 col 47")); /* the 0xff (byte column), not the é */
    const char good[] = "{\"entity\":\"caf\xc3\xa9\",\"type\":\"t\",\"time\":1}";
    assert_int_equal(apply(m, good, sizeof good - 1, &ev), SF_OK);
    assert_string_equal(ev->entity, "caf\xc3\xa9");
    event_free(ev);
    mapping_free(m);
}

static void utf8_validator_refuses_what_rfc3629_forbids(void **state)
{
    (void)state;
    assert_int_equal(utf8_invalid_at("\xc0\xaf", 2), 0);           /* overlong '/' */
    assert_int_equal(utf8_invalid_at("a\xed\xa0\x80", 4), 1);      /* a surrogate */
    assert_int_equal(utf8_invalid_at("ab\xf4\x90\x80\x80", 6), 2); /* above U+10FFFF */
    assert_int_equal(utf8_invalid_at("\xe2\x82", 2), 0);           /* cut short */
    assert_int_equal(utf8_invalid_at("\xf0\x9f\x98\x80", 4), 4);   /* U+1F600 is fine */
}

static void events_beyond_max_future_skew_are_refused_and_counted(void **state)
{
    (void)state;
    mapping *m = canonical();
    mapping_set_max_future_skew(3600 * 1000);
    const char *far = "{\"entity\":\"e\",\"type\":\"t\",\"time\":\"9999-12-31T00:00:00Z\"}";
    sf_event *ev;
    uint64_t before = mapping_misses(m, MAP_TIME);
    assert_int_equal(apply(m, far, strlen(far), &ev), SF_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err, "max_future_skew"));
    assert_int_equal(mapping_misses(m, MAP_TIME), before + 1);
    /* Ten minutes ahead is within the hour. */
    char near[128];
    snprintf(near, sizeof near, "{\"entity\":\"e\",\"type\":\"t\",\"time\":%lld}",
             (long long)time(NULL) * 1000 + 600 * 1000);
    assert_int_equal(apply(m, near, strlen(near), &ev), SF_OK);
    event_free(ev);
    /* Off (replay): the far one passes the mapping. */
    mapping_set_max_future_skew(0);
    assert_int_equal(apply(m, far, strlen(far), &ev), SF_OK);
    event_free(ev);
    mapping_free(m);
}

/* Times the scorer refuses (score_push: outside years 0000-9999) are refused at the door and
   counted, with the skew check off as under clock = event; before, they were acknowledged,
   journaled and never scored. */
static void times_outside_the_scorers_range_are_refused_and_counted(void **state)
{
    (void)state;
    mapping *m = canonical();
    mapping_set_max_future_skew(0);
    const char *docs[] = {"{\"entity\":\"e\",\"type\":\"t\",\"time\":100000000000000000}",
                          "{\"entity\":\"e\",\"type\":\"t\",\"time\":-70000000000000}",
                          "{\"entity\":\"e\",\"type\":\"t\",\"time\":253402300800000}"};
    for (size_t i = 0; i < 3; i++) {
        sf_event *ev;
        uint64_t before = mapping_misses(m, MAP_TIME);
        assert_int_equal(apply(m, docs[i], strlen(docs[i]), &ev), SF_EINVAL);
        assert_null(ev);
        assert_non_null(strstr(err, "outside the range sigflow scores"));
        assert_int_equal(mapping_misses(m, MAP_TIME), before + 1);
    }
    /* The last millisecond of 9999 is in range. */
    const char *edge = "{\"entity\":\"e\",\"type\":\"t\",\"time\":253402300799999}";
    sf_event *ev;
    assert_int_equal(apply(m, edge, strlen(edge), &ev), SF_OK);
    event_free(ev);
    mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escaped_nul_is_refused_in_entity_type_and_id),
        cmocka_unit_test(invalid_utf8_is_refused_with_its_position),
        cmocka_unit_test(utf8_validator_refuses_what_rfc3629_forbids),
        cmocka_unit_test(events_beyond_max_future_skew_are_refused_and_counted),
        cmocka_unit_test(times_outside_the_scorers_range_are_refused_and_counted),
    };
    return cmocka_run_group_tests_name("untrusted_input", tests, NULL, NULL);
}
