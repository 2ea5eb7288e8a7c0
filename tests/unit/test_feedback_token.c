/*
 * test_feedback_token.c - signed feedback tokens and links (core/feedback/feedback_token.c).
 * Tokens are also built here from the format in feedback_token.h (with OpenSSL directly), so
 * the module is checked against the specification, not against its own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "feedback/feedback_token.h"

#define SECRET "0123456789abcdef-test-secret"
#define SLEN (sizeof SECRET - 1)
#define ID "3f2a9c0d5e6b7a8190a1b2c3d4e5f601"
#define T0 1764547200 /* 2025-12-01T00:00:00Z */

/* base64url without padding, written from RFC 4648 section 5. */
static void spec_b64url(const unsigned char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

/* The token for (id, label, exp) as feedback_token.h specifies it; mac_flip flips a MAC bit. */
static void spec_token(const char *secret, const char *id, const char *label, int64_t exp,
                       int format, int mac_flip, char *out)
{
    unsigned char raw[256];
    size_t n = 0;
    raw[n++] = (unsigned char)format;
    for (int i = 7; i >= 0; i--)
        raw[n++] = (unsigned char)((uint64_t)exp >> (8 * i));
    raw[n++] = (unsigned char)strlen(label);
    memcpy(raw + n, label, strlen(label));
    n += strlen(label);
    memcpy(raw + n, id, strlen(id));
    n += strlen(id);
    unsigned int ml = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), raw, n, raw + n, &ml));
    assert_int_equal(ml, 32);
    if (mac_flip)
        raw[n + 5] ^= 0x10;
    spec_b64url(raw, n + ml, out);
}

static void make_matches_specification(void **state)
{
    (void)state;
    char tok[FEEDBACK_TOKEN_MAX_LEN + 1], want[512];
    assert_int_equal(
        feedback_token_make(SECRET, SLEN, ID, "false_positive", T0 + 3600, tok, sizeof tok), SF_OK);
    spec_token(SECRET, ID, "false_positive", T0 + 3600, 1, 0, want);
    assert_string_equal(tok, want);
    assert_null(strchr(tok, '='));
    assert_int_equal(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        strlen(tok));
}

static void check_accepts_specified_token(void **state)
{
    (void)state;
    char tok[512], id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    spec_token(SECRET, ID, "confirmed", T0 + 60, 1, 0, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label), SF_OK);
    assert_string_equal(id, ID);
    assert_string_equal(label, "confirmed");
}

static void forged_tokens_are_refused(void **state)
{
    (void)state;
    char tok[512], id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    /* a flipped MAC bit */
    spec_token(SECRET, ID, "confirmed", T0 + 60, 1, 1, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_FORGED);
    assert_string_equal(id, "");
    assert_string_equal(label, "");
    /* signed with another secret */
    spec_token("another-secret-of-16b", ID, "confirmed", T0 + 60, 1, 0, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_FORGED);
    /* a genuine token for "confirmed" with its label edited: the MAC no longer matches */
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "confirmed", T0 + 60, tok, sizeof tok),
                     SF_OK);
    char other[512];
    assert_int_equal(
        feedback_token_make(SECRET, SLEN, ID, "false_positive", T0 + 60, other, sizeof other),
        SF_OK);
    /* keep the first token's MAC (its last 43 chars) on the second one's payload */
    size_t tl = strlen(tok), ol = strlen(other);
    char spliced[1024];
    snprintf(spliced, sizeof spliced, "%.*s%s", (int)(ol - 43), other, tok + tl - 43);
    int rc = feedback_token_check(SECRET, SLEN, spliced, T0, id, sizeof id, label, sizeof label);
    assert_true(rc == FEEDBACK_TOKEN_FORGED || rc == FEEDBACK_TOKEN_MALFORMED);
    assert_string_equal(label, "");
}

static void expired_tokens_are_refused(void **state)
{
    (void)state;
    char tok[512], id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "confirmed", T0, tok, sizeof tok),
                     SF_OK);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0 - 1, id, sizeof id, label, sizeof label), SF_OK);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_EXPIRED);
    assert_string_equal(id, "");
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0 + 86400, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_EXPIRED);
    /* a forged token is reported as forged even when its expiry has passed */
    spec_token(SECRET, ID, "confirmed", T0, 1, 1, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0 + 10, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_FORGED);
}

