/*
 * slack_blocks.c - Block Kit JSON built with a small growing buffer. Lengths are counted in
 * characters (UTF-8 code points, as Slack counts them) of the text *before* JSON escaping;
 * cuts never split a character or an &entity;.
 */
#include "slack_blocks.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jbuf {
    char *s;
    size_t len, cap;
    bool oom;
} jbuf;

static void jb_add(jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void jb_str(jbuf *b, const char *s)
{
    jb_add(b, s, strlen(s));
}

/* s as a JSON string literal. */
static void jb_json(jbuf *b, const char *s)
{
    jb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            jb_add(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            jb_add(b, esc, 6);
        } else {
            jb_add(b, (const char *)p, 1);
        }
    }
    jb_add(b, "\"", 1);
}

/* Characters (code points) in s. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* s cut to at most max characters, ending in "…" when cut; never inside a character or an
   &entity;. malloc'd. */
static char *cut(const char *s, size_t max)
{
    if (chars(s) <= max)
        return strdup(s);
    size_t n = 0, i = 0, keep = 0;
    for (; s[i] && n < max - 1; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++, keep = i;
    }
    while (s[keep] && ((unsigned char)s[keep] & 0xc0) == 0x80)
        keep++;
    const char *amp = memchr(s, '&', keep);
    for (const char *p = amp; p && p < s + keep; p = memchr(p + 1, '&', (size_t)(s + keep - p - 1)))
        if (!memchr(p, ';', (size_t)(s + keep - p)))
            keep = (size_t)(p - s); /* an entity the cut would split: drop it whole */
    char *out = malloc(keep + 4);
    if (out) {
        memcpy(out, s, keep);
        memcpy(out + keep, "\xe2\x80\xa6", 4); /* … */
    }
    return out;
}

/* Slack mrkdwn escaping of a value (& < > only, as Slack documents). malloc'd. */
static char *mrkdwn(const char *s)
{
    jbuf b = {0};
    jb_str(&b, "");
    for (; s && *s; s++) {
        if (*s == '&')
            jb_str(&b, "&amp;");
        else if (*s == '<')
            jb_str(&b, "&lt;");
        else if (*s == '>')
            jb_str(&b, "&gt;");
        else
            jb_add(&b, s, 1);
    }
    return b.oom ? (free(b.s), NULL) : b.s;
}

/* ---- blocks ---- */

typedef struct msg {
    jbuf b;
    size_t blocks;
} msg;

static void block_open(msg *m, const char *type)
{
    jb_str(&m->b, m->blocks++ ? ",{\"type\":" : "{\"type\":");
    jb_json(&m->b, type);
}

static void header(msg *m, const char *title)
{
    char *t = cut(title ? title : "", SLACK_HEADER_MAX);
    block_open(m, "header");
    jb_str(&m->b, ",\"text\":{\"type\":\"plain_text\",\"text\":");
    jb_json(&m->b, t ? t : "");
    jb_str(&m->b, ",\"emoji\":true}}");
    free(t);
}

