/*
 * template.c - compile a template into a flat node list (sections know where they end) with
 * every name resolved to a variable id for its scope; render it against a message.
 */
#include "deliver/template.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"
#include "config/suggest.h"
#include "model/alert.h"

typedef enum tvar {
    /* any scope: the current alert (a digest's item inside {{#alerts}}) */
    V_TITLE,
    V_QUESTION,
    V_DECISION,
    V_ENTITY,
    V_SCORE,
    V_SCORE_PCT,
    V_TIME,
    V_ALERT_ID,
    V_REASONS,
    V_LINKS,
    V_ATTRS,
    V_ALERTS,
    V_COUNT,
    V_FB_CONFIRM,
    V_FB_FALSE,
    V_ATTR,
    V_LINK,
    /* inside {{#reasons}} */
    V_R_SIGNAL,
    V_R_TEXT,
    V_R_CONTRIBUTION,
    V_R_PCT,
    V_R_X,
    V_R_WEIGHT,
    /* inside {{#links}} and {{#attrs}} */
    V_P_NAME,
    V_P_VALUE,
    V_P_URL,
    V_COUNT_OF
} tvar;

typedef enum tscope { SC_TOP = 0, SC_REASON = 1, SC_PAIR_LINK = 2, SC_PAIR_ATTR = 3 } tscope;

static const struct {
    const char *name;
    tvar var;
    tscope scope;
} tvars[] = {
    {"title", V_TITLE, SC_TOP},
    {"question", V_QUESTION, SC_TOP},
    {"decision", V_DECISION, SC_TOP},
    {"entity", V_ENTITY, SC_TOP},
    {"score", V_SCORE, SC_TOP},
    {"score_pct", V_SCORE_PCT, SC_TOP},
    {"time", V_TIME, SC_TOP},
    {"alert_id", V_ALERT_ID, SC_TOP},
    {"reasons", V_REASONS, SC_TOP},
    {"links", V_LINKS, SC_TOP},
    {"attrs", V_ATTRS, SC_TOP},
    {"alerts", V_ALERTS, SC_TOP},
    {"count", V_COUNT, SC_TOP},
    {"feedback.confirm", V_FB_CONFIRM, SC_TOP},
    {"feedback.false_positive", V_FB_FALSE, SC_TOP},
    {"signal", V_R_SIGNAL, SC_REASON},
    {"text", V_R_TEXT, SC_REASON},
    {"contribution", V_R_CONTRIBUTION, SC_REASON},
    {"pct", V_R_PCT, SC_REASON},
    {"x", V_R_X, SC_REASON},
    {"weight", V_R_WEIGHT, SC_REASON},
    {"name", V_P_NAME, SC_PAIR_LINK},
    {"url", V_P_URL, SC_PAIR_LINK},
    {"name", V_P_NAME, SC_PAIR_ATTR},
    {"value", V_P_VALUE, SC_PAIR_ATTR},
};
#define N_TVARS (sizeof tvars / sizeof tvars[0])
#define TMPL_MAX_DEPTH 8    /* nested sections */
#define TMPL_MAX_NODES 1024 /* tags and text runs in one template */

typedef enum tkind { N_TEXT, N_VAR, N_SECTION, N_INVERTED } tkind;

typedef struct tnode {
    tkind kind;
    tvar var;
    const char *text; /* N_TEXT: into tmpl->src */
    size_t len;
    char *arg;  /* V_ATTR path / V_LINK name */
    size_t end; /* sections: index of the node after the section */
} tnode;

struct tmpl {
    char *src;
    tnode *nodes;
    size_t n;
};

/* What the renderer is looking at. */
typedef struct tctx {
    const message *m;
    const msg_reason *r;
    const msg_pair *p;
    tmpl_escape esc;
    strbuf *b;
} tctx;

void tmpl_free(tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->nodes[i].arg);
    free(t->nodes);
    free(t->src);
    free(t);
}

/* ---- compile ------------------------------------------------------------------------------ */

typedef struct tparse {
    tmpl *t;
    size_t cap;
    size_t open[TMPL_MAX_DEPTH]; /* node index of each open section */
    tscope scope[TMPL_MAX_DEPTH + 1];
    size_t depth;
    char *err;
    size_t errlen;
} tparse;

static bool tp_fail(tparse *p, size_t col, const char *msg)
{
    snprintf(p->err, p->errlen, "template column %zu: %s", col + 1, msg);
    return false;
}

