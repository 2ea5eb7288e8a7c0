/* Unit tests of core/ingest/ingest_http.c: a real listener on 127.0.0.1 (port 0), libcurl as the
   source, and a hand-made instance whose request callback is a test function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "plugin/host.h"
#include "ingest/ingest_http.h"
#include "base/limits.h"

/* ---- the test plugin: its request callback does what the current test asks ---------------- */

static struct {
    sf_status status;      /* returned */
    int resp_status;       /* put in resp->status */
    const char *resp_body; /* put in resp->body */
    const char *resp_type; /* put in resp->content_type */
    const char *error;     /* given to set_error when non-NULL */
    atomic_bool block;     /* wait in the callback until cleared */
} want;

static struct {
    atomic_int calls;
    atomic_bool inside;
    char method[16];
    char path[64];
    char *body;
    size_t body_len;
    char header[64];       /* X-Test as looked up with its own spelling */
    char header_lower[64]; /* the same looked up as "x-test" */
    bool absent_is_null;   /* a header that was not sent reads as NULL */
} seen;

static sf_status test_request(sf_instance *in, void *state, const sf_http_request *req,
                              sf_http_response *resp)
{
    (void)state;
    const sf_host *h = host_table();
    atomic_store(&seen.inside, true);
    atomic_fetch_add(&seen.calls, 1);
    snprintf(seen.method, sizeof seen.method, "%s", h->req_method(req));
    snprintf(seen.path, sizeof seen.path, "%s", h->req_path(req));
    size_t len = 0;
    const char *body = h->req_body(req, &len);
    free(seen.body);
    seen.body = malloc(len + 1);
    memcpy(seen.body, body, len);
    seen.body_len = len;
    const char *x = h->req_header(req, "X-Test");
    const char *xl = h->req_header(req, "x-test");
    snprintf(seen.header, sizeof seen.header, "%s", x ? x : "(null)");
    snprintf(seen.header_lower, sizeof seen.header_lower, "%s", xl ? xl : "(null)");
    seen.absent_is_null = h->req_header(req, "X-Not-Sent") == NULL;
    while (atomic_load(&want.block))
        usleep(1000);
    if (want.error)
        h->set_error(in, "%s", want.error);
    resp->status = want.resp_status;
    resp->body = want.resp_body;
    resp->content_type = want.resp_type;
    atomic_store(&seen.inside, false);
    return want.status;
}

static config_instance cfg = {.name = "hooks", .plugin = "testhook", .kind = SF_KIND_CONNECTOR};
static loaded_plugin plugin = {.path = "testhook.so"};

typedef struct fixture {
    ingest_http *http;
    sf_instance *inst;
} fixture;

static int setup(void **state)
{
    memset(&want, 0, sizeof want);
    free(seen.body);
    memset(&seen, 0, sizeof seen);
    plugin.desc.name = "testhook";
    plugin.desc.kind = SF_KIND_CONNECTOR;
    plugin.desc.request = test_request;
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    f->http = ingest_http_start("127.0.0.1:0", err, sizeof err);
    assert_non_null(f->http);
    assert_true(ingest_http_port(f->http) > 0);
    f->inst = instance_new(&cfg, &plugin, NULL, NULL, NULL);
    assert_int_equal(instance_create(f->inst), SF_OK);
    assert_int_equal(instance_start(f->inst), SF_OK);
    assert_int_equal(ingest_http_route(f->http, "/hooks/test", f->inst), SF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ingest_http_unroute(f->http, f->inst);
    ingest_http_stop(f->http);
    instance_free(f->inst);
    free(f);
    free(seen.body);
    seen.body = NULL;
    return 0;
}

/* ---- the source: one libcurl request ---------------------------------------------------- */

typedef struct reply {
    long code;
    char body[4096];
    size_t body_len;
    char retry_after[32];
    char allow[32];
    char content_type[64];
    bool cut_off; /* the server closed the connection without an answer */
} reply;

static bool tolerate_cutoff;

typedef struct upload {
    size_t left; /* bytes still to send from a chunked body of 'x' */
} upload;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    size_t room = sizeof r->body - 1 - r->body_len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->body_len, p, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return len;
}

