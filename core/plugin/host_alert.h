/*
 * host_alert.h - the alert half of the host table: read-only accessors delivery plugins use
 * and template rendering ({{entity}}, {{attr.NAME}}, ...). Owns: strings lent to a plugin
 * during one callback (released by host_alert_release after the callback returns).
 * Calls alert, json-c, timefmt. Used by host.c (the table) and delivery workers.
 */
#ifndef SIGFLOW_HOST_ALERT_H
#define SIGFLOW_HOST_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

const char *host_alert_id(const sf_alert *a);
const char *host_alert_decision(const sf_alert *a);
const char *host_alert_question(const sf_alert *a);
const char *host_alert_entity(const sf_alert *a);
int64_t host_alert_time_ms(const sf_alert *a);
double host_alert_score(const sf_alert *a);
size_t host_alert_reason_count(const sf_alert *a);
const char *host_alert_reason_signal(const sf_alert *a, size_t i);
const char *host_alert_reason_text(const sf_alert *a, size_t i);
double host_alert_reason_x(const sf_alert *a, size_t i);
double host_alert_reason_weight(const sf_alert *a, size_t i);
const char *host_alert_json(const sf_alert *a);
/* Borrowed until host_alert_release() on this thread. */
const char *host_alert_attr(const sf_alert *a, const char *name);
/* New string (free with free()) or NULL on an unknown {{variable}} or an unclosed one. */
char *host_alert_render(const sf_alert *a, const char *tmpl);
/* Free the strings lent by host_alert_attr on this thread. */
void host_alert_release(void);

#endif