static tnode *tp_push(tparse *p, tkind k)
{
    if (p->t->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        if (cap > TMPL_MAX_NODES)
            return NULL;
        tnode *nn = realloc(p->t->nodes, cap * sizeof *nn);
        if (!nn)
            return NULL;
        p->t->nodes = nn;
        p->cap = cap;
    }
    tnode *nd = &p->t->nodes[p->t->n++];
    memset(nd, 0, sizeof *nd);
    nd->kind = k;
    return nd;
}

/* The innermost list scope open: reasons, links or attrs (SC_TOP when none). */
static bool tp_in_scope(const tparse *p, tscope s)
{
    for (size_t i = 0; i <= p->depth; i++)
        if (p->scope[i] == s)
            return true;
    return s == SC_TOP;
}

/* Resolve `name` (len n) in the open scopes; false with an error naming it. */
static bool tp_resolve(tparse *p, const char *name, size_t n, size_t col, tnode *nd)
{
    char word[SIGFLOW_MAX_NAME_LEN * 2 + 1];
    if (n == 0 || n >= sizeof word)
        return tp_fail(p, col, n ? "name too long" : "empty {{}}");
    memcpy(word, name, n);
    word[n] = '\0';
    for (size_t i = 0; i < N_TVARS; i++)
        if (strcmp(word, tvars[i].name) == 0 && tp_in_scope(p, tvars[i].scope)) {
            nd->var = tvars[i].var;
            return true;
        }
    const char *prefix[] = {"attr.", "link."};
    for (int k = 0; k < 2; k++)
        if (n > 5 && strncmp(word, prefix[k], 5) == 0) {
            nd->var = k ? V_LINK : V_ATTR;
            return (nd->arg = strdup(word + 5)) != NULL || tp_fail(p, col, "out of memory");
        }
    const char *cands[N_TVARS];
    size_t nc = 0;
    for (size_t i = 0; i < N_TVARS; i++)
        if (tp_in_scope(p, tvars[i].scope))
            cands[nc++] = tvars[i].name;
    char hint[128];
    suggest_hint(hint, sizeof hint, word, cands, nc);
    char msg[SIGFLOW_MAX_ERROR_LEN];
    snprintf(msg, sizeof msg, "unknown name {{%s}}%s", word, hint);
    return tp_fail(p, col, msg);
}

static tscope section_scope(tvar v)
{
    return v == V_REASONS ? SC_REASON
           : v == V_LINKS ? SC_PAIR_LINK
           : v == V_ATTRS ? SC_PAIR_ATTR
                          : SC_TOP;
}

static bool tp_open(tparse *p, tkind k, const char *name, size_t n, size_t col)
{
    if (p->depth == TMPL_MAX_DEPTH)
        return tp_fail(p, col, "sections nested too deep");
    tnode *nd = tp_push(p, k);
    if (!nd)
        return tp_fail(p, col, "too many tags");
    if (!tp_resolve(p, name, n, col, nd))
        return false;
    p->open[p->depth++] = p->t->n - 1;
    p->scope[p->depth] = k == N_SECTION ? section_scope(nd->var) : SC_TOP;
    if (k == N_SECTION && nd->var == V_ALERTS)
        p->scope[p->depth] = SC_TOP; /* an item is an alert: the top names again */
    return true;
}

static bool tp_close(tparse *p, const char *name, size_t n, size_t col)
{
    if (p->depth == 0)
        return tp_fail(p, col, "{{/...}} without an open section");
    tnode *open = &p->t->nodes[p->open[p->depth - 1]];
    tnode probe = {0};
    p->depth--;
    bool ok = tp_resolve(p, name, n, col, &probe);
    bool same = ok && probe.var == open->var &&
                (!probe.arg || (open->arg && strcmp(probe.arg, open->arg) == 0));
    free(probe.arg);
    if (!ok)
        return false;
    if (!same)
        return tp_fail(p, col, "{{/...}} does not close the section opened last");
    open->end = p->t->n;
    return true;
}

