/*
 * admin_feedback.c - labels from people: POST /v1/feedback (JSON, admin token) and
 * GET /v1/feedback/TOKEN (the signed one-click link in a message). Part of the admin API
 * (admin_api_internal.h); calls labels, feedback_token, timefmt, json-c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/monotime.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"
#include "store/store_counter.h"
#include "daemon/admin_api_internal.h"
#include "feedback/feedback_token.h"

/* ---- POST /v1/feedback ---------------------------------------------------------------------- */

typedef struct feedback_body {
    const char *alert_id, *entity, *label, *time;
    bool replace;
} feedback_body;

/* A string member, or an error. */
static int body_string(json_object *v, const char *key, size_t max, const char **out,
                       admin_reply *r)
{
    if (!json_object_is_type(v, json_type_string)) {
        admin__error(r, MHD_HTTP_BAD_REQUEST, "`%s` must be a string", key);
        return -1;
    }
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n > max || strlen(s) != n) {
        admin__error(r, MHD_HTTP_BAD_REQUEST, "`%s` must be 1 to %zu bytes of text", key, max);
        return -1;
    }
    *out = s;
    return 0;
}

static int body_fields(json_object *o, feedback_body *b, admin_reply *r)
{
    json_object_object_foreach(o, key, v)
    {
        int rc = 0;
        if (strcmp(key, "alert_id") == 0)
            rc = body_string(v, key, SIGFLOW_MAX_ALERT_ID_LEN, &b->alert_id, r);
        else if (strcmp(key, "entity") == 0)
            rc = body_string(v, key, SIGFLOW_MAX_ENTITY_LEN, &b->entity, r);
        else if (strcmp(key, "label") == 0)
            rc = body_string(v, key, SIGFLOW_MAX_LABEL_LEN, &b->label, r);
        else if (strcmp(key, "time") == 0)
            rc = body_string(v, key, 64, &b->time, r);
        else if (strcmp(key, "replace") == 0) {
            if (!json_object_is_type(v, json_type_boolean)) {
                admin__error(r, MHD_HTTP_BAD_REQUEST, "`replace` must be true or false");
                return -1;
            }
            b->replace = json_object_get_boolean(v);
        } else {
            admin__error(r, MHD_HTTP_BAD_REQUEST,
                         "unknown field `%.64s` (alert_id, entity, label, time, replace)", key);
            return -1;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Parse and check the body; 0 with b filled, else the 400 is in r. */
static int parse_body(const admin_req *rq, json_object **doc, feedback_body *b, admin_reply *r)
{
    memset(b, 0, sizeof *b);
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    if (!tok) {
        admin__error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return -1;
    }
    *doc = rq->body ? json_tokener_parse_ex(tok, rq->body, (int)rq->len) : NULL;
    bool complete = *doc && json_tokener_get_error(tok) == json_tokener_success &&
                    json_tokener_get_parse_end(tok) == rq->len;
    json_tokener_free(tok);
    if (!complete || !json_object_is_type(*doc, json_type_object)) {
        admin__error(r, MHD_HTTP_BAD_REQUEST,
                     "the body must be one JSON object: {\"alert_id\", \"label\"} or "
                     "{\"entity\", \"label\": \"missed\", \"time\"}");
        return -1;
    }
    if (body_fields(*doc, b, r) != 0)
        return -1;
    if (!b->label) {
        admin__error(r, MHD_HTTP_BAD_REQUEST, "`label` is missing");
        return -1;
    }
    if (label_kind_parse(b->label) < 0) {
        admin__error(r, MHD_HTTP_BAD_REQUEST,
                     "`label` must be confirmed, false_positive or missed, got `%.32s`", b->label);
        return -1;
    }
    bool missed = strcmp(b->label, "missed") == 0;
    if (missed && (b->alert_id || !b->entity)) {
        admin__error(r, MHD_HTTP_BAD_REQUEST,
                     "`missed` labels an entity nobody was alerted about: send `entity` "
                     "(and optionally `time`), not `alert_id`");
        return -1;
    }
    if (!missed && (!b->alert_id || b->entity || b->time)) {
        admin__error(r, MHD_HTTP_BAD_REQUEST,
                     "`%s` labels an alert: send `alert_id` (not `entity` or `time`)", b->label);
        return -1;
    }
    return 0;
}

static void answer_stored(admin_reply *r, const label_rec *l, labels_result res)
{
    static const char *const names[] = {"created", "unchanged", "replaced"};
    json_object *o = admin__label_json(l);
    if (o)
        json_object_object_add(o, "result", json_object_new_string(names[res]));
    admin__json(r, res == LABELS_UNCHANGED ? MHD_HTTP_OK : MHD_HTTP_CREATED, o);
}

static void answer_conflict(admin_reply *r, const label_rec *l)
{
    char when[32];
    time_format_rfc3339(l->recorded_ms, when, sizeof when);
    json_object *o = json_object_new_object();
    if (o) {
        char msg[SIGFLOW_MAX_ERROR_LEN];
        snprintf(msg, sizeof msg,
                 "alert %s is already labelled %s by a person (via %s at %s); send "
                 "\"replace\": true to change it",
                 l->alert_id, label_kind_name(l->kind), l->via, when);
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "label", admin__label_json(l));
    }
    admin__json(r, MHD_HTTP_CONFLICT, o);
}

/* After a person's label is stored: metrics, log, the learning hook. */
static void label_stored(admin_api *a, const label_rec *l, labels_result res)
{
    if (res != LABELS_CREATED && res != LABELS_REPLACED)
        return;
    /* counted durably, so the figure survives restarts and CLI processes add to it */
    if (store_counter_add(a->st, "interventions", "labels", 1) != SF_OK)
        log_warn(ADMIN_CTX, "manual intervention not counted (store error)");
    log_info(ADMIN_CTX, "label %s alert=%s entity=%s label=%s source=person via=%s",
             res == LABELS_CREATED ? "recorded" : "replaced", l->alert_id[0] ? l->alert_id : "-",
             l->entity, label_kind_name(l->kind), l->via);
    pthread_mutex_lock(&a->lock);
    admin_label_fn fn = a->on_label;
    void *ctx = a->on_label_ctx;
    pthread_mutex_unlock(&a->lock);
    if (fn)
        fn(ctx, l);
}

void admin__feedback_post(admin_api *a, const admin_req *rq, admin_reply *r)
{
    json_object *doc = NULL;
    feedback_body b;
    if (parse_body(rq, &doc, &b, r) != 0) {
        json_object_put(doc);
        return;
    }
    label_rec l;
    labels_result res = LABELS_NOT_FOUND;
    sf_status st;
    if (b.alert_id) {
        st = labels_put_alert(a->st, b.alert_id, (label_kind)label_kind_parse(b.label),
                              LABEL_SOURCE_PERSON, "api", b.replace, &l, &res);
    } else {
        int64_t t = walltime_ms();
        if (b.time && time_parse(b.time, strlen(b.time), &t) != 0) {
            admin__error(r, MHD_HTTP_BAD_REQUEST,
                         "`time` must be RFC 3339 (2026-11-01T12:00:00Z) or epoch ms, got `%s`",
                         b.time);
            json_object_put(doc);
            return;
        }
        st = labels_put_missed(a->st, b.entity, t, LABEL_SOURCE_PERSON, "api", &l, &res);
    }
    if (st != SF_OK)
        admin__error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the store failed (see the log)");
    else if (res == LABELS_NOT_FOUND)
        admin__error(r, MHD_HTTP_NOT_FOUND, "no %s `%s` in the store",
                     b.alert_id ? "alert" : "entity", b.alert_id ? b.alert_id : b.entity);
    else if (res == LABELS_CONFLICT)
        answer_conflict(r, &l);
    else {
        label_stored(a, &l, res);
        answer_stored(r, &l, res);
    }
    json_object_put(doc);
}

/* ---- GET /v1/feedback/TOKEN ----------------------------------------------------------------- */

static void html_escaped(strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            strbuf_puts(b, "&lt;");
            break;
        case '>':
            strbuf_puts(b, "&gt;");
            break;
        case '&':
            strbuf_puts(b, "&amp;");
            break;
        case '"':
            strbuf_puts(b, "&quot;");
            break;
        case '\'':
            strbuf_puts(b, "&#39;");
            break;
        default:
            strbuf_add(b, s, 1);
        }
    }
}

