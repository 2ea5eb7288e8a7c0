/*
 * sf_mock_message.c - the message model of the mock host (SDK 1.3): msg_* accessors over a
 * fake alert, and a small template renderer with the names, sections and escapings of
 * docs/templates.md, so a delivery plugin's formatting can be unit-tested without the daemon.
 * Plain C; calls sf_mock_alert.c's data and the mock's allocation helpers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mbuf {
    char *s;
    size_t len, cap;
} mbuf;

static void mb_add(mbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = sf_mock_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void mb_str(mbuf *b, const char *s)
{
    mb_add(b, s ? s : "", s ? strlen(s) : 0);
}

static void mb_esc(mbuf *b, const char *s, sf_escape esc)
{
    for (; s && *s; s++) {
        const char *rep = NULL;
        char u[8];
        unsigned char c = (unsigned char)*s;
        if (esc == SF_ESCAPE_HTML || esc == SF_ESCAPE_SLACK) {
            rep = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : NULL;
            if (esc == SF_ESCAPE_HTML && !rep)
                rep = c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
        } else if (esc == SF_ESCAPE_JSON && (c == '"' || c == '\\' || c < 0x20)) {
            if (c < 0x20)
                snprintf(u, sizeof u, "\\u%04x", c);
            else
                u[0] = '\\', u[1] = (char)c, u[2] = 0;
            rep = u;
        }
        if (rep)
            mb_str(b, rep);
        else
            mb_add(b, s, 1);
    }
}

void sf_mock_message_free(sf_alert *a)
{
    for (size_t i = 0; i < a->n_links; i++) {
        free(a->links[i].name);
        free(a->links[i].value);
    }
    free(a->links);
    free(a->fb_confirm);
    free(a->fb_false_positive);
    free(a->items);
    free(a->msg_json);
}

void sf_mock_alert_add_link(sf_alert *a, const char *name, const char *url)
{
    a->links = sf_mock_xrealloc(a->links, (a->n_links + 1) * sizeof *a->links);
    a->links[a->n_links].name = sf_mock_xstrdup(name);
    a->links[a->n_links].value = sf_mock_xstrdup(url);
    a->n_links++;
    free(a->msg_json);
    a->msg_json = NULL;
}

void sf_mock_alert_set_feedback(sf_alert *a, const char *confirm_url, const char *fp_url)
{
    free(a->fb_confirm);
    free(a->fb_false_positive);
    a->fb_confirm = sf_mock_xstrdup(confirm_url ? confirm_url : "");
    a->fb_false_positive = sf_mock_xstrdup(fp_url ? fp_url : "");
    free(a->msg_json);
    a->msg_json = NULL;
}

void sf_mock_alert_add_item(sf_alert *digest, sf_alert *item)
{
    digest->items = sf_mock_xrealloc(digest->items, (digest->n_items + 1) * sizeof(sf_alert *));
    digest->items[digest->n_items++] = item;
    free(digest->msg_json);
    digest->msg_json = NULL;
}

/* ---- accessors ---- */

static const sf_mock_reason *reason(const sf_alert *a, size_t i)
{
    for (size_t k = 0, n = 0; a && k < a->n_reasons; k++)
        if (a->reasons[k].x * a->reasons[k].weight > 0 && n++ == i)
            return &a->reasons[k];
    return NULL;
}

static const char *m_title(const sf_alert *a)
{
    return !a ? NULL : a->question && *a->question ? a->question : a->decision;
}

static size_t m_reason_count(const sf_alert *a)
{
    size_t n = 0;
    while (reason(a, n))
        n++;
    return n;
}

static const char *m_reason_signal(const sf_alert *a, size_t i)
{
    const sf_mock_reason *r = reason(a, i);
    return r ? r->signal : NULL;
}

static const char *m_reason_text(const sf_alert *a, size_t i)
{
    const sf_mock_reason *r = reason(a, i);
    return !r ? NULL : r->text && *r->text ? r->text : r->signal;
}

static double m_reason_contribution(const sf_alert *a, size_t i)
{
    const sf_mock_reason *r = reason(a, i);
    if (!r)
        return 0;
    double v = r->x * r->weight * 100;
    return (double)(long long)(v + (v >= 0 ? 0.5 : -0.5)) / 100; /* no libm in the mock */
}

