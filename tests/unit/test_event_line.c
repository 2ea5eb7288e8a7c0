/*
 * test_event_line.c - the canonical event line reader (core/mapping/event_line.c) and its place
 * in mapping_apply: what it reads (fields and attrs text written from docs/config.md's
 * canonical shape), what it declines, and a differential test: on generated and hostile lines,
 * mapping_apply (reader first) and mapping_apply_json (json-c only) must give the same status,
 * the same error text, the same event and the same counters. The same for the flat path of
 * map.* mappings whose paths are top-level keys (event_line_scan, mapping_apply_flat).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/limits.h"
#include "mapping/event_line.h"
#include "mapping/mapping.h"

#define NOV_1_2026_MS 1793491200000LL /* 2026-11-01T00:00:00Z */

static mapping *new_mapping(const config_instance *inst)
{
    diag d = {0};
    mapping *m = mapping_new(inst, "t.ini", &d);
    assert_non_null(m);
    assert_int_equal(d.n, 0);
    return m;
}

static bool read_line(const char *s, event_line *ev, char *attrs)
{
    return event_line_read(s, strlen(s), ev, attrs);
}

static void reads_the_canonical_fields_and_prints_the_rest_as_attrs(void **state)
{
    (void)state;
    static char attrs[SIGFLOW_MAX_ATTRS_LEN + 1];
    event_line ev;
    const char *line = " {\"entity\" : \"c1\", \"plan\":\"pro\",\"type\":\"usage\",\t\"n\":1.50,"
                       "\"time\":\"2026-11-01T00:00:00Z\",\"value\":-2.5e1,\"k\":-3,\"b\":true,"
                       "\"f\":false,\"z\":null,\"s\":\"caf\xc3\xa9 /x\"}\r ";
    assert_true(read_line(line, &ev, attrs));
    assert_int_equal(ev.entity_len, 2);
    assert_memory_equal(ev.entity, "c1", 2);
    assert_int_equal(ev.type_len, 5);
    assert_memory_equal(ev.type, "usage", 5);
    assert_int_equal(ev.time_ms, NOV_1_2026_MS);
    assert_true(ev.has_value);
    assert_true(ev.value == -25.0);
    /* other keys in input order, compact, numbers as written, `/` and UTF-8 as they are */
    const char *want = "{\"plan\":\"pro\",\"n\":1.50,\"k\":-3,\"b\":true,\"f\":false,\"z\":null,"
                       "\"s\":\"caf\xc3\xa9 /x\"}";
    assert_int_equal(ev.attrs_len, strlen(want));
    assert_string_equal(attrs, want);

    /* epoch milliseconds, a null value, no other keys */
    assert_true(read_line("{\"entity\":\"e\",\"type\":\"t\",\"time\":1793491200000,\"value\":null}",
                          &ev, attrs));
    assert_int_equal(ev.time_ms, NOV_1_2026_MS);
    assert_false(ev.has_value);
    assert_int_equal(ev.attrs_len, 0);
}

/* Everything outside the subset is declined: the general path reads or refuses it. */
static void declines_what_the_general_path_must_read_or_word(void **state)
{
    (void)state;
    static char attrs[SIGFLOW_MAX_ATTRS_LEN + 1];
    event_line ev;
    static const char *const declined[] = {
        "",
        "{}",
        "[]",
        "{\"entity\":\"c\\u0031\",\"type\":\"t\",\"time\":1}",            /* an escape */
        "{\"entity\":\"c1\",\"type\":\"t\",\"time\":1,\"a\":\"x\\\"y\"}", /* an escaped quote */
        "{\"entity\":\"c\x01\",\"type\":\"t\",\"time\":1}",               /* a control byte */
        "{\"entity\":\"c\xff\",\"type\":\"t\",\"time\":1}",               /* invalid UTF-8 */
        "{\"entity\":\"c\xed\xa0\x80\",\"type\":\"t\",\"time\":1}",       /* a surrogate */
        "{\"entity\":7,\"type\":\"t\",\"time\":1}",                       /* an integer entity */
        "{\"entity\":\"\",\"type\":\"t\",\"time\":1}",                    /* empty */
        "{\"entity\":\"c\",\"time\":1}",                                  /* no type */
        "{\"entity\":\"c\",\"type\":\"t\"}",                              /* no time */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":\"yesterday\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1.5}", /* a double time */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":-0}",  /* -0 */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":01}",  /* a leading zero */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":\"3\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":1e999}", /* not finite */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":1.}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":.5}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":+5}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":NaN}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":12345678901234567890}", /* 20 digits */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a\":{\"b\":1}}",    /* nested */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a\":[1]}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a\":1,\"a\":2}",  /* duplicate attr */
        "{\"entity\":\"c\",\"entity\":\"d\",\"type\":\"t\",\"time\":1}", /* duplicate field */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,}",                 /* trailing comma */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1} x",                /* text after */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1}{}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1", /* unterminated */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a\":tru}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a\":true1}",
        "{'entity':\"c\",\"type\":\"t\",\"time\":1}",
        "\xef\xbb\xbf{\"entity\":\"c\",\"type\":\"t\",\"time\":1}", /* a BOM */
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1}\v",           /* not JSON whitespace */
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
        if (read_line(declined[i], &ev, attrs))
            fail_msg("read, not declined: %s", declined[i]);
    }
}

