/* Unit tests of plugins/connector_webhook: signature parsing and checking (pure functions), and
   the plugin's callbacks against a small fake host table defined here (the plugin's sources
   are compiled into this test so their static functions can be reached). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sigflow.h"

/* Every MAC comparison of the plugin goes through here: it must be CRYPTO_memcmp. */
static int ct_compares;
static int counting_memcmp(const void *a, const void *b, size_t n)
{
    ct_compares++;
    return CRYPTO_memcmp(a, b, n);
}
#define CRYPTO_memcmp counting_memcmp
#include "../../plugins/connector_webhook/webhook_signature.c"
#undef CRYPTO_memcmp
#include "../../plugins/connector_webhook/connector_webhook.c"

#define SECRET "whsec_test_secret"

/* ---- the fake host ------------------------------------------------------------------------ */

struct sf_instance {
    const char *opts[8][2]; /* name, value */
    char error[512];
    char log[4096]; /* every log line, for the "no secret in logs" check */
};

struct sf_event {
    char doc[256];
};

struct sf_http_request {
    const char *headers[4][2];
    const char *body;
    size_t len;
};

static struct {
    char docs[16][256]; /* what was emitted, in order */
    int n_emitted;
    int retry_at;    /* emit answers SF_ERETRY for the event with this index (-1: never) */
    int live_events; /* made by map_json, not yet consumed or freed */
} fake;

static void f_vlog(sf_instance *in, sf_log_level lv, const char *fmt, va_list ap)
{
    (void)lv;
    size_t used = strlen(in->log);
    vsnprintf(in->log + used, sizeof in->log - used, fmt, ap);
}

static void f_log(sf_instance *in, sf_log_level lv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    f_vlog(in, lv, fmt, ap);
    va_end(ap);
}

static void f_set_error(sf_instance *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->error, sizeof in->error, fmt, ap);
    va_end(ap);
    f_log(in, SF_LOG_ERROR, "%s", in->error); /* the host logs errors too */
}

static const char *f_opt_string(sf_instance *in, const char *name)
{
    for (size_t i = 0; i < 8 && in->opts[i][0]; i++)
        if (strcmp(in->opts[i][0], name) == 0)
            return in->opts[i][1];
    /* defaults, as the host applies them from the declared table */
    for (const sf_option *o = webhook_options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->default_value;
    return NULL;
}

static int64_t f_opt_duration_ms(sf_instance *in, const char *name)
{
    const char *v = f_opt_string(in, name);
    if (!v)
        return 0;
    long n = strtol(v, NULL, 10);
    return strchr(v, 'm') ? n * 60000 : n * 1000; /* "5m" or "30s" is all the tests use */
}

/* A document maps when it is {...} with an "entity" key; the rest is the real host's job. */
static sf_status f_map_json(sf_instance *in, const char *json, size_t len, sf_event **out)
{
    *out = NULL;
    char doc[256];
    if (len >= sizeof doc || len < 2 || json[0] != '{' || json[len - 1] != '}') {
        f_set_error(in, "line 1 col 1: not a JSON object");
        return SF_EINVAL;
    }
    memcpy(doc, json, len);
    doc[len] = '\0';
    if (!strstr(doc, "\"entity\"")) {
        f_set_error(in, "missing entity (path entity)");
        return SF_EINVAL;
    }
    *out = calloc(1, sizeof **out);
    memcpy((*out)->doc, doc, len + 1);
    fake.live_events++;
    return SF_OK;
}

static void f_event_free(sf_event *ev)
{
    if (ev)
        fake.live_events--;
    free(ev);
}

static sf_status f_emit(sf_instance *in, sf_event *ev)
{
    (void)in;
    int i = fake.n_emitted;
    if (i == fake.retry_at) {
        f_event_free(ev);
        return SF_ERETRY;
    }
    snprintf(fake.docs[i], sizeof fake.docs[i], "%s", ev->doc);
    fake.n_emitted++;
    f_event_free(ev);
    return SF_OK;
}

static void f_metric_add(sf_instance *in, const char *name, double delta)
{
    (void)in;
    (void)name;
    (void)delta;
}

static const char *f_req_header(const sf_http_request *r, const char *name)
{
    for (size_t i = 0; i < 4 && r->headers[i][0]; i++)
        if (strcasecmp(r->headers[i][0], name) == 0)
            return r->headers[i][1];
    return NULL;
}

static const char *f_req_body(const sf_http_request *r, size_t *len)
{
    *len = r->len;
    return r->body;
}

static const sf_host fake_host = {
    .size = sizeof(sf_host),
    .abi_major = SF_ABI_MAJOR,
    .abi_minor = SF_ABI_MINOR,
    .log = f_log,
    .vlog = f_vlog,
    .set_error = f_set_error,
    .opt_string = f_opt_string,
    .opt_duration_ms = f_opt_duration_ms,
    .event_free = f_event_free,
    .emit = f_emit,
    .map_json = f_map_json,
    .metric_add = f_metric_add,
    .req_header = f_req_header,
    .req_body = f_req_body,
};

/* ---- helpers ------------------------------------------------------------------------------ */

/* "t=<t>,v1=<hex>" computed with OpenSSL's one-shot HMAC, independently of the plugin. */
static void sign(char *out, size_t outlen, const char *secret, long long t, const char *body)
{
    char payload[4096];
    int n = snprintf(payload, sizeof payload, "%lld.%s", t, body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)payload,
                         (size_t)n, mac, &maclen));
    int off = snprintf(out, outlen, "t=%lld,v1=", t);
    for (unsigned int i = 0; i < maclen; i++)
        off += snprintf(out + off, outlen - (size_t)off, "%02x", mac[i]);
}

