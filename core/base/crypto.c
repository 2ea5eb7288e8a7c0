#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

sf_status crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                             uint8_t out[CRYPTO_HMAC_SHA256_LEN])
{
    static const uint8_t empty;
    unsigned int len = 0;
    if (key_len > (size_t)INT32_MAX)
        return SF_EINVAL;
    /* HMAC() refuses a NULL key even of length 0: an empty key is a valid HMAC key. */
    if (!HMAC(EVP_sha256(), key_len ? key : &empty, (int)key_len, msg_len ? msg : &empty, msg_len,
              out, &len) ||
        len != CRYPTO_HMAC_SHA256_LEN)
        return SF_EFATAL;
    return SF_OK;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}
