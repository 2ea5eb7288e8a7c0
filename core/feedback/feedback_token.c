/*
 * feedback_token.c - signed, expiring feedback tokens (format in feedback_token.h).
 * Owns nothing. Calls OpenSSL HMAC and CRYPTO_memcmp. Used by deliveries and the admin API.
 */
#include "feedback/feedback_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define FT_FORMAT 0x01

static const char ft_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool ft_alert_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > SIGFLOW_MAX_ALERT_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool ft_label_ok(const char *s, size_t n)
{
    if (n == 0 || n > SIGFLOW_MAX_LABEL_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
            return false;
    return true;
}

/* base64url of n bytes, no padding; out must hold (n * 4 + 2) / 3 + 1 bytes. */
static void ft_b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = ft_b64[v >> 18 & 63];
        out[o++] = ft_b64[v >> 12 & 63];
        out[o++] = ft_b64[v >> 6 & 63];
        out[o++] = ft_b64[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = ft_b64[v >> 18 & 63];
        out[o++] = ft_b64[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = ft_b64[v >> 18 & 63];
        out[o++] = ft_b64[v >> 12 & 63];
        out[o++] = ft_b64[v >> 6 & 63];
    }
    out[o] = '\0';
}

static int ft_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/*
 * Strict base64url decoding (no padding, no whitespace, unused trailing bits zero, so each
 * token has one spelling). Returns the byte count or -1.
 */
static long ft_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 == 1)
        return -1;
    size_t len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (len > cap)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = ft_b64_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

static int ft_mac(const char *secret, size_t secret_len, const unsigned char *msg, size_t n,
                  unsigned char mac[FEEDBACK_TOKEN_MAC_LEN])
{
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, n, mac, &mac_len) ||
        mac_len != FEEDBACK_TOKEN_MAC_LEN)
        return SF_EFATAL;
    return SF_OK;
}

int feedback_token_make(const char *secret, size_t secret_len, const char *alert_id,
                        const char *label, int64_t expires_s, char *out, size_t out_size)
{
    if (out && out_size)
        out[0] = '\0';
    if (!secret || secret_len == 0 || secret_len > SIGFLOW_MAX_SECRET_LEN || !alert_id || !label ||
        !out)
        return SF_EINVAL;
    size_t idn = strlen(alert_id), ln = strlen(label);
    if (!ft_alert_id_ok(alert_id, idn) || !ft_label_ok(label, ln))
        return SF_EINVAL;
    unsigned char raw[FEEDBACK_TOKEN_MAX_RAW];
    size_t n = 0;
    raw[n++] = FT_FORMAT;
    uint64_t e = (uint64_t)expires_s;
    for (int i = 7; i >= 0; i--)
        raw[n++] = (unsigned char)(e >> (8 * i));
    raw[n++] = (unsigned char)ln;
    memcpy(raw + n, label, ln);
    n += ln;
    memcpy(raw + n, alert_id, idn);
    n += idn;
    int rc = ft_mac(secret, secret_len, raw, n, raw + n);
    if (rc != SF_OK)
        return rc;
    n += FEEDBACK_TOKEN_MAC_LEN;
    if ((n * 4 + 2) / 3 + 1 > out_size)
        return FEEDBACK_TOKEN_TOO_SMALL;
    ft_b64_encode(raw, n, out);
    return SF_OK;
}

/* The payload's fields, once its MAC matched. */
static int ft_parse_payload(const unsigned char *p, size_t n, int64_t *expires, const char **label,
                            size_t *ln, const char **id, size_t *idn)
{
    if (n < FEEDBACK_TOKEN_HEADER_LEN || p[0] != FT_FORMAT)
        return FEEDBACK_TOKEN_MALFORMED;
    uint64_t e = 0;
    for (int i = 1; i <= 8; i++)
        e = e << 8 | p[i];
    *expires = (int64_t)e;
    *ln = p[9];
    if (*ln > n - FEEDBACK_TOKEN_HEADER_LEN)
        return FEEDBACK_TOKEN_MALFORMED;
    *label = (const char *)p + FEEDBACK_TOKEN_HEADER_LEN;
    *id = *label + *ln;
    *idn = n - FEEDBACK_TOKEN_HEADER_LEN - *ln;
    if (!ft_label_ok(*label, *ln) || !ft_alert_id_ok(*id, *idn))
        return FEEDBACK_TOKEN_MALFORMED;
    return SF_OK;
}

