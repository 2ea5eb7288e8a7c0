/*
 * test_jsonw.c - JSON text written from json-c values (core/mapping/jsonw.c). Expected strings
 * follow RFC 8259 section 7 with the shortest escapes ("/" is not escaped: the RFC allows both,
 * and URLs in attrs stay readable) and a number parsed from text is printed as that text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "mapping/jsonw.h"

static char buf[256];

static const char *str(const char *s, size_t n)
{
    jsonw w;
    jsonw_init(&w, buf, sizeof buf - 1);
    jsonw_string(&w, s, n);
    assert_true(jsonw_end(&w));
    assert_int_equal(strlen(buf), w.len);
    return buf;
}

/* The value of "v" in the document, written back. */
static const char *value_of(const char *doc)
{
    json_object *o = json_tokener_parse(doc), *v = NULL;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "v", &v));
    jsonw w;
    jsonw_init(&w, buf, sizeof buf - 1);
    assert_int_equal(jsonw_value(&w, v), SF_OK);
    assert_true(jsonw_end(&w));
    json_object_put(o);
    return buf;
}

/* What was written must be valid JSON holding the same value. */
static void assert_round_trips(const char *doc)
{
    char wrapped[300];
    snprintf(wrapped, sizeof wrapped, "{\"v\":%s}", value_of(doc));
    json_object *a = json_tokener_parse(doc), *b = json_tokener_parse(wrapped);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_object_equal(a, b));
    json_object_put(a);
    json_object_put(b);
}

static void plain_text_is_quoted_unchanged(void **state)
{
    (void)state;
    assert_string_equal(str("plan pro", 8), "\"plan pro\"");
    assert_string_equal(str("", 0), "\"\"");
}

static void quote_and_backslash_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
}

static void solidus_is_written_as_it_is(void **state)
{
    (void)state;
    assert_string_equal(str("https://x/y", 11), "\"https://x/y\"");
}

static void control_characters_use_short_escapes_where_json_has_them(void **state)
{
    (void)state;
    assert_string_equal(str("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"");
}

static void other_control_characters_are_u00xx_escapes(void **state)
{
    (void)state;
    assert_string_equal(str("\x01", 1), "\"\\u0001\"");
    assert_string_equal(str("x\x1fy", 3), "\"x\\u001fy\"");
    assert_string_equal(str("\x0b\x1b", 2), "\"\\u000b\\u001b\"");
    /* an embedded NUL (JSON "\u0000") is part of the string, not its end */
    assert_string_equal(str("a\0b", 3), "\"a\\u0000b\"");
}

static void utf8_and_del_pass_through(void **state)
{
    (void)state;
    /* U+00E9, U+4E2D, U+1F600 as UTF-8; DEL (0x7f) is no control character in JSON */
    const char *s = "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\x7f";
    char want[32];
    snprintf(want, sizeof want, "\"%s\"", s);
    assert_string_equal(str(s, strlen(s)), want);
}

static void key_is_an_escaped_string_and_a_colon(void **state)
{
    (void)state;
    jsonw w;
    jsonw_init(&w, buf, sizeof buf - 1);
    jsonw_key(&w, "k\"/\n", 4);
    assert_true(jsonw_end(&w));
    assert_string_equal(buf, "\"k\\\"/\\n\":");
}

static void literals_are_written_as_json_literals(void **state)
{
    (void)state;
    assert_string_equal(value_of("{\"v\":true}"), "true");
    assert_string_equal(value_of("{\"v\":false}"), "false");
    assert_string_equal(value_of("{\"v\":null}"), "null");
    jsonw w;
    jsonw_init(&w, buf, sizeof buf - 1);
    assert_int_equal(jsonw_value(&w, NULL), SF_OK);
    assert_true(jsonw_end(&w));
    assert_string_equal(buf, "null");
}

static void integers_are_decimal_down_to_int64_and_up_to_uint64(void **state)
{
    (void)state;
    assert_string_equal(value_of("{\"v\":0}"), "0");
    assert_string_equal(value_of("{\"v\":-42}"), "-42");
    assert_string_equal(value_of("{\"v\":9223372036854775807}"), "9223372036854775807");
    assert_string_equal(value_of("{\"v\":-9223372036854775808}"), "-9223372036854775808");
    assert_string_equal(value_of("{\"v\":12345678901234567890}"), "12345678901234567890");
    assert_string_equal(value_of("{\"v\":18446744073709551615}"), "18446744073709551615");
    assert_round_trips("{\"v\":12345678901234567890}");
}

static void parsed_fractions_keep_their_source_text(void **state)
{
    (void)state;
    assert_string_equal(value_of("{\"v\":1.0}"), "1.0");
    assert_string_equal(value_of("{\"v\":-0.0}"), "-0.0");
    assert_string_equal(value_of("{\"v\":2.5e-3}"), "2.5e-3");
    assert_string_equal(value_of("{\"v\":1E+2}"), "1E+2");
    assert_string_equal(value_of("{\"v\":123456789012345678901234567890.5}"),
                        "123456789012345678901234567890.5");
}

static void a_double_made_in_code_is_printed_by_json_c(void **state)
{
    (void)state;
    json_object *d = json_object_new_double(0.5);
    assert_non_null(d);
    jsonw w;
    jsonw_init(&w, buf, sizeof buf - 1);
    assert_int_equal(jsonw_value(&w, d), SF_OK);
    assert_true(jsonw_end(&w));
    assert_string_equal(buf, "0.5");
    json_object_put(d);
}

static void nested_objects_and_arrays_are_compact_json(void **state)
{
    (void)state;
    assert_string_equal(value_of("{\"v\": {\"a\": [1, \"x/y\", {\"b\": null}], \"c\": {}}}"),
                        "{\"a\":[1,\"x/y\",{\"b\":null}],\"c\":{}}");
    assert_string_equal(value_of("{\"v\":[]}"), "[]");
    assert_round_trips("{\"v\":[true,false,null,1.5,\"\\u0001\",[[]]]}");
}

static void text_past_the_capacity_is_counted_not_stored(void **state)
{
    (void)state;
    char small[5] = "????";
    jsonw w;
    jsonw_init(&w, small, 4);
    jsonw_raw(&w, "ab", 2);
    jsonw_string(&w, "c\"d", 3); /* "c\"d" is 6 bytes: 8 in all */
    assert_int_equal(w.len, 8);
    assert_false(jsonw_end(&w));
    assert_memory_equal(small, "ab\"c", 4); /* the part that fit; nothing past it */
    assert_int_equal(small[4], '\0');

    jsonw_init(&w, small, 4);
    jsonw_raw(&w, "abcd", 4);
    assert_true(jsonw_end(&w));
    assert_string_equal(small, "abcd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_is_quoted_unchanged),
        cmocka_unit_test(quote_and_backslash_are_escaped),
        cmocka_unit_test(solidus_is_written_as_it_is),
        cmocka_unit_test(control_characters_use_short_escapes_where_json_has_them),
        cmocka_unit_test(other_control_characters_are_u00xx_escapes),
        cmocka_unit_test(utf8_and_del_pass_through),
        cmocka_unit_test(key_is_an_escaped_string_and_a_colon),
        cmocka_unit_test(literals_are_written_as_json_literals),
        cmocka_unit_test(integers_are_decimal_down_to_int64_and_up_to_uint64),
        cmocka_unit_test(parsed_fractions_keep_their_source_text),
        cmocka_unit_test(a_double_made_in_code_is_printed_by_json_c),
        cmocka_unit_test(nested_objects_and_arrays_are_compact_json),
        cmocka_unit_test(text_past_the_capacity_is_counted_not_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
