/* Unit tests of plugins/connector_http_poll's pure parts: paths, pages (items, cursors, next
   links, more/end, the bounds), URL expansion and the origin check, Retry-After. The plugin's
   sources are compiled in; expected values are written from docs/connector-http-poll.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/connector_http_poll/poll_page.c"
#include "../../plugins/connector_http_poll/poll_url.c"

static void paging(poll_paging *pg, const char *items, const char *cursor, const char *next,
                   const char *more, const char *end)
{
    memset(pg, 0, sizeof *pg);
    assert_null(poll_path_compile(items, &pg->items));
    assert_null(poll_cursor_compile(cursor, pg));
    pg->has_next_url = next != NULL;
    pg->has_more = more != NULL;
    pg->has_end = end != NULL;
    assert_null(poll_path_compile(next, &pg->next_url));
    assert_null(poll_path_compile(more, &pg->more));
    assert_null(poll_path_compile(end, &pg->end));
}

static int parse(const char *body, const poll_paging *pg, poll_page *p, char *err)
{
    return poll_page_parse(body, strlen(body), pg, p, err, 256);
}

static void zendesk_page_gives_after_cursor_and_end(void **state)
{
    (void)state;
    poll_paging pg;
    poll_page p;
    char err[256];
    paging(&pg, "tickets", "response.after_cursor", NULL, NULL, "end_of_stream");
    assert_int_equal(parse("{\"tickets\":[{\"id\":1},{\"id\":2}],\"after_cursor\":\"MTU=\","
                           "\"before_cursor\":null,\"end_of_stream\":false}",
                           &pg, &p, err),
                     0);
    assert_int_equal(p.n_items, 2);
    assert_string_equal(p.cursor, "MTU=");
    assert_true(p.more_known && p.more);
    size_t len;
    const char *j = poll_page_item_json(&p, 1, &len);
    assert_int_equal(len, strlen("{\"id\":2}"));
    assert_memory_equal(j, "{\"id\":2}", len);
    poll_page_free(&p);
    assert_int_equal(
        parse("{\"tickets\":[],\"after_cursor\":\"MTU=\",\"end_of_stream\":true}", &pg, &p, err),
        0);
    assert_true(p.more_known && !p.more);
    poll_page_free(&p);
    poll_paging_free(&pg);
}

static void stripe_page_takes_the_last_records_id(void **state)
{
    (void)state;
    poll_paging pg;
    poll_page p;
    char err[256];
    paging(&pg, "data", "last.id", NULL, "has_more", NULL);
    assert_int_equal(parse("{\"object\":\"list\",\"data\":[{\"id\":\"cus_1\"},{\"id\":\"cus_2\"}],"
                           "\"has_more\":true}",
                           &pg, &p, err),
                     0);
    assert_string_equal(p.cursor, "cus_2");
    assert_true(p.more);
    poll_page_free(&p);
    /* An empty page has no last record: no new cursor. */
    assert_int_equal(parse("{\"data\":[],\"has_more\":false}", &pg, &p, err), 0);
    assert_null(p.cursor);
    assert_false(p.more);
    poll_page_free(&p);
    poll_paging_free(&pg);
}

static void next_link_and_nested_paths(void **state)
{
    (void)state;
    poll_paging pg;
    poll_page p;
    char err[256];
    paging(&pg, "results", NULL, "paging.next.link", NULL, NULL);
    assert_int_equal(
        parse("{\"results\":[{}],\"paging\":{\"next\":{\"link\":\"/x?after=1\"}}}", &pg, &p, err),
        0);
    assert_string_equal(p.next_url, "/x?after=1");
    assert_false(p.more_known);
    poll_page_free(&p);
    assert_int_equal(parse("{\"results\":[{}]}", &pg, &p, err), 0);
    assert_null(p.next_url);
    poll_page_free(&p);
    poll_paging_free(&pg);
    /* Empty items: the body is the array; an index segment reads into arrays. */
    paging(&pg, "", "last.ids.1", NULL, NULL, NULL);
    assert_int_equal(parse("[{\"ids\":[5,6]},{\"ids\":[7,8]}]", &pg, &p, err), 0);
    assert_int_equal(p.n_items, 2);
    assert_string_equal(p.cursor, "8"); /* an integer cursor, in decimal */
    poll_page_free(&p);
    poll_paging_free(&pg);
}

