/* Unit tests of plugins/connector_webhook: signature parsing and checking (pure functions), and
   the plugin's callbacks against the SDK's mock host (the plugin's sources are compiled into
   this test so their static functions can be reached). */
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
#include "sf_mock_host.h"

#define SECRET "whsec_test_secret"

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
    sf_mock_host *host;
    sf_instance *inst;
} fixture;

/* The option as an operator writes it: the secret in the environment, `env:NAME` in the INI
   (the mock host, like the daemon, refuses a literal secret). */
static const char *secret_ref(const char *secret)
{
    if (!secret)
        return NULL;
    assert_int_equal(setenv("SF_TEST_WEBHOOK_SECRET", secret, 1), 0);
    return "env:SF_TEST_WEBHOOK_SECRET";
}

static sf_instance *instance_with(sf_mock_host *h, const char *path, const char *signature,
                                  const char *secret)
{
    sf_instance *in = sf_mock_instance_new(h, "billing", &webhook_plugin);
    sf_mock_set_option(in, "path", path);
    sf_mock_set_option(in, "signature", signature);
    sf_mock_set_option(in, "secret", secret_ref(secret));
    char err[256];
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_OK);
    return in;
}

static fixture *make(const char *signature, const char *secret)
{
    fixture *f = calloc(1, sizeof *f);
    f->host = sf_mock_host_new();
    f->inst = instance_with(f->host, "/hooks/billing", signature, secret);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    return f;
}

static void unmake(fixture *f)
{
    assert_int_equal(sf_mock_events_live(f->inst), 0); /* every mapped event was consumed */
    sf_mock_instance_free(f->inst);
    sf_mock_host_free(f->host);
    free(f);
}

static int reset(void **state)
{
    (void)state;
    ct_compares = 0;
    return 0;
}

