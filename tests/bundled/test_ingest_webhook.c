/*
 * test_ingest_webhook.c - the bundled `webhook` connector (.so, loaded by the real loader)
 * behind the real ingest listener and host: options validated and secrets resolved by the
 * core, JSON mapped by the core's mapping, events reaching the sink, and every answer a
 * sender can get, over real HTTP (libcurl on 127.0.0.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/diag.h"
#include "model/event.h"
#include "plugin/host.h"
#include "ingest/ingest_http.h"
#include "plugin/loader.h"
#include "mapping/mapping.h"
#include "plugin/options.h"

#define SECRET "whsec_e2e_secret"

/* What reached the core, and what the core answers next (SF_ERETRY: saturated). */
static struct {
    char entity[8][64];
    char type[8][64];
    int64_t time_ms[8];
    char source_id[8][64];
    int n;
    sf_status answer;
} sink;

static sf_status capture(void *ctx, sf_instance *src, sf_event *ev)
{
    (void)ctx;
    (void)src;
    sf_status st = sink.answer;
    if (st == SF_OK && sink.n < 8) {
        snprintf(sink.entity[sink.n], 64, "%s", ev->entity);
        snprintf(sink.type[sink.n], 64, "%s", ev->type);
        snprintf(sink.source_id[sink.n], 64, "%s", ev->source_id ? ev->source_id : "");
        sink.time_ms[sink.n++] = ev->time_ms;
    }
    event_free(ev);
    return st;
}

static config_kv kvs[] = {
    {.key = "path", .value = "/hooks/billing", .line = 2},
    {.key = "signature", .value = "stripe", .line = 3},
    {.key = "secret", .value = "env:SF_TEST_WEBHOOK_SECRET", .line = 4},
    {.key = "map.entity", .value = "data.object.customer", .line = 5},
    {.key = "map.type", .value = "type", .line = 6},
    {.key = "map.time", .value = "created", .line = 7},
    {.key = "map.time_unit", .value = "s", .line = 8},
    {.key = "map.id", .value = "id", .line = 9},
};
static config_instance cfg = {.name = "billing",
                              .plugin = "webhook",
                              .kind = SF_KIND_CONNECTOR,
                              .line = 1,
                              .kv = kvs,
                              .n_kv = sizeof kvs / sizeof *kvs};

typedef struct world {
    plugin_registry *reg;
    opt_values *opts;
    mapping *map;
    sf_instance *inst;
    ingest_http *http;
} world;

static int setup(void **state)
{
    memset(&sink, 0, sizeof sink);
    setenv("SF_TEST_WEBHOOK_SECRET", SECRET, 1);
    world *w = calloc(1, sizeof *w);
    char err[512], path[1024];
    const char *dir = getenv("PLUGIN_BUILD");
    snprintf(path, sizeof path, "%s/connector_webhook.so", dir && *dir ? dir : "build/plugins");
    w->reg = loader_new(host_table(), host_info());
    if (loader_load_file(w->reg, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    const loaded_plugin *p = loader_find(w->reg, "webhook", 0);
    assert_non_null(p);
    diag d = {0};
    w->opts = options_apply(p->desc.options, &cfg, "test.ini", &d);
    w->map = mapping_new(&cfg, "test.ini", &d);
    if (d.n)
        diag_print(&d, stderr);
    assert_int_equal(d.n, 0);
    diag_clear(&d);
    instance_io io = {.emit = capture};
    w->inst = instance_new(&cfg, p, w->opts, w->map, &io);
    assert_int_equal(instance_create(w->inst), SF_OK);
    assert_int_equal(instance_start(w->inst), SF_OK);
    w->http = ingest_http_start("127.0.0.1:0", err, sizeof err);
    assert_non_null(w->http);
    /* What the runtime does for a connector with a request callback: route its `path`. */
    assert_int_equal(ingest_http_route(w->http, options_string(w->opts, "path"), w->inst), SF_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    ingest_http_unroute(w->http, w->inst);
    ingest_http_stop(w->http);
    instance_free(w->inst);
    mapping_free(w->map);
    options_free(w->opts);
    loader_free(w->reg);
    free(w);
    return 0;
}

/* ---- the sender ---------------------------------------------------------------------------- */

typedef struct reply {
    long code;
    char body[1024];
    size_t len;
    char retry_after[16];
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n, room = sizeof r->body - 1 - r->len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(p + 13, "\r\n"),
                 p + 13);
    return len;
}

/* Stripe's scheme: t=<now>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")), by OpenSSL directly. */
static void stripe_sign(char *out, size_t outlen, const char *secret, long long t, const char *body)
{
    char payload[4096];
    int n = snprintf(payload, sizeof payload, "%lld.%s", t, body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)payload,
                         (size_t)n, mac, &maclen));
    int off = snprintf(out, outlen, "Stripe-Signature: t=%lld,v1=", t);
    for (unsigned int i = 0; i < maclen; i++)
        off += snprintf(out + off, outlen - (size_t)off, "%02x", mac[i]);
}

