/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_alert.c - fake alerts and inbound requests for plugin tests, and the table members
 * that read them (alert accessors, alert_json, render, req_*). Deterministic output so tests
 * can compare exact text. Calls sf_mock_host.c's allocation helpers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a growable string ------------------------------------------------------------------ */

typedef struct mock_buf {
    char *s;
    size_t len, cap;
} mock_buf;

static void buf_add(mock_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = sf_mock_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_str(mock_buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_json_str(mock_buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; s && *s; s++) {
        char esc[8];
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            buf_add(b, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            buf_str(b, esc);
        } else {
            buf_add(b, s, 1);
        }
    }
    buf_add(b, "\"", 1);
}

static void buf_num(mock_buf *b, double v)
{
    char n[40];
    snprintf(n, sizeof n, "%.6g", v);
    buf_str(b, n);
}

void sf_mock_format_time(int64_t ms, char *buf, size_t buflen)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    /* civil_from_days (H. Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(buf, buflen, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", (long long)y,
             (long long)m, (long long)d, (long long)(rem / 3600000), (long long)(rem / 60000 % 60),
             (long long)(rem / 1000 % 60), (long long)(rem % 1000));
}

/* ---- fake alerts ------------------------------------------------------------------------ */

static void alert_changed(sf_alert *a)
{
    free(a->json);
    a->json = NULL;
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? sf_mock_xstrdup(v) : NULL;
}

sf_alert *sf_mock_alert_new(const char *entity, double score)
{
    sf_alert *a = sf_mock_xmalloc(sizeof *a);
    memset(a, 0, sizeof *a);
    char id[320];
    snprintf(id, sizeof id, "alert-%s", entity);
    a->id = sf_mock_xstrdup(id);
    a->decision = sf_mock_xstrdup("test_decision");
    a->question = sf_mock_xstrdup("Is it a test?");
    a->entity = sf_mock_xstrdup(entity);
    a->time_ms = 1700000000000LL;
    a->score = score;
    return a;
}

void sf_mock_alert_free(sf_alert *a)
{
    if (!a)
        return;
    sf_mock_message_free(a);
    for (size_t i = 0; i < a->n_reasons; i++) {
        free(a->reasons[i].signal);
        free(a->reasons[i].text);
    }
    for (size_t i = 0; i < a->n_attrs; i++) {
        free(a->attrs[i].name);
        free(a->attrs[i].value);
    }
    free(a->reasons);
    free(a->attrs);
    free(a->id);
    free(a->decision);
    free(a->question);
    free(a->entity);
    free(a->json);
    free(a);
}

void sf_mock_alert_set_id(sf_alert *a, const char *id)
{
    replace(&a->id, id);
    alert_changed(a);
}

void sf_mock_alert_set_decision(sf_alert *a, const char *decision, const char *question)
{
    replace(&a->decision, decision);
    replace(&a->question, question);
    alert_changed(a);
}

void sf_mock_alert_set_time(sf_alert *a, int64_t time_ms)
{
    a->time_ms = time_ms;
    alert_changed(a);
}

void sf_mock_alert_add_reason(sf_alert *a, const char *signal, const char *text, double x,
                              double weight)
{
    a->reasons = sf_mock_xrealloc(a->reasons, (a->n_reasons + 1) * sizeof *a->reasons);
    sf_mock_reason *r = &a->reasons[a->n_reasons++];
    r->signal = sf_mock_xstrdup(signal);
    r->text = sf_mock_xstrdup(text ? text : "");
    r->x = x;
    r->weight = weight;
    alert_changed(a);
}

void sf_mock_alert_set_attr(sf_alert *a, const char *name, const char *value)
{
    for (size_t i = 0; i < a->n_attrs; i++) {
        if (strcmp(a->attrs[i].name, name) == 0) {
            replace(&a->attrs[i].value, value);
            return;
        }
    }
    a->attrs = sf_mock_xrealloc(a->attrs, (a->n_attrs + 1) * sizeof *a->attrs);
    a->attrs[a->n_attrs].name = sf_mock_xstrdup(name);
    a->attrs[a->n_attrs].value = sf_mock_xstrdup(value);
    a->n_attrs++;
}

const char *sf_mock_alert_json(sf_alert *a)
{
    if (a->json)
        return a->json;
    mock_buf b = {0};
    char t[32];
    sf_mock_format_time(a->time_ms, t, sizeof t);
    buf_str(&b, "{\"alert_id\":");
    buf_json_str(&b, a->id);
    buf_str(&b, ",\"decision\":");
    buf_json_str(&b, a->decision);
    buf_str(&b, ",\"entity\":");
    buf_json_str(&b, a->entity);
    buf_str(&b, ",\"time\":");
    buf_json_str(&b, t);
    buf_str(&b, ",\"score\":");
    buf_num(&b, a->score);
    buf_str(&b, ",\"reasons\":[");
    for (size_t i = 0; i < a->n_reasons; i++) {
        const sf_mock_reason *r = &a->reasons[i];
        buf_str(&b, i ? ",{\"signal\":" : "{\"signal\":");
        buf_json_str(&b, r->signal);
        buf_str(&b, ",\"x\":");
        buf_num(&b, r->x);
        buf_str(&b, ",\"weight\":");
        buf_num(&b, r->weight);
        buf_str(&b, ",\"contribution\":");
        buf_num(&b, r->x * r->weight);
        buf_str(&b, ",\"text\":");
        buf_json_str(&b, r->text);
        buf_str(&b, "}");
    }
    buf_str(&b, "]}");
    a->json = b.s;
    return a->json;
}

/* ---- table members: alerts --------------------------------------------------------------- */

static const char *al_id(const sf_alert *a)
{
    return a ? a->id : NULL;
}

static const char *al_decision(const sf_alert *a)
{
    return a ? a->decision : NULL;
}

static const char *al_question(const sf_alert *a)
{
    return a ? a->question : NULL;
}

static const char *al_entity(const sf_alert *a)
{
    return a ? a->entity : NULL;
}

static int64_t al_time(const sf_alert *a)
{
    return a ? a->time_ms : 0;
}

static double al_score(const sf_alert *a)
{
    return a ? a->score : 0;
}

static size_t al_reason_count(const sf_alert *a)
{
    return a ? a->n_reasons : 0;
}

static const char *al_reason_signal(const sf_alert *a, size_t i)
{
    return a && i < a->n_reasons ? a->reasons[i].signal : NULL;
}

static const char *al_reason_text(const sf_alert *a, size_t i)
{
    return a && i < a->n_reasons ? a->reasons[i].text : NULL;
}

static double al_reason_x(const sf_alert *a, size_t i)
{
    return a && i < a->n_reasons ? a->reasons[i].x : 0;
}

static double al_reason_weight(const sf_alert *a, size_t i)
{
    return a && i < a->n_reasons ? a->reasons[i].weight : 0;
}

static const char *al_json(const sf_alert *a)
{
    /* The cache is the only thing that changes: the alert itself is not modified. */
    return a ? sf_mock_alert_json((sf_alert *)a) : NULL;
}

static const char *al_attr(const sf_alert *a, const char *name)
{
    for (size_t i = 0; a && name && i < a->n_attrs; i++)
        if (strcmp(a->attrs[i].name, name) == 0)
            return a->attrs[i].value;
    return NULL;
}

/* One {{name}}; false for an unknown name. */
static bool render_field(mock_buf *b, const sf_alert *a, const char *name)
{
    char n[64];
    if (strcmp(name, "entity") == 0) {
        buf_str(b, a->entity);
    } else if (strcmp(name, "decision") == 0) {
        buf_str(b, a->decision);
    } else if (strcmp(name, "question") == 0) {
        buf_str(b, a->question ? a->question : "");
    } else if (strcmp(name, "alert_id") == 0) {
        buf_str(b, a->id);
    } else if (strcmp(name, "score") == 0) {
        snprintf(n, sizeof n, "%.2f", a->score);
        buf_str(b, n);
    } else if (strcmp(name, "score_pct") == 0) {
        snprintf(n, sizeof n, "%d", (int)(a->score * 100 + 0.5));
        buf_str(b, n);
    } else if (strcmp(name, "time") == 0) {
        sf_mock_format_time(a->time_ms, n, sizeof n);
        buf_str(b, n);
    } else if (strcmp(name, "reasons") == 0) {
        for (size_t i = 0; i < a->n_reasons; i++) {
            if (i)
                buf_str(b, "\n");
            buf_str(b, a->reasons[i].text[0] ? a->reasons[i].text : a->reasons[i].signal);
        }
    } else if (strncmp(name, "attr.", 5) == 0) {
        const char *v = al_attr(a, name + 5);
        buf_str(b, v ? v : "");
    } else {
        return false;
    }
    return true;
}

static char *al_render(const sf_alert *a, const char *tmpl)
{
    if (!a || !tmpl)
        return NULL;
    mock_buf b = {0};
    buf_str(&b, "");
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            buf_str(&b, p);
            break;
        }
        buf_add(&b, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        char name[64];
        size_t nl = close ? (size_t)(close - open - 2) : sizeof name;
        if (nl >= sizeof name) {
            free(b.s);
            return NULL;
        }
        memcpy(name, open + 2, nl);
        name[nl] = '\0';
        if (!render_field(&b, a, name)) {
            free(b.s);
            return NULL;
        }
        p = close + 2;
    }
    return b.s;
}

