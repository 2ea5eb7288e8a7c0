/*
 * message_build.c - build the message model from an alert: contributing reasons, attrs as
 * text, links rendered with the template engine, feedback URLs, a health alert's title; and
 * a digest of messages. See message.h.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "deliver/message.h"
#include "deliver/template.h"
#include "model/alert.h"

/* Reasons that raised the score (contribution > 0), already strongest first in the alert. */
static bool message_reasons(message *m, const sf_alert *a)
{
    if (a->n_reasons && !(m->reasons = calloc(a->n_reasons, sizeof *m->reasons)))
        return false;
    for (size_t i = 0; i < a->n_reasons; i++) {
        const alert_reason *r = &a->reasons[i];
        if (!(r->contribution > 0))
            continue;
        msg_reason *o = &m->reasons[m->n_reasons++];
        o->signal = r->signal;
        o->text = r->text && *r->text ? r->text : r->signal;
        o->x = r->x;
        o->weight = r->weight;
        o->contribution = r->contribution;
    }
    return true;
}

static bool message_attrs(message *m, const sf_alert *a)
{
    if (!a->attrs)
        return true;
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    if (!tok)
        return false;
    m->attrs_obj = json_tokener_parse_ex(tok, a->attrs, (int)strlen(a->attrs));
    json_tokener_free(tok);
    if (!m->attrs_obj || !json_object_is_type(m->attrs_obj, json_type_object))
        return true; /* stored attrs are always an object; anything else shows as none */
    size_t n = (size_t)json_object_object_length(m->attrs_obj);
    if (n > SIGFLOW_MAX_MESSAGE_ATTRS)
        n = SIGFLOW_MAX_MESSAGE_ATTRS;
    if (n && !(m->attrs = calloc(n, sizeof *m->attrs)))
        return false;
    json_object_object_foreach(m->attrs_obj, key, val)
    {
        if (m->n_attrs == n)
            break;
        msg_pair *p = &m->attrs[m->n_attrs++];
        if (!(p->name = strdup(key)) || !(p->value = strdup(val ? message_json_text(val) : "null")))
            return false;
    }
    return true;
}

static bool message_links(message *m, const message_ctx *ctx)
{
    if (!ctx || !ctx->n_links)
        return true;
    if (!(m->links = calloc(ctx->n_links, sizeof *m->links)))
        return false;
    for (size_t i = 0; i < ctx->n_links; i++) {
        msg_pair *p = &m->links[m->n_links++];
        /* values are percent-encoded: an entity or attr cannot break out of the URL */
        if (!(p->name = strdup(ctx->links[i].name)) ||
            !(p->value = tmpl_render(ctx->links[i].t, m, TMPL_URL)))
            return false;
    }
    return true;
}

static bool message_feedback(message *m, const message_ctx *ctx)
{
    const char *id = m->alert->id;
    if (ctx && ctx->feedback) {
        m->fb_confirm = ctx->feedback(ctx->feedback_ctx, id, "confirmed");
        m->fb_false_positive = ctx->feedback(ctx->feedback_ctx, id, "false_positive");
    }
    if (!m->fb_confirm)
        m->fb_confirm = strdup("");
    if (!m->fb_false_positive)
        m->fb_false_positive = strdup("");
    return m->fb_confirm && m->fb_false_positive;
}

/* A health alert (stale signal, drifted field) says what happened in its title. */
static bool message_health_title(message *m, const sf_alert *a)
{
    json_object *h = a->health ? json_tokener_parse(a->health) : NULL, *text = NULL;
    const char *what = h && json_object_object_get_ex(h, "text", &text) && text
                           ? json_object_get_string(text)
                           : "a source or mapping changed";
    size_t n = strlen(what) + 32;
    if ((m->title_buf = malloc(n)))
        snprintf(m->title_buf, n, "Integration health: %s", what);
    if (h)
        json_object_put(h);
    m->title = m->title_buf;
    return m->title_buf != NULL;
}

message *message_new(const sf_alert *a, const message_ctx *ctx)
{
    message *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->alert = a;
    m->title = a->question && *a->question ? a->question : a->decision;
    if ((a->kind == ALERT_HEALTH && !message_health_title(m, a)) || !message_reasons(m, a) ||
        !message_attrs(m, a) || !message_links(m, ctx) || !message_feedback(m, ctx)) {
        message_free(m);
        return NULL;
    }
    return m;
}

message *message_digest(message **items, size_t n)
{
    message *m = calloc(1, sizeof *m);
    if (!m || !(m->items = calloc(n ? n : 1, sizeof *m->items)) || !(m->fb_confirm = strdup("")) ||
        !(m->fb_false_positive = strdup(""))) {
        message_free(m);
        for (size_t i = 0; i < n; i++)
            message_free(items[i]);
        return NULL;
    }
    memcpy(m->items, items, n * sizeof *items);
    m->n_items = n;
    m->title = n ? items[0]->title : "";
    return m;
}
