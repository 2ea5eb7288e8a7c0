/*
 * alert_codec.h - an alert as the outbox stores it: every field a delivery plugin can read
 * (question, attrs and the feature vector included), as JSON, and back. The public one-line
 * JSON (alert.h) is rebuilt from the decoded alert, so a stored alert delivers exactly as a
 * fresh one. Owns: nothing. Calls json-c, alert. Used by the runtime (put) and delivery.
 */
#ifndef SIGFLOW_ALERT_CODEC_H
#define SIGFLOW_ALERT_CODEC_H

#include "model/alert.h"

/* malloc'd JSON text, or NULL on no memory. */
char *alert_encode(const sf_alert *a);
/* A new alert (json rendered) from alert_encode's text; NULL if the text is not one. */
sf_alert *alert_decode(const char *text);

#endif