/* ---- differential: mapping_apply (reader first) against mapping_apply_json --------------- */

/* How far two events' times may be apart: 0, but for mappings without map.time, whose events
   are stamped on arrival (each path reads the clock itself). */
static int64_t time_slack_ms;

static void expect_same_event(const sf_event *a, const sf_event *b, const char *line)
{
    if (strcmp(a->entity, b->entity) != 0 || strcmp(a->type, b->type) != 0 ||
        llabs(a->time_ms - b->time_ms) > time_slack_ms || a->has_value != b->has_value ||
        (a->has_value && memcmp(&a->value, &b->value, sizeof a->value) != 0) ||
        a->dropped != b->dropped || a->attrs_len != b->attrs_len || !a->attrs != !b->attrs ||
        (a->attrs && strcmp(a->attrs, b->attrs) != 0) || !a->source_id != !b->source_id ||
        (a->source_id && strcmp(a->source_id, b->source_id) != 0))
        fail_msg("different events for: %s\n  reader path: %s %s %lld attrs=%s\n  json-c: %s "
                 "%s %lld attrs=%s",
                 line, a->entity, a->type, (long long)a->time_ms, a->attrs ? a->attrs : "-",
                 b->entity, b->type, (long long)b->time_ms, b->attrs ? b->attrs : "-");
}

/* Three mappings alike: one for the reader's probe, one per path. flat: a map.* mapping,
   probed with mapping_apply_flat (else the canonical reader's mapping_apply_view). */
typedef struct trio {
    mapping *probe, *fast, *slow;
    bool flat;
} trio;

static bool probe_taken(trio *t, const char *line, size_t len)
{
    if (t->flat) {
        char err[SIGFLOW_MAX_ERROR_LEN] = "";
        sf_event *ev = NULL;
        sf_status st = SF_EINVAL;
        bool taken = mapping_apply_flat(t->probe, line, len, &ev, err, sizeof err, &st);
        if (taken && st != SF_OK)
            fail_msg("the flat path took a line and failed (%d %s): %.*s", st, err, (int)len, line);
        if (!taken)
            assert_null(ev);
        event_free(ev);
        return taken;
    }
    mapping_view *v = malloc(sizeof *v);
    assert_non_null(v);
    bool taken = mapping_apply_view(t->probe, line, len, v);
    free(v);
    return taken;
}

/* One line through both paths; returns whether the reader took it. */
static bool differ_one(trio *t, const char *line, size_t len)
{
    char e1[SIGFLOW_MAX_ERROR_LEN] = "", e2[SIGFLOW_MAX_ERROR_LEN] = "";
    sf_event *a = NULL, *b = NULL;
    /* the probe alone: a declined line counts nothing */
    uint64_t seen = mapping_seen(t->probe);
    bool taken = probe_taken(t, line, len);
    if (!taken)
        assert_int_equal(mapping_seen(t->probe), seen);
    sf_status s1 = mapping_apply(t->fast, line, len, &a, e1, sizeof e1);
    sf_status s2 = mapping_apply_json(t->slow, line, len, &b, e2, sizeof e2);
    if (s1 != s2 || (s1 != SF_OK && strcmp(e1, e2) != 0))
        fail_msg("different answers for: %.*s\n  reader path: %d %s\n  json-c: %d %s", (int)len,
                 line, s1, e1, s2, e2);
    if (taken && s2 != SF_OK)
        fail_msg("the reader took a line json-c refuses (%s): %.*s", e2, (int)len, line);
    if (s1 == SF_OK)
        expect_same_event(a, b, line);
    event_free(a);
    event_free(b);
    return taken;
}

