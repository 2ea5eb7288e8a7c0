/*
 * feedback_token.h - the signed, expiring token inside a one-click feedback link
 * (PUBLIC_URL/v1/feedback/TOKEN, docs/admin-api.md). Owns nothing: pure functions over
 * caller buffers. Calls OpenSSL (HMAC-SHA256, CRYPTO_memcmp). Used by deliveries (to put
 * links in messages: feedback_link) and by the admin endpoint that records a click
 * (feedback_token_check).
 *
 * TOKEN = base64url without padding of
 *   payload = 0x01 (format) | expiry (int64, seconds since the epoch, big-endian)
 *             | label length (1 byte) | label | alert id
 *   mac     = HMAC-SHA256(secret, payload), 32 bytes, appended to the payload.
 * The alert id is at most SIGFLOW_MAX_ALERT_ID_LEN bytes of [A-Za-z0-9_.-]; the label at most
 * SIGFLOW_MAX_LABEL_LEN bytes of [a-z_]. A token is at most FEEDBACK_TOKEN_MAX_LEN characters.
 */
#ifndef SIGFLOW_FEEDBACK_TOKEN_H
#define SIGFLOW_FEEDBACK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "sigflow.h"

/* Distinct results of feedback_token_check (all negative; SF_OK when the token is good). */
#define FEEDBACK_TOKEN_MALFORMED SF_EINVAL /* not a token: bad characters, length, format */
#define FEEDBACK_TOKEN_FORGED (-101)       /* well formed, but the MAC does not match */
#define FEEDBACK_TOKEN_EXPIRED (-102)      /* genuine, but now >= its expiry */
#define FEEDBACK_TOKEN_TOO_SMALL (-103)    /* an output buffer is too small */

#define FEEDBACK_TOKEN_MAC_LEN 32
#define FEEDBACK_TOKEN_HEADER_LEN 10 /* format byte, expiry, label length */
#define FEEDBACK_TOKEN_MAX_RAW                                                                     \
    (FEEDBACK_TOKEN_HEADER_LEN + SIGFLOW_MAX_LABEL_LEN + SIGFLOW_MAX_ALERT_ID_LEN +                \
     FEEDBACK_TOKEN_MAC_LEN)
/* characters of the longest token (base64 of MAX_RAW bytes, no padding), without the NUL */
#define FEEDBACK_TOKEN_MAX_LEN ((FEEDBACK_TOKEN_MAX_RAW * 4 + 2) / 3)

/*
 * Write the token for (alert_id, label, expires_s) signed with `secret` into out (NUL
 * terminated). SF_OK; SF_EINVAL for an empty secret or an alert id or label outside the
 * limits above; FEEDBACK_TOKEN_TOO_SMALL when out_size cannot hold it (FEEDBACK_TOKEN_MAX_LEN
 * + 1 always can).
 */
int feedback_token_make(const char *secret, size_t secret_len, const char *alert_id,
                        const char *label, int64_t expires_s, char *out, size_t out_size);

/*
 * Check `token` against `secret` at time now_s. SF_OK with alert_id and label filled in;
 * FEEDBACK_TOKEN_MALFORMED, FEEDBACK_TOKEN_FORGED (MAC compared in constant time),
 * FEEDBACK_TOKEN_EXPIRED, or FEEDBACK_TOKEN_TOO_SMALL. Nothing from the token is trusted
 * before its MAC matched; on any failure the outputs are empty strings.
 */
int feedback_token_check(const char *secret, size_t secret_len, const char *token, int64_t now_s,
                         char *alert_id, size_t alert_id_size, char *label, size_t label_size);

/*
 * PUBLIC_URL/v1/feedback/TOKEN into out (one trailing '/' of public_url dropped). Same
 * results as feedback_token_make; FEEDBACK_TOKEN_TOO_SMALL when out is too small.
 */
int feedback_link(const char *public_url, const char *secret, size_t secret_len,
                  const char *alert_id, const char *label, int64_t expires_s, char *out,
                  size_t out_size);

/* Human-readable name of a feedback_token_check result ("forged", "expired", ...). */
const char *feedback_token_strerror(int rc);

#endif
