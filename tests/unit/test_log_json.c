/*
 * test_log_json.c - `log_format = json` (core/base/log_json.c): a line is one JSON object
 * with time, level, component, msg first, then the context pairs in order; every value is
 * the text the logfmt form carries, read back from its logfmt escaping (what
 * log_format_kv writes) and written with JSON's: hostile values round-trip byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "base/log.h"
#include "base/log_json.h"

/* The line log_json_line writes for (ctx, msg), parsed; the raw text in *raw (caller frees). */
static json_object *line(const char *ctx, const char *msg, char **raw)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    log_json_line(f, "2026-12-01T10:00:00.000Z", "warn", ctx, msg);
    assert_int_equal(fclose(f), 0);
    assert_true(len > 0 && buf[len - 1] == '\n');
    assert_null(memchr(buf, '\n', len - 1)); /* one line */
    json_object *o = json_tokener_parse(buf);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_object));
    *raw = buf;
    return o;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static void keys_in_order_time_level_component_msg_then_context(void **state)
{
    (void)state;
    char *raw;
    json_object *o = line("instance=events component=runtime path=/x", "hello", &raw);
    const char *want[] = {"time", "level", "component", "msg", "instance", "path"};
    size_t i = 0;
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        assert_true(i < 6);
        assert_string_equal(k, want[i]);
        i++;
    }
    assert_int_equal(i, 6);
    assert_string_equal(str(o, "time"), "2026-12-01T10:00:00.000Z");
    assert_string_equal(str(o, "level"), "warn");
    assert_string_equal(str(o, "component"), "runtime");
    assert_string_equal(str(o, "msg"), "hello");
    assert_string_equal(str(o, "instance"), "events");
    json_object_put(o);
    free(raw);
}

static void no_context_no_component(void **state)
{
    (void)state;
    char *raw;
    json_object *o = line(NULL, "plain", &raw);
    assert_int_equal(json_object_object_length(o), 3);
    assert_null(str(o, "component"));
    assert_string_equal(str(o, "msg"), "plain");
    json_object_put(o);
    free(raw);
}

static void hostile_values_round_trip(void **state)
{
    (void)state;
    static const char *const vals[] = {"a b",
                                       "say \"hi\" \\o/",
                                       "x\nlevel=error msg=\"forged\"",
                                       "\x01\x1f\x7f tab\t",
                                       "ünïcödé /slash/",
                                       "",
                                       "key=value",
                                       "}{\"],"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char ctx[512], kv[400];
        log_format_kv(kv, sizeof kv, "path", vals[i]);
        snprintf(ctx, sizeof ctx, "component=ingest_http %s method=POST", kv);
        char *raw;
        json_object *o = line(ctx, vals[i], &raw);
        assert_string_equal(str(o, "path"), vals[i]);
        assert_string_equal(str(o, "msg"), vals[i]);
        assert_string_equal(str(o, "method"), "POST");
        assert_string_equal(str(o, "component"), "ingest_http");
        json_object_put(o);
        free(raw);
    }
}

static void json_escaping_is_the_cores(void **state)
{
    (void)state;
    char *raw;
    json_object *o = line("component=x", "q\" b\\ n\n t\t c\x01 /", &raw);
    /* json_quote's shortest escapes: named ones, \u00XX for other controls, / as it is */
    assert_non_null(strstr(raw, "\"msg\":\"q\\\" b\\\\ n\\n t\\t c\\u0001 /\""));
    json_object_put(o);
    free(raw);
}

static void clashing_keys_are_kept_renamed(void **state)
{
    (void)state;
    char *raw;
    json_object *o = line("component=a time=5 msg=m level=x component=b", "real", &raw);
    assert_string_equal(str(o, "time"), "2026-12-01T10:00:00.000Z");
    assert_string_equal(str(o, "msg"), "real");
    assert_string_equal(str(o, "level"), "warn");
    assert_string_equal(str(o, "component"), "a");
    assert_string_equal(str(o, "ctx_time"), "5");
    assert_string_equal(str(o, "ctx_msg"), "m");
    assert_string_equal(str(o, "ctx_level"), "x");
    assert_string_equal(str(o, "ctx_component"), "b");
    json_object_put(o);
    free(raw);
}

static void style_names_parse(void **state)
{
    (void)state;
    assert_int_equal(log_style_parse("logfmt"), LOG_STYLE_LOGFMT);
    assert_int_equal(log_style_parse("json"), LOG_STYLE_JSON);
    assert_int_equal(log_style_parse("JSON"), -1);
    assert_int_equal(log_style_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_in_order_time_level_component_msg_then_context),
        cmocka_unit_test(no_context_no_component),
        cmocka_unit_test(hostile_values_round_trip),
        cmocka_unit_test(json_escaping_is_the_cores),
        cmocka_unit_test(clashing_keys_are_kept_renamed),
        cmocka_unit_test(style_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