static trio trio_new(const config_instance *inst)
{
    return (trio){new_mapping(inst), new_mapping(inst), new_mapping(inst), inst != NULL};
}

/* Same counters on both paths, then freed. */
static void trio_end(trio *t)
{
    assert_int_equal(mapping_seen(t->fast), mapping_seen(t->slow));
    assert_int_equal(mapping_filtered(t->fast), mapping_filtered(t->slow));
    assert_int_equal(mapping_ignored(t->fast), mapping_ignored(t->slow));
    for (int f = 0; f < MAP_NFIELDS; f++)
        assert_int_equal(mapping_misses(t->fast, f), mapping_misses(t->slow, f));
    mapping_free(t->probe);
    mapping_free(t->fast);
    mapping_free(t->slow);
}

/* A small deterministic generator (xorshift): lines built from good and hostile pieces. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const gen_keys[] = {
    "entity",      "type",   "time",    "value", "plan",   "id",       "",         "a b",
    "caf\xc3\xa9", "Entity", "entity ", "typ",   "value2", "k\\u0041", "tim\\\"e", "x/y",
};
static const char *const gen_values[] = {
    "\"c1\"",
    "\"login\"",
    "\"2026-11-01T00:00:05Z\"",
    "\"2026-11-01T00:00:05.123+02:00\"",
    "\"2026-13-01T00:00:00Z\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "1793491200000",
    "-62167219200001",
    "253402300800000",
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "007",
    "1.5",
    "1.50",
    "-2.5E+3",
    "1e5",
    "1E-400",
    "1e400",
    "123456789012345678",
    "1234567890123456789",
    "99999999999999999999",
    "0.1",
    "3.14159265358979323846264338327950288",
    "true",
    "false",
    "null",
    "nul",
    "\"\"",
    "\"a\\u0000b\"",
    "\"\\u00e9\"",
    "\"caf\xc3\xa9\"",
    "\"\xc3\"",
    "\"\xf0\x9f\x98\x80\"",
    "\"tab\there\"",
    "\"slash/\"",
    "\"quote\\\"\"",
    "{}",
    "{\"n\":1}",
    "[]",
    "[1,2]",
    "\"pro\"",
    "\"enterprise\"",
    "\"ticket.opened\"",
    "\"x\x7fy\"",
};
static const char *const gen_ws[] = {"", "", "", " ", "\t", "\r", "\n", "  "};

static size_t gen_line(char *buf, size_t cap)
{
    size_t n = 0;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        size_t l_ = strlen(s_);                                                                    \
        if (n + l_ < cap) {                                                                        \
            memcpy(buf + n, s_, l_);                                                               \
            n += l_;                                                                               \
        }                                                                                          \
    } while (0)
    unsigned shape = pick(8);
    PUT(gen_ws[pick(8)]);
    PUT(shape == 7 ? "[" : "{");
    unsigned keys = 1 + pick(6);
    /* most lines carry the three required fields, so the reader has lines to take */
    bool canonical_first = pick(4) != 0;
    for (unsigned k = 0; k < keys + (canonical_first ? 3 : 0); k++) {
        if (k)
            PUT(pick(40) ? "," : ",,");
        PUT(gen_ws[pick(8)]);
        PUT("\"");
        if (canonical_first && k < 3)
            PUT(k == 0 ? "entity" : k == 1 ? "type" : "time");
        else
            PUT(gen_keys[pick(sizeof gen_keys / sizeof gen_keys[0])]);
        PUT("\"");
        PUT(gen_ws[pick(8)]);
        PUT(":");
        PUT(gen_ws[pick(8)]);
        if (canonical_first && k < 3 && pick(5))
            PUT(k == 0 ? "\"c42\"" : k == 1 ? "\"usage\"" : "\"2026-11-01T00:01:00Z\"");
        else
            PUT(gen_values[pick(sizeof gen_values / sizeof gen_values[0])]);
    }
    PUT(gen_ws[pick(8)]);
    PUT(shape == 6 ? "" : "}");
    if (pick(30) == 0)
        PUT(" x");
