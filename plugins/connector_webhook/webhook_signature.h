/*
 * webhook_signature.h - HMAC-SHA256 webhook signatures: the timestamped scheme
 * "t=<unix>,v1=<hex>[,v1=...]" over "<t>.<body>" (Stripe's, which sigflow's own
 * X-Sigflow-Signature reuses), and the generic scheme most other tools use: one header holding
 * [prefix]<hex or base64 of HMAC-SHA256(secret, raw body)> (GitHub's X-Hub-Signature-256 with
 * "sha256=", Shopify's X-Shopify-Hmac-Sha256 in base64).
 * Owns: header parsing, the MAC, constant-time comparison and the tolerance check. Pure
 * functions over libcrypto; used by connector_webhook.c, its tests and the fuzz harness.
 */
#ifndef WEBHOOK_SIGNATURE_H
#define WEBHOOK_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SIG_MAX_HEADER 2048 /* bytes of a signature header */
#define WEBHOOK_SIG_MAX_V1 8        /* v1 entries in one header (secret rotation) */
#define WEBHOOK_SIG_MAX_T_DIGITS 12 /* digits of the timestamp: far past year 9999 */
#define WEBHOOK_MAC_LEN 32          /* bytes of an HMAC-SHA256 */

typedef struct webhook_sig {
    char t_text[WEBHOOK_SIG_MAX_T_DIGITS + 1]; /* the timestamp as sent: it is what was signed */
    int64_t t;                                 /* the same, in seconds since the epoch */
    unsigned char v1[WEBHOOK_SIG_MAX_V1][WEBHOOK_MAC_LEN];
    size_t n_v1;
} webhook_sig;

typedef enum webhook_sig_result {
    WEBHOOK_SIG_OK = 0,
    WEBHOOK_SIG_MISSING,   /* no header */
    WEBHOOK_SIG_MALFORMED, /* no t, no v1, a bad value, too long */
    WEBHOOK_SIG_MISMATCH,  /* no v1 is the MAC of this body with this secret */
    WEBHOOK_SIG_STALE,     /* authentic, but the timestamp is outside the tolerance */
    WEBHOOK_SIG_ERROR,     /* libcrypto failed */
    WEBHOOK_SIG_NO_PREFIX, /* generic scheme: the value lacks the configured prefix */
    WEBHOOK_SIG_ENCODING   /* generic scheme: not the configured encoding of 32 bytes */
} webhook_sig_result;

/* How the generic scheme writes the MAC in its header. */
typedef enum webhook_sig_encoding {
    WEBHOOK_ENC_HEX = 0,
    WEBHOOK_ENC_BASE64 = 1
} webhook_sig_encoding;

#define WEBHOOK_SIG_MAX_PREFIX 32 /* bytes of signature_prefix */

/*
 * Parse "t=1700000000,v1=<64 hex>[,v1=...]". Items are comma-separated key=value pairs;
 * spaces around them are ignored, keys other than t and v1 (Stripe's v0) are skipped. Exactly
 * one t (1-12 digits) and 1..WEBHOOK_SIG_MAX_V1 v1 values of 64 hex digits are required.
 * Returns WEBHOOK_SIG_OK, WEBHOOK_SIG_MISSING (header NULL) or WEBHOOK_SIG_MALFORMED.
 */
webhook_sig_result webhook_sig_parse(const char *header, webhook_sig *out);

/* HMAC-SHA256(key, "<t_text>.<body>"). 0 on success, -1 if libcrypto failed. */
int webhook_mac(const void *key, size_t key_len, const char *t_text, const void *body,
                size_t body_len, unsigned char out[WEBHOOK_MAC_LEN]);

/* Equality of two byte strings in time that depends on n only (CRYPTO_memcmp). */
bool webhook_ct_equal(const void *a, const void *b, size_t n);

/*
 * The whole check: parse `header`, compare the MAC of `body` with every v1 (all of them, in
 * constant time), then require |now_s - t| <= tolerance_s. The signature is checked before
 * the time, as Stripe's libraries do, so "stale" is only ever said of an authentic request.
 */
webhook_sig_result webhook_sig_verify(const char *header, const void *secret, size_t secret_len,
                                      const void *body, size_t body_len, int64_t now_s,
                                      int64_t tolerance_s);

/* HMAC-SHA256(key, body): the generic scheme's MAC. 0 on success, -1 if libcrypto failed. */
int webhook_body_mac(const void *key, size_t key_len, const void *body, size_t body_len,
                     unsigned char out[WEBHOOK_MAC_LEN]);

/*
 * Decode the generic scheme's header value: `prefix` (may be NULL or "") must lead it, then
 * exactly the hex (either case) or padded standard base64 text of 32 bytes, with blanks
 * around it ignored. WEBHOOK_SIG_OK, _MISSING (header NULL), _NO_PREFIX, _ENCODING or
 * _MALFORMED (longer than WEBHOOK_SIG_MAX_HEADER).
 */
webhook_sig_result webhook_generic_parse(const char *header, const char *prefix,
                                         webhook_sig_encoding enc,
                                         unsigned char mac[WEBHOOK_MAC_LEN]);

/* The whole generic check: parse, then compare with HMAC-SHA256(secret, body) in constant
   time. WEBHOOK_SIG_OK, _MISMATCH, _ERROR or a parse result. */
webhook_sig_result webhook_generic_verify(const char *header, const char *prefix,
                                          webhook_sig_encoding enc, const void *secret,
                                          size_t secret_len, const void *body, size_t body_len);

/* What a sender is told, one line: "signature does not match the body". */
const char *webhook_sig_result_text(webhook_sig_result r);

#endif