static size_t m_attr_count(const sf_alert *a)
{
    return a ? a->n_attrs : 0;
}

static const char *m_attr_name(const sf_alert *a, size_t i)
{
    return a && i < a->n_attrs ? a->attrs[i].name : NULL;
}

static const char *m_attr_value(const sf_alert *a, size_t i)
{
    return a && i < a->n_attrs ? a->attrs[i].value : NULL;
}

static size_t m_link_count(const sf_alert *a)
{
    return a ? a->n_links : 0;
}

static const char *m_link_name(const sf_alert *a, size_t i)
{
    return a && i < a->n_links ? a->links[i].name : NULL;
}

static const char *m_link_url(const sf_alert *a, size_t i)
{
    return a && i < a->n_links ? a->links[i].value : NULL;
}

static const char *m_feedback_url(const sf_alert *a, const char *label)
{
    if (!a || !label)
        return NULL;
    if (strcmp(label, "confirmed") == 0)
        return a->fb_confirm ? a->fb_confirm : "";
    return strcmp(label, "false_positive") == 0 ? (a->fb_false_positive ? a->fb_false_positive : "")
                                                : NULL;
}

static size_t m_item_count(const sf_alert *a)
{
    return a ? a->n_items : 0;
}

static const sf_alert *m_item(const sf_alert *a, size_t i)
{
    return a && i < a->n_items ? a->items[i] : NULL;
}

static void json_key(mbuf *b, const char *sep, const char *k)
{
    mb_str(b, sep);
    mb_str(b, "\"");
    mb_esc(b, k, SF_ESCAPE_JSON);
    mb_str(b, "\":");
}

static void json_val(mbuf *b, const char *v)
{
    mb_str(b, "\"");
    mb_esc(b, v, SF_ESCAPE_JSON);
    mb_str(b, "\"");
}

static void json_alert(mbuf *b, const sf_alert *a)
{
    char n[48];
    json_key(b, "{", "alert_id");
    json_val(b, a->id);
    json_key(b, ",", "decision");
    json_val(b, a->decision);
    json_key(b, ",", "title");
    json_val(b, m_title(a));
    json_key(b, ",", "entity");
    json_val(b, a->entity);
    sf_mock_format_time(a->time_ms, n, sizeof n);
    json_key(b, ",", "time");
    json_val(b, n);
    snprintf(n, sizeof n, "%.2f", a->score);
    json_key(b, ",", "score");
    mb_str(b, n);
    snprintf(n, sizeof n, "%d", (int)(a->score * 100 + 0.5));
    json_key(b, ",", "score_pct");
    mb_str(b, n);
    json_key(b, ",", "reasons");
    mb_str(b, "[");
    for (size_t i = 0; i < m_reason_count(a); i++) {
        json_key(b, i ? ",{" : "{", "signal");
        json_val(b, m_reason_signal(a, i));
        json_key(b, ",", "text");
        json_val(b, m_reason_text(a, i));
        snprintf(n, sizeof n, "%.2f", m_reason_contribution(a, i));
        json_key(b, ",", "contribution");
        mb_str(b, n);
        mb_str(b, "}");
    }
    json_key(b, "],", "attrs");
    for (size_t i = 0; i < a->n_attrs; i++) {
        json_key(b, i ? "," : "{", a->attrs[i].name);
        json_val(b, a->attrs[i].value);
    }
    json_key(b, a->n_attrs ? "}," : "{},", "links");
    for (size_t i = 0; i < a->n_links; i++) {
        json_key(b, i ? "," : "{", a->links[i].name);
        json_val(b, a->links[i].value);
    }
    json_key(b, a->n_links ? "}," : "{},", "feedback");
    json_key(b, "{", "confirm");
    json_val(b, m_feedback_url(a, "confirmed"));
    json_key(b, ",", "false_positive");
    json_val(b, m_feedback_url(a, "false_positive"));
    mb_str(b, "}}");
}

static const char *m_json(const sf_alert *a)
{
    sf_alert *w = (sf_alert *)a; /* the text is cached in the fake alert */
    if (!a || a->msg_json)
        return a ? a->msg_json : NULL;
    mbuf b = {0};
    if (!a->n_items) {
        json_alert(&b, a);
    } else {
        char n[64];
        snprintf(n, sizeof n, "{\"digest\":true,\"count\":%zu,\"alerts\":[", a->n_items);
        mb_str(&b, n);
        for (size_t i = 0; i < a->n_items; i++) {
            mb_str(&b, i ? "," : "");
            json_alert(&b, a->items[i]);
        }
        mb_str(&b, "]}");
    }
    w->msg_json = b.s;
    return w->msg_json;
}