typedef struct fixture {
    sf_instance inst;
    void *state;
} fixture;

static fixture *make(const char *signature, const char *secret)
{
    fixture *f = calloc(1, sizeof *f);
    f->inst.opts[0][0] = "path";
    f->inst.opts[0][1] = "/hooks/billing";
    f->inst.opts[1][0] = "signature";
    f->inst.opts[1][1] = signature;
    if (secret) {
        f->inst.opts[2][0] = "secret";
        f->inst.opts[2][1] = secret;
    }
    assert_int_equal(webhook_plugin.init(&fake_host), SF_OK);
    assert_int_equal(webhook_plugin.create(&f->inst, &f->state), SF_OK);
    return f;
}

static void unmake(fixture *f)
{
    webhook_plugin.destroy(&f->inst, f->state);
    free(f);
}

static int reset(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof fake);
    fake.retry_at = -1;
    ct_compares = 0;
    return 0;
}

/* Send `body` with an optional header; returns the status and fills *resp. */
static sf_status post_body(fixture *f, const char *hname, const char *hvalue, const char *ctype,
                           const char *body, sf_http_response *resp)
{
    sf_http_request req = {.body = body, .len = strlen(body)};
    size_t i = 0;
    if (hname) {
        req.headers[i][0] = hname;
        req.headers[i++][1] = hvalue;
    }
    if (ctype) {
        req.headers[i][0] = "Content-Type";
        req.headers[i][1] = ctype;
    }
    memset(resp, 0, sizeof *resp);
    f->inst.error[0] = '\0';
    return webhook_plugin.request(&f->inst, f->state, &req, resp);
}

static const char BODY[] = "{\"entity\":\"c1\",\"type\":\"login\"}";

/* ---- signature: pure functions ------------------------------------------------------------ */

