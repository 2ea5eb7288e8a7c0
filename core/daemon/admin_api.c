/*
 * admin_api.c - the /v1 request path (admin_api.h): authentication, bodies and their limit,
 * routing to admin_feedback.c and admin_query.c, the answer, and the API's life cycle.
 * Calls down only: the handlers, and admin_reply.c / admin_settings.c as they do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/limits.h"
#include "daemon/admin_api_internal.h"
#include "store/store_counter.h"

/* ---- life cycle ---------------------------------------------------------------------------- */

static void log_state(const admin_settings *s)
{
    if (s->admin_token)
        log_info(ADMIN_CTX, "the /v1 admin API is on (Authorization: Bearer admin_token)");
    else
        log_info(ADMIN_CTX, "the /v1 admin API is off: set [sigflow] admin_token to enable "
                            "feedback, entities, alerts and model (docs/admin-api.md)");
    if (s->feedback_secret)
        log_info(ADMIN_CTX, "feedback links are on: %s/v1/feedback/TOKEN", s->public_url);
}

admin_api *admin_api_new(const sigflow_config *cfg, char *err, size_t errlen)
{
    admin_api *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (store_open(cfg->state_dir, (store_durability)cfg->durability, &a->st, err, errlen) !=
        SF_OK) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    admin__settings_from(&a->set, cfg);
    log_state(&a->set);
    return a;
}

void admin_api_configure(admin_api *a, const sigflow_config *cfg)
{
    if (!a)
        return;
    admin_settings next;
    admin__settings_from(&next, cfg);
    pthread_mutex_lock(&a->lock);
    bool changed = (!a->set.admin_token) != (!next.admin_token);
    admin__settings_clear(&a->set);
    a->set = next;
    pthread_mutex_unlock(&a->lock);
    if (changed)
        log_state(&next);
}

void admin_api_set_label_hook(admin_api *a, admin_label_fn fn, void *ctx)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->on_label = fn;
    a->on_label_ctx = ctx;
    pthread_mutex_unlock(&a->lock);
}

void admin_api_set_inspect(admin_api *a, admin_inspect_fn fn, void *ctx)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->on_inspect = fn;
    a->on_inspect_ctx = ctx;
    pthread_mutex_unlock(&a->lock);
}

void admin_api_set_model(admin_api *a, score_model_view *v)
{
    if (!a || !v) {
        score_model_view_free(v);
        return;
    }
    pthread_mutex_lock(&a->lock);
    score_model_view *old = a->model;
    a->model = v;
    pthread_mutex_unlock(&a->lock);
    score_model_view_free(old);
}

void admin_api_free(admin_api *a)
{
    if (!a)
        return;
    score_model_view_free(a->model);
    store_close(a->st);
    admin__settings_clear(&a->set);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* ---- metrics ------------------------------------------------------------------------------- */

typedef struct label_counts {
    uint64_t n[3][2]; /* kind x source */
} label_counts;

static void count_label(void *ctx, const label_rec *l)
{
    label_counts *c = ctx;
    if ((unsigned)l->kind < 3 && (unsigned)l->source < 2)
        c->n[l->kind][l->source]++;
}

void admin_api_metrics_refresh(admin_api *a)
{
    if (!a)
        return;
    label_counts c = {0};
    if (labels_each(a->st, NULL, INT64_MIN, count_label, &c) == SF_OK) {
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < 2; s++) {
                char series[128];
                snprintf(series, sizeof series, "sigflow_labels_total{label=\"%s\",source=\"%s\"}",
                         label_kind_name((label_kind)k), label_source_name((label_source)s));
                metrics_set(series, (double)c.n[k][s]);
            }
    }
    int64_t labels = 0, dlq = 0;
    if (store_counter_get(a->st, "interventions", "labels", &labels) == SF_OK &&
        store_counter_get(a->st, "interventions", "dead_letters", &dlq) == SF_OK)
        metrics_set("sigflow_manual_interventions_total", (double)(labels + dlq));
}

/* ---- requests ------------------------------------------------------------------------------ */

/* Constant time in the presented token's content and length: both sides are hashed first. */
static bool token_matches(const char *want, const char *got)
{
    static const char key[] = "sigflow admin token comparison";
    uint8_t hw[CRYPTO_HMAC_SHA256_LEN], hg[CRYPTO_HMAC_SHA256_LEN];
    if (crypto_hmac_sha256(key, sizeof key - 1, want, strlen(want), hw) != SF_OK ||
        crypto_hmac_sha256(key, sizeof key - 1, got, strnlen(got, SIGFLOW_MAX_SECRET_LEN + 1),
                           hg) != SF_OK)
        return false;
    return crypto_equal(hw, hg, sizeof hw);
}