#undef PUT
    /* sometimes cut short, or a byte flipped */
    if (n > 2 && pick(20) == 0)
        n = 1 + pick((unsigned)n - 1);
    if (n > 2 && pick(20) == 0)
        buf[pick((unsigned)n)] ^= (char)(1u << pick(8));
    return n;
}

static void generated_lines_map_alike_on_both_paths(void **state)
{
    (void)state;
    trio t = trio_new(NULL);
    char buf[2048];
    unsigned taken = 0, declined = 0;
    for (int i = 0; i < 30000; i++) {
        size_t n = gen_line(buf, sizeof buf);
        if (differ_one(&t, buf, n))
            taken++;
        else
            declined++;
    }
    trio_end(&t);
    /* both paths were exercised: the comparison above is not vacuous */
    assert_true(taken > 1000);
    assert_true(declined > 1000);
}

static void hostile_lines_map_alike_on_both_paths(void **state)
{
    (void)state;
    trio t = trio_new(NULL);
    char entity_257[300], attrs_big[SIGFLOW_MAX_ATTRS_LEN + 200];
    memset(entity_257, 'e', 257);
    entity_257[257] = '\0';
    static char line[SIGFLOW_MAX_ATTRS_LEN + 600];
    /* an entity one byte over its limit; a type over its limit; attrs just over */
    snprintf(line, sizeof line, "{\"entity\":\"%s\",\"type\":\"t\",\"time\":1}", entity_257);
    differ_one(&t, line, strlen(line));
    snprintf(line, sizeof line, "{\"entity\":\"%.256s\",\"type\":\"t\",\"time\":1}", entity_257);
    assert_true(differ_one(&t, line, strlen(line)));
    snprintf(line, sizeof line, "{\"entity\":\"e\",\"type\":\"%.129s\",\"time\":1}", entity_257);
    differ_one(&t, line, strlen(line));
    for (size_t fill = SIGFLOW_MAX_ATTRS_LEN - 12; fill < SIGFLOW_MAX_ATTRS_LEN - 4; fill++) {
        memset(attrs_big, 'a', fill);
        attrs_big[fill] = '\0';
        snprintf(line, sizeof line, "{\"entity\":\"e\",\"type\":\"t\",\"time\":1,\"k\":\"%s\"}",
                 attrs_big);
        differ_one(&t, line, strlen(line));
    }
    static const char *const hostile[] = {
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":-62167219200001}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":-62167219200000}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":253402300799999}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":253402300800000}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":\"2026-11-01T00:00:00\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":\"2026-11-01 00:00:00Z\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":-0.0}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":123456789012345678}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":4.9e-324}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":1.7976931348623157e308}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"v\":0."
        "000000000000000000000000000000000000001}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"v\":1234567890123456789012345678901234567890"
        "12345678901234567890123456.5}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"\":\"\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"id\":\"x\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"k\":\"a\x7f\"}",
        "{\"type\":\"t\",\"time\":1,\"entity\":\"last\"}",
        "\t{ \"entity\" :\"c\" ,\"type\": \"t\" , \"time\" :1 }\t",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"value\":null,\"value\":2}",
        "{\"entity\":null,\"type\":\"t\",\"time\":1}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1}\n",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1}\n\n{\"entity\":\"d\"}",
        "{\"entity\":\"c\",\"type\":\"t\",\"time\":1,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,"
        "\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"a10\":10,\"a11\":11,\"a12\":12,\"a13\":13,"
        "\"a14\":14,\"a15\":15,\"a16\":16,\"a17\":17,\"a18\":18,\"a19\":19,\"a20\":20,\"a21\":21,"
        "\"a22\":22,\"a23\":23,\"a24\":24,\"a25\":25,\"a26\":26,\"a27\":27,\"a28\":28,\"a29\":29,"
        "\"a30\":30,\"a31\":31,\"a32\":32,\"a33\":33}",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
        differ_one(&t, hostile[i], strlen(hostile[i]));
    trio_end(&t);
}