/* A section with mrkdwn text (already escaped), cut to the limit. */
static void section(msg *m, const char *text)
{
    char *t = cut(text, SLACK_SECTION_MAX);
    block_open(m, "section");
    jb_str(&m->b, ",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    jb_json(&m->b, t ? t : "");
    jb_str(&m->b, "}}");
    free(t);
}

/* "*Name*\nvalue" with the value escaped. */
static void field(jbuf *b, bool first, const char *name, const char *value)
{
    char *v = mrkdwn(value), *n = mrkdwn(name);
    jbuf t = {0};
    jb_str(&t, "*");
    jb_str(&t, n ? n : "");
    jb_str(&t, "*\n");
    jb_str(&t, v ? v : "");
    char *c = t.s ? cut(t.s, SLACK_FIELD_MAX) : NULL;
    jb_str(b, first ? "{\"type\":\"mrkdwn\",\"text\":" : ",{\"type\":\"mrkdwn\",\"text\":");
    jb_json(b, c ? c : "");
    jb_str(b, "}");
    free(c), free(t.s), free(v), free(n);
}

static void facts(msg *m, const sf_host *h, const sf_alert *a)
{
    char pct[32];
    snprintf(pct, sizeof pct, "%.0f%%", h->alert_score(a) * 100);
    block_open(m, "section");
    jb_str(&m->b, ",\"fields\":[");
    field(&m->b, true, "Entity", h->alert_entity(a));
    field(&m->b, false, "Score", pct);
    size_t n = h->msg_attr_count(a);
    for (size_t i = 0; i < n && i + 2 < SLACK_FIELDS_MAX; i++)
        field(&m->b, false, h->msg_attr_name(a, i), h->msg_attr_value(a, i));
    jb_str(&m->b, "]}");
}

/* "• reason" lines, the strongest first, then "and N more" for what did not fit. */
static void reasons(msg *m, const sf_host *h, const sf_alert *a, size_t max)
{
    size_t n = h->msg_reason_count(a), shown = 0;
    if (n == 0)
        return;
    jbuf t = {0};
    jb_str(&t, "*Why*");
    for (; shown < n && shown < max; shown++) {
        char *r = mrkdwn(h->msg_reason_text(a, shown));
        char line[64];
        snprintf(line, sizeof line, " (+%.2f)", h->msg_reason_contribution(a, shown));
        size_t need = chars(t.s) + 3 + (r ? chars(r) : 0) + strlen(line);
        if (need > SLACK_SECTION_MAX - 32) { /* room kept for "and N more" */
            free(r);
            break;
        }
        jb_str(&t, "\n\xe2\x80\xa2 ");
        jb_str(&t, r ? r : "");
        jb_str(&t, line);
        free(r);
    }
    if (shown < n) {
        char more[48];
        snprintf(more, sizeof more, "\nand %zu more", n - shown);
        jb_str(&t, more);
    }
    section(m, t.s ? t.s : "");
    free(t.s);
}

static void links(msg *m, const sf_host *h, const sf_alert *a)
{
    size_t n = h->msg_link_count(a);
    if (n == 0)
        return;
    jbuf t = {0};
    jb_str(&t, "");
    for (size_t i = 0; i < n; i++) {
        char *name = mrkdwn(h->msg_link_name(a, i));
        jb_str(&t, i ? "  \xc2\xb7  <" : "<");
        jb_str(&t, h->msg_link_url(a, i)); /* URLs are not escaped inside <url|text> */
        jb_str(&t, "|");
        jb_str(&t, name ? name : "");
        jb_str(&t, ">");
        free(name);
    }
    section(m, t.s ? t.s : "");
    free(t.s);
}

static void button(jbuf *b, bool first, const char *label, const char *url, const char *style,
                   const char *id)
{
    jb_str(b, first ? "{" : ",{");
    jb_str(b, "\"type\":\"button\",\"text\":{\"type\":\"plain_text\",\"text\":");
    jb_json(b, label);
    jb_str(b, "},\"url\":");
    jb_json(b, url);
    jb_str(b, ",\"style\":");
    jb_json(b, style);
    jb_str(b, ",\"action_id\":");
    jb_json(b, id);
    jb_str(b, "}");
}

static void feedback(msg *m, const sf_host *h, const sf_alert *a)
{
    const char *yes = h->msg_feedback_url(a, "confirmed");
    const char *no = h->msg_feedback_url(a, "false_positive");
    if (!yes || !*yes || !no || !*no)
        return; /* feedback links are off: no buttons that lead nowhere */
    block_open(m, "actions");
    jb_str(&m->b, ",\"elements\":[");
    button(&m->b, true, "Right", yes, "primary", "sigflow_right");
    button(&m->b, false, "Wrong", no, "danger", "sigflow_wrong");
    jb_str(&m->b, "]}");
}

/* "sigflow · alert ID · TIME": the id is what `sigflow explain` and the dlq name. */
static void context(msg *m, const sf_host *h, sf_instance *inst, const sf_alert *a)
{
    char *t = h->render_as(inst, a, "sigflow \xc2\xb7 alert {{alert_id}} \xc2\xb7 {{time}}",
                           SF_ESCAPE_SLACK);
    block_open(m, "context");
    jb_str(&m->b, ",\"elements\":[{\"type\":\"mrkdwn\",\"text\":");
    jb_json(&m->b, t ? t : "sigflow");
    jb_str(&m->b, "}]}");
    if (t)
        h->free(t);
}

static void one_alert(msg *m, const sf_host *h, sf_instance *inst, const sf_alert *a,
                      const slack_style *st)
{
    header(m, h->msg_title(a));
    facts(m, h, a);
    reasons(m, h, a, st->max_reasons);
    links(m, h, a);
    feedback(m, h, a);
    context(m, h, inst, a);
}

/* A digest: a header, then one section per alert while blocks last, then "and N more". */
static void digest(msg *m, const sf_host *h, const sf_alert *d)
{
    size_t n = h->msg_item_count(d), shown = 0;
    char title[256];
    snprintf(title, sizeof title, "%zu alert%s: %s", n, n == 1 ? "" : "s", h->msg_title(d));
    header(m, title);
    for (; shown < n && m->blocks < SLACK_BLOCKS_MAX - 1; shown++) {
        const sf_alert *a = h->msg_item(d, shown);
        char *e = mrkdwn(h->alert_entity(a));
        char *r = h->msg_reason_count(a) ? mrkdwn(h->msg_reason_text(a, 0)) : NULL;
        char head[96];
        snprintf(head, sizeof head, "* \xe2\x80\x94 %.0f%%", h->alert_score(a) * 100);
        jbuf t = {0};
        jb_str(&t, "*");
        jb_str(&t, e ? e : "");
        jb_str(&t, head);
        if (r) {
            jb_str(&t, "\n");
            jb_str(&t, r);
        }
        const char *no = h->msg_feedback_url(a, "false_positive");
        if (no && *no) {
            jb_str(&t, "\n<");
            jb_str(&t, no);
            jb_str(&t, "|Wrong?>");
        }
        section(m, t.s ? t.s : "");
        free(t.s), free(e), free(r);
    }
    if (shown < n) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more", n - shown);
        section(m, more);
    }
}

char *slack_blocks(const sf_host *h, sf_instance *inst, const sf_alert *a, const slack_style *st)
{
    char *text = h->render_as(inst, a, st->text, SF_ESCAPE_SLACK);
    if (!text)
        return NULL;
    msg m = {0};
    jb_str(&m.b, "{\"text\":");
    jb_json(&m.b, text);
    jb_str(&m.b, ",\"blocks\":[");
    if (h->msg_item_count(a) > 0)
        digest(&m, h, a);
    else
        one_alert(&m, h, inst, a, st);
    jb_str(&m.b, "]}");
    h->free(text);
    if (m.b.oom) {
        free(m.b.s);
        h->set_error(inst, "out of memory");
        return NULL;
    }
    return m.b.s;
}