static void malformed_tokens_are_refused(void **state)
{
    (void)state;
    char id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1], tok[512], bad[1024];
    const char *cases[] = {"", "a", "abc!", "AAAA", "====", "a b", "%2F%2F"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(
            feedback_token_check(SECRET, SLEN, cases[i], T0, id, sizeof id, label, sizeof label),
            FEEDBACK_TOKEN_MALFORMED);
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "confirmed", T0 + 60, tok, sizeof tok),
                     SF_OK);
    snprintf(bad, sizeof bad, "%s=", tok); /* padding is not part of the format */
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, bad, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_MALFORMED);
    snprintf(bad, sizeof bad, "%s+", tok); /* standard, not URL-safe, alphabet */
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, bad, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_MALFORMED);
    memset(bad, 'A', FEEDBACK_TOKEN_MAX_LEN + 4);
    bad[FEEDBACK_TOKEN_MAX_LEN + 4] = '\0';
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, bad, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_MALFORMED);
    /* a correctly signed token of an unknown format version */
    spec_token(SECRET, ID, "confirmed", T0 + 60, 2, 0, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_MALFORMED);
    /* a correctly signed token whose label breaks the charset */
    spec_token(SECRET, ID, "Confirmed", T0 + 60, 1, 0, tok);
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, tok, T0, id, sizeof id, label, sizeof label),
        FEEDBACK_TOKEN_MALFORMED);
}

static void make_refuses_bad_input(void **state)
{
    (void)state;
    char tok[FEEDBACK_TOKEN_MAX_LEN + 1], longid[SIGFLOW_MAX_ALERT_ID_LEN + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(feedback_token_make(SECRET, 0, ID, "confirmed", T0, tok, sizeof tok),
                     SF_EINVAL);
    assert_int_equal(feedback_token_make(SECRET, SLEN, "", "confirmed", T0, tok, sizeof tok),
                     SF_EINVAL);
    assert_int_equal(feedback_token_make(SECRET, SLEN, "a/b", "confirmed", T0, tok, sizeof tok),
                     SF_EINVAL);
    assert_int_equal(feedback_token_make(SECRET, SLEN, longid, "confirmed", T0, tok, sizeof tok),
                     SF_EINVAL);
    longid[SIGFLOW_MAX_ALERT_ID_LEN] = '\0'; /* exactly the limit is fine */
    assert_int_equal(feedback_token_make(SECRET, SLEN, longid, "confirmed", T0, tok, sizeof tok),
                     SF_OK);
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "", T0, tok, sizeof tok), SF_EINVAL);
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "wrong!", T0, tok, sizeof tok),
                     SF_EINVAL);
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "confirmed", T0, tok, 20),
                     FEEDBACK_TOKEN_TOO_SMALL);
    assert_string_equal(tok, "");
}

static void link_is_public_url_plus_token(void **state)
{
    (void)state;
    char link[2048], tok[FEEDBACK_TOKEN_MAX_LEN + 1], want[2048];
    char id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    assert_int_equal(feedback_token_make(SECRET, SLEN, ID, "confirmed", T0, tok, sizeof tok),
                     SF_OK);
    snprintf(want, sizeof want, "https://sigflow.example.com/ops/v1/feedback/%s", tok);
    assert_int_equal(feedback_link("https://sigflow.example.com/ops/", SECRET, SLEN, ID,
                                   "confirmed", T0, link, sizeof link),
                     SF_OK);
    assert_string_equal(link, want);
    assert_int_equal(feedback_link("https://sigflow.example.com/ops", SECRET, SLEN, ID, "confirmed",
                                   T0, link, sizeof link),
                     SF_OK);
    assert_string_equal(link, want);
    const char *t = strrchr(link, '/') + 1;
    assert_int_equal(
        feedback_token_check(SECRET, SLEN, t, T0 - 5, id, sizeof id, label, sizeof label), SF_OK);
    assert_int_equal(
        feedback_link("https://sigflow.example.com", SECRET, SLEN, ID, "confirmed", T0, link, 40),
        FEEDBACK_TOKEN_TOO_SMALL);
    assert_string_equal(link, "");
    assert_string_equal(feedback_token_strerror(FEEDBACK_TOKEN_FORGED), "forged");
    assert_string_equal(feedback_token_strerror(FEEDBACK_TOKEN_EXPIRED), "expired");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(make_matches_specification),
        cmocka_unit_test(check_accepts_specified_token),
        cmocka_unit_test(forged_tokens_are_refused),
        cmocka_unit_test(expired_tokens_are_refused),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(make_refuses_bad_input),
        cmocka_unit_test(link_is_public_url_plus_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
