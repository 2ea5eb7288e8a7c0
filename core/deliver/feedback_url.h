/*
 * feedback_url.h - the one-click feedback URLs a message carries (feedback.confirm,
 * feedback.false_positive): PUBLIC_URL/v1/feedback/TOKEN with a signed, expiring token
 * (feedback/feedback_token.h). Off (no URLs) unless [sigflow] public_url and feedback_secret
 * are both set. Owns nothing. Calls feedback_token, monotime. Used by the delivery workers
 * through message_ctx.
 */
#ifndef SIGFLOW_FEEDBACK_URL_H
#define SIGFLOW_FEEDBACK_URL_H

#include <stdint.h>

typedef struct feedback_url_cfg {
    const char *public_url; /* NULL: off */
    const char *secret;     /* NULL: off; never logged */
    int64_t ttl_ms;         /* a link is valid at least this long after the message is built (the
                               expiry is rounded up to midnight UTC: a retry sends the same links) */
} feedback_url_cfg;

/* message_feedback_fn over a feedback_url_cfg: a malloc'd URL, or NULL when off or on error
   (an alert id the token format cannot carry). */
char *feedback_url_make(void *cfg, const char *alert_id, const char *label);

#endif