static void copy_header_value(char *dst, size_t dstlen, const char *line, size_t len,
                              const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    while (*v == ' ')
        v++;
    size_t vl = (size_t)(line + len - v);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(dst, dstlen, "%.*s", (int)vl, v);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    copy_header_value(r->retry_after, sizeof r->retry_after, p, len, "Retry-After");
    copy_header_value(r->allow, sizeof r->allow, p, len, "Allow");
    copy_header_value(r->content_type, sizeof r->content_type, p, len, "Content-Type");
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    upload *u = ud;
    size_t len = size * n < u->left ? size * n : u->left;
    memset(buf, 'x', len);
    u->left -= len;
    return len;
}

/* Send one request. `chunked_len` > 0 sends that many bytes with chunked encoding instead. */
static reply http(const fixture *f, const char *method, const char *path, const char *body,
                  size_t body_len, const char *const *headers, size_t chunked_len)
{
    reply r = {0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ingest_http_port(f->http), path);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    upload up = {.left = chunked_len};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (chunked_len > 0) {
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK && !tolerate_cutoff)
        fail_msg("curl: %s", curl_easy_strerror(rc));
    r.cut_off = rc != CURLE_OK;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

static reply post(const fixture *f, const char *path, const char *body)
{
    return http(f, "POST", path, body, strlen(body), NULL, 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void unknown_path_answers_404_without_calling_a_plugin(void **state)
{
    reply r = post(*state, "/hooks/other", "{}");
    assert_int_equal(r.code, 404);
    r = post(*state, "/hooks/test/", "{}"); /* exact match only */
    assert_int_equal(r.code, 404);
    assert_int_equal(atomic_load(&seen.calls), 0);
}

static void method_other_than_post_answers_405_with_allow_post(void **state)
{
    static const char *const methods[] = {"GET", "PUT", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        reply r = http(*state, methods[i], "/hooks/test", NULL, 0, NULL, 0);
        assert_int_equal(r.code, 405);
        assert_string_equal(r.allow, "POST");
    }
    assert_int_equal(atomic_load(&seen.calls), 0);
}

static void ok_with_status_zero_answers_200(void **state)
{
    want.status = SF_OK;
    reply r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 200);
    assert_int_equal(atomic_load(&seen.calls), 1);
}

static void plugin_status_body_and_content_type_are_answered(void **state)
{
    want.status = SF_OK;
    want.resp_status = 202;
    want.resp_body = "{\"accepted\":1}";
    want.resp_type = "application/json";
    reply r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 202);
    assert_string_equal(r.body, "{\"accepted\":1}");
    assert_string_equal(r.content_type, "application/json");
}

static void body_and_headers_reach_the_callback_exactly(void **state)
{
    static const char body[] = "{\"a\":\"\0b\"}\r\n\xff";
    size_t len = sizeof body - 1; /* with the NUL inside */
    static const char *const headers[] = {"X-Test: Value With  Spaces", "Expect:", NULL};
    want.status = SF_OK;
    reply r = http(*state, "POST", "/hooks/test", body, len, headers, 0);
    assert_int_equal(r.code, 200);
    assert_string_equal(seen.method, "POST");
    assert_string_equal(seen.path, "/hooks/test");
    assert_int_equal(seen.body_len, len);
    assert_memory_equal(seen.body, body, len);
    assert_string_equal(seen.header, "Value With  Spaces");
    assert_string_equal(seen.header_lower, "Value With  Spaces");
    assert_true(seen.absent_is_null);
}

static void empty_body_reaches_the_callback_as_zero_length(void **state)
{
    want.status = SF_OK;
    reply r = http(*state, "POST", "/hooks/test", "", 0, NULL, 0);
    assert_int_equal(r.code, 200);
    assert_int_equal(atomic_load(&seen.calls), 1);
    assert_int_equal(seen.body_len, 0);
}

static void retry_from_callback_answers_503_with_retry_after(void **state)
{
    want.status = SF_ERETRY;
    reply r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 503);
    assert_string_equal(r.retry_after, "1");
}

static void invalid_from_callback_answers_400_with_the_error_text(void **state)
{
    want.status = SF_EINVAL;
    want.error = "line 1 col 2: unexpected '}'";
    reply r = post(*state, "/hooks/test", "{");
    assert_int_equal(r.code, 400);
    assert_string_equal(r.body, "line 1 col 2: unexpected '}'\n");

    /* The next invalid request without a text must not get the previous request's text. */
    want.error = NULL;
    r = post(*state, "/hooks/test", "{");
    assert_int_equal(r.code, 400);
    assert_null(strstr(r.body, "unexpected"));
}

