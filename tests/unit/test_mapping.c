/* test_mapping.c - JSON -> event mapping, canonical and map.* paths (core/ingest/mapping.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json.h>
#include <pthread.h>

#include "base/limits.h"
#include "ingest/mapping.h"

static char err[SIGFLOW_MAX_ERROR_LEN];

static sf_status apply(mapping *m, const char *json, sf_event **ev)
{
    err[0] = '\0';
    return mapping_apply(m, json, strlen(json), ev, err, sizeof err);
}

static mapping *canonical(void)
{
    diag d = {0};
    mapping *m = mapping_new(NULL, "t.ini", &d);
    assert_non_null(m);
    assert_int_equal(d.n, 0);
    return m;
}

/* An instance [connector c] at line 10 whose keys are on lines 11, 12, ... */
static config_instance make_inst(config_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kv[i].line = 11 + (int)i;
    return (config_instance){.name = "c",
                             .plugin = "webhook",
                             .kind = SF_KIND_CONNECTOR,
                             .line = 10,
                             .kv = kv,
                             .n_kv = n};
}

static json_object *attrs_of(const sf_event *ev)
{
    assert_non_null(ev->attrs);
    json_object *o = json_tokener_parse(ev->attrs);
    assert_non_null(o);
    assert_int_equal(strlen(ev->attrs), ev->attrs_len);
    return o;
}

static void canonical_reads_fields_and_keeps_the_rest_as_attrs(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    assert_int_equal(apply(m,
                           "{\"entity\":\"c1\",\"type\":\"login\",\"time\":"
                           "\"2026-11-01T12:00:00.250Z\",\"value\":3.5,\"plan\":\"pro\","
                           "\"n\":2}",
                           &ev),
                     SF_OK);
    assert_non_null(ev);
    assert_string_equal(ev->entity, "c1");
    assert_string_equal(ev->type, "login");
    assert_int_equal(ev->time_ms, 1793534400250LL);
    assert_true(ev->has_value);
    assert_true(ev->value == 3.5);
    assert_null(ev->source_id);
    json_object *a = attrs_of(ev), *v;
    assert_int_equal(json_object_object_length(a), 2);
    assert_true(json_object_object_get_ex(a, "plan", &v));
    assert_string_equal(json_object_get_string(v), "pro");
    assert_true(json_object_object_get_ex(a, "n", &v));
    assert_int_equal(json_object_get_int(v), 2);
    json_object_put(a);
    event_free(ev);
    assert_int_equal(mapping_seen(m), 1);
    for (int f = 0; f < MAP_NFIELDS; f++)
        assert_int_equal(mapping_misses(m, f), 0);
    mapping_free(m);
}

static void canonical_accepts_epoch_ms_and_no_value_no_attrs(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    assert_int_equal(apply(m, " {\"entity\":\"c1\",\"type\":\"t\",\"time\":1793534400000}\n", &ev),
                     SF_OK);
    assert_int_equal(ev->time_ms, 1793534400000LL);
    assert_false(ev->has_value);
    assert_null(ev->attrs);
    event_free(ev);
    /* null value is the same as no value */
    assert_int_equal(apply(m, "{\"entity\":\"c1\",\"type\":\"t\",\"time\":0,\"value\":null}", &ev),
                     SF_OK);
    assert_false(ev->has_value);
    event_free(ev);
    mapping_free(m);
}

static void canonical_entity_must_be_a_string(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    assert_int_equal(apply(m, "{\"entity\":42,\"type\":\"t\",\"time\":0}", &ev), SF_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err, "entity is not a non-empty string"));
    assert_int_equal(apply(m, "{\"entity\":\"\",\"type\":\"t\",\"time\":0}", &ev), SF_EINVAL);
    assert_int_equal(mapping_misses(m, MAP_ENTITY), 2);
    mapping_free(m);
}

