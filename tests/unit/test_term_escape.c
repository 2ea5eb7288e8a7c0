/* Unit tests of core/base/term_escape.c: what a terminal would act on is made visible,
   printable UTF-8 passes, invalid UTF-8 is shown byte by byte (expected strings written from
   the rules in term_escape.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/term_escape.h"

/* in escaped, malloc'd (NULL when memory ran out). */
static char *escaped(const char *in)
{
    strbuf b = {0};
    strbuf_add(&b, "", 0);
    term_escape(&b, in);
    return strbuf_take(&b);
}

static void expect(const char *in, const char *out)
{
    char *e = escaped(in);
    assert_non_null(e);
    assert_string_equal(e, out);
    free(e);
}

static void controls_are_shown_not_acted_on(void **state)
{
    (void)state;
    expect("plain text", "plain text");
    expect("a\nb\rc\td", "a\\nb\\rc\\td");
    expect("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07");
    expect("del\x7f", "del\\x7f");
    expect("back\\slash", "back\\\\slash");
    expect("", "");
    expect(NULL, "");
}

static void utf8_passes_c1_bidi_and_invalid_bytes_do_not(void **state)
{
    (void)state;
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    expect("\xc2\x9b"
           "31m",
           "\\x9b31m"); /* C1 CSI, as UTF-8 */
    expect("a\xe2\x80\xae"
           "b",
           "a\\u{202e}b");                 /* RIGHT-TO-LEFT OVERRIDE */
    expect("\xe2\x81\xa6x", "\\u{2066}x"); /* LEFT-TO-RIGHT ISOLATE */
    expect("\x9b"
           "2J",
           "\\x9b2J");                                  /* a lone C1 byte: not UTF-8 */
    expect("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
    expect("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
    expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* beyond U+10FFFF */
    expect("\xe2\x82", "\\xe2\\x82");                   /* cut short */
}

static void json_keeps_its_backslashes(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_not_equal(term_fputs_json("{\"a\":\"x\\\"y\\u001b\",\"b\":\"\x1b\"}", f), EOF);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "{\"a\":\"x\\\"y\\u001b\",\"b\":\"\\x1b\"}");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(controls_are_shown_not_acted_on),
        cmocka_unit_test(utf8_passes_c1_bidi_and_invalid_bytes_do_not),
        cmocka_unit_test(json_keeps_its_backslashes),
    };
    return cmocka_run_group_tests_name("term_escape", tests, NULL, NULL);
}
