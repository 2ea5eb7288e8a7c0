/*
 * crypto.h - the one HMAC-SHA256 and constant-time comparison of the process.
 *
 * Owns nothing. Calls libcrypto. Used by the host table (offered to plugins as
 * host->hmac_sha256 and host->equal_ct) and by core modules that sign or check tokens.
 */
#ifndef SIGFLOW_CRYPTO_H
#define SIGFLOW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

#define CRYPTO_HMAC_SHA256_LEN 32

/* out = HMAC-SHA256(key, msg). SF_OK, or SF_EFATAL if libcrypto failed. */
sf_status crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                             uint8_t out[CRYPTO_HMAC_SHA256_LEN]);

/* True when a and b hold the same n bytes; the time taken depends on n only. */
bool crypto_equal(const void *a, const void *b, size_t n);

#endif