static void counts_every_missing_field_and_reports_the_first(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    assert_int_equal(apply(m, "{\"type\":\"x\"}", &ev), SF_EINVAL);
    assert_string_equal(err, "missing entity");
    assert_int_equal(apply(m, "{\"entity\":\"e\",\"type\":7,\"time\":\"yesterday\"}", &ev),
                     SF_EINVAL);
    assert_string_equal(err, "type is not a non-empty string");
    assert_int_equal(apply(m, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0,\"value\":\"3\"}", &ev),
                     SF_EINVAL);
    assert_string_equal(err, "value is not a finite number");
    assert_int_equal(apply(m, "{\"entity\":\"e\",\"type\":\"t\",\"time\":1.5}", &ev), SF_EINVAL);
    assert_null(ev);
    assert_int_equal(mapping_seen(m), 4);
    assert_int_equal(mapping_misses(m, MAP_ENTITY), 1);
    assert_int_equal(mapping_misses(m, MAP_TYPE), 1);
    assert_int_equal(mapping_misses(m, MAP_TIME), 3);
    assert_int_equal(mapping_misses(m, MAP_VALUE), 1);
    assert_int_equal(mapping_misses(m, MAP_ID), 0);
    assert_string_equal(mapping_field_name(MAP_TIME), "time");
    mapping_free(m);
}

static void entity_of_256_bytes_passes_and_257_fails(void **state)
{
    (void)state;
    mapping *m = canonical();
    char doc[600], ent[SIGFLOW_MAX_ENTITY_LEN + 2];
    memset(ent, 'e', sizeof ent - 1);
    ent[SIGFLOW_MAX_ENTITY_LEN + 1] = '\0';
    sf_event *ev = NULL;
    snprintf(doc, sizeof doc, "{\"entity\":\"%s\",\"type\":\"t\",\"time\":0}", ent);
    assert_int_equal(apply(m, doc, &ev), SF_EINVAL);
    assert_string_equal(err, "entity longer than 256 bytes");
    ent[SIGFLOW_MAX_ENTITY_LEN] = '\0';
    snprintf(doc, sizeof doc, "{\"entity\":\"%s\",\"type\":\"t\",\"time\":0}", ent);
    assert_int_equal(apply(m, doc, &ev), SF_OK);
    assert_int_equal(strlen(ev->entity), SIGFLOW_MAX_ENTITY_LEN);
    event_free(ev);
    mapping_free(m);
}

static void attrs_over_the_limit_are_refused(void **state)
{
    (void)state;
    mapping *m = canonical();
    size_t n = SIGFLOW_MAX_ATTRS_LEN;
    char *doc = malloc(n + 100);
    assert_non_null(doc);
    /* attrs {"x":"aaa..."} is n + 8 bytes: over the limit */
    int k = snprintf(doc, n + 100, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0,\"x\":\"");
    memset(doc + k, 'a', n);
    strcpy(doc + k + n, "\"}");
    sf_event *ev = NULL;
    assert_int_equal(apply(m, doc, &ev), SF_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err, "attrs longer than 8192 bytes"));
    /* exactly the limit: {"x":"<n-8 bytes>"} */
    memset(doc + k, 'a', n - 8);
    strcpy(doc + k + n - 8, "\"}");
    assert_int_equal(apply(m, doc, &ev), SF_OK);
    assert_int_equal(ev->attrs_len, SIGFLOW_MAX_ATTRS_LEN);
    event_free(ev);
    free(doc);
    mapping_free(m);
}

static void nesting_deeper_than_16_is_refused(void **state)
{
    (void)state;
    mapping *m = canonical();
    char doc[300];
    sf_event *ev = NULL;
    /* the root object is level 1: 15 arrays under it make 16 levels */
    for (int levels = 16; levels <= 17; levels++) {
        int k = snprintf(doc, sizeof doc, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0,\"a\":");
        for (int i = 1; i < levels; i++)
            doc[k++] = '[';
        for (int i = 1; i < levels; i++)
            doc[k++] = ']';
        strcpy(doc + k, "}");
        sf_status st = apply(m, doc, &ev);
        if (levels == 16) {
            assert_int_equal(st, SF_OK);
            event_free(ev);
        } else {
            assert_int_equal(st, SF_EINVAL);
            assert_non_null(strstr(err, "nesting too deep"));
        }
    }
    mapping_free(m);
}