static void mac_is_hmac_sha256_of_t_dot_body(void **state)
{
    (void)state;
    /* Expected values computed with Python's hmac module. */
    unsigned char mac[WEBHOOK_MAC_LEN], want[WEBHOOK_MAC_LEN];
    assert_int_equal(webhook_mac(SECRET, strlen(SECRET), "1700000000", BODY, strlen(BODY), mac), 0);
    assert_int_equal(
        parse_hex_mac("bb1c472c824976c00c2b06a8a147c0b3ef07bb2a8e4f566e9729c6f1735f4ce3", 64, want),
        0);
    assert_memory_equal(mac, want, WEBHOOK_MAC_LEN);
    assert_int_equal(webhook_mac("k", 1, "12", "", 0, mac), 0); /* empty body */
    assert_int_equal(
        parse_hex_mac("4cdcd1135b198bf6afa85fadfbc8591808940064e87c21792d459a9076fa81d0", 64, want),
        0);
    assert_memory_equal(mac, want, WEBHOOK_MAC_LEN);
}

static void parse_accepts_stripe_headers(void **state)
{
    (void)state;
    webhook_sig s;
    char h[512];
    const char *hex = "bb1c472c824976c00c2b06a8a147c0b3ef07bb2a8e4f566e9729c6f1735f4ce3";
    snprintf(h, sizeof h, "t=1700000000,v1=%s", hex);
    assert_int_equal(webhook_sig_parse(h, &s), WEBHOOK_SIG_OK);
    assert_int_equal(s.t, 1700000000);
    assert_string_equal(s.t_text, "1700000000");
    assert_int_equal(s.n_v1, 1);
    assert_int_equal(s.v1[0][0], 0xbb);
    assert_int_equal(s.v1[0][31], 0xe3);
    /* Stripe's documented shape: several v1 (rotation), a v0 to ignore, any order. */
    snprintf(h, sizeof h, "v1=%s, v0=deadbeef ,t=12,v1=%s", hex,
             "BB1C472C824976C00C2B06A8A147C0B3EF07BB2A8E4F566E9729C6F1735F4CE3");
    assert_int_equal(webhook_sig_parse(h, &s), WEBHOOK_SIG_OK);
    assert_int_equal(s.t, 12);
    assert_int_equal(s.n_v1, 2);
    assert_memory_equal(s.v1[0], s.v1[1], WEBHOOK_MAC_LEN); /* hex case does not matter */
}

#define HEX "bb1c472c824976c00c2b06a8a147c0b3ef07bb2a8e4f566e9729c6f1735f4ce3"

static void parse_refuses_malformed_headers(void **state)
{
    (void)state;
    webhook_sig s;
    assert_int_equal(webhook_sig_parse(NULL, &s), WEBHOOK_SIG_MISSING);
    static const char *const bad[] = {
        "",                        /* empty */
        "v1=" HEX,                 /* no t */
        "t=1700000000",            /* no v1 */
        "t=1,t=2,v1=" HEX,         /* two t */
        "t=-1,v1=" HEX,            /* not digits */
        "t=1e9,v1=" HEX,           /* not digits */
        "t=1234567890123,v1=" HEX, /* 13 digits */
        "t=,v1=" HEX,              /* empty t */
        "t=1,v1=" HEX "f",         /* odd length */
        "t=1,v1=" HEX "ff",        /* long hex */
        "t=1,v1=bb1c472c",         /* short hex */
        "t=1,v1=zz" HEX,           /* not hex */
        "t=1,garbage,v1=" HEX,     /* item without '=' */
        "t=1,v1=" HEX "\n",        /* control byte in the value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(webhook_sig_parse(bad[i], &s), WEBHOOK_SIG_MALFORMED);
    char h[WEBHOOK_SIG_MAX_HEADER + 128];
    int off = snprintf(h, sizeof h, "t=1"); /* too many v1 */
    for (int i = 0; i <= WEBHOOK_SIG_MAX_V1; i++)
        off += snprintf(h + off, sizeof h - (size_t)off, ",v1=%s", HEX);
    assert_int_equal(webhook_sig_parse(h, &s), WEBHOOK_SIG_MALFORMED);
    memset(h, ' ', sizeof h); /* too long, even if well-formed */
    memcpy(h + WEBHOOK_SIG_MAX_HEADER - 10, "t=1,v1=" HEX, sizeof("t=1,v1=" HEX));
    assert_int_equal(webhook_sig_parse(h, &s), WEBHOOK_SIG_MALFORMED);
}

static void ct_equal_compares_all_bytes(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0};
    assert_true(webhook_ct_equal(a, b, 32));
    b[31] = 1;
    assert_false(webhook_ct_equal(a, b, 32));
    b[31] = 0;
    b[0] = 0x80;
    assert_false(webhook_ct_equal(a, b, 32));
}

