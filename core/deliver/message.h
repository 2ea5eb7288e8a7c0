/*
 * message.h - the message model every delivery formats in its own way: the title (the
 * decision's question), the entity, the score, the reasons that raised it (strongest first),
 * the entity's attrs, the links configured for the target and the one-click feedback URLs.
 * A digest is a message whose items are the alerts it lists. Owns: message objects (the
 * alert is borrowed). Files: message.c (reading, freeing; what the template engine calls),
 * message_build.c (building; calls template for links), message_json.c (the JSON line;
 * calls template's JSON escaping): calls go one way, build/json -> template -> message.c.
 * Calls json-c. Used by the delivery workers, the host's msg_* accessors and the template
 * renderer. docs/templates.md describes it.
 */
#ifndef SIGFLOW_MESSAGE_H
#define SIGFLOW_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

struct json_object;
struct tmpl;

typedef struct msg_reason {
    const char *signal; /* borrowed from the alert */
    const char *text;   /* the explain sentence, or the signal name when it has none */
    double x, weight, contribution;
} msg_reason;

typedef struct msg_pair {
    char *name, *value; /* owned */
} msg_pair;

typedef struct message {
    const sf_alert *alert; /* borrowed; NULL for a digest */
    const char *title;     /* question, else decision name; borrowed */
    msg_reason *reasons;   /* only reasons with contribution > 0, strongest first */
    size_t n_reasons;
    msg_pair *attrs; /* top-level attrs as text, in the JSON's order */
    size_t n_attrs;
    msg_pair *links; /* the target's links rendered for this alert */
    size_t n_links;
    char *fb_confirm, *fb_false_positive; /* "" when feedback links are off */
    struct json_object *attrs_obj;        /* parsed attrs or NULL */
    struct message **items;               /* a digest's alerts (owned); NULL otherwise */
    size_t n_items;
    char *json;      /* message_json's text, built on first use */
    char *title_buf; /* an integration-health alert's title ("Integration health: ...") */
} message;

/* A link a target adds to its messages: `link.NAME = TEMPLATE` (`link` alone: NAME "link"). */
typedef struct message_link {
    const char *name;
    const struct tmpl *t;
} message_link;

/* Builds a feedback URL for (alert id, label); malloc'd, or NULL when feedback is off. */
typedef char *(*message_feedback_fn)(void *ctx, const char *alert_id, const char *label);

typedef struct message_ctx {
    const message_link *links;
    size_t n_links;
    message_feedback_fn feedback;
    void *feedback_ctx;
} message_ctx;

/* The message for `a` (borrowed; must outlive the message). ctx may be NULL. NULL on OOM. */
message *message_new(const sf_alert *a, const message_ctx *ctx);
/* A digest listing items (ownership of the array's messages taken, the array copied). */
message *message_digest(message **items, size_t n);
void message_free(message *m);

/* The attr at a dotted path ("owner.email") as text: strings as they are, other JSON in
   its JSON form. Borrowed from m; NULL when absent. */
const char *message_attr(const message *m, const char *path);
/* The link named `name`, or NULL. */
const char *message_link_url(const message *m, const char *name);
/* A JSON value as text: a string as it is, anything else in its JSON form (borrowed from v). */
const char *message_json_text(struct json_object *v);
/* Round to 2 decimals the way every output shows scores. */
double message_round2(double v);
/*
 * The message as one line of JSON (borrowed from m): alert_id, decision, title, entity,
 * time, score (2 decimals), score_pct, reasons [{signal, text, contribution}], attrs,
 * links {name: url}, feedback {confirm, false_positive}. A digest: {"digest":true,
 * "count":N,"alerts":[...]}. NULL on OOM.
 */
const char *message_json(message *m);

#endif