static void malformed_json_is_reported_with_its_position(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    /* the offending '}' is the 15th character */
    assert_int_equal(apply(m, "{\"entity\":\"a\",}", &ev), SF_EINVAL);
    assert_true(strncmp(err, "line 1 col 15: ", 15) == 0);
    assert_int_equal(apply(m, "{\"entity\":\"a\"} x", &ev), SF_EINVAL);
    assert_true(strncmp(err, "line 1 col 16: ", 15) == 0);
    assert_int_equal(apply(m, "{\n\"a\": tru}", &ev), SF_EINVAL);
    assert_true(strncmp(err, "line 2 col ", 11) == 0);
    assert_int_equal(apply(m, "{\"a\":", &ev), SF_EINVAL);
    assert_non_null(strstr(err, "unexpected end of input"));
    assert_int_equal(apply(m, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0,\"x\":[NaN]}", &ev),
                     SF_EINVAL);
    assert_non_null(strstr(err, "NaN or Infinity"));
    assert_int_equal(apply(m, "[1,2]", &ev), SF_EINVAL);
    assert_string_equal(err, "not a JSON object");
    assert_int_equal(apply(m, "", &ev), SF_EINVAL);
    assert_null(ev);
    mapping_free(m);
}

static void documents_over_the_line_limit_are_refused(void **state)
{
    (void)state;
    mapping *m = canonical();
    size_t n = SIGFLOW_MAX_EVENT_LINE + 1;
    char *doc = malloc(n);
    assert_non_null(doc);
    memset(doc, ' ', n);
    memcpy(doc, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0}", 34);
    sf_event *ev = NULL;
    assert_int_equal(mapping_apply(m, doc, n, &ev, err, sizeof err), SF_EINVAL);
    assert_string_equal(err, "document longer than 65536 bytes");
    assert_int_equal(mapping_apply(m, doc, n - 1, &ev, err, sizeof err), SF_OK);
    event_free(ev);
    free(doc);
    mapping_free(m);
}

static void mapped_paths_follow_objects_and_array_indexes(void **state)
{
    (void)state;
    config_kv kv[] = {{"listen", "x"},
                      {"map.entity", "data.object.customer"},
                      {"map.type", "type"},
                      {"map.time", "created"},
                      {"map.time_unit", "s"},
                      {"map.value", "data.object.amount"},
                      {"map.id", "id"},
                      {"map.attr.plan", "data.object.plan.id"},
                      {"map.attr.first", "items.0.name"},
                      {"map.attr.absent", "no.such.path"}};
    config_instance in = make_inst(kv, sizeof kv / sizeof kv[0]);
    diag d = {0};
    mapping *m = mapping_new(&in, "t.ini", &d);
    assert_non_null(m);
    assert_int_equal(d.n, 0);
    sf_event *ev = NULL;
    assert_int_equal(apply(m,
                           "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"created\":1793534400,"
                           "\"data\":{\"object\":{\"customer\":\"cus_9\",\"amount\":1200,"
                           "\"plan\":{\"id\":\"gold\"}}},\"items\":[{\"name\":\"seat\"}]}",
                           &ev),
                     SF_OK);
    assert_string_equal(ev->entity, "cus_9");
    assert_string_equal(ev->type, "invoice.paid");
    assert_int_equal(ev->time_ms, 1793534400000LL);
    assert_true(ev->has_value && ev->value == 1200.0);
    assert_string_equal(ev->source_id, "evt_1");
    json_object *a = attrs_of(ev), *v;
    assert_int_equal(json_object_object_length(a), 2);
    assert_true(json_object_object_get_ex(a, "plan", &v));
    assert_string_equal(json_object_get_string(v), "gold");
    assert_true(json_object_object_get_ex(a, "first", &v));
    assert_string_equal(json_object_get_string(v), "seat");
    json_object_put(a);
    event_free(ev);
    /* a missing optional value or id is counted but still maps */
    assert_int_equal(apply(m,
                           "{\"type\":\"t\",\"created\":\"2026-11-01T12:00:00Z\","
                           "\"data\":{\"object\":{\"customer\":123}}}",
                           &ev),
                     SF_OK);
    assert_string_equal(ev->entity, "123"); /* mapped sources may use integer ids */
    assert_false(ev->has_value);
    assert_null(ev->source_id);
    event_free(ev);
    assert_int_equal(apply(m, "{\"type\":\"t\",\"created\":1}", &ev), SF_EINVAL);
    assert_string_equal(err, "missing entity (path data.object.customer)");
    assert_int_equal(mapping_misses(m, MAP_VALUE), 2);
    assert_int_equal(mapping_misses(m, MAP_ID), 2);
    assert_int_equal(mapping_misses(m, MAP_ENTITY), 1);
    assert_int_equal(mapping_seen(m), 3);
    mapping_free(m);
}