static void verify_checks_mac_then_time_both_ways(void **state)
{
    (void)state;
    char h[256];
    long long now = 1700000000;
    sign(h, sizeof h, SECRET, now, BODY);
    size_t sl = strlen(SECRET), bl = strlen(BODY);
    assert_int_equal(webhook_sig_verify(h, SECRET, sl, BODY, bl, now, 300), WEBHOOK_SIG_OK);
    assert_int_equal(webhook_sig_verify(h, SECRET, sl, BODY, bl, now + 300, 300),
                     WEBHOOK_SIG_OK); /* the bound is inclusive */
    assert_int_equal(webhook_sig_verify(h, SECRET, sl, BODY, bl, now + 301, 300),
                     WEBHOOK_SIG_STALE); /* too old */
    assert_int_equal(webhook_sig_verify(h, SECRET, sl, BODY, bl, now - 301, 300),
                     WEBHOOK_SIG_STALE); /* from the future */
    assert_int_equal(webhook_sig_verify(h, "other", 5, BODY, bl, now, 300), WEBHOOK_SIG_MISMATCH);
    assert_int_equal(webhook_sig_verify(h, SECRET, sl, BODY, bl - 1, now, 300),
                     WEBHOOK_SIG_MISMATCH);
    /* A stale request with a wrong MAC is a mismatch: "stale" is said of authentic ones. */
    assert_int_equal(webhook_sig_verify(h, "other", 5, BODY, bl, now + 9999, 300),
                     WEBHOOK_SIG_MISMATCH);
    /* The timestamp is part of what is signed. */
    char moved[256];
    snprintf(moved, sizeof moved, "t=1700000001%s", strchr(h, ','));
    assert_int_equal(webhook_sig_verify(moved, SECRET, sl, BODY, bl, now, 300),
                     WEBHOOK_SIG_MISMATCH);
}

/* ---- the plugin --------------------------------------------------------------------------- */

static void create_requires_a_secret_for_signed_schemes(void **state)
{
    (void)state;
    assert_int_equal(webhook_plugin.init(&fake_host), SF_OK);
    sf_instance in = {.opts = {{"path", "/hooks/x"}, {"signature", "stripe"}}};
    void *st = (void *)1;
    assert_int_equal(webhook_plugin.create(&in, &st), SF_EINVAL);
    assert_null(st);
    assert_non_null(strstr(in.error, "needs a secret"));
    webhook_plugin.destroy(&in, st);
}

static void create_refuses_a_path_that_cannot_be_routed(void **state)
{
    (void)state;
    assert_int_equal(webhook_plugin.init(&fake_host), SF_OK);
    const char *bad[] = {"hooks/x", "/a b", "/a?b=1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_instance in = {.opts = {{"path", bad[i]}}};
        void *st = NULL;
        assert_int_equal(webhook_plugin.create(&in, &st), SF_EINVAL);
        assert_non_null(strstr(in.error, "path"));
        webhook_plugin.destroy(&in, st);
    }
}

static void unsigned_object_is_mapped_and_emitted(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, NULL, BODY, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_string_equal(resp.body, "{\"accepted\":1}");
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(fake.n_emitted, 1);
    assert_string_equal(fake.docs[0], BODY);
    unmake(f);
}

