/*
 * template.h - the one template language of sigflow's outputs: {{name}}, {{attr.path}},
 * {{link.NAME}}, sections {{#reasons}}...{{/reasons}}, {{#links}}, {{#attrs}}, {{#alerts}}
 * (digests), and {{#name}}...{{/name}} / {{^name}}...{{/name}} to show text only when a
 * value is (not) empty. Names are checked when the template is compiled, so an unknown
 * one is an error at `sigflow check`, never an empty string at delivery. Values are escaped
 * for the output (HTML, Slack mrkdwn, JSON string, plain); the template's own text is not.
 * Owns: compiled templates. Calls message, suggest. Used by the host (render services and
 * template-typed options), delivery rules (links, `to`, `timezone`) and the console.
 * docs/templates.md is the reference.
 */
#ifndef SIGFLOW_TEMPLATE_H
#define SIGFLOW_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "deliver/message.h"

/* Same values as the SDK's sf_escape. */
typedef enum tmpl_escape {
    TMPL_PLAIN = 0,
    TMPL_HTML = 1,
    TMPL_SLACK = 2, /* Slack mrkdwn: & < > as entities */
    TMPL_JSON = 3,  /* the inside of a JSON string */
    TMPL_URL = 4    /* core only (links): percent-encoding of all but RFC 3986 unreserved */
} tmpl_escape;

typedef struct tmpl tmpl;

/* Compile `text`; NULL with the reason (and its column) in err. */
tmpl *tmpl_compile(const char *text, char *err, size_t errlen);
void tmpl_free(tmpl *t);
/* Render against m; a new string (free()), NULL only when out of memory. */
char *tmpl_render(const tmpl *t, const message *m, tmpl_escape esc);
/* Compile, render, free: NULL with the reason in err (bad template or no memory). */
char *tmpl_render_text(const char *text, const message *m, tmpl_escape esc, char *err,
                       size_t errlen);

/* Append s escaped for esc to a strbuf-like sink (used by deliveries building markup). */
struct strbuf;
void tmpl_escape_into(struct strbuf *b, const char *s, tmpl_escape esc);

#endif