/* One {{tag}} whose inside is s[0..n) (spaces trimmed). */
static bool tp_tag(tparse *p, const char *s, size_t n, size_t col)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char sigil = n ? s[0] : 0;
    if (sigil == '#' || sigil == '^')
        return tp_open(p, sigil == '#' ? N_SECTION : N_INVERTED, s + 1, n - 1, col);
    if (sigil == '/')
        return tp_close(p, s + 1, n - 1, col);
    tnode *nd = tp_push(p, N_VAR);
    if (!nd)
        return tp_fail(p, col, "too many tags");
    if (!tp_resolve(p, s, n, col, nd))
        return false;
    if (nd->var == V_REASONS || nd->var == V_LINKS || nd->var == V_ATTRS || nd->var == V_ALERTS)
        return nd->var == V_REASONS ||
               tp_fail(p, col, "a list is shown with {{#name}}...{{/name}}");
    return true;
}

static bool tp_text(tparse *p, const char *s, size_t n)
{
    if (n == 0)
        return true;
    tnode *nd = tp_push(p, N_TEXT);
    if (!nd)
        return false;
    nd->text = s;
    nd->len = n;
    return true;
}

tmpl *tmpl_compile(const char *text, char *err, size_t errlen)
{
    tparse p = {.err = err, .errlen = errlen};
    if (!text || strlen(text) > SIGFLOW_MAX_MSG_TEMPLATE) {
        snprintf(err, errlen, "template longer than %d bytes", SIGFLOW_MAX_MSG_TEMPLATE);
        return NULL;
    }
    if (!(p.t = calloc(1, sizeof *p.t)) || !(p.t->src = strdup(text))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *src = p.t->src;
    for (const char *s = src; *s;) {
        const char *open = strstr(s, "{{");
        if (!tp_text(&p, s, open ? (size_t)(open - s) : strlen(s))) {
            tp_fail(&p, (size_t)(s - src), "too many tags");
            goto fail;
        }
        if (!open)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            tp_fail(&p, (size_t)(open - src), "{{ without }}");
            goto fail;
        }
        if (!tp_tag(&p, open + 2, (size_t)(close - open - 2), (size_t)(open - src)))
            goto fail;
        s = close + 2;
    }
    if (p.depth) {
        tp_fail(&p, strlen(src), "a section is not closed");
        goto fail;
    }
    return p.t;
fail:
    tmpl_free(p.t);
    return NULL;
}

/* ---- render ------------------------------------------------------------------------------- */

void tmpl_escape_into(strbuf *b, const char *s, tmpl_escape esc)
{
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
        const char *rep = NULL;
        char u[8];
        if (esc == TMPL_HTML || esc == TMPL_SLACK) {
            rep = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : NULL;
            if (esc == TMPL_HTML && !rep)
                rep = *c == '"' ? "&quot;" : *c == '\'' ? "&#39;" : NULL;
        } else if (esc == TMPL_URL) {
            if (!(isalnum(*c) || strchr("-._~", *c))) {
                snprintf(u, sizeof u, "%%%02X", *c);
                rep = u;
            }
        } else if (esc == TMPL_JSON) {
            if (*c == '"' || *c == '\\') {
                u[0] = '\\', u[1] = (char)*c, u[2] = 0;
                rep = u;
            } else if (*c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", *c);
                rep = u;
            }
        }
        if (rep)
            strbuf_puts(b, rep);
        else
            strbuf_add(b, (const char *)c, 1);
    }
}

/* v with `prec` decimals; prec < 0: shortest form (%g). */
static void put_num(tctx *c, int prec, double v)
{
    char num[64];
    v = isfinite(v) ? v : 0.0;
    if (prec < 0)
        snprintf(num, sizeof num, "%g", v);
    else
        snprintf(num, sizeof num, "%.*f", prec, v);
    strbuf_puts(c->b, num);
}

/* The text value of a scalar variable, or NULL when it has none here. */
static const char *scalar(const tctx *c, const tnode *nd)
{
    const message *m = c->m;
    const sf_alert *a = m->alert;
    switch (nd->var) {
    case V_TITLE:
        return m->title;
    case V_QUESTION:
        return a ? a->question : NULL;
    case V_DECISION:
        return a ? a->decision : m->title;
    case V_ENTITY:
        return a ? a->entity : NULL;
    case V_ALERT_ID:
        return a ? a->id : NULL;
    case V_FB_CONFIRM:
        return m->fb_confirm;
    case V_FB_FALSE:
        return m->fb_false_positive;
    case V_ATTR:
        return message_attr(m, nd->arg);
    case V_LINK:
        return message_link_url(m, nd->arg);
    case V_R_SIGNAL:
        return c->r ? c->r->signal : NULL;
    case V_R_TEXT:
        return c->r ? c->r->text : NULL;
    case V_P_NAME:
        return c->p ? c->p->name : NULL;
    case V_P_VALUE:
    case V_P_URL:
        return c->p ? c->p->value : NULL;
    default:
        return NULL;
    }
}