/* POST `body` with an optional signature header and content type to the plugin. */
static sf_status post_body(fixture *f, const char *hname, const char *hvalue, const char *ctype,
                           const char *body, sf_http_response *resp)
{
    sf_http_request *req = sf_mock_request_new("POST", "/hooks/billing", body, strlen(body));
    if (hname)
        sf_mock_request_add_header(req, hname, hvalue);
    if (ctype)
        sf_mock_request_add_header(req, "Content-Type", ctype);
    memset(resp, 0, sizeof *resp);
    sf_status st = webhook_plugin.request(f->inst, sf_mock_instance_state(f->inst), req, resp);
    sf_mock_request_free(req);
    return st;
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

static const char EVENT[] = "{\"entity\":\"c1\",\"type\":\"login\",\"time\":1700000000000}";
#define LINE(e) "{\"entity\":\"" e "\",\"type\":\"login\",\"time\":1700000000000}"

static void create_requires_a_secret_for_signed_schemes(void **state)
{
    (void)state;
    sf_mock_host *h = sf_mock_host_new();
    sf_instance *in = instance_with(h, "/hooks/x", "stripe", NULL);
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    assert_null(sf_mock_instance_state(in));
    assert_non_null(strstr(sf_mock_last_error(in), "needs a secret"));
    sf_mock_instance_free(in);
    sf_mock_host_free(h);
}

static void create_refuses_a_path_that_cannot_be_routed(void **state)
{
    (void)state;
    sf_mock_host *h = sf_mock_host_new();
    const char *bad[] = {"hooks/x", "/a b", "/a?b=1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_instance *in = instance_with(h, bad[i], "none", NULL);
        assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
        assert_non_null(strstr(sf_mock_last_error(in), "path"));
        sf_mock_instance_free(in);
    }
    sf_mock_host_free(h);
}

static void unsigned_object_is_mapped_and_emitted(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, NULL, EVENT, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_string_equal(resp.body, "{\"accepted\":1}");
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    const sf_mock_event *ev = sf_mock_event_at(f->inst, 0);
    assert_string_equal(ev->entity, "c1");
    assert_string_equal(ev->type, "login");
    assert_int_equal(ev->time_ms, 1700000000000);
    assert_int_equal(sf_mock_metric(f->inst, "accepted"), 1);
    unmake(f);
}

static void valid_sigflow_signature_is_accepted(void **state)
{
    (void)state;
    fixture *f = make("sigflow", SECRET);
    char h[256];
    sign(h, sizeof h, SECRET, (long long)time(NULL), EVENT);
    sf_http_response resp;
    assert_int_equal(post_body(f, "X-Sigflow-Signature", h, NULL, EVENT, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_int_equal(ct_compares, 1); /* compared with CRYPTO_memcmp */
    unmake(f);
}

static void valid_stripe_signature_is_accepted_by_any_v1(void **state)
{
    (void)state;
    fixture *f = make("stripe", SECRET);
    char good[256], old[256], h[600];
    long long now = (long long)time(NULL);
    sign(good, sizeof good, SECRET, now, EVENT);
    sign(old, sizeof old, "whsec_rotated_out", now, EVENT);
    /* t=..,v1=<old key>,v1=<current key>,v0=... as Stripe sends during a secret rotation */
    snprintf(h, sizeof h, "%s,%s,v0=00", old, strchr(good, ',') + 1);
    sf_http_response resp;
    assert_int_equal(post_body(f, "Stripe-Signature", h, NULL, EVENT, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_int_equal(ct_compares, 2); /* every v1 is compared, match or not */
    unmake(f);
}

static void bad_signatures_answer_401_and_emit_nothing(void **state)
{
    (void)state;
    fixture *f = make("stripe", SECRET);
    long long now = (long long)time(NULL);
    char wrong_key[256], stale[256], future[256], good[256];
    sign(wrong_key, sizeof wrong_key, "whsec_wrong", now, EVENT);
    sign(stale, sizeof stale, SECRET, now - 400, EVENT); /* tolerance is 5m by default */
    sign(future, sizeof future, SECRET, now + 400, EVENT);
    sign(good, sizeof good, SECRET, now, EVENT);
    const char tampered[] = LINE("c2");
    struct {
        const char *header, *body, *says;
    } cases[] = {
        {wrong_key, EVENT, "does not match"},
        {good, tampered, "does not match"},
        {stale, EVENT, "tolerance"},
        {future, EVENT, "tolerance"},
        {NULL, EVENT, "missing"},
        {"t=1,v1=xyz", EVENT, "malformed"},
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
    assert_int_equal(post_body(f, "X-Sigflow-Signature", good, NULL, EVENT, &resp), SF_OK);
    assert_int_equal(resp.status, 401);
    assert_int_equal(sf_mock_emit_calls(f->inst), 0);
    assert_int_equal(sf_mock_metric(f->inst, "unauthorized"), 7);
    unmake(f);
}

/* ---- the generic hmac-sha256 scheme ------------------------------------------------------ */

/* GitHub's documented test vector ("Validating webhook deliveries"). */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_HEX "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/* The same 32 bytes in standard base64 (python3 -c "import base64; print(base64.b64encode(
   bytes.fromhex('757107ea...e17')).decode())"). */
#define GH_B64 "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="

static void generic_verify_matches_githubs_documented_vector(void **state)
{
    (void)state;
    size_t sl = strlen(GH_SECRET), bl = strlen(GH_BODY);
    assert_int_equal(webhook_generic_verify("sha256=" GH_HEX, "sha256=", WEBHOOK_ENC_HEX, GH_SECRET,
                                            sl, GH_BODY, bl),
                     WEBHOOK_SIG_OK);
    assert_int_equal(
        webhook_generic_verify(GH_B64, "", WEBHOOK_ENC_BASE64, GH_SECRET, sl, GH_BODY, bl),
        WEBHOOK_SIG_OK);
    /* Upper-case hex and blanks around the value are the same MAC. */
    char upper[80] = "  sha256=";
    for (const char *c = GH_HEX; *c; c++)
        upper[strlen(upper)] = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
    assert_int_equal(
        webhook_generic_verify(upper, "sha256=", WEBHOOK_ENC_HEX, GH_SECRET, sl, GH_BODY, bl),
        WEBHOOK_SIG_OK);
    assert_int_equal(webhook_generic_verify("sha256=" GH_HEX, "sha256=", WEBHOOK_ENC_HEX, GH_SECRET,
                                            sl, "Hello, World?", bl),
                     WEBHOOK_SIG_MISMATCH);
}

static void generic_parse_refuses_what_is_not_the_configured_form(void **state)
{
    (void)state;
    unsigned char mac[WEBHOOK_MAC_LEN];
    struct {
        const char *header, *prefix;
        webhook_sig_encoding enc;
        webhook_sig_result want;
    } cases[] = {
        {NULL, "sha256=", WEBHOOK_ENC_HEX, WEBHOOK_SIG_MISSING},
        {GH_HEX, "sha256=", WEBHOOK_ENC_HEX, WEBHOOK_SIG_NO_PREFIX},
        {"sha1=" GH_HEX, "sha256=", WEBHOOK_ENC_HEX, WEBHOOK_SIG_NO_PREFIX},
        {"sha256=", "sha256=", WEBHOOK_ENC_HEX, WEBHOOK_SIG_ENCODING},
        {"sha256=" GH_B64, "sha256=", WEBHOOK_ENC_HEX, WEBHOOK_SIG_ENCODING},
        {GH_HEX, "", WEBHOOK_ENC_BASE64, WEBHOOK_SIG_ENCODING},
        {GH_HEX "0", NULL, WEBHOOK_ENC_HEX, WEBHOOK_SIG_ENCODING},
        {"dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc", NULL, WEBHOOK_ENC_BASE64,
         WEBHOOK_SIG_ENCODING}, /* padding missing */
        {"dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhd=", NULL, WEBHOOK_ENC_BASE64,
         WEBHOOK_SIG_ENCODING}, /* non-zero trailing bits: not a canonical encoding */
        {"dXEH6g6yUJ_CESIczphLijdXC211hsIsRvQ3nIsEPhc=", NULL, WEBHOOK_ENC_BASE64,
         WEBHOOK_SIG_ENCODING}, /* base64url is not the configured encoding */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal(webhook_generic_parse(cases[i].header, cases[i].prefix, cases[i].enc, mac),
                         cases[i].want);
    char long_header[WEBHOOK_SIG_MAX_HEADER + 2];
    memset(long_header, 'a', sizeof long_header - 1);
    long_header[sizeof long_header - 1] = '\0';
    assert_int_equal(webhook_generic_parse(long_header, NULL, WEBHOOK_ENC_HEX, mac),
                     WEBHOOK_SIG_MALFORMED);
}

static fixture *make_generic(const char *header, const char *encoding, const char *prefix)
{
    fixture *f = calloc(1, sizeof *f);
    f->host = sf_mock_host_new();
    f->inst = sf_mock_instance_new(f->host, "github", &webhook_plugin);
    sf_mock_set_option(f->inst, "path", "/hooks/billing");
    sf_mock_set_option(f->inst, "signature", "hmac-sha256");
    sf_mock_set_option(f->inst, "secret", secret_ref(GH_SECRET));
    sf_mock_set_option(f->inst, "signature_header", header);
    if (encoding)
        sf_mock_set_option(f->inst, "signature_encoding", encoding);
    if (prefix)
        sf_mock_set_option(f->inst, "signature_prefix", prefix);
    char err[256];
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_OK);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    return f;
}

/* The hex HMAC-SHA256 of body under GH_SECRET, computed with OpenSSL's one-shot HMAC. */
static void hex_mac(char out[65], const char *body)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    assert_non_null(HMAC(EVP_sha256(), GH_SECRET, (int)strlen(GH_SECRET),
                         (const unsigned char *)body, strlen(body), mac, &maclen));
    for (unsigned int i = 0; i < maclen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static void generic_scheme_answers_202_or_401_with_the_reason(void **state)
{
    (void)state;
    fixture *f = make_generic("X-Hub-Signature-256", NULL, "sha256=");
    char mac[65], good[80];
    hex_mac(mac, EVENT);
    snprintf(good, sizeof good, "sha256=%s", mac);
    struct {
        const char *name, *value;
        int status;
        const char *says;
    } cases[] = {
        {"X-Hub-Signature-256", good, 202, "accepted"},
        {"X-Hub-Signature-256", "sha256=" GH_HEX, 401, "does not match"},
        {NULL, NULL, 401, "missing"},
        {"X-Hub-Signature", good, 401, "missing"}, /* GitHub's SHA-1 header is not it */
        {"X-Hub-Signature-256", mac, 401, "prefix"},
        {"X-Hub-Signature-256", "sha256=" GH_B64, 401, "encoding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sf_http_response resp;
        assert_int_equal(post_body(f, cases[i].name, cases[i].value, NULL, EVENT, &resp), SF_OK);
        assert_int_equal(resp.status, cases[i].status);
        assert_non_null(strstr(resp.body, cases[i].says));
        if (cases[i].status == 401)
            assert_non_null(strstr(resp.body, "X-Hub-Signature-256"));
    }
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_int_equal(sf_mock_metric(f->inst, "unauthorized"), 5);
    assert_int_equal(ct_compares, 2); /* the two well-formed MACs, with CRYPTO_memcmp */
    unmake(f);
}

static void create_checks_the_generic_keys(void **state)
{
    (void)state;
    sf_mock_host *h = sf_mock_host_new();
    char err[256];
    /* hmac-sha256 without a header */
    sf_instance *in = instance_with(h, "/hooks/billing", "hmac-sha256", SECRET);
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    assert_non_null(strstr(sf_mock_last_error(in), "signature_header"));
    sf_mock_instance_free(in);
    /* a header that is not a header name */
    in = instance_with(h, "/hooks/billing", "hmac-sha256", SECRET);
    sf_mock_set_option(in, "signature_header", "X Bad: header");
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_OK);
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    sf_mock_instance_free(in);
    /* a generic key with another scheme says it is unused there */
    in = instance_with(h, "/hooks/billing", "stripe", SECRET);
    sf_mock_set_option(in, "signature_prefix", "sha256=");
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_OK);
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    assert_non_null(strstr(sf_mock_last_error(in), "signature_prefix"));
    sf_mock_instance_free(in);
    sf_mock_host_free(h);
}

static void ndjson_batch_is_emitted_whole(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = LINE("a") "\n\n" LINE("b") "\r\n  " LINE("c") "  \n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_string_equal(resp.body, "{\"accepted\":3}");
    assert_int_equal(sf_mock_event_count(f->inst), 3);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "a");
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "b");
    assert_string_equal(sf_mock_event_at(f->inst, 2)->entity, "c");
    /* Without the content type, a first line that is a whole object makes it NDJSON too. */
    assert_int_equal(post_body(f, NULL, NULL, "application/json", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(sf_mock_event_count(f->inst), 6);
    unmake(f);
}

static void pretty_printed_object_is_one_document(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = "{\n  \"entity\": \"a\",\n  \"type\": \"login\",\n"
                       "  \"time\": 1700000000000\n}\n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/json", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "a");
    unmake(f);
}

static void one_bad_line_refuses_the_whole_batch(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = LINE("a") "\n"
                                 "{\"type\":\"x\",\"time\":1}\n" LINE("c") "\n";
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_EINVAL);
    assert_null(resp.body); /* the listener answers 400 with the error text */
    assert_non_null(strstr(sf_mock_last_error(f->inst), "line 2: "));
    assert_non_null(strstr(sf_mock_last_error(f->inst), "missing entity"));
    assert_int_equal(sf_mock_emit_calls(f->inst), 0);
    assert_int_equal(sf_mock_metric(f->inst, "rejected"), 1);
    unmake(f); /* and the mapped first line was freed */
}

static void bad_single_object_keeps_the_host_error(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, NULL, "{\"entity\":\"a\"", &resp), SF_EINVAL);
    assert_null(strstr(sf_mock_last_error(f->inst), "line 1: ")); /* no batch, no line */
    assert_true(strlen(sf_mock_last_error(f->inst)) > 0);
    assert_int_equal(sf_mock_emit_calls(f->inst), 0);
    unmake(f);
}

static void back_pressure_mid_batch_answers_retry(void **state)
{
    (void)state;
    fixture *f = make("none", NULL);
    const char *body = LINE("a") "\n" LINE("b") "\n" LINE("c") "\n";
    sf_mock_emit_retry(f->inst, 1); /* the first emit is refused */
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_ERETRY);
    assert_int_equal(sf_mock_emit_calls(f->inst), 1); /* stopped at the refusal */
    assert_int_equal(sf_mock_event_count(f->inst), 0);
    /* The sender retries the whole request; then everything goes through. */
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
    assert_int_equal(resp.status, 202);
    assert_int_equal(sf_mock_event_count(f->inst), 3);
    unmake(f); /* the unmapped rest of the refused batch was freed */
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
    const char *line = LINE("a") "\n";
    size_t n = WEBHOOK_MAX_BATCH + 1, ll = strlen(line);
    char *body = malloc(n * ll + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * ll, line, ll);
    body[n * ll] = '\0';
    sf_http_response resp;
    assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
    assert_int_equal(resp.status, 413);
    assert_int_equal(sf_mock_emit_calls(f->inst), 0);
    free(body);
    unmake(f);
}

static void batches_of_every_size_are_counted_and_named_by_line(void **state)
{
    (void)state;
    /* both sides of the documents the plugin maps on its stack, and the whole limit */
    static const size_t sizes[] = {1, 9, 10, 15, 16, 17, 100, WEBHOOK_MAX_BATCH};
    const char *line = LINE("a") "\n";
    size_t ll = strlen(line);
    char *body = malloc(WEBHOOK_MAX_BATCH * ll + 1);
    assert_non_null(body);
    size_t emitted = 0;
    fixture *f = make("none", NULL);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        for (size_t i = 0; i < n; i++)
            memcpy(body + i * ll, line, ll);
        body[n * ll] = '\0';
        sf_http_response resp;
        assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_OK);
        assert_int_equal(resp.status, 202);
        char want[64];
        snprintf(want, sizeof want, "{\"accepted\":%zu}", n);
        assert_string_equal(resp.body, want);
        emitted += n;
        assert_int_equal(sf_mock_event_count(f->inst), emitted);
    }
    /* a bad 17th line (past the stack's 16) and a bad 16th: each named, nothing emitted */
    static const size_t bad_at[] = {16, 17};
    for (size_t k = 0; k < 2; k++) {
        size_t n = 20, at = bad_at[k];
        for (size_t i = 0; i < n; i++)
            memcpy(body + i * ll, line, ll);
        body[n * ll] = '\0';
        body[(at - 1) * ll + 2] = 'X'; /* {"Xntity":...: no entity */
        sf_http_response resp;
        assert_int_equal(post_body(f, NULL, NULL, "application/x-ndjson", body, &resp), SF_EINVAL);
        char want[32];
        snprintf(want, sizeof want, "line %zu: ", at);
        assert_non_null(strstr(sf_mock_last_error(f->inst), want));
        assert_int_equal(sf_mock_event_count(f->inst), emitted);
    }
    free(body);
    unmake(f); /* the mapped lines before the bad one were freed */
}