/* `types` and renames: the reader's lines are filtered and renamed as json-c's, and counted. */
static void types_filter_and_count_alike(void **state)
{
    (void)state;
    config_kv kv[] = {{"types", "login, usage2", 11}, {"type.usage", "usage2", 12}};
    config_instance inst = {
        .name = "c", .plugin = "file", .kind = SF_KIND_CONNECTOR, .line = 10, .kv = kv, .n_kv = 2};
    mapping *fast = new_mapping(&inst), *slow = new_mapping(&inst);
    static const char *const lines[] = {
        "{\"entity\":\"c\",\"type\":\"login\",\"time\":1}",
        "{\"entity\":\"c\",\"type\":\"usage\",\"time\":1,\"value\":2}",
        "{\"entity\":\"c\",\"type\":\"ticket\",\"time\":1}",
        "{\"entity\":\"c\",\"type\":\"ticket\",\"time\":\"bad\"}",
    };
    for (size_t i = 0; i < 4; i++) {
        char e1[SIGFLOW_MAX_ERROR_LEN] = "", e2[SIGFLOW_MAX_ERROR_LEN] = "";
        sf_event *a = NULL, *b = NULL;
        sf_status s1 = mapping_apply(fast, lines[i], strlen(lines[i]), &a, e1, sizeof e1);
        sf_status s2 = mapping_apply_json(slow, lines[i], strlen(lines[i]), &b, e2, sizeof e2);
        assert_int_equal(s1, s2);
        assert_string_equal(e1, e2);
        if (s1 == SF_OK)
            expect_same_event(a, b, lines[i]);
        event_free(a);
        event_free(b);
    }
    /* the second line is renamed, the third filtered: by both paths, counted once each */
    assert_int_equal(mapping_seen(fast), 4);
    assert_int_equal(mapping_seen(slow), 4);
    assert_int_equal(mapping_filtered(fast), 1);
    assert_int_equal(mapping_filtered(slow), 1);
    for (int f = 0; f < MAP_NFIELDS; f++)
        assert_int_equal(mapping_misses(fast, f), mapping_misses(slow, f));
    mapping_free(fast);
    mapping_free(slow);
}

/* A map.* mapping never takes the reader's path. */
static void mapped_connectors_do_not_use_the_reader(void **state)
{
    (void)state;
    config_kv kv[] = {
        {"map.entity", "entity", 11}, {"map.type", "type", 12}, {"map.time", "time", 13}};
    config_instance inst = {
        .name = "c", .plugin = "file", .kind = SF_KIND_CONNECTOR, .line = 10, .kv = kv, .n_kv = 3};
    mapping *m = new_mapping(&inst);
    mapping_view *v = malloc(sizeof *v);
    assert_non_null(v);
    const char *line = "{\"entity\":\"c\",\"type\":\"t\",\"time\":1}";
    assert_false(mapping_apply_view(m, line, strlen(line), v));
    assert_int_equal(mapping_seen(m), 0);
    free(v);
    mapping_free(m);
}

/* ---- the flat path: map.* keys one level deep ------------------------------------------ */

