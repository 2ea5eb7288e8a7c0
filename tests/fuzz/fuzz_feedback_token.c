/* Fuzz harness for the feedback token parser (core/feedback/feedback_token.c): the input is
   a token as it arrives in GET /v1/feedback/TOKEN. Invariants that must hold for any input
   abort otherwise: a known result, empty outputs on failure, valid outputs on success, and a
   token made from the accepted fields checks again to the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedback/feedback_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SECRET "fuzz-secret-0123456789"
#define FZ_NOW 1764547200

static void check_accepted(const char *id, const char *label)
{
    size_t idn = strlen(id), ln = strlen(label);
    if (idn == 0 || idn > SIGFLOW_MAX_ALERT_ID_LEN || ln == 0 || ln > SIGFLOW_MAX_LABEL_LEN)
        abort();
    if (strspn(label, "abcdefghijklmnopqrstuvwxyz_") != ln)
        abort();
    char tok[FEEDBACK_TOKEN_MAX_LEN + 1], id2[SIGFLOW_MAX_ALERT_ID_LEN + 1],
        l2[SIGFLOW_MAX_LABEL_LEN + 1];
    if (feedback_token_make(FZ_SECRET, sizeof FZ_SECRET - 1, id, label, FZ_NOW + 1, tok,
                            sizeof tok) != SF_OK)
        abort();
    if (feedback_token_check(FZ_SECRET, sizeof FZ_SECRET - 1, tok, FZ_NOW, id2, sizeof id2, l2,
                             sizeof l2) != SF_OK ||
        strcmp(id, id2) != 0 || strcmp(label, l2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char token[FEEDBACK_TOKEN_MAX_LEN + 8];
    size_t n = size < sizeof token - 1 ? size : sizeof token - 1;
    memcpy(token, data, n);
    token[n] = '\0';
    char id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    int rc = feedback_token_check(FZ_SECRET, sizeof FZ_SECRET - 1, token, FZ_NOW, id, sizeof id,
                                  label, sizeof label);
    if (rc == SF_OK) {
        check_accepted(id, label);
        return 0;
    }
    if (rc != FEEDBACK_TOKEN_MALFORMED && rc != FEEDBACK_TOKEN_FORGED &&
        rc != FEEDBACK_TOKEN_EXPIRED)
        abort();
    if (id[0] || label[0])
        abort();
    /* The input as alert id and label: either refused by make, or a round trip. */
    char tok[FEEDBACK_TOKEN_MAX_LEN + 1];
    const char *sep = memchr(token, '|', n);
    if (sep && feedback_token_make(FZ_SECRET, sizeof FZ_SECRET - 1, sep + 1, "confirmed",
                                   FZ_NOW + 1, tok, sizeof tok) == SF_OK)
        check_accepted(sep + 1, "confirmed");
    return 0;
}