static void invalid_with_plugin_body_and_4xx_keeps_both(void **state)
{
    want.status = SF_EINVAL;
    want.resp_status = 401;
    want.resp_body = "bad signature\n";
    want.error = "ignored when a body is given";
    reply r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 401);
    assert_string_equal(r.body, "bad signature\n");
}

static void other_errors_answer_500(void **state)
{
    want.status = SF_EIO;
    want.error = "disk on fire";
    reply r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 500);
    assert_null(strstr(r.body, "disk on fire")); /* operator text stays in the log */
}

static void body_at_the_limit_is_accepted(void **state)
{
    size_t n = SIGFLOW_MAX_HTTP_BODY;
    char *body = malloc(n);
    memset(body, 'y', n);
    want.status = SF_OK;
    reply r = http(*state, "POST", "/hooks/test", body, n, NULL, 0);
    assert_int_equal(r.code, 200);
    assert_int_equal(seen.body_len, n);
    free(body);
}

static void oversize_content_length_answers_413_before_the_body(void **state)
{
    size_t n = (size_t)SIGFLOW_MAX_HTTP_BODY + 1;
    char *body = malloc(n);
    memset(body, 'z', n);
    static const char *const expect[] = {"Expect: 100-continue", NULL};
    reply r = http(*state, "POST", "/hooks/test", body, n, expect, 0);
    assert_int_equal(r.code, 413);
    assert_int_equal(atomic_load(&seen.calls), 0);
    free(body);
}

static void oversize_chunked_body_answers_413(void **state)
{
    reply r = http(*state, "POST", "/hooks/test", NULL, 0, NULL, (size_t)SIGFLOW_MAX_HTTP_BODY + 1);
    assert_int_equal(r.code, 413);
    assert_int_equal(atomic_load(&seen.calls), 0);
    /* The listener is still fine afterwards. */
    want.status = SF_OK;
    r = http(*state, "POST", "/hooks/test", NULL, 0, NULL, 100);
    assert_int_equal(r.code, 200);
    assert_int_equal(seen.body_len, 100);
}

static void chunked_body_far_over_the_limit_is_cut_off(void **state)
{
    tolerate_cutoff = true;
    reply r = http(*state, "POST", "/hooks/test", NULL, 0, NULL, 3 * (size_t)SIGFLOW_MAX_HTTP_BODY);
    tolerate_cutoff = false;
    assert_true(r.cut_off || r.code == 413);
    assert_int_equal(atomic_load(&seen.calls), 0);
    want.status = SF_OK;
    r = post(*state, "/hooks/test", "{}");
    assert_int_equal(r.code, 200);
}

static void headers_past_the_connection_memory_answer_431(void **state)
{
    /* Headers of half the connection's memory fit; as many bytes as all of it cannot. */
    static char big[SIGFLOW_HTTP_CONNECTION_MEMORY + 32];
    const char *headers[] = {big, NULL};
    want.status = SF_OK;
    snprintf(big, sizeof big, "X-Big: %0*d", SIGFLOW_HTTP_CONNECTION_MEMORY / 2, 0);
    reply r = http(*state, "POST", "/hooks/test", "{}", 2, headers, 0);
    assert_int_equal(r.code, 200);
    assert_int_equal(atomic_load(&seen.calls), 1);
    snprintf(big, sizeof big, "X-Big: %0*d", SIGFLOW_HTTP_CONNECTION_MEMORY, 0);
    r = http(*state, "POST", "/hooks/test", "{}", 2, headers, 0);
    assert_int_equal(r.code, 431);
    assert_int_equal(atomic_load(&seen.calls), 1);
}

static void too_many_headers_answer_431(void **state)
{
    static char names[SIGFLOW_MAX_HTTP_HEADERS + 1][32];
    static const char *headers[SIGFLOW_MAX_HTTP_HEADERS + 2];
    for (int i = 0; i <= SIGFLOW_MAX_HTTP_HEADERS; i++) {
        snprintf(names[i], sizeof names[i], "X-Extra-%d: %d", i, i);
        headers[i] = names[i];
    }
    reply r = http(*state, "POST", "/hooks/test", "{}", 2, headers, 0);
    assert_int_equal(r.code, 431);
    assert_int_equal(atomic_load(&seen.calls), 0);
}

#define CLIENTS 8
#define PER_CLIENT 16

static void *post_many(void *arg)
{
    static atomic_int ok;
    for (int i = 0; i < PER_CLIENT; i++)
        if (post(arg, "/hooks/test", "{\"n\":1}").code == 200)
            atomic_fetch_add(&ok, 1);
    return &ok;
}