/* A small page: title, then a paragraph whose %s parts are escaped (NULL: none). */
static void page(admin_reply *r, unsigned status, const char *title, const char *text,
                 const char *entity, const char *alert_id)
{
    strbuf b = {0};
    strbuf_puts(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sigflow: ");
    strbuf_puts(&b, title);
    strbuf_puts(&b, "</title></head>\n<body style=\"font-family:sans-serif;max-width:40em;"
                    "margin:3em auto\">\n<h1>");
    strbuf_puts(&b, title);
    strbuf_puts(&b, "</h1>\n<p>");
    strbuf_puts(&b, text);
    strbuf_puts(&b, "</p>\n");
    if (entity) {
        strbuf_puts(&b, "<p>Entity: <b>");
        html_escaped(&b, entity);
        strbuf_puts(&b, "</b><br>Alert: <code>");
        html_escaped(&b, alert_id ? alert_id : "");
        strbuf_puts(&b, "</code></p>\n");
    }
    strbuf_puts(&b, "</body></html>\n");
    free(r->body);
    r->body = strbuf_take(&b);
    r->status = r->body ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->type = "text/html; charset=utf-8";
}

static const char *label_words(label_kind k)
{
    return k == LABEL_CONFIRMED ? "right (confirmed)" : "wrong (false positive)";
}

static void link_stored(admin_api *a, const label_rec *l, labels_result res, admin_reply *r)
{
    char text[256];
    if (res == LABELS_CONFLICT) {
        snprintf(text, sizeof text,
                 "This alert was already marked %s by someone; nothing was changed. To change "
                 "it, use <code>sigflow feedback --replace</code> or the admin API.",
                 label_words(l->kind));
        page(r, MHD_HTTP_CONFLICT, "Already labelled", text, l->entity, l->alert_id);
        return;
    }
    label_stored(a, l, res);
    snprintf(text, sizeof text, "%s: this alert is marked <b>%s</b>. Thank you.",
             res == LABELS_UNCHANGED ? "Already recorded" : "Recorded", label_words(l->kind));
    page(r, MHD_HTTP_OK, "Feedback recorded", text, l->entity, l->alert_id);
}

void admin__feedback_link(admin_api *a, const char *token, admin_reply *r)
{
    admin_settings set;
    admin__settings_copy(a, &set);
    if (!set.feedback_secret) {
        page(r, MHD_HTTP_NOT_FOUND, "Feedback links are off",
             "This sigflow has no <code>feedback_secret</code> configured.", NULL, NULL);
        admin__settings_clear(&set);
        return;
    }
    char alert_id[SIGFLOW_MAX_ALERT_ID_LEN + 1], label[SIGFLOW_MAX_LABEL_LEN + 1];
    int rc =
        feedback_token_check(set.feedback_secret, strlen(set.feedback_secret), token,
                             walltime_ms() / 1000, alert_id, sizeof alert_id, label, sizeof label);
    admin__settings_clear(&set);
    int kind = rc == SF_OK ? label_kind_parse(label) : -1;
    if (rc == FEEDBACK_TOKEN_EXPIRED) {
        page(r, MHD_HTTP_FORBIDDEN, "Link expired",
             "This feedback link has expired; nothing was recorded.", NULL, NULL);
        return;
    }
    if (rc != SF_OK || (kind != LABEL_CONFIRMED && kind != LABEL_FALSE_POSITIVE)) {
        log_warn(ADMIN_CTX, "feedback link refused: %s", feedback_token_strerror(rc));
        page(r, MHD_HTTP_FORBIDDEN, "Invalid link",
             "This feedback link is not valid; nothing was recorded.", NULL, NULL);
        return;
    }
    label_rec l;
    labels_result res = LABELS_NOT_FOUND;
    if (labels_put_alert(a->st, alert_id, (label_kind)kind, LABEL_SOURCE_PERSON, "link", false, &l,
                         &res) != SF_OK)
        page(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Not recorded",
             "sigflow could not store the label; please try again later.", NULL, NULL);
    else if (res == LABELS_NOT_FOUND)
        page(r, MHD_HTTP_NOT_FOUND, "Unknown alert",
             "sigflow no longer knows this alert; nothing was recorded.", NULL, NULL);
    else
        link_stored(a, &l, res, r);
}