static void mapped_fixed_type_and_arrival_time(void **state)
{
    (void)state;
    config_kv kv[] = {{"map.entity", "user"}, {"map.type", "=signup"}};
    config_instance in = make_inst(kv, 2);
    diag d = {0};
    mapping *m = mapping_new(&in, "t.ini", &d);
    assert_non_null(m);
    sf_event *ev = NULL;
    int64_t before = (int64_t)time(NULL) * 1000 - 1000;
    assert_int_equal(apply(m, "{\"user\":\"u1\",\"type\":\"ignored\"}", &ev), SF_OK);
    assert_string_equal(ev->type, "signup");
    assert_true(ev->time_ms >= before && ev->time_ms <= before + 3000);
    assert_null(ev->attrs); /* mapped mode copies only map.attr.* */
    event_free(ev);
    mapping_free(m);
}

static const struct {
    config_kv kv[2];
    size_t n;
    int line;
    const char *frag;
} bad_maps[] = {
    {{{"map.entty", "a"}, {"map.entity", "a"}},
     2,
     11,
     "unknown key `map.entty` (did you mean `map.entity`?)"},
    {{{"map.entity", "a"}, {"map.type", ""}}, 2, 12, "`map.type`: empty path"},
    {{{"map.entity", "a..b"}, {"map.type", "t"}}, 2, 11, "empty segment in path"},
    {{{"map.type", "t"}}, 1, 10, "sets map.* keys but not `map.entity`"},
    {{{"map.entity", "e"}}, 1, 10, "but not `map.type`"},
    {{{"map.entity", "e"}, {"map.time_unit", "us"}}, 2, 12, "`map.time_unit`: must be ms or s"},
    {{{"map.entity", "e"}, {"map.attr.", "x"}}, 2, 12, "attribute name after map.attr."},
    {{{"map.entity", "e"}, {"map.type", "="}}, 2, 12, "a fixed type must be"},
};

static void mapping_new_reports_bad_keys_with_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_maps / sizeof bad_maps[0]; i++) {
        config_kv kv[2];
        memcpy(kv, bad_maps[i].kv, sizeof kv);
        config_instance in = make_inst(kv, bad_maps[i].n);
        diag d = {0};
        mapping *m = mapping_new(&in, "t.ini", &d);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "t.ini:%d: ", bad_maps[i].line);
        bool found = false;
        for (size_t j = 0; j < d.n; j++)
            found |= strncmp(d.msgs[j], prefix, strlen(prefix)) == 0 &&
                     strstr(d.msgs[j], bad_maps[i].frag) != NULL;
        if (m || !found) {
            diag_print(&d, stderr);
            mapping_free(m);
            diag_clear(&d);
            fail_msg("case %zu: want %s%s", i, prefix, bad_maps[i].frag);
        }
        diag_clear(&d);
    }
}