static void valid_sigflow_signature_is_accepted(void **state)
{
    (void)state;
    fixture *f = make("sigflow", SECRET);
    char h[256];
    sign(h, sizeof h, SECRET, (long long)time(NULL), BODY);
    sf_http_response resp;
    assert_int_equal(post_body(f, "X-Sigflow-Signature", h, NULL, BODY, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(fake.n_emitted, 1);
    assert_int_equal(ct_compares, 1); /* compared with CRYPTO_memcmp */
    unmake(f);
}

static void valid_stripe_signature_is_accepted_by_any_v1(void **state)
{
    (void)state;
    fixture *f = make("stripe", SECRET);
    char good[256], old[256], h[600];
    long long now = (long long)time(NULL);
    sign(good, sizeof good, SECRET, now, BODY);
    sign(old, sizeof old, "whsec_rotated_out", now, BODY);
    /* t=..,v1=<old key>,v1=<current key>,v0=... as Stripe sends during a secret rotation */
    snprintf(h, sizeof h, "%s,%s,v0=00", old, strchr(good, ',') + 1);
    sf_http_response resp;
    assert_int_equal(post_body(f, "Stripe-Signature", h, NULL, BODY, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(fake.n_emitted, 1);
    assert_int_equal(ct_compares, 2); /* every v1 is compared, match or not */
    unmake(f);
}

static void bad_signatures_answer_401_and_emit_nothing(void **state)
{
    (void)state;
    fixture *f = make("stripe", SECRET);
    long long now = (long long)time(NULL);
    char wrong_key[256], stale[256], future[256], good[256];
    sign(wrong_key, sizeof wrong_key, "whsec_wrong", now, BODY);
    sign(stale, sizeof stale, SECRET, now - 400, BODY);
    sign(future, sizeof future, SECRET, now + 400, BODY);
    sign(good, sizeof good, SECRET, now, BODY);
    const char tampered[] = "{\"entity\":\"c2\",\"type\":\"login\"}";
    struct {
        const char *header, *body, *says;
    } cases[] = {
        {wrong_key, BODY, "does not match"},
        {good, tampered, "does not match"},
        {stale, BODY, "tolerance"},
        {future, BODY, "tolerance"},
        {NULL, BODY, "missing"},
        {"t=1,v1=xyz", BODY, "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sf_http_response resp;
        const char *name = cases[i].header ? "Stripe-Signature" : NULL;
        assert_int_equal(post_body(f, name, cases[i].header, NULL, cases[i].body, &resp), SF_OK);
        assert_int_equal(resp.status, 401);
        assert_non_null(strstr(resp.body, "Stripe-Signature"));
        assert_non_null(strstr(resp.body, cases[i].says));
    }
    /* The sigflow header does not stand in for Stripe's. */
    sf_http_response resp;
    assert_int_equal(post_body(f, "X-Sigflow-Signature", good, NULL, BODY, &resp), SF_OK);
    assert_int_equal(resp.status, 401);
    assert_int_equal(fake.n_emitted, 0);
    unmake(f);
}

static void ndjson_batch_is_emitted_whole(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = "{\"entity\":\"a\"}\n\n{\"entity\":\"b\"}\r\n  {\"entity\":\"c\"}  \n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_string_equal(resp.body, "{\"accepted\":3}");
    assert_int_equal(fake.n_emitted, 3);
    assert_string_equal(fake.docs[0], "{\"entity\":\"a\"}");
    assert_string_equal(fake.docs[1], "{\"entity\":\"b\"}");
    assert_string_equal(fake.docs[2], "{\"entity\":\"c\"}");
    /* Without the content type, a first line that is a whole object makes it NDJSON too. */
    fake.n_emitted = 0;
    assert_int_equal(post_body(f, NULL, NULL, "application/json", body, &resp), SF_OK);
    assert_int_equal(fake.n_emitted, 3);
    unmake(f);
}

static void pretty_printed_object_is_one_document(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = "{\n  \"entity\": \"a\",\n  \"type\": \"login\"\n}\n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/json", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(fake.n_emitted, 1);
    assert_string_equal(fake.docs[0], "{\n  \"entity\": \"a\",\n  \"type\": \"login\"\n}");
    unmake(f);
}

static void one_bad_line_refuses_the_whole_batch(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = "{\"entity\":\"a\"}\n{\"type\":\"x\"}\n{\"entity\":\"c\"}\n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_EINVAL);
    assert_null(resp.body); /* the listener answers 400 with the host's mapping error */
    assert_string_equal(f->inst.error, "missing entity (path entity)");
    assert_int_equal(fake.n_emitted, 0);
    assert_int_equal(fake.live_events, 0); /* the mapped first line was freed */
    unmake(f);
}

static void back_pressure_mid_batch_answers_retry(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = "{\"entity\":\"a\"}\n{\"entity\":\"b\"}\n{\"entity\":\"c\"}\n";
    fake.retry_at = 1;
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_ERETRY);
    assert_int_equal(fake.n_emitted, 1); /* the sender retries all three; map.id dedups "a" */
    assert_int_equal(fake.live_events, 0);
    unmake(f);
}

static void empty_body_answers_400(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, NULL, " \r\n\n", &resp), SF_OK);
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body, "empty body"));
    unmake(f);
}

