#include "ingest/ingest_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plugin/host.h"
#include "base/netaddr.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/sf_limits.h"

#define LOG_CTX "component=ingest_http"

/* A route: one path, one instance, and how many requests are inside its callback now. */
typedef struct route {
    char *path;
    sf_instance *inst;
    unsigned inflight;
} route;

struct ingest_http {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t lock; /* guards routes, n_routes and every route's inflight */
    pthread_cond_t idle;  /* broadcast when a route's inflight drops to 0 */
    route *routes[SF_MAX_INSTANCES];
    size_t n_routes;
};

/* Per-request state, from the headers to the completion notice. */
typedef struct ingest_req {
    char *body;
    size_t len, cap;
    size_t discarded; /* bytes dropped after the body outgrew SF_MAX_HTTP_BODY */
    bool too_large;
} ingest_req;

/* ---- the host table's request accessors --------------------------------------------------- */

const char *ingest_req_method(const sf_http_request *r)
{
    return r ? r->method : NULL;
}
const char *ingest_req_path(const sf_http_request *r)
{
    return r ? r->path : NULL;
}

const char *ingest_req_header(const sf_http_request *r, const char *name)
{
    if (!r || !r->conn || !name)
        return NULL;
    /* libmicrohttpd compares header names case-insensitively. */
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *ingest_req_body(const sf_http_request *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r ? r->body : NULL;
}

/* ---- routes ------------------------------------------------------------------------------- */

/* Caller holds h->lock. */
static route *route_by_path(ingest_http *h, const char *path)
{
    for (size_t i = 0; i < h->n_routes; i++)
        if (strcmp(h->routes[i]->path, path) == 0)
            return h->routes[i];
    return NULL;
}

sf_status ingest_http_route(ingest_http *h, const char *path, sf_instance *inst)
{
    if (!h || !path || !inst || path[0] != '/' || strlen(path) > SF_MAX_HTTP_PATH)
        return SF_EINVAL;
    sf_status st = SF_OK;
    pthread_mutex_lock(&h->lock);
    if (route_by_path(h, path)) {
        st = SF_EINVAL;
        goto out;
    }
    if (h->n_routes == SF_MAX_INSTANCES) {
        st = SF_EINVAL;
        goto out;
    }
    route *r = calloc(1, sizeof *r);
    char *copy = strdup(path);
    if (!r || !copy) {
        free(r);
        free(copy);
        st = SF_ENOMEM;
        goto out;
    }
    r->path = copy;
    r->inst = inst;
    h->routes[h->n_routes++] = r;
out:
    pthread_mutex_unlock(&h->lock);
    return st;
}

void ingest_http_unroute(ingest_http *h, sf_instance *inst)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_routes;) {
        route *r = h->routes[i];
        if (r->inst != inst) {
            i++;
            continue;
        }
        /* Out of the table first so no new request finds it, then wait for those inside. */
        h->routes[i] = h->routes[--h->n_routes];
        while (r->inflight > 0)
            pthread_cond_wait(&h->idle, &h->lock);
        free(r->path);
        free(r);
    }
    pthread_mutex_unlock(&h->lock);
}

/* Take a reference on the route of `path` for one callback; NULL if none. */
static route *route_acquire(ingest_http *h, const char *path)
{
    pthread_mutex_lock(&h->lock);
    route *r = route_by_path(h, path);
    if (r)
        r->inflight++;
    pthread_mutex_unlock(&h->lock);
    return r;
}

static void route_release(ingest_http *h, route *r)
{
    pthread_mutex_lock(&h->lock);
    if (--r->inflight == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
}

static bool route_exists(ingest_http *h, const char *path)
{
    pthread_mutex_lock(&h->lock);
    bool found = route_by_path(h, path) != NULL;
    pthread_mutex_unlock(&h->lock);
    return found;
}

/* ---- answers ------------------------------------------------------------------------------ */

static void count_answer(const char *instance, unsigned code)
{
    char series[SF_MAX_NAME_LEN + 96];
    if (instance)
        snprintf(series, sizeof series,
                 "sigflow_ingest_requests_total{connector=\"%s\",code=\"%u\"}", instance, code);
    else
        snprintf(series, sizeof series, "sigflow_ingest_requests_total{code=\"%u\"}", code);
    metrics_add(series, 1);
}

/* Queue one answer. `extra_name`/`extra_value` is an optional header (Allow, Retry-After). */
static enum MHD_Result answer(struct MHD_Connection *c, const char *instance, unsigned code,
                              const char *body, const char *content_type, const char *extra_name,
                              const char *extra_value)
{
    if (!body)
        body = "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 content_type ? content_type : "text/plain");
    if (ok == MHD_YES && extra_name)
        ok = MHD_add_response_header(resp, extra_name, extra_value);
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES)
        count_answer(instance, code);
    return ok;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, const char *instance, unsigned code,
                                   const char *body)
{
    return answer(c, instance, code, body, NULL, NULL, NULL);
}

