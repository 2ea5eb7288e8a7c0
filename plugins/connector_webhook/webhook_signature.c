#include "webhook_signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_hex_mac(const char *v, size_t len, unsigned char out[WEBHOOK_MAC_LEN])
{
    if (len != 2 * WEBHOOK_MAC_LEN)
        return -1;
    for (size_t i = 0; i < WEBHOOK_MAC_LEN; i++) {
        int hi = hex_value(v[2 * i]), lo = hex_value(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int parse_timestamp(const char *v, size_t len, webhook_sig *out)
{
    if (len == 0 || len > WEBHOOK_SIG_MAX_T_DIGITS)
        return -1;
    int64_t t = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        t = t * 10 + (v[i] - '0'); /* at most 12 digits: no overflow */
    }
    memcpy(out->t_text, v, len);
    out->t_text[len] = '\0';
    out->t = t;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One "key=value" item, already trimmed and non-empty. */
static int parse_item(const char *a, const char *b, webhook_sig *out, bool *have_t)
{
    const char *eq = memchr(a, '=', (size_t)(b - a));
    if (!eq)
        return -1;
    size_t klen = (size_t)(eq - a);
    const char *v = eq + 1;
    size_t vlen = (size_t)(b - v);
    if (klen == 1 && a[0] == 't') {
        if (*have_t || parse_timestamp(v, vlen, out) != 0)
            return -1;
        *have_t = true;
    } else if (klen == 2 && a[0] == 'v' && a[1] == '1') {
        if (out->n_v1 == WEBHOOK_SIG_MAX_V1 || parse_hex_mac(v, vlen, out->v1[out->n_v1]) != 0)
            return -1;
        out->n_v1++;
    }
    /* Any other scheme (Stripe's v0 test signatures) is not ours to check. */
    return 0;
}

webhook_sig_result webhook_sig_parse(const char *header, webhook_sig *out)
{
    memset(out, 0, sizeof *out);
    if (!header)
        return WEBHOOK_SIG_MISSING;
    size_t hlen = strnlen(header, WEBHOOK_SIG_MAX_HEADER + 1);
    if (hlen > WEBHOOK_SIG_MAX_HEADER)
        return WEBHOOK_SIG_MALFORMED;
    bool have_t = false;
    const char *p = header, *end = header + hlen;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *a = p, *b = comma ? comma : end;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (a < b && parse_item(a, b, out, &have_t) != 0)
            return WEBHOOK_SIG_MALFORMED;
        if (!comma)
            break;
        p = comma + 1;
    }
    return have_t && out->n_v1 > 0 ? WEBHOOK_SIG_OK : WEBHOOK_SIG_MALFORMED;
}

int webhook_mac(const void *key, size_t key_len, const char *t_text, const void *body,
                size_t body_len, unsigned char out[WEBHOOK_MAC_LEN])
{
    int rc = -1;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    size_t outl = 0;
    if (!ctx || !key || key_len == 0)
        goto out;
    if (!EVP_MAC_init(ctx, key, key_len, params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)t_text, strlen(t_text)) ||
        !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
        (body_len > 0 && !EVP_MAC_update(ctx, body, body_len)) ||
        !EVP_MAC_final(ctx, out, &outl, WEBHOOK_MAC_LEN) || outl != WEBHOOK_MAC_LEN)
        goto out;
    rc = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

bool webhook_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

webhook_sig_result webhook_sig_verify(const char *header, const void *secret, size_t secret_len,
                                      const void *body, size_t body_len, int64_t now_s,
                                      int64_t tolerance_s)
{
    webhook_sig sig;
    webhook_sig_result r = webhook_sig_parse(header, &sig);
    if (r != WEBHOOK_SIG_OK)
        return r;
    unsigned char mac[WEBHOOK_MAC_LEN];
    if (webhook_mac(secret, secret_len, sig.t_text, body, body_len, mac) != 0)
        return WEBHOOK_SIG_ERROR;
    /* Every v1 is compared, so the time taken says nothing about which one matched. */
    bool match = false;
    for (size_t i = 0; i < sig.n_v1; i++)
        match |= webhook_ct_equal(mac, sig.v1[i], WEBHOOK_MAC_LEN);
    if (!match)
        return WEBHOOK_SIG_MISMATCH;
    int64_t age;
    if (__builtin_sub_overflow(now_s, sig.t, &age))
        return WEBHOOK_SIG_STALE;
    if (age < -tolerance_s || age > tolerance_s)
        return WEBHOOK_SIG_STALE;
    return WEBHOOK_SIG_OK;
}

/* ---- the generic scheme: [prefix]<hex|base64 of HMAC-SHA256(secret, body)> -------------- */

int webhook_body_mac(const void *key, size_t key_len, const void *body, size_t body_len,
                     unsigned char out[WEBHOOK_MAC_LEN])
{
    int rc = -1;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    size_t outl = 0;
    if (!ctx || !key || key_len == 0)
        goto out;
    if (!EVP_MAC_init(ctx, key, key_len, params) ||
        (body_len > 0 && !EVP_MAC_update(ctx, body, body_len)) ||
        !EVP_MAC_final(ctx, out, &outl, WEBHOOK_MAC_LEN) || outl != WEBHOOK_MAC_LEN)
        goto out;
    rc = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Exactly 44 characters: 42 full sextets, one holding 2 bits + 4 zero bits, then one '='. */
static int parse_b64_mac(const char *v, size_t len, unsigned char out[WEBHOOK_MAC_LEN])
{
    if (len != 44 || v[43] != '=')
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 43; i++) {
        int x = b64_value(v[i]);
        if (x < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)x) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == WEBHOOK_MAC_LEN)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* 43 sextets = 258 bits = 32 bytes + 2 bits, which a canonical encoding leaves zero. */
    return o == WEBHOOK_MAC_LEN && (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}

webhook_sig_result webhook_generic_parse(const char *header, const char *prefix,
                                         webhook_sig_encoding enc,
                                         unsigned char mac[WEBHOOK_MAC_LEN])
{
    memset(mac, 0, WEBHOOK_MAC_LEN);
    if (!header)
        return WEBHOOK_SIG_MISSING;
    size_t hlen = strnlen(header, WEBHOOK_SIG_MAX_HEADER + 1);
    if (hlen > WEBHOOK_SIG_MAX_HEADER)
        return WEBHOOK_SIG_MALFORMED;
    const char *a = header, *b = header + hlen;
    while (a < b && is_blank(*a))
        a++;
    while (b > a && is_blank(b[-1]))
        b--;
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen > 0) {
        if ((size_t)(b - a) < plen || memcmp(a, prefix, plen) != 0)
            return WEBHOOK_SIG_NO_PREFIX;
        a += plen;
    }
    int rc = enc == WEBHOOK_ENC_BASE64 ? parse_b64_mac(a, (size_t)(b - a), mac)
                                       : parse_hex_mac(a, (size_t)(b - a), mac);
    return rc == 0 ? WEBHOOK_SIG_OK : WEBHOOK_SIG_ENCODING;
}

webhook_sig_result webhook_generic_verify(const char *header, const char *prefix,
                                          webhook_sig_encoding enc, const void *secret,
                                          size_t secret_len, const void *body, size_t body_len)
{
    unsigned char sent[WEBHOOK_MAC_LEN], mac[WEBHOOK_MAC_LEN];
    webhook_sig_result r = webhook_generic_parse(header, prefix, enc, sent);
    if (r != WEBHOOK_SIG_OK)
        return r;
    if (webhook_body_mac(secret, secret_len, body, body_len, mac) != 0)
        return WEBHOOK_SIG_ERROR;
    return webhook_ct_equal(mac, sent, WEBHOOK_MAC_LEN) ? WEBHOOK_SIG_OK : WEBHOOK_SIG_MISMATCH;
}

const char *webhook_sig_result_text(webhook_sig_result r)
{
    switch (r) {
    case WEBHOOK_SIG_OK:
        return "signature ok";
    case WEBHOOK_SIG_MISSING:
        return "missing signature header";
    case WEBHOOK_SIG_MALFORMED:
        return "malformed signature header (expected t=<unix seconds>,v1=<64 hex digits>)";
    case WEBHOOK_SIG_MISMATCH:
        return "signature does not match the body";
    case WEBHOOK_SIG_STALE:
        return "signature timestamp outside the tolerance (replayed or clock skew)";
    case WEBHOOK_SIG_NO_PREFIX:
        return "signature lacks its prefix (signature_prefix)";
    case WEBHOOK_SIG_ENCODING:
        return "signature is not in the configured encoding (hex: 64 digits, base64: 44 chars)";
    case WEBHOOK_SIG_ERROR:
        break;
    }
    return "signature could not be checked";
}