static void scan_lists_a_flat_line_and_declines_the_rest(void **state)
{
    (void)state;
    event_line_pair p[EVENT_LINE_MAX_PAIRS];
    size_t n = 0;
    const char *line =
        " { \"c\" : 42 ,\"t\":\"login\",\"ts\":1700000000.5,\"b\":false,\"z\":null} ";
    assert_true(event_line_scan(line, strlen(line), p, &n));
    assert_int_equal(n, 5);
    assert_int_equal(p[0].key_len, 1);
    assert_memory_equal(p[0].key, "c", 1);
    assert_int_equal(p[0].v.kind, EVENT_LINE_INT);
    assert_int_equal(p[0].v.i, 42);
    assert_int_equal(p[1].v.kind, EVENT_LINE_STRING);
    assert_int_equal(p[1].v.n, 5);
    assert_memory_equal(p[1].v.p, "login", 5);
    assert_int_equal(p[2].v.kind, EVENT_LINE_DOUBLE);
    assert_true(p[2].v.d == 1700000000.5);
    assert_int_equal(p[3].v.kind, EVENT_LINE_FALSE);
    assert_int_equal(p[4].v.kind, EVENT_LINE_NULL);
    assert_true(event_line_scan("{}", 2, p, &n));
    assert_int_equal(n, 0);
    static const char *const declined[] = {
        "",           "[]",          "{\"a\":1,\"a\":2}",
        "{\"a\":{}}", "{\"a\":[1]}", "{\"a\\u0041\":1}",
        "{\"a\":1,}", "{\"a\":1} x", "{\"a\":1",
        "{} {}",      "{\"a\":-0}",
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        if (event_line_scan(declined[i], strlen(declined[i]), p, &n))
            fail_msg("scanned, not declined: %s", declined[i]);
    /* one pair more than the bound */
    char big[EVENT_LINE_MAX_PAIRS * 16];
    size_t len = 0;
    for (int k = 0; k <= EVENT_LINE_MAX_PAIRS; k++)
        len += (size_t)snprintf(big + len, sizeof big - len, "%s\"k%d\":%d", k ? "," : "{", k, k);
    len += (size_t)snprintf(big + len, sizeof big - len, "}");
    assert_false(event_line_scan(big, len, p, &n));
}

static config_instance flat_instance(config_kv *kv, size_t n)
{
    return (config_instance){.name = "hook",
                             .plugin = "webhook",
                             .kind = SF_KIND_CONNECTOR,
                             .line = 3,
                             .kv = kv,
                             .n_kv = n};
}

static const char *const flat_keys[] = {"c", "t", "ts", "v", "id", "plan", "n", "x", "c ", "T", ""};
static const char *const flat_values[] = {
    "\"cust-1\"",
    "42",
    "-7",
    "1700000000",
    "1700000000.25",
    "\"1700000000\"",
    "\"2026-11-01T00:00:05Z\"",
    "\"2026-11-01 00:00:05\"",
    "\"yesterday\"",
    "1e30",
    "-1e30",
    "9223372036854775",
    "253402300799",
    "253402300800",
    "-62167219200",
    "-62167219201",
    "1.5",
    "null",
    "true",
    "\"\"",
    "\"login\"",
    "\"a\\u0041\"",
    "{\"n\":1}",
    "[1]",
    "0",
    "123456789012345678",
    "1234567890123456789",
    "\"caf\xc3\xa9\"",
    "\"x\xff\"",
};

/* Lines for a map.* mapping: mostly its keys with good values, sometimes anything. */
static size_t gen_flat_line(char *buf, size_t cap)
{
    static const char *const good[] = {"\"cust-9\"", "\"login\"", "1700000000", "2.5", "\"evt-1\""};
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "%s{", gen_ws[pick(8)]);
    unsigned keys = pick(5) ? 5 + pick(3) : pick(8);
    for (unsigned k = 0; k < keys && n < cap - 200; k++) {
        const char *key = k < 5 && pick(6) ? flat_keys[k] : flat_keys[pick(11)];
        const char *val = k < 5 && pick(6) ? good[k] : flat_values[pick(29)];
        n += (size_t)snprintf(buf + n, cap - n, "%s%s\"%s\"%s:%s%s", k ? "," : "", gen_ws[pick(8)],
                              key, gen_ws[pick(8)], gen_ws[pick(8)], val);
    }
    n += (size_t)snprintf(buf + n, cap - n, "}%s", pick(30) ? "" : " x");
    if (n > 2 && pick(25) == 0)
        n = 1 + pick((unsigned)n - 1);
    if (n > 2 && pick(25) == 0)
        buf[pick((unsigned)n)] ^= (char)(1u << pick(8));
    return n;
}

static void flat_mapped_lines_map_alike_on_both_paths(void **state)
{
    (void)state;
    /* seconds, value, id, attrs; then milliseconds and a fixed type, nothing optional */
    config_kv a[] = {{"map.entity", "c", 4},        {"map.type", "t", 5},
                     {"map.time", "ts", 6},         {"map.time_unit", "s", 7},
                     {"map.value", "v", 8},         {"map.id", "id", 9},
                     {"map.attr.plan", "plan", 10}, {"map.attr.count", "n", 11}};
    config_kv b[] = {{"map.entity", "c", 4},
                     {"map.type", "=usage", 5},
                     {"map.time", "ts", 6},
                     {"types", "usage", 7}};
    config_kv c[] = {{"map.entity", "c", 4},
                     {"map.type", "t", 5},
                     {"types", "login", 6},
                     {"on_unmapped", "ignore", 7}};
    config_instance insts[] = {flat_instance(a, 8), flat_instance(b, 4), flat_instance(c, 4)};
    char buf[2048];
    for (size_t i = 0; i < sizeof insts / sizeof insts[0]; i++) {
        trio t = trio_new(&insts[i]);
        unsigned taken = 0, declined = 0;
        time_slack_ms = i == 2 ? 60000 : 0; /* c: no map.time */
        for (int k = 0; k < 20000; k++) {
            size_t n = gen_flat_line(buf, sizeof buf);
            if (differ_one(&t, buf, n))
                taken++;
            else
                declined++;
        }
        trio_end(&t);
        time_slack_ms = 0;
        if (taken < 1000 || declined < 1000)
            fail_msg("mapping %zu: %u taken, %u declined: the comparison is thin", i, taken,
                     declined);
    }
}