int feedback_token_check(const char *secret, size_t secret_len, const char *token, int64_t now_s,
                         char *alert_id, size_t alert_id_size, char *label, size_t label_size)
{
    if (!alert_id || !label || alert_id_size == 0 || label_size == 0)
        return FEEDBACK_TOKEN_TOO_SMALL;
    alert_id[0] = label[0] = '\0';
    if (!secret || secret_len == 0 || secret_len > SIGFLOW_MAX_SECRET_LEN || !token)
        return SF_EINVAL;
    size_t tn = strnlen(token, FEEDBACK_TOKEN_MAX_LEN + 1);
    if (tn > FEEDBACK_TOKEN_MAX_LEN)
        return FEEDBACK_TOKEN_MALFORMED;
    unsigned char raw[FEEDBACK_TOKEN_MAX_RAW];
    long n = ft_b64_decode(token, tn, raw, sizeof raw);
    if (n < FEEDBACK_TOKEN_HEADER_LEN + FEEDBACK_TOKEN_MAC_LEN)
        return FEEDBACK_TOKEN_MALFORMED;
    size_t pn = (size_t)n - FEEDBACK_TOKEN_MAC_LEN;
    unsigned char mac[FEEDBACK_TOKEN_MAC_LEN];
    int rc = ft_mac(secret, secret_len, raw, pn, mac);
    if (rc != SF_OK)
        return rc;
    if (CRYPTO_memcmp(mac, raw + pn, FEEDBACK_TOKEN_MAC_LEN) != 0)
        return FEEDBACK_TOKEN_FORGED;
    int64_t expires = 0;
    const char *lp = NULL, *ip = NULL;
    size_t ln = 0, idn = 0;
    if ((rc = ft_parse_payload(raw, pn, &expires, &lp, &ln, &ip, &idn)) != SF_OK)
        return rc;
    if (now_s >= expires)
        return FEEDBACK_TOKEN_EXPIRED;
    if (idn + 1 > alert_id_size || ln + 1 > label_size)
        return FEEDBACK_TOKEN_TOO_SMALL;
    memcpy(alert_id, ip, idn);
    alert_id[idn] = '\0';
    memcpy(label, lp, ln);
    label[ln] = '\0';
    return SF_OK;
}

int feedback_link(const char *public_url, const char *secret, size_t secret_len,
                  const char *alert_id, const char *label, int64_t expires_s, char *out,
                  size_t out_size)
{
    if (out && out_size)
        out[0] = '\0';
    if (!public_url || !*public_url || !out)
        return SF_EINVAL;
    char token[FEEDBACK_TOKEN_MAX_LEN + 1];
    int rc =
        feedback_token_make(secret, secret_len, alert_id, label, expires_s, token, sizeof token);
    if (rc != SF_OK)
        return rc;
    size_t un = strlen(public_url);
    if (public_url[un - 1] == '/')
        un--;
    int w = snprintf(out, out_size, "%.*s/v1/feedback/%s", (int)un, public_url, token);
    if (w < 0 || (size_t)w >= out_size) {
        out[0] = '\0';
        return FEEDBACK_TOKEN_TOO_SMALL;
    }
    return SF_OK;
}

const char *feedback_token_strerror(int rc)
{
    switch (rc) {
    case SF_OK:
        return "ok";
    case FEEDBACK_TOKEN_MALFORMED:
        return "malformed";
    case FEEDBACK_TOKEN_FORGED:
        return "forged";
    case FEEDBACK_TOKEN_EXPIRED:
        return "expired";
    case FEEDBACK_TOKEN_TOO_SMALL:
        return "buffer too small";
    default:
        return "internal error";
    }
}