static void instance_without_map_keys_is_canonical(void **state)
{
    (void)state;
    config_kv kv[] = {{"listen", "127.0.0.1:8080"}};
    config_instance in = make_inst(kv, 1);
    diag d = {0};
    mapping *m = mapping_new(&in, "t.ini", &d);
    assert_non_null(m);
    sf_event *ev = NULL;
    assert_int_equal(apply(m, "{\"entity\":\"e\",\"type\":\"t\",\"time\":5}", &ev), SF_OK);
    assert_int_equal(ev->time_ms, 5);
    event_free(ev);
    mapping_free(m);
}

#define THREADS 4
#define PER_THREAD 5000

static void *hammer(void *arg)
{
    mapping *m = arg;
    char e[SIGFLOW_MAX_ERROR_LEN];
    for (int i = 0; i < PER_THREAD; i++) {
        const char *doc = i % 2 ? "{\"entity\":\"e\",\"type\":\"t\",\"time\":1,\"k\":[1,2]}"
                                : "{\"type\":\"t\",\"time\":1}";
        sf_event *ev = NULL;
        sf_status st = mapping_apply(m, doc, strlen(doc), &ev, e, sizeof e);
        if ((i % 2 && st != SF_OK) || (!(i % 2) && st != SF_EINVAL))
            return (void *)1;
        event_free(ev);
    }
    return NULL;
}

static void concurrent_use_counts_exactly(void **state)
{
    (void)state;
    mapping *m = canonical();
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, m), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rv = (void *)1;
        assert_int_equal(pthread_join(th[i], &rv), 0);
        assert_null(rv);
    }
    assert_int_equal(mapping_seen(m), THREADS * PER_THREAD);
    assert_int_equal(mapping_misses(m, MAP_ENTITY), THREADS * PER_THREAD / 2);
    mapping_free(m);
}

static void attrs_text_is_the_other_keys_as_compact_json_in_input_order(void **state)
{
    (void)state;
    mapping *m = canonical();
    sf_event *ev = NULL;
    assert_int_equal(apply(m,
                           "{\"a\": 1, \"entity\": \"e\", \"b\": \"x/y\\n\", \"type\": \"t\","
                           " \"time\": 0, \"value\": 2, \"c\": [true, null],"
                           " \"d\": {\"e\": 1.50}, \"id\": false}",
                           &ev),
                     SF_OK);
    /* "/" is escaped as "\/" (json-c's choice, RFC 8259 allows it); 1.50 keeps its text */
    const char *want = "{\"a\":1,\"b\":\"x/y\\n\",\"c\":[true,null],\"d\":{\"e\":1.50},"
                       "\"id\":false}";
    assert_string_equal(ev->attrs, want);
    assert_int_equal(ev->attrs_len, strlen(want));
    event_free(ev);
    mapping_free(m);
}

static void attrs_limit_counts_the_escaped_text(void **state)
{
    (void)state;
    mapping *m = canonical();
    /* 2000 U+0001 are 2000 bytes in the document but 12000 in attrs: {"x":"..."} = 12008 */
    size_t n = 2000;
    char *doc = malloc(n * 6 + 100);
    assert_non_null(doc);
    int k = snprintf(doc, 100, "{\"entity\":\"e\",\"type\":\"t\",\"time\":0,\"x\":\"");
    for (size_t i = 0; i < n; i++)
        memcpy(doc + k + 6 * i, "\\u0001", 6);
    strcpy(doc + k + 6 * n, "\"}");
    sf_event *ev = NULL;
    assert_int_equal(apply(m, doc, &ev), SF_EINVAL);
    assert_null(ev);
    assert_string_equal(err, "attrs longer than 8192 bytes (12008)");
    free(doc);
    mapping_free(m);
}