static reply send_to(const world *w, const char *method, const char *body, const char *secret,
                     const char *ctype)
{
    reply r = {0};
    char url[128], sig[256], ct[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/billing", ingest_http_port(w->http));
    struct curl_slist *hl = NULL;
    if (secret) {
        stripe_sign(sig, sizeof sig, secret, (long long)time(NULL), body);
        hl = curl_slist_append(hl, sig);
    }
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    hl = curl_slist_append(hl, ct);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("curl: %s", curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    return r;
}

#define STRIPE_EVENT(id, cus)                                                                      \
    "{\"id\":\"" id "\",\"type\":\"invoice.payment_failed\",\"created\":1700000000,"               \
    "\"data\":{\"object\":{\"customer\":\"" cus "\"}}}"

/* ---- tests -------------------------------------------------------------------------------- */

static void signed_stripe_event_is_mapped_and_accepted(void **state)
{
    reply r = send_to(*state, "POST", STRIPE_EVENT("evt_1", "cus_42"), SECRET, NULL);
    assert_int_equal(r.code, 202);
    assert_string_equal(r.body, "{\"accepted\":1}");
    assert_int_equal(sink.n, 1);
    assert_string_equal(sink.entity[0], "cus_42");
    assert_string_equal(sink.type[0], "invoice.payment_failed");
    assert_int_equal(sink.time_ms[0], 1700000000000); /* created is in seconds */
    assert_string_equal(sink.source_id[0], "evt_1");  /* map.id, for the inbound dedup */
}

static void wrong_secret_or_none_answers_401(void **state)
{
    reply r = send_to(*state, "POST", STRIPE_EVENT("evt_1", "cus_42"), "whsec_other", NULL);
    assert_int_equal(r.code, 401);
    assert_non_null(strstr(r.body, "does not match"));
    r = send_to(*state, "POST", STRIPE_EVENT("evt_1", "cus_42"), NULL, NULL);
    assert_int_equal(r.code, 401);
    assert_non_null(strstr(r.body, "missing"));
    assert_int_equal(sink.n, 0);
}

static void unmappable_batch_line_answers_400_naming_it(void **state)
{
    const char *body = STRIPE_EVENT("evt_1", "cus_1") "\n{\"id\":\"evt_2\",\"type\":\"x\"}\n";
    reply r = send_to(*state, "POST", body, SECRET, "application/x-ndjson");
    assert_int_equal(r.code, 400);
    assert_non_null(strstr(r.body, "line 2: "));
    assert_non_null(strstr(r.body, "data.object.customer")); /* the core's mapping says what */
    assert_int_equal(sink.n, 0);                             /* nothing from the batch */
}

static void malformed_json_answers_400(void **state)
{
    reply r = send_to(*state, "POST", "{\"id\":", SECRET, NULL);
    assert_int_equal(r.code, 400);
    assert_true(r.len > 1);
    assert_int_equal(sink.n, 0);
}

static void saturated_core_answers_503_with_retry_after(void **state)
{
    sink.answer = SF_ERETRY;
    reply r = send_to(*state, "POST", STRIPE_EVENT("evt_1", "cus_42"), SECRET, NULL);
    assert_int_equal(r.code, 503);
    assert_string_equal(r.retry_after, "1");
    sink.answer = SF_OK; /* the sender retries and gets through */
    r = send_to(*state, "POST", STRIPE_EVENT("evt_1", "cus_42"), SECRET, NULL);
    assert_int_equal(r.code, 202);
    assert_int_equal(sink.n, 1);
}

static void other_methods_answer_405(void **state)
{
    reply r = send_to(*state, "PUT", STRIPE_EVENT("evt_1", "cus_42"), SECRET, NULL);
    assert_int_equal(r.code, 405);
    assert_int_equal(sink.n, 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(signed_stripe_event_is_mapped_and_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wrong_secret_or_none_answers_401, setup, teardown),
        cmocka_unit_test_setup_teardown(unmappable_batch_line_answers_400_naming_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(malformed_json_answers_400, setup, teardown),
        cmocka_unit_test_setup_teardown(saturated_core_answers_503_with_retry_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_methods_answer_405, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
