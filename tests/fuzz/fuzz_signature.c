/* Fuzz harness for the webhook signature header parsers and checkers
   (plugins/connector_webhook/webhook_signature.c): the input is the header value, and also
   the body it is checked against, for the timestamped scheme and for the generic one (hex
   with a "sha256=" prefix, base64 without). Invariants that must hold for any input abort
   otherwise. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../plugins/connector_webhook/webhook_signature.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const webhook_sig *s)
{
    size_t tl = strlen(s->t_text);
    if (s->n_v1 < 1 || s->n_v1 > WEBHOOK_SIG_MAX_V1 || tl < 1 || tl > WEBHOOK_SIG_MAX_T_DIGITS)
        abort();
    int64_t t = 0;
    for (size_t i = 0; i < tl; i++) {
        if (s->t_text[i] < '0' || s->t_text[i] > '9')
            abort();
        t = t * 10 + (s->t_text[i] - '0');
    }
    if (t != s->t)
        abort();
}

/* A generic value that parsed must re-encode to the text it came from (the canonical form:
   hex compared without case, base64 exactly). */
static void check_generic(const char *header, const char *prefix, webhook_sig_encoding enc)
{
    unsigned char mac[WEBHOOK_MAC_LEN];
    webhook_sig_result r = webhook_generic_parse(header, prefix, enc, mac);
    if (r != WEBHOOK_SIG_OK) {
        if (r != WEBHOOK_SIG_NO_PREFIX && r != WEBHOOK_SIG_ENCODING && r != WEBHOOK_SIG_MALFORMED)
            abort();
        if (webhook_generic_verify(header, prefix, enc, "k", 1, header, strlen(header)) != r)
            abort(); /* nothing unparsable can verify */
        return;
    }
    const char *v = header;
    while (*v == ' ' || *v == '\t')
        v++;
    v += strlen(prefix);
    char text[80];
    if (enc == WEBHOOK_ENC_HEX) {
        for (size_t i = 0; i < WEBHOOK_MAC_LEN; i++)
            snprintf(text + 2 * i, 3, "%02x", mac[i]);
        if (strncasecmp(v, text, 64) != 0)
            abort();
    } else {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t o = 0;
        for (size_t i = 0; i < WEBHOOK_MAC_LEN; i += 3) {
            uint32_t x = (uint32_t)mac[i] << 16;
            if (i + 1 < WEBHOOK_MAC_LEN)
                x |= (uint32_t)mac[i + 1] << 8;
            if (i + 2 < WEBHOOK_MAC_LEN)
                x |= mac[i + 2];
            text[o++] = b64[x >> 18 & 63];
            text[o++] = b64[x >> 12 & 63];
            text[o++] = i + 1 < WEBHOOK_MAC_LEN ? b64[x >> 6 & 63] : '=';
            text[o++] = i + 2 < WEBHOOK_MAC_LEN ? b64[x & 63] : '=';
        }
        if (o != 44 || strncmp(v, text, 44) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One byte past the header limit, so over-long headers are exercised too. */
    char header[WEBHOOK_SIG_MAX_HEADER + 2];
    size_t n = size < sizeof header - 1 ? size : sizeof header - 1;
    memcpy(header, data, n);
    header[n] = '\0';

    webhook_sig s;
    webhook_sig_result r = webhook_sig_parse(header, &s);
    if (r == WEBHOOK_SIG_OK)
        check_parsed(&s);
    else if (r != WEBHOOK_SIG_MALFORMED)
        abort(); /* a present header is either parsed or malformed */

    webhook_sig_result v =
        webhook_sig_verify(header, "whsec_fuzz", 10, data, size, 1700000000, 300);
    if (r != WEBHOOK_SIG_OK && v != r)
        abort(); /* nothing unparsable can verify */
    if (v != WEBHOOK_SIG_OK && v != WEBHOOK_SIG_MALFORMED && v != WEBHOOK_SIG_MISMATCH &&
        v != WEBHOOK_SIG_STALE)
        abort();

    check_generic(header, "sha256=", WEBHOOK_ENC_HEX);
    check_generic(header, "", WEBHOOK_ENC_BASE64);
    return 0;
}