static void concurrent_senders_are_all_answered(void **state)
{
    want.status = SF_OK;
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, post_many, *state), 0);
    void *ok = NULL;
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_join(t[i], &ok), 0);
    assert_int_equal(atomic_load((atomic_int *)ok), CLIENTS * PER_CLIENT);
    assert_int_equal(atomic_load(&seen.calls), CLIENTS * PER_CLIENT);
}

static void route_refuses_a_taken_or_malformed_path(void **state)
{
    fixture *f = *state;
    assert_int_equal(ingest_http_route(f->http, "/hooks/test", f->inst), SF_EINVAL);
    assert_int_equal(ingest_http_route(f->http, "hooks/relative", f->inst), SF_EINVAL);
    char longpath[SIGFLOW_MAX_HTTP_PATH + 2];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(ingest_http_route(f->http, longpath, f->inst), SF_EINVAL);
}

static void *post_in_background(void *arg)
{
    static reply r;
    r = post(arg, "/hooks/test", "{}");
    return &r;
}

typedef struct unrouter {
    fixture *f;
    atomic_bool returned;
} unrouter;

static void *unroute_in_background(void *arg)
{
    unrouter *u = arg;
    ingest_http_unroute(u->f->http, u->f->inst);
    atomic_store(&u->returned, true);
    return NULL;
}

static void unroute_waits_for_a_call_in_flight(void **state)
{
    fixture *f = *state;
    want.status = SF_OK;
    atomic_store(&want.block, true);
    pthread_t client;
    assert_int_equal(pthread_create(&client, NULL, post_in_background, f), 0);
    for (int i = 0; i < 5000 && !atomic_load(&seen.inside); i++)
        usleep(1000);
    assert_true(atomic_load(&seen.inside));

    unrouter u = {.f = f};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, unroute_in_background, &u), 0);
    usleep(200 * 1000);
    assert_false(atomic_load(&u.returned)); /* the callback is still running */
    assert_true(atomic_load(&seen.inside));

    atomic_store(&want.block, false);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(atomic_load(&u.returned));
    assert_false(atomic_load(&seen.inside)); /* the callback had finished by then */
    void *res;
    assert_int_equal(pthread_join(client, &res), 0);
    assert_int_equal(((reply *)res)->code, 200);

    reply r = post(f, "/hooks/test", "{}");
    assert_int_equal(r.code, 404); /* and the path is gone */
    assert_int_equal(atomic_load(&seen.calls), 1);
}

static void start_refuses_malformed_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = {"127.0.0.1",    "127.0.0.1:", "127.0.0.1:70000",
                                      "127.0.0.1:8x", "[::1]8080",  ":8080"};
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_null(ingest_http_start(bad[i], err, sizeof err));
        assert_non_null(strstr(err, bad[i]));
    }
}

static void start_listens_on_ipv6_loopback(void **state)
{
    (void)state;
    char err[256];
    ingest_http *h = ingest_http_start("[::1]:0", err, sizeof err);
    if (!h)
        skip(); /* no IPv6 in this sandbox */
    assert_true(ingest_http_port(h) > 0);
    ingest_http_stop(h);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unknown_path_answers_404_without_calling_a_plugin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(method_other_than_post_answers_405_with_allow_post, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ok_with_status_zero_answers_200, setup, teardown),
        cmocka_unit_test_setup_teardown(plugin_status_body_and_content_type_are_answered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(body_and_headers_reach_the_callback_exactly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(empty_body_reaches_the_callback_as_zero_length, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(retry_from_callback_answers_503_with_retry_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_from_callback_answers_400_with_the_error_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_with_plugin_body_and_4xx_keeps_both, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_errors_answer_500, setup, teardown),
        cmocka_unit_test_setup_teardown(body_at_the_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(oversize_content_length_answers_413_before_the_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(oversize_chunked_body_answers_413, setup, teardown),
        cmocka_unit_test_setup_teardown(chunked_body_far_over_the_limit_is_cut_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(too_many_headers_answer_431, setup, teardown),
        cmocka_unit_test_setup_teardown(headers_past_the_connection_memory_answer_431, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(concurrent_senders_are_all_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(route_refuses_a_taken_or_malformed_path, setup, teardown),
        cmocka_unit_test_setup_teardown(unroute_waits_for_a_call_in_flight, setup, teardown),
        cmocka_unit_test(start_refuses_malformed_addresses),
        cmocka_unit_test(start_listens_on_ipv6_loopback),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