/* 0 when the request may go on; else the refusal is in r. */
static int authorize(admin_api *a, struct MHD_Connection *c, admin_reply *r)
{
    admin_settings set;
    admin__settings_copy(a, &set);
    const char *want = set.admin_token;
    int rc = -1;
    if (!want) {
        admin__error(r, MHD_HTTP_FORBIDDEN,
                     "the admin API is off: set [sigflow] admin_token (docs/admin-api.md)");
        admin__settings_clear(&set);
        return -1;
    }
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        admin__error(r, MHD_HTTP_UNAUTHORIZED, "needs Authorization: Bearer ADMIN_TOKEN");
    else if (!token_matches(want, h + 7))
        admin__error(r, MHD_HTTP_UNAUTHORIZED, "wrong admin token");
    else
        rc = 0;
    admin__settings_clear(&set);
    return rc;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, admin_reply *r, const char *allow)
{
    char *body = r->body ? r->body : strdup("");
    r->body = NULL;
    if (!body)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->type ? r->type : "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED && allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    char series[96];
    snprintf(series, sizeof series, "sigflow_admin_requests_total{code=\"%u\"}", r->status);
    metrics_add(series, 1);
    return rc;
}

typedef enum route_id {
    ROUTE_NONE,
    ROUTE_FEEDBACK,
    ROUTE_LINK,
    ROUTE_ENTITY,
    ROUTE_ALERTS,
    ROUTE_MODEL
} route_id;

static route_id route_of(const char *url, const char **arg)
{
    *arg = NULL;
    if (strcmp(url, "/v1/feedback") == 0)
        return ROUTE_FEEDBACK;
    if (strncmp(url, "/v1/feedback/", 13) == 0) {
        *arg = url + 13;
        return ROUTE_LINK;
    }
    if (strncmp(url, "/v1/entities/", 13) == 0 && url[13]) {
        *arg = url + 13;
        return ROUTE_ENTITY;
    }
    if (strcmp(url, "/v1/alerts") == 0)
        return ROUTE_ALERTS;
    if (strcmp(url, "/v1/model") == 0)
        return ROUTE_MODEL;
    return ROUTE_NONE;
}

/* The headers are in: refuse what can be refused before any body is read. */
static enum MHD_Result on_headers(admin_api *a, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    admin_reply r = {0};
    const char *arg;
    route_id id = route_of(url, &arg);
    bool is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (id != ROUTE_LINK && authorize(a, c, &r) != 0)
        return send_reply(c, &r, NULL);
    if (id == ROUTE_NONE) {
        admin__error(&r, MHD_HTTP_NOT_FOUND,
                     "not found: POST /v1/feedback, GET /v1/feedback/TOKEN, /v1/entities/ID, "
                     "/v1/alerts, /v1/model");
        return send_reply(c, &r, NULL);
    }
    if (id == ROUTE_FEEDBACK ? !is_post : strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        admin__error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed here", method);
        return send_reply(c, &r, id == ROUTE_FEEDBACK ? "POST" : "GET");
    }
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > SIGFLOW_MAX_ADMIN_BODY) {
        admin__error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d bytes",
                     SIGFLOW_MAX_ADMIN_BODY);
        return send_reply(c, &r, NULL);
    }
    admin_req *rq = calloc(1, sizeof *rq);
    if (!rq)
        return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
}

/* A piece of the body: kept up to the limit, then read and dropped so the 413 can be sent. */
static enum MHD_Result on_body(admin_req *rq, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (rq->too_large || n > SIGFLOW_MAX_ADMIN_BODY - rq->len) {
        rq->too_large = true;
        return MHD_YES;
    }
    char *grown = realloc(rq->body, rq->len + n + 1);
    if (!grown)
        return MHD_NO;
    rq->body = grown;
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result on_complete(admin_api *a, struct MHD_Connection *c, const char *url,
                                   admin_req *rq)
{
    admin_reply r = {0};
    const char *arg;
    if (rq->too_large) {
        admin__error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d bytes",
                     SIGFLOW_MAX_ADMIN_BODY);
        return send_reply(c, &r, NULL);
    }
    switch (route_of(url, &arg)) {
    case ROUTE_FEEDBACK:
        admin__feedback_post(a, rq, &r);
        break;
    case ROUTE_LINK:
        admin__feedback_link(a, arg, &r);
        break;
    case ROUTE_ENTITY:
        admin__entity_get(a, arg, &r);
        break;
    case ROUTE_ALERTS:
        admin__alerts_get(a, c, &r);
        break;
    case ROUTE_MODEL:
        admin__model_get(a, &r);
        break;
    default:
        admin__error(&r, MHD_HTTP_NOT_FOUND, "not found");
    }
    return send_reply(c, &r, NULL);
}

enum MHD_Result admin_api_access(admin_api *a, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *data, size_t *size, void **con_cls)
{
    admin_req *rq = *con_cls;
    if (!a) {
        admin_reply r = {0};
        admin__error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, "the admin API could not start (see log)");
        return send_reply(c, &r, NULL);
    }
    if (!rq)
        return on_headers(a, c, url, method, con_cls);
    if (*size > 0)
        return on_body(rq, data, size);
    return on_complete(a, c, url, rq);
}

void admin_api_completed(void *con_cls)
{
    admin_req *rq = con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
    }
}
