/*
 * message.c - build the message model from an alert: contributing reasons, attrs as text,
 * links rendered with the template engine, feedback URLs; and its JSON form.
 */
#include "deliver/message.h"

#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"
#include "deliver/template.h"
#include "model/alert.h"

double message_round2(double v)
{
    return isfinite(v) ? round(v * 100.0) / 100.0 : 0.0;
}

static void pairs_free(msg_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

void message_free(message *m)
{
    if (!m)
        return;
    free(m->reasons);
    pairs_free(m->attrs, m->n_attrs);
    pairs_free(m->links, m->n_links);
    free(m->fb_confirm);
    free(m->fb_false_positive);
    if (m->attrs_obj)
        json_object_put(m->attrs_obj);
    for (size_t i = 0; i < m->n_items; i++)
        message_free(m->items[i]);
    free(m->items);
    free(m->json);
    free(m->title_buf);
    free(m);
}

static const char *json_text(json_object *v)
{
    return json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

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
        if (!(p->name = strdup(key)) || !(p->value = strdup(val ? json_text(val) : "null")))
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

const char *message_attr(const message *m, const char *path)
{
    json_object *cur = m->attrs_obj;
    char key[SIGFLOW_MAX_NAME_LEN + 1];
    for (const char *p = path; cur && p && *p;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n > SIGFLOW_MAX_NAME_LEN || !json_object_is_type(cur, json_type_object))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        json_object *next = NULL;
        if (!json_object_object_get_ex(cur, key, &next) || !next)
            return NULL;
        cur = next;
        p = dot ? dot + 1 : NULL;
    }
    return cur && cur != m->attrs_obj ? json_text(cur) : NULL;
}

const char *message_link_url(const message *m, const char *name)
{
    for (size_t i = 0; i < m->n_links; i++)
        if (strcmp(m->links[i].name, name) == 0)
            return m->links[i].value;
    return NULL;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void js_str(strbuf *b, const char *s)
{
    strbuf_puts(b, "\"");
    tmpl_escape_into(b, s ? s : "", TMPL_JSON);
    strbuf_puts(b, "\"");
}

static void js_key(strbuf *b, const char *sep, const char *key)
{
    strbuf_puts(b, sep);
    js_str(b, key);
    strbuf_puts(b, ":");
}

static void js_num(strbuf *b, double v)
{
    char num[32];
    snprintf(num, sizeof num, "%.15g", message_round2(v));
    strbuf_puts(b, num);
}

static void js_pairs(strbuf *b, const msg_pair *p, size_t n)
{
    strbuf_puts(b, "{");
    for (size_t i = 0; i < n; i++) {
        js_key(b, i ? "," : "", p[i].name);
        js_str(b, p[i].value);
    }
    strbuf_puts(b, "}");
}

static void message_json_alert(strbuf *b, const message *m)
{
    const sf_alert *a = m->alert;
    char ts[32], pct[16];
    time_format_rfc3339(a->time_ms, ts, sizeof ts);
    js_key(b, "{", "alert_id");
    js_str(b, a->id);
    js_key(b, ",", "decision");
    js_str(b, a->decision);
    js_key(b, ",", "title");
    js_str(b, m->title);
    js_key(b, ",", "entity");
    js_str(b, a->entity);
    js_key(b, ",", "time");
    js_str(b, ts);
    js_key(b, ",", "score");
    js_num(b, a->score);
    snprintf(pct, sizeof pct, "%.0f", isfinite(a->score) ? floor(a->score * 100 + 0.5) : 0.0);
    js_key(b, ",", "score_pct");
    strbuf_puts(b, pct);
    js_key(b, ",", "reasons");
    strbuf_puts(b, "[");
    for (size_t i = 0; i < m->n_reasons; i++) {
        js_key(b, i ? ",{" : "{", "signal");
        js_str(b, m->reasons[i].signal);
        js_key(b, ",", "text");
        js_str(b, m->reasons[i].text);
        js_key(b, ",", "contribution");
        js_num(b, m->reasons[i].contribution);
        strbuf_puts(b, "}");
    }
    js_key(b, "],", "attrs");
    js_pairs(b, m->attrs, m->n_attrs);
    js_key(b, ",", "links");
    js_pairs(b, m->links, m->n_links);
    js_key(b, ",", "feedback");
    js_key(b, "{", "confirm");
    js_str(b, m->fb_confirm);
    js_key(b, ",", "false_positive");
    js_str(b, m->fb_false_positive);
    strbuf_puts(b, "}}");
}

const char *message_json(message *m)
{
    if (m->json)
        return m->json;
    strbuf b = {0};
    if (m->alert) {
        message_json_alert(&b, m);
    } else {
        char n[32];
        snprintf(n, sizeof n, "%zu", m->n_items);
        js_key(&b, "{", "digest");
        strbuf_puts(&b, "true");
        js_key(&b, ",", "count");
        strbuf_puts(&b, n);
        js_key(&b, ",", "alerts");
        strbuf_puts(&b, "[");
        for (size_t i = 0; i < m->n_items; i++) {
            if (i)
                strbuf_puts(&b, ",");
            message_json_alert(&b, m->items[i]);
        }
        strbuf_puts(&b, "]}");
    }
    m->json = strbuf_take(&b);
    return m->json;
}
