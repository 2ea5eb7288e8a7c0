#include "deliver/feedback_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/monotime.h"
#include "feedback/feedback_token.h"

char *feedback_url_make(void *ctx, const char *alert_id, const char *label)
{
    const feedback_url_cfg *c = ctx;
    if (!c || !c->public_url || !*c->public_url || !c->secret || !*c->secret)
        return NULL;
    size_t len = strlen(c->public_url) + FEEDBACK_TOKEN_MAX_LEN + 32;
    char *out = malloc(len);
    if (!out)
        return NULL;
    int64_t expires_s = (walltime_ms() + c->ttl_ms) / 1000;
    if (feedback_link(c->public_url, c->secret, strlen(c->secret), alert_id, label, expires_s, out,
                      len) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