static void mapped_attrs_are_written_in_map_attr_order(void **state)
{
    (void)state;
    config_kv kv[] = {{"map.entity", "u", 0},
                      {"map.type", "=t", 0},
                      {"map.attr.z", "a.b", 0},
                      {"map.attr.missing", "nope", 0},
                      {"map.attr.q\"", "list.1", 0}};
    config_instance in = make_inst(kv, sizeof kv / sizeof kv[0]);
    diag d = {0};
    mapping *m = mapping_new(&in, "t.ini", &d);
    assert_non_null(m);
    sf_event *ev = NULL;
    assert_int_equal(apply(m, "{\"u\":\"e\",\"a\":{\"b\":-7},\"list\":[0,\"\\u001f\"]}", &ev),
                     SF_OK);
    assert_string_equal(ev->attrs, "{\"z\":-7,\"q\\\"\":\"\\u001f\"}");
    event_free(ev);
    mapping_free(m);
    diag_clear(&d);
}

/* ---- types, type.*, on_unmapped (core/ingest/mapping_types.c) ---- */

#define STRIPE(type, cust)                                                                         \
    "{\"type\":\"" type "\",\"created\":1764000000000,\"data\":{\"object\":{\"customer\":\"" cust  \
    "\"}}}"

static mapping *stripe_mapping(config_kv *extra, size_t n_extra)
{
    config_kv kv[12] = {
        {"map.entity", "data.object.customer"}, {"map.type", "type"}, {"map.time", "created"}};
    for (size_t i = 0; i < n_extra; i++)
        kv[3 + i] = extra[i];
    config_instance in = make_inst(kv, 3 + n_extra);
    diag d = {0};
    mapping *m = mapping_new(&in, "t.ini", &d);
    diag_print(&d, stderr);
    assert_int_equal(d.n, 0);
    assert_non_null(m);
    return m;
}

/* Stripe sends dozens of types to one endpoint: the unlisted ones are dropped, not refused. */
static void types_keep_only_the_listed_after_renaming(void **state)
{
    (void)state;
    config_kv extra[] = {{"type.customer.subscription.deleted", "subscription.cancel"},
                         {"types", " subscription.cancel ,invoice.payment_failed"}};
    mapping *m = stripe_mapping(extra, 2);
    sf_event *ev = NULL;
    assert_int_equal(apply(m, STRIPE("customer.subscription.deleted", "cus_1"), &ev), SF_OK);
    assert_int_equal(ev->dropped, EVENT_KEPT);
    assert_string_equal(ev->type, "subscription.cancel"); /* renamed */
    assert_string_equal(ev->entity, "cus_1");
    event_free(ev);
    assert_int_equal(apply(m, STRIPE("invoice.payment_failed", "cus_2"), &ev), SF_OK);
    assert_int_equal(ev->dropped, EVENT_KEPT);
    assert_string_equal(ev->type, "invoice.payment_failed");
    event_free(ev);
    assert_int_equal(apply(m, STRIPE("charge.succeeded", "cus_3"), &ev), SF_OK);
    assert_int_equal(ev->dropped, EVENT_FILTERED); /* acknowledged, never journaled */
    event_free(ev);
    assert_int_equal(mapping_filtered(m), 1);
    assert_int_equal(mapping_ignored(m), 0);
    /* without on_unmapped an unreadable document is still refused */
    assert_int_equal(apply(m, "{\"type\":\"invoice.payment_failed\"}", &ev), SF_EINVAL);
    assert_null(ev);
    mapping_free(m);
}

static void renames_alone_keep_every_type(void **state)
{
    (void)state;
    config_kv extra[] = {{"type.ticket.created", "ticket.opened"}};
    mapping *m = stripe_mapping(extra, 1);
    sf_event *ev = NULL;
    assert_int_equal(apply(m, STRIPE("ticket.created", "org1"), &ev), SF_OK);
    assert_string_equal(ev->type, "ticket.opened");
    event_free(ev);
    assert_int_equal(apply(m, STRIPE("anything.else", "org1"), &ev), SF_OK);
    assert_int_equal(ev->dropped, EVENT_KEPT);
    assert_string_equal(ev->type, "anything.else");
    event_free(ev);
    mapping_free(m);
}