/* ---- render_as: a recursive walk over the template text ---- */

typedef struct rctx {
    const sf_alert *a;
    const sf_mock_reason *r;
    const sf_mock_attr *link, *attr;
    sf_escape esc;
    mbuf *out; /* NULL: only check */
} rctx;

/* The value of a scalar name in c, or NULL when the name is unknown here. *num: numbers. */
static const char *value(const rctx *c, const char *n, char *num, size_t len)
{
    const sf_alert *a = c->a;
    if (c->r && strcmp(n, "signal") == 0)
        return c->r->signal;
    if (c->r && strcmp(n, "text") == 0)
        return c->r->text && *c->r->text ? c->r->text : c->r->signal;
    if (c->r && strcmp(n, "contribution") == 0)
        return snprintf(num, len, "%.2f", c->r->x * c->r->weight), num;
    if (c->r && strcmp(n, "pct") == 0)
        return snprintf(num, len, "%d", (int)(c->r->x * 100 + 0.5)), num;
    const sf_mock_attr *p = c->link ? c->link : c->attr;
    if (p && strcmp(n, "name") == 0)
        return p->name;
    if ((c->link && strcmp(n, "url") == 0) || (c->attr && strcmp(n, "value") == 0))
        return p->value;
    if (strcmp(n, "title") == 0)
        return m_title(a);
    if (strcmp(n, "question") == 0)
        return a->question ? a->question : "";
    if (strcmp(n, "decision") == 0)
        return a->decision;
    if (strcmp(n, "entity") == 0)
        return a->entity;
    if (strcmp(n, "alert_id") == 0)
        return a->id;
    if (strcmp(n, "score") == 0)
        return snprintf(num, len, "%.2f", a->score), num;
    if (strcmp(n, "score_pct") == 0)
        return snprintf(num, len, "%d", (int)(a->score * 100 + 0.5)), num;
    if (strcmp(n, "count") == 0)
        return snprintf(num, len, "%zu", a->n_items ? a->n_items : 1), num;
    if (strcmp(n, "time") == 0)
        return sf_mock_format_time(a->time_ms, num, len), num;
    if (strcmp(n, "feedback.confirm") == 0)
        return m_feedback_url(a, "confirmed");
    if (strcmp(n, "feedback.false_positive") == 0)
        return m_feedback_url(a, "false_positive");
    if (strncmp(n, "attr.", 5) == 0) {
        for (size_t i = 0; i < a->n_attrs; i++)
            if (strcmp(a->attrs[i].name, n + 5) == 0)
                return a->attrs[i].value;
        return "";
    }
    if (strncmp(n, "link.", 5) == 0) {
        for (size_t i = 0; i < a->n_links; i++)
            if (strcmp(a->links[i].name, n + 5) == 0)
                return a->links[i].value;
        return "";
    }
    return NULL;
}

static bool is_list(const char *n)
{
    return !strcmp(n, "reasons") || !strcmp(n, "links") || !strcmp(n, "attrs") ||
           !strcmp(n, "alerts");
}

static const char *render_span(const rctx *c, const char *p, const char *stop_name);

/* Find where the section named n that starts at p ends: the text after {{/n}}. */
static const char *section_end(const rctx *c, const char *p, const char *n)
{
    static const sf_mock_reason no_reason = {.signal = "", .text = ""};
    static const sf_mock_attr no_pair = {.name = "", .value = ""};
    rctx skip = *c;
    skip.out = NULL; /* a dry run: names are checked in the section's own scope */
    if (!strcmp(n, "reasons"))
        skip.r = &no_reason;
    else if (!strcmp(n, "links"))
        skip.link = &no_pair, skip.attr = NULL;
    else if (!strcmp(n, "attrs"))
        skip.attr = &no_pair, skip.link = NULL;
    return render_span(&skip, p, n);
}