/* ---- fake requests ----------------------------------------------------------------------- */

sf_http_request *sf_mock_request_new(const char *method, const char *path, const char *body,
                                     size_t body_len)
{
    sf_http_request *r = sf_mock_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->method = sf_mock_xstrdup(method);
    r->path = sf_mock_xstrdup(path);
    r->body = sf_mock_xstrndup(body ? body : "", body ? body_len : 0);
    r->body_len = body ? body_len : 0;
    return r;
}

void sf_mock_request_add_header(sf_http_request *r, const char *name, const char *value)
{
    r->headers = sf_mock_xrealloc(r->headers, (r->n_headers + 1) * sizeof *r->headers);
    r->headers[r->n_headers].name = sf_mock_xstrdup(name);
    r->headers[r->n_headers].value = sf_mock_xstrdup(value);
    r->n_headers++;
}

void sf_mock_request_free(sf_http_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->method);
    free(r->path);
    free(r->body);
    free(r);
}

static const char *rq_method(const sf_http_request *r)
{
    return r ? r->method : NULL;
}

static const char *rq_path(const sf_http_request *r)
{
    return r ? r->path : NULL;
}

static const char *rq_header(const sf_http_request *r, const char *name)
{
    for (size_t i = 0; r && name && i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static const char *rq_body(const sf_http_request *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r ? r->body : NULL;
}

void sf_mock_fill_alert_table(sf_host *t)
{
    t->alert_id = al_id;
    t->alert_decision = al_decision;
    t->alert_question = al_question;
    t->alert_entity = al_entity;
    t->alert_time_ms = al_time;
    t->alert_score = al_score;
    t->alert_reason_count = al_reason_count;
    t->alert_reason_signal = al_reason_signal;
    t->alert_reason_text = al_reason_text;
    t->alert_reason_x = al_reason_x;
    t->alert_reason_weight = al_reason_weight;
    t->alert_json = al_json;
    t->alert_attr = al_attr;
    t->render = al_render;
    t->req_method = rq_method;
    t->req_path = rq_path;
    t->req_header = rq_header;
    t->req_body = rq_body;
}
