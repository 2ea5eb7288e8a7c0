/* test_file_csv.c - CSV rows to JSON objects for the file connector's format = csv
 * (plugins/connector_file/file_csv.c, compiled in here: plugins link no core library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/connector_file/file_csv.c"

static char why[256];

static const char *row(file_csv *c, const char *line)
{
    const char *json = NULL;
    size_t n = 0;
    why[0] = '\0';
    if (!file_csv_row(c, line, strlen(line), &json, &n, why, sizeof why))
        return NULL;
    assert_int_equal(strlen(json), n);
    return json;
}

static file_csv *with_header(const char *h)
{
    file_csv *c = file_csv_new(1024);
    assert_non_null(c);
    assert_true(file_csv_header(c, h, strlen(h), why, sizeof why));
    return c;
}

static void rows_become_json_objects_keyed_by_the_header(void **state)
{
    (void)state;
    file_csv *c = with_header("\xEF\xBB\xBFuser_id,event,ts,amount"); /* a spreadsheet's BOM */
    assert_string_equal(row(c, "u1,login,2026-11-01T10:00:00Z,3.5"),
                        "{\"user_id\":\"u1\",\"event\":\"login\",\"ts\":\"2026-11-01T10:00:00Z\","
                        "\"amount\":3.5}");
    /* numbers stay numbers; leading zeros, quotes and signs-only keep text */
    assert_string_equal(
        row(c, "12345,login,1764000000000,-2e3"),
        "{\"user_id\":12345,\"event\":\"login\",\"ts\":1764000000000,\"amount\":-2e3}");
    assert_string_equal(row(c, "007,\"42\",-,1."),
                        "{\"user_id\":\"007\",\"event\":\"42\",\"ts\":\"-\",\"amount\":\"1.\"}");
    /* an empty unquoted cell is absent; a quoted empty one is "" */
    assert_string_equal(row(c, "u2,,\"\","), "{\"user_id\":\"u2\",\"ts\":\"\"}");
    file_csv_free(c);
}

static void quoting_follows_rfc_4180(void **state)
{
    (void)state;
    file_csv *c = with_header("\"id\",\"note, with comma\"");
    assert_string_equal(row(c, "a,\"said \"\"hi\"\", left\""),
                        "{\"id\":\"a\",\"note, with comma\":\"said \\\"hi\\\", left\"}");
    assert_string_equal(row(c, "b,back\\slash\ttab"),
                        "{\"id\":\"b\",\"note, with comma\":\"back\\\\slash\\u0009tab\"}");
    file_csv_free(c);
}

static void bad_rows_say_why(void **state)
{
    (void)state;
    file_csv *c = with_header("a,b,c");
    assert_null(row(c, "1,2"));
    assert_string_equal(why, "row has 2 cells, the header 3");
    assert_null(row(c, "1,2,3,4"));
    assert_string_equal(why, "row has more cells than the header's 3 columns");
    assert_null(row(c, "1,\"open,3"));
    assert_non_null(strstr(why, "unterminated quote"));
    assert_null(row(c, "1,\"x\"y,3"));
    assert_non_null(strstr(why, "text after a closing quote"));
    file_csv_free(c);
}

static void bad_headers_are_refused(void **state)
{
    (void)state;
    file_csv *c = file_csv_new(64);
    assert_false(file_csv_header(c, "a,b,a", 5, why, sizeof why));
    assert_non_null(strstr(why, "`a` appears twice"));
    assert_false(file_csv_header(c, "a,,b", 4, why, sizeof why));
    assert_non_null(strstr(why, "column 2"));
    assert_false(file_csv_header(c, "", 0, why, sizeof why));
    assert_false(file_csv_has_header(c));
    const char *json;
    size_t n;
    assert_false(file_csv_row(c, "x", 1, &json, &n, why, sizeof why));
    assert_string_equal(why, "no header line yet");
    file_csv_free(c);
}

/* The output buffer holds the worst case: every byte a control character. */
static void worst_case_rows_fit(void **state)
{
    (void)state;
    char line[257];
    memset(line, 1, 256);
    line[256] = '\0';
    file_csv *c = file_csv_new(256);
    assert_true(file_csv_header(c, "k", 1, why, sizeof why));
    const char *json = row(c, line);
    assert_non_null(json);
    assert_int_equal(strlen(json), strlen("{\"k\":\"\"}") + 6 * 256);
    file_csv_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_become_json_objects_keyed_by_the_header),
        cmocka_unit_test(quoting_follows_rfc_4180),
        cmocka_unit_test(bad_rows_say_why),
        cmocka_unit_test(bad_headers_are_refused),
        cmocka_unit_test(worst_case_rows_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
