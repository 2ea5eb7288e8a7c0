/* Fuzz harness for the webhook signature header parser and checker
   (plugins/connector_webhook/webhook_signature.c): the input is the header value, and also
   the body it is checked against. Invariants that must hold for any input abort otherwise. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    return 0;
}