static void on_unmapped_ignore_acknowledges_and_counts(void **state)
{
    (void)state;
    config_kv extra[] = {{"on_unmapped", "ignore"}};
    mapping *m = stripe_mapping(extra, 1);
    sf_event *ev = NULL;
    assert_int_equal(apply(m, "{\"type\":\"ping\"}", &ev), SF_OK); /* no customer, no time */
    assert_int_equal(ev->dropped, EVENT_UNMAPPED);
    event_free(ev);
    assert_int_equal(mapping_ignored(m), 1);
    assert_int_equal(apply(m, "{not json", &ev), SF_EINVAL); /* broken JSON is still refused */
    mapping_free(m);
}

static void types_keys_errors_at_their_lines(void **state)
{
    (void)state;
    config_kv kv[] = {{"map.entity", "a"}, {"map.type", "t"}, {"on_unmapped", "ignroe"},
                      {"types", "a b, c"}, {"type.x", ""},    {"type.renamed", "y"},
                      {"types", "z"}};
    config_instance in = make_inst(kv, sizeof kv / sizeof kv[0]);
    diag d = {0};
    assert_null(mapping_new(&in, "t.ini", &d));
    const char *want[] = {"t.ini:13: `on_unmapped` must be refuse or ignore, got `ignroe` (did "
                          "you mean `ignore`?)",
                          "t.ini:14: `types`: `a b` is not an event type",
                          "t.ini:15: `type.x`: write type.SOURCE_VALUE = EVENT_TYPE",
                          "t.ini:17: `types` is set twice"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        bool found = false;
        for (size_t i = 0; i < d.n && !found; i++)
            found = strncmp(d.msgs[i], want[w], strlen(want[w])) == 0;
        if (!found) {
            diag_print(&d, stderr);
            fail_msg("missing: %s", want[w]);
        }
    }
    diag_clear(&d);
    /* `types` naming a rename's source keeps nothing of it: said at the section */
    config_kv kv2[] = {{"type.a", "b"}, {"types", "a"}};
    config_instance in2 = make_inst(kv2, 2);
    assert_null(mapping_new(&in2, "t.ini", &d));
    assert_int_equal(d.n, 1);
    assert_non_null(
        strstr(d.msgs[0], "t.ini:10: [connector c] `types` lists `a`, which is renamed to `b`"));
    diag_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_reads_fields_and_keeps_the_rest_as_attrs),
        cmocka_unit_test(types_keep_only_the_listed_after_renaming),
        cmocka_unit_test(renames_alone_keep_every_type),
        cmocka_unit_test(on_unmapped_ignore_acknowledges_and_counts),
        cmocka_unit_test(types_keys_errors_at_their_lines),
        cmocka_unit_test(canonical_accepts_epoch_ms_and_no_value_no_attrs),
        cmocka_unit_test(canonical_entity_must_be_a_string),
        cmocka_unit_test(counts_every_missing_field_and_reports_the_first),
        cmocka_unit_test(entity_of_256_bytes_passes_and_257_fails),
        cmocka_unit_test(attrs_over_the_limit_are_refused),
        cmocka_unit_test(nesting_deeper_than_16_is_refused),
        cmocka_unit_test(malformed_json_is_reported_with_its_position),
        cmocka_unit_test(documents_over_the_line_limit_are_refused),
        cmocka_unit_test(mapped_paths_follow_objects_and_array_indexes),
        cmocka_unit_test(mapped_fixed_type_and_arrival_time),
        cmocka_unit_test(mapping_new_reports_bad_keys_with_lines),
        cmocka_unit_test(instance_without_map_keys_is_canonical),
        cmocka_unit_test(concurrent_use_counts_exactly),
        cmocka_unit_test(attrs_text_is_the_other_keys_as_compact_json_in_input_order),
        cmocka_unit_test(attrs_limit_counts_the_escaped_text),
        cmocka_unit_test(mapped_attrs_are_written_in_map_attr_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