static void batch_over_the_limit_answers_413(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    size_t n = WEBHOOK_MAX_BATCH + 1, line = strlen("{\"entity\":\"a\"}\n");
    char *body = malloc(n * line + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * line, "{\"entity\":\"a\"}\n", line);
    body[n * line] = '\0';
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
    assert_int_equal(resp.status, 413);
    assert_int_equal(fake.n_emitted, 0);
    free(body);
    unmake(f);
}

static void secret_is_never_logged(void **state)
{
    (void)state;
    fixture *f = make("sigflow", SECRET);
    char h[256];
    sign(h, sizeof h, "whsec_wrong", (long long)time(NULL), BODY);
    sf_http_response resp;
    post_body(f, "X-Sigflow-Signature", h, NULL, BODY, &resp);
    post_body(f, "X-Sigflow-Signature", NULL, NULL, "{\"type\":1}", &resp);
    post_body(f, NULL, NULL, "application/x-ndjson", "{\"entity\":1}\n{\"x\":2}\n", &resp);
    assert_null(strstr(f->inst.log, SECRET));
    assert_null(strstr(resp.body ? resp.body : "", SECRET));
    unmake(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mac_is_hmac_sha256_of_t_dot_body),
        cmocka_unit_test(parse_accepts_stripe_headers),
        cmocka_unit_test(parse_refuses_malformed_headers),
        cmocka_unit_test(ct_equal_compares_all_bytes),
        cmocka_unit_test(verify_checks_mac_then_time_both_ways),
        cmocka_unit_test_setup(create_requires_a_secret_for_signed_schemes, reset),
        cmocka_unit_test_setup(create_refuses_a_path_that_cannot_be_routed, reset),
        cmocka_unit_test_setup(unsigned_object_is_mapped_and_emitted, reset),
        cmocka_unit_test_setup(valid_sigflow_signature_is_accepted, reset),
        cmocka_unit_test_setup(valid_stripe_signature_is_accepted_by_any_v1, reset),
        cmocka_unit_test_setup(bad_signatures_answer_401_and_emit_nothing, reset),
        cmocka_unit_test_setup(ndjson_batch_is_emitted_whole, reset),
        cmocka_unit_test_setup(pretty_printed_object_is_one_document, reset),
        cmocka_unit_test_setup(one_bad_line_refuses_the_whole_batch, reset),
        cmocka_unit_test_setup(back_pressure_mid_batch_answers_retry, reset),
        cmocka_unit_test_setup(empty_body_answers_400, reset),
        cmocka_unit_test_setup(batch_over_the_limit_answers_413, reset),
        cmocka_unit_test_setup(secret_is_never_logged, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
