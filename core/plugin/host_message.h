/*
 * host_message.h - the message-model half of the host table (SDK 1.3): msg_* accessors,
 * render_as and template_check. An alert's message is the one its delivery worker attached
 * (with the target's links and feedback URLs); an alert without one gets a plain message
 * built on first use and freed when the callback returns (host_alert_release).
 * Owns: those lazily built messages. Calls message, template. Used by host.c (the table).
 */
#ifndef SIGFLOW_HOST_MESSAGE_H
#define SIGFLOW_HOST_MESSAGE_H

#include <stddef.h>

#include "sigflow.h"

const char *host_msg_title(const sf_alert *a);
size_t host_msg_reason_count(const sf_alert *a);
const char *host_msg_reason_signal(const sf_alert *a, size_t i);
const char *host_msg_reason_text(const sf_alert *a, size_t i);
double host_msg_reason_contribution(const sf_alert *a, size_t i);
size_t host_msg_attr_count(const sf_alert *a);
const char *host_msg_attr_name(const sf_alert *a, size_t i);
const char *host_msg_attr_value(const sf_alert *a, size_t i);
size_t host_msg_link_count(const sf_alert *a);
const char *host_msg_link_name(const sf_alert *a, size_t i);
const char *host_msg_link_url(const sf_alert *a, size_t i);
const char *host_msg_feedback_url(const sf_alert *a, const char *label);
const char *host_msg_json(const sf_alert *a);
size_t host_msg_item_count(const sf_alert *a);
const sf_alert *host_msg_item(const sf_alert *a, size_t i);
/* render_as without the instance's error text: NULL with the reason in err. */
char *host_msg_render(const sf_alert *a, const char *tmpl, sf_escape esc, char *err, size_t errlen);
sf_status host_template_check(const char *tmpl, char *err, size_t errlen);
/* Free the messages built on first use on this thread (after each plugin callback). */
void host_msg_release(void);

#endif