static const char *render_section(const rctx *c, const char *body, const char *n, bool inverted)
{
    const char *after = section_end(c, body, n);
    if (!after || !c->out)
        return after;
    char num[64];
    size_t count = 0;
    const sf_alert *a = c->a;
    if (!strcmp(n, "reasons"))
        count = m_reason_count(a);
    else if (!strcmp(n, "links"))
        count = a->n_links;
    else if (!strcmp(n, "attrs"))
        count = a->n_attrs;
    else if (!strcmp(n, "alerts"))
        count = a->n_items;
    else {
        const char *v = value(c, n, num, sizeof num);
        count = v && *v ? 1 : 0;
    }
    if (inverted) {
        if (count == 0)
            render_span(c, body, n);
        return after;
    }
    for (size_t i = 0; i < count; i++) {
        rctx in = *c;
        if (!strcmp(n, "reasons"))
            in.r = reason(a, i);
        else if (!strcmp(n, "links"))
            in.link = &a->links[i];
        else if (!strcmp(n, "attrs"))
            in.attr = &a->attrs[i];
        else if (!strcmp(n, "alerts"))
            in.a = a->items[i], in.r = NULL, in.link = in.attr = NULL;
        render_span(&in, body, n);
    }
    return after;
}

/* Render from p until {{/stop_name}} (or the end when NULL); the text after, or NULL. */
static const char *render_span(const rctx *c, const char *p, const char *stop_name)
{
    char name[128], num[64];
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            if (c->out)
                mb_str(c->out, p);
            return stop_name ? NULL : p + strlen(p);
        }
        if (c->out)
            mb_add(c->out, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        size_t nl = close ? (size_t)(close - open - 2) : sizeof name;
        if (nl == 0 || nl >= sizeof name)
            return NULL;
        memcpy(name, open + 2, nl);
        name[nl] = '\0';
        p = close + 2;
        if (name[0] == '/')
            return stop_name && !strcmp(name + 1, stop_name) ? p : NULL;
        if (name[0] == '#' || name[0] == '^') {
            if (!is_list(name + 1) && !value(c, name + 1, num, sizeof num))
                return NULL;
            if (!(p = render_section(c, p, name + 1, name[0] == '^')))
                return NULL;
            continue;
        }
        const char *v = !strcmp(name, "reasons") ? "" : value(c, name, num, sizeof num);
        if (!v)
            return NULL;
        for (size_t i = 0; c->out && !strcmp(name, "reasons") && i < m_reason_count(c->a); i++) {
            mb_str(c->out, i ? "\n" : "");
            mb_esc(c->out, m_reason_text(c->a, i), c->esc);
        }
        if (c->out)
            mb_esc(c->out, v, c->esc);
    }
}

static char *m_render_as(sf_instance *inst, const sf_alert *a, const char *tmpl, sf_escape esc)
{
    mbuf b = {0};
    mb_str(&b, "");
    rctx c = {.a = a, .esc = esc, .out = &b};
    if (!a || !tmpl || !render_span(&c, tmpl, NULL)) {
        free(b.s);
        if (inst)
            sf_mock_error(inst, "cannot render the template \"%s\"", tmpl ? tmpl : "(null)");
        return NULL;
    }
    return b.s;
}

static sf_status m_template_check(const char *tmpl, char *err, size_t errlen)
{
    sf_alert probe = {.id = "", .decision = "", .entity = ""};
    rctx c = {.a = &probe};
    if (tmpl && render_span(&c, tmpl, NULL))
        return SF_OK;
    snprintf(err, errlen, "bad template (unknown name or unclosed section)");
    return SF_EINVAL;
}

void sf_mock_fill_message_table(sf_host *t)
{
    t->msg_title = m_title;
    t->msg_reason_count = m_reason_count;
    t->msg_reason_signal = m_reason_signal;
    t->msg_reason_text = m_reason_text;
    t->msg_reason_contribution = m_reason_contribution;
    t->msg_attr_count = m_attr_count;
    t->msg_attr_name = m_attr_name;
    t->msg_attr_value = m_attr_value;
    t->msg_link_count = m_link_count;
    t->msg_link_name = m_link_name;
    t->msg_link_url = m_link_url;
    t->msg_feedback_url = m_feedback_url;
    t->msg_json = m_json;
    t->msg_item_count = m_item_count;
    t->msg_item = m_item;
    t->render_as = m_render_as;
    t->template_check = m_template_check;
}