static enum MHD_Result answer_busy(struct MHD_Connection *c, const char *instance)
{
    return answer(c, instance, MHD_HTTP_SERVICE_UNAVAILABLE,
                  "busy: retry later (nothing from this request was kept)\n", NULL,
                  MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

static enum MHD_Result answer_too_large(struct MHD_Connection *c, const char *instance)
{
    char msg[96];
    snprintf(msg, sizeof msg, "request body larger than %d bytes\n", SF_MAX_HTTP_BODY);
    return answer_text(c, instance, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

/* ---- the request state machine ------------------------------------------------------------ */

/* The headers are in: refuse what can be refused before reading a body. */
static enum MHD_Result on_headers(ingest_http *h, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    if (!route_exists(h, url))
        return answer_text(c, NULL, MHD_HTTP_NOT_FOUND, "no connector at this path\n");
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return answer(c, NULL, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST is accepted here\n", NULL,
                      MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
    if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) > SF_MAX_HTTP_HEADERS)
        return answer_text(c, NULL, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                           "too many request headers\n");
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == ERANGE || n > SF_MAX_HTTP_BODY)
            return answer_too_large(c, NULL);
    }
    ingest_req *rq = calloc(1, sizeof *rq);
    if (!rq)
        return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
}

/* A piece of the body. Past the limit the rest is read and dropped, so the 413 can still be
   sent once the client stops; a client that keeps sending twice the limit is cut off. */
static enum MHD_Result on_body(ingest_req *rq, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (!rq->too_large && n > SF_MAX_HTTP_BODY - rq->len) {
        rq->too_large = true;
        rq->discarded = rq->len;
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
    }
    if (rq->too_large) {
        rq->discarded += n;
        return rq->discarded > 2 * (size_t)SF_MAX_HTTP_BODY ? MHD_NO : MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *grown = realloc(rq->body, cap);
        if (!grown)
            return MHD_NO;
        rq->body = grown;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0'; /* not promised to plugins, but a mistaken strlen stays bounded */
    return MHD_YES;
}

/* The plugin's status, translated to the answer the source gets. */
static enum MHD_Result answer_status(struct MHD_Connection *c, sf_instance *inst, sf_status st,
                                     const sf_http_response *resp)
{
    const char *name = instance_get_name(inst);
    switch (st) {
    case SF_OK: {
        unsigned code = resp->status > 0 ? (unsigned)resp->status : MHD_HTTP_OK;
        if (code < 100 || code > 599)
            code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return answer(c, name, code, resp->body, resp->content_type, NULL, NULL);
    }
    case SF_ERETRY:
        return answer_busy(c, name);
    case SF_EINVAL: {
        /* A 4xx the plugin chose (401, 413, 422) stands; anything else is a plain 400. */
        unsigned code = resp->status >= 400 && resp->status < 500 ? (unsigned)resp->status
                                                                  : MHD_HTTP_BAD_REQUEST;
        if (resp->body)
            return answer(c, name, code, resp->body, resp->content_type, NULL, NULL);
        char msg[SF_MAX_ERROR_LEN + 2];
        snprintf(msg, sizeof msg, "%s\n", instance_last_error(inst));
        return answer_text(c, name, code, msg[0] != '\n' ? msg : "invalid request\n");
    }
    default:
        log_error(LOG_CTX, "instance=%s request callback failed: status=%d error=%s", name, (int)st,
                  instance_last_error(inst));
        return answer_text(c, name, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "internal error in the connector\n");
    }
}

/* The whole body is in: hand it to the instance routed at this path now. */
static enum MHD_Result on_complete(ingest_http *h, struct MHD_Connection *c, const char *url,
                                   const char *method, ingest_req *rq)
{
    if (rq->too_large)
        return answer_too_large(c, NULL);
    route *r = route_acquire(h, url);
    if (!r) /* unrouted while the body came in (a reload): the source should come back */
        return answer_busy(c, NULL);
    sf_http_request req = {
        .method = method,
        .path = url,
        .body = rq->body ? rq->body : "",
        .body_len = rq->len,
        .conn = c,
    };
    sf_http_response resp = {0};
    sf_status st = instance_request(r->inst, &req, &resp);
    enum MHD_Result ok = answer_status(c, r->inst, st, &resp);
    route_release(h, r);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    ingest_http *h = cls;
    ingest_req *rq = *con_cls;
    if (!rq)
        return on_headers(h, c, url, method, con_cls);
    if (*upload_data_size > 0)
        return on_body(rq, upload_data, upload_data_size);
    return on_complete(h, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    ingest_req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn(LOG_CTX, "libmicrohttpd: %s", msg);
}

/* ---- start and stop ----------------------------------------------------------------------- */

ingest_http *ingest_http_start(const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!addr || netaddr_parse(addr, &ss, &sslen, err, errlen) != 0) {
        if (!addr)
            snprintf(err, errlen, "no listen address");
        return NULL;
    }
    ingest_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->idle, NULL);
    /* A thread per connection: a slow plugin callback holds up only its own sender. */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER,
                              on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SF_HTTP_TIMEOUT_S,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SF_MAX_HTTP_CONNECTIONS,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not local?)", addr);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? (int)info->port : 0;
    log_info(LOG_CTX, "listening on %s (port %d)", addr, h->port);
    return h;
fail:
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h);
    return NULL;
}

int ingest_http_port(const ingest_http *h)
{
    return h ? h->port : 0;
}

void ingest_http_stop(ingest_http *h)
{
    if (!h)
        return;
    /* Joins every connection thread: no callback runs after this. */
    MHD_stop_daemon(h->mhd);
    for (size_t i = 0; i < h->n_routes; i++) {
        free(h->routes[i]->path);
        free(h->routes[i]);
    }
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