/* What the flat path reads, written from docs/config.md's map.* rules, and that it is used. */
static void flat_path_reads_top_level_keys(void **state)
{
    (void)state;
    config_kv kv[] = {{"map.entity", "c", 4}, {"map.type", "t", 5},
                      {"map.time", "ts", 6},  {"map.time_unit", "s", 7},
                      {"map.id", "id", 8},    {"map.attr.plan", "plan", 9}};
    config_instance inst = flat_instance(kv, 6);
    mapping *m = new_mapping(&inst);
    const char *line = "{\"c\":1234,\"t\":\"login\",\"ts\":1700000000.5,\"id\":\"e-1\","
                       "\"plan\":\"pro\",\"other\":[1,2]}";
    char err[SIGFLOW_MAX_ERROR_LEN] = "";
    sf_event *ev = NULL;
    sf_status st = SF_EINVAL;
    /* a nested value under a key nobody maps: declined, json-c reads it */
    assert_false(mapping_apply_flat(m, line, strlen(line), &ev, err, sizeof err, &st));
    line = "{\"c\":1234,\"t\":\"login\",\"ts\":1700000000.5,\"id\":\"e-1\",\"plan\":\"pro\","
           "\"other\":true}";
    assert_true(mapping_apply_flat(m, line, strlen(line), &ev, err, sizeof err, &st));
    assert_int_equal(st, SF_OK);
    assert_string_equal(ev->entity, "1234"); /* an integer entity as decimal text */
    assert_string_equal(ev->type, "login");
    assert_int_equal(ev->time_ms, 1700000000500LL);
    assert_string_equal(ev->source_id, "e-1");
    assert_string_equal(ev->attrs, "{\"plan\":\"pro\"}");
    assert_false(ev->has_value);
    event_free(ev);
    assert_int_equal(mapping_seen(m), 1);
    /* a missing field is json-c's to word and count */
    line = "{\"t\":\"login\",\"ts\":1700000000,\"id\":\"e-2\"}";
    assert_false(mapping_apply_flat(m, line, strlen(line), &ev, err, sizeof err, &st));
    assert_int_equal(mapping_seen(m), 1);
    assert_int_equal(mapping_apply(m, line, strlen(line), &ev, err, sizeof err), SF_EINVAL);
    assert_string_equal(err, "missing entity (path c)");
    assert_int_equal(mapping_seen(m), 2);
    mapping_free(m);

    /* a path deeper than one key: never the flat path */
    config_kv deep[] = {{"map.entity", "data.c", 4}, {"map.type", "t", 5}};
    inst = flat_instance(deep, 2);
    m = new_mapping(&inst);
    line = "{\"data\":1,\"t\":\"login\"}";
    assert_false(mapping_apply_flat(m, line, strlen(line), &ev, err, sizeof err, &st));
    mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_canonical_fields_and_prints_the_rest_as_attrs),
        cmocka_unit_test(declines_what_the_general_path_must_read_or_word),
        cmocka_unit_test(generated_lines_map_alike_on_both_paths),
        cmocka_unit_test(hostile_lines_map_alike_on_both_paths),
        cmocka_unit_test(types_filter_and_count_alike),
        cmocka_unit_test(mapped_connectors_do_not_use_the_reader),
        cmocka_unit_test(scan_lists_a_flat_line_and_declines_the_rest),
        cmocka_unit_test(flat_mapped_lines_map_alike_on_both_paths),
        cmocka_unit_test(flat_path_reads_top_level_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