static void secret_is_never_logged(void **state)
{
    (void)state;
    fixture *f = make("sigflow", SECRET);
    char h[256];
    sign(h, sizeof h, "whsec_wrong", (long long)time(NULL), EVENT);
    sf_http_response resp;
    post_body(f, "X-Sigflow-Signature", h, NULL, EVENT, &resp);
    post_body(f, NULL, NULL, NULL, EVENT, &resp); /* missing header */
    assert_int_equal(sf_mock_log_find(f->inst, -1, SECRET), -1);
    assert_null(strstr(sf_mock_last_error(f->inst), SECRET));
    unmake(f);
    /* A secret given with signature = none is reported, but not shown. */
    sf_mock_host *host = sf_mock_host_new();
    sf_instance *in = instance_with(host, "/x", "none", SECRET);
    assert_int_equal(sf_mock_instance_create(in), SF_OK);
    assert_true(sf_mock_log_find(in, SF_LOG_WARN, "not authenticated") >= 0);
    assert_int_equal(sf_mock_log_find(in, -1, SECRET), -1);
    sf_mock_instance_free(in);
    sf_mock_host_free(host);
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
        cmocka_unit_test_setup(batches_of_every_size_are_counted_and_named_by_line, reset),
        cmocka_unit_test_setup(valid_sigflow_signature_is_accepted, reset),
        cmocka_unit_test_setup(valid_stripe_signature_is_accepted_by_any_v1, reset),
        cmocka_unit_test_setup(bad_signatures_answer_401_and_emit_nothing, reset),
        cmocka_unit_test(generic_verify_matches_githubs_documented_vector),
        cmocka_unit_test(generic_parse_refuses_what_is_not_the_configured_form),
        cmocka_unit_test_setup(generic_scheme_answers_202_or_401_with_the_reason, reset),
        cmocka_unit_test_setup(create_checks_the_generic_keys, reset),
        cmocka_unit_test_setup(ndjson_batch_is_emitted_whole, reset),
        cmocka_unit_test_setup(pretty_printed_object_is_one_document, reset),
        cmocka_unit_test_setup(one_bad_line_refuses_the_whole_batch, reset),
        cmocka_unit_test_setup(bad_single_object_keeps_the_host_error, reset),
        cmocka_unit_test_setup(back_pressure_mid_batch_answers_retry, reset),
        cmocka_unit_test_setup(empty_body_answers_400, reset),
        cmocka_unit_test_setup(batch_over_the_limit_answers_413, reset),
        cmocka_unit_test_setup(secret_is_never_logged, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