/* Numbers and composed values; false when v is not one of them. */
static bool computed(tctx *c, tvar v)
{
    const sf_alert *a = c->m->alert;
    char ts[32];
    switch (v) {
    case V_SCORE:
        put_num(c, 2, a ? a->score : 0);
        return true;
    case V_SCORE_PCT:
        put_num(c, 0, a ? floor(a->score * 100.0 + 0.5) : 0);
        return true;
    case V_COUNT:
        put_num(c, 0, (double)(c->m->items ? c->m->n_items : 1));
        return true;
    case V_TIME:
        if (a) {
            time_format_rfc3339(a->time_ms, ts, sizeof ts);
            strbuf_puts(c->b, ts);
        }
        return true;
    case V_R_CONTRIBUTION:
        put_num(c, 2, c->r ? c->r->contribution : 0);
        return true;
    case V_R_PCT:
        put_num(c, 0, c->r ? floor(c->r->x * 100.0 + 0.5) : 0);
        return true;
    case V_R_X:
        put_num(c, 2, c->r ? c->r->x : 0);
        return true;
    case V_R_WEIGHT:
        put_num(c, -1, c->r ? c->r->weight : 0);
        return true;
    case V_REASONS: /* {{reasons}}: one sentence per line */
        for (size_t i = 0; i < c->m->n_reasons; i++) {
            if (i)
                strbuf_puts(c->b, "\n");
            tmpl_escape_into(c->b, c->m->reasons[i].text, c->esc);
        }
        return true;
    default:
        return false;
    }
}

/* How many times a section's body runs: list length, or 1/0 for a value's presence. */
static size_t section_count(const tctx *c, const tnode *nd)
{
    const message *m = c->m;
    switch (nd->var) {
    case V_REASONS:
        return m->n_reasons;
    case V_LINKS:
        return m->n_links;
    case V_ATTRS:
        return m->n_attrs;
    case V_ALERTS:
        return m->items ? m->n_items : 0;
    case V_SCORE:
    case V_SCORE_PCT:
    case V_TIME:
    case V_COUNT:
    case V_R_CONTRIBUTION:
    case V_R_PCT:
    case V_R_X:
    case V_R_WEIGHT:
        return 1;
    default: {
        const char *s = scalar(c, nd);
        return s && *s ? 1 : 0;
    }
    }
}

static void render_range(tctx *c, const tmpl *t, size_t from, size_t to);

static void render_section(tctx *c, const tmpl *t, size_t i)
{
    const tnode *nd = &t->nodes[i];
    size_t n = section_count(c, nd);
    if (nd->kind == N_INVERTED) {
        if (n == 0)
            render_range(c, t, i + 1, nd->end);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        tctx in = *c;
        if (nd->var == V_REASONS)
            in.r = &c->m->reasons[k];
        else if (nd->var == V_LINKS)
            in.p = &c->m->links[k];
        else if (nd->var == V_ATTRS)
            in.p = &c->m->attrs[k];
        else if (nd->var == V_ALERTS)
            in.m = c->m->items[k];
        render_range(&in, t, i + 1, nd->end);
    }
}

static void render_range(tctx *c, const tmpl *t, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        const tnode *nd = &t->nodes[i];
        if (nd->kind == N_TEXT) {
            strbuf_add(c->b, nd->text, nd->len);
        } else if (nd->kind == N_VAR) {
            if (!computed(c, nd->var))
                tmpl_escape_into(c->b, scalar(c, nd), c->esc);
        } else {
            render_section(c, t, i);
            i = nd->end;
            continue;
        }
        i++;
    }
}

char *tmpl_render(const tmpl *t, const message *m, tmpl_escape esc)
{
    strbuf b = {0};
    strbuf_add(&b, "", 0);
    tctx c = {.m = m, .esc = esc, .b = &b};
    render_range(&c, t, 0, t->n);
    return strbuf_take(&b);
}

char *tmpl_render_text(const char *text, const message *m, tmpl_escape esc, char *err,
                       size_t errlen)
{
    tmpl *t = tmpl_compile(text, err, errlen);
    if (!t)
        return NULL;
    char *out = tmpl_render(t, m, esc);
    if (!out)
        snprintf(err, errlen, "out of memory");
    tmpl_free(t);
    return out;
}