static void bad_pages_say_what_is_wrong(void **state)
{
    (void)state;
    poll_paging pg;
    poll_page p;
    char err[256];
    paging(&pg, "data", "response.next", NULL, NULL, NULL);
    struct {
        const char *body, *says;
    } cases[] = {
        {"{\"data\":[1,2]", "not JSON"},
        {"{\"data\":[]} x", "not JSON: unexpected character at byte 12"},
        {"{\"items\":[]}", "no array"},
        {"{\"data\":{}}", "no array"},
        {"{\"data\":[],\"next\":{\"a\":1}}", "neither a string nor an integer"},
        {"", "not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(parse(cases[i].body, &pg, &p, err), -1);
        assert_non_null(strstr(err, cases[i].says));
        assert_null(p.root);
    }
    /* Nesting past POLL_MAX_DEPTH is refused, not recursed into. */
    char deep[200] = "{\"data\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    assert_int_equal(parse(deep, &pg, &p, err), -1);
    /* More records than POLL_MAX_ITEMS in one page. */
    size_t n = POLL_MAX_ITEMS + 1, len = 0;
    char *big = malloc(16 + 2 * n);
    len += (size_t)sprintf(big, "{\"data\":[");
    for (size_t i = 0; i < n; i++)
        big[len++] = '0', big[len++] = i + 1 < n ? ',' : ']';
    big[len++] = '}';
    big[len] = '\0';
    assert_int_equal(parse(big, &pg, &p, err), -1);
    assert_non_null(strstr(err, "more than 10000"));
    free(big);
    poll_paging_free(&pg);
}

static void options_are_checked(void **state)
{
    (void)state;
    poll_paging pg = {0};
    assert_non_null(poll_cursor_compile("after_cursor", &pg));
    assert_non_null(poll_cursor_compile("response.", &pg));
    assert_null(poll_cursor_compile("response.meta.after", &pg));
    assert_int_equal(pg.cursor_src, CURSOR_RESPONSE);
    assert_int_equal(pg.cursor.n, 2);
    poll_paging_free(&pg);
    poll_path p;
    assert_non_null(poll_path_compile("a..b", &p));
    assert_non_null(poll_path_compile(".a", &p));
    assert_non_null(poll_path_compile("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", &p)); /* 17 */
}

static void cursor_is_url_encoded_into_the_template(void **state)
{
    (void)state;
    char *u = poll_url_expand("https://x.example/e?cursor={cursor}&n=1", "a b/c+d=é");
    assert_string_equal(u, "https://x.example/e?cursor=a%20b%2Fc%2Bd%3D%C3%A9&n=1");
    free(u);
    u = poll_url_expand("https://x.example/e?c={cursor}", NULL);
    assert_string_equal(u, "https://x.example/e?c=");
    free(u);
    char cur[POLL_MAX_URL];
    memset(cur, '/', sizeof cur - 1);
    cur[sizeof cur - 1] = '\0';
    assert_null(poll_url_expand("https://x.example/?c={cursor}", cur)); /* too long */
}

static void next_links_stay_on_the_configured_origin(void **state)
{
    (void)state;
    const char *origin = "https://api.example.com/v3/contacts?after=0";
    char err[256];
    char *n = poll_url_next(origin, origin, "https://api.example.com/v3/contacts?after=7", err,
                            sizeof err);
    assert_string_equal(n, "https://api.example.com/v3/contacts?after=7");
    free(n);
    n = poll_url_next(origin, "https://api.example.com/v3/contacts?after=7", "?after=14", err,
                      sizeof err);
    assert_string_equal(n, "https://api.example.com/v3/contacts?after=14"); /* relative */
    free(n);
    n = poll_url_next(origin, origin, "HTTPS://API.EXAMPLE.COM:443/v3/x", err, sizeof err);
    assert_non_null(n); /* the same origin, written otherwise */
    free(n);
    const char *refused[] = {"https://evil.example.net/v3/contacts?after=7",
                             "http://api.example.com/v3/contacts?after=7",
                             "https://api.example.com:8443/v3/contacts",
                             "https://api.example.com.evil.net/", "https://user@evil.example.net/"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        assert_null(poll_url_next(origin, origin, refused[i], err, sizeof err));
        assert_non_null(strstr(err, "host"));
    }
    assert_true(poll_url_valid("http://127.0.0.1:8080/x"));
    assert_false(poll_url_valid("ftp://x.example/"));
    assert_false(poll_url_valid("not a url"));
}

static void retry_after_reads_seconds_and_http_dates(void **state)
{
    (void)state;
    int64_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(poll_retry_after_ms("120", now, 3600000), 120000);
    assert_int_equal(poll_retry_after_ms(" 0 ", now, 3600000), 0);
    assert_int_equal(poll_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now, 3600000), 30000);
    assert_int_equal(poll_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now, 3600000), 0);
    assert_int_equal(poll_retry_after_ms("99999999", now, 3600000), 3600000); /* bounded */
    assert_int_equal(poll_retry_after_ms(NULL, now, 3600000), -1);
    assert_int_equal(poll_retry_after_ms("-5", now, 3600000), -1);
    assert_int_equal(poll_retry_after_ms("soon", now, 3600000), -1);
    assert_int_equal(poll_retry_after_ms("12abc", now, 3600000), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zendesk_page_gives_after_cursor_and_end),
        cmocka_unit_test(stripe_page_takes_the_last_records_id),
        cmocka_unit_test(next_link_and_nested_paths),
        cmocka_unit_test(bad_pages_say_what_is_wrong),
        cmocka_unit_test(options_are_checked),
        cmocka_unit_test(cursor_is_url_encoded_into_the_template),
        cmocka_unit_test(next_links_stay_on_the_configured_origin),
        cmocka_unit_test(retry_after_reads_seconds_and_http_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
