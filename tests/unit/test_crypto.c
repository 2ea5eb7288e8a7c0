/*
 * test_crypto.c - the one HMAC-SHA256 of the core (libcrypto) and the mock host's own (plain C)
 * against RFC 4231's test vectors, and the constant-time comparison. Both are what plugins
 * get as host->hmac_sha256 / host->equal_ct, so they must agree byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "plugin/host.h"
#include "sf_mock_host.h"

typedef struct vector {
    uint8_t key_byte; /* key = key_len copies of this byte, unless key_text is set */
    size_t key_len;
    const char *key_text;
    const char *msg; /* NULL: msg_len copies of msg_byte */
    uint8_t msg_byte;
    size_t msg_len;
    const char *hex;
} vector;

/* RFC 4231 section 4: test cases 1, 2, 3, 6 and 7 (the others truncate the output). */
static const vector V[] = {
    {0x0b, 20, NULL, "Hi There", 0, 0,
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {0, 0, "Jefe", "what do ya want for nothing?", 0, 0,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {0xaa, 20, NULL, NULL, 0xdd, 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {0xaa, 131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {0xaa, 131, NULL,
     "This is a test using a larger than block-size key and a larger than block-size data. "
     "The key needs to be hashed before being used by the HMAC algorithm.",
     0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

typedef sf_status (*hmac_fn)(const void *, size_t, const void *, size_t, uint8_t[32]);

static void check_vectors(hmac_fn fn)
{
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t key[200], msg[200], out[32];
        size_t klen = V[i].key_text ? strlen(V[i].key_text) : V[i].key_len;
        if (V[i].key_text)
            memcpy(key, V[i].key_text, klen);
        else
            memset(key, V[i].key_byte, klen);
        size_t mlen = V[i].msg ? strlen(V[i].msg) : V[i].msg_len;
        if (V[i].msg)
            memcpy(msg, V[i].msg, mlen);
        else
            memset(msg, V[i].msg_byte, mlen);
        assert_int_equal(fn(key, klen, msg, mlen, out), SF_OK);
        char hex[65];
        for (int j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", out[j]);
        assert_string_equal(hex, V[i].hex);
    }
}

static void core_hmac_matches_rfc4231(void **state)
{
    (void)state;
    check_vectors(crypto_hmac_sha256);
}

static void host_table_offers_the_core_hmac(void **state)
{
    (void)state;
    const sf_host *h = host_table();
    assert_true(SF_HOST_HAS(h, hmac_sha256));
    assert_true(SF_HOST_HAS(h, equal_ct));
    check_vectors(h->hmac_sha256);
}

static void mock_host_hmac_matches_rfc4231(void **state)
{
    (void)state;
    sf_mock_host *m = sf_mock_host_new();
    const sf_host *h = sf_mock_host_table(m);
    assert_true(SF_HOST_HAS(h, hmac_sha256));
    check_vectors(h->hmac_sha256);
    sf_mock_host_free(m);
}

static void empty_key_and_message_are_valid(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    sf_mock_host *m = sf_mock_host_new();
    assert_int_equal(crypto_hmac_sha256(NULL, 0, NULL, 0, a), SF_OK);
    assert_int_equal(sf_mock_host_table(m)->hmac_sha256(NULL, 0, NULL, 0, b), SF_OK);
    /* HMAC-SHA256("", "") */
    static const uint8_t want[32] = {0xb6, 0x13, 0x67, 0x9a, 0x08, 0x14, 0xd9, 0xec,
                                     0x77, 0x2f, 0x95, 0xd7, 0x78, 0xc3, 0x5f, 0xc5,
                                     0xff, 0x16, 0x97, 0xc4, 0x93, 0x71, 0x56, 0x53,
                                     0xc6, 0xc7, 0x12, 0x14, 0x42, 0x92, 0xc5, 0xad};
    assert_memory_equal(a, want, 32);
    assert_memory_equal(b, want, 32);
    sf_mock_host_free(m);
}

static void equal_ct_compares_every_byte(void **state)
{
    (void)state;
    sf_mock_host *m = sf_mock_host_new();
    const sf_host *mock = sf_mock_host_table(m);
    const sf_host *core = host_table();
    const sf_host *both[] = {core, mock};
    for (int k = 0; k < 2; k++) {
        assert_true(both[k]->equal_ct("abcdef", "abcdef", 6));
        assert_false(both[k]->equal_ct("abcdef", "abcdeX", 6));
        assert_false(both[k]->equal_ct("Xbcdef", "abcdef", 6));
        assert_true(both[k]->equal_ct("abc", "abX", 2));
        assert_true(both[k]->equal_ct("", "", 0));
    }
    sf_mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(core_hmac_matches_rfc4231),
        cmocka_unit_test(host_table_offers_the_core_hmac),
        cmocka_unit_test(mock_host_hmac_matches_rfc4231),
        cmocka_unit_test(empty_key_and_message_are_valid),
        cmocka_unit_test(equal_ct_compares_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
