#include "daemon/admin_http.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/metrics.h"
#include "base/netaddr.h"
#include "base/readiness.h"
#include "base/strbuf.h"
#include "base/limits.h"
#include "daemon/admin_api.h"
#include "ingest/http_guard.h"

#define ADMIN_TIMEOUT_S 10

struct admin_http {
    struct MHD_Daemon *mhd;
    http_guard *guard; /* slow clients: whole-request deadline, per-client cap */
    const atomic_bool *ready;
    admin_api *api; /* the /v1 endpoints; may be NULL */
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
                             char *body, size_t len, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned int status, const char *msg)
{
    return reply(c, status, "text/plain", (char *)msg, strlen(msg), false);
}

/*
 * 200 "ready" once recovery is done and instances started, unless an instance said it cannot
 * do its job (host->health_set, base/readiness.h): then 503 with the reasons as JSON.
 */
static enum MHD_Result readyz(struct MHD_Connection *c, admin_http *h)
{
    if (!atomic_load(h->ready))
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
    if (readiness_count() == 0)
        return text(c, MHD_HTTP_OK, "ready\n");
    strbuf b = {0};
    readiness_json(&b);
    size_t len = b.len;
    char *body = strbuf_take(&b);
    if (!body)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready (out of memory)\n");
    return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", body, len, true);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *size, void **con_cls)
{
    (void)version;
    admin_http *h = cls;
    if (strncmp(url, "/v1/", 4) == 0 || strcmp(url, "/v1") == 0)
        return admin_api_access(h->api, c, url, method, data, size, con_cls);
    if (*size != 0) { /* no endpoint takes a body: drop it */
        *size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    if (strcmp(url, "/healthz") == 0)
        return text(c, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return readyz(c, h);
    if (strcmp(url, "/metrics") == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        admin_api_metrics_refresh(h->api);
        metrics_write(f);
        if (fclose(f) != 0) {
            free(buf);
            return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        }
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", buf, len, true);
    }
    return text(c, MHD_HTTP_NOT_FOUND, "not found: /healthz, /readyz, /metrics, /v1/...\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)why;
    admin_http *h = cls;
    http_guard_request_done(h->guard, c);
    admin_api_completed(*con_cls); /* only /v1 requests have state */
    *con_cls = NULL;
}

admin_http *admin_http_start(const char *addr, const atomic_bool *ready, admin_api *api, char *err,
                             size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (netaddr_parse(addr, &ss, &sslen, err, errlen) != 0)
        return NULL;
    admin_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->ready = ready;
    h->api = api;
    /* Slow clients (a header byte every few seconds) cannot hold the probes' slots: a
       whole-request deadline and a per-client cap (docs/reliability.md, "Ingest answers"). */
    h->guard = http_guard_new("admin", SIGFLOW_ADMIN_REQUEST_DEADLINE_S * 1000LL,
                              SIGFLOW_MAX_ADMIN_CONNECTIONS, SIGFLOW_MAX_ADMIN_CONNECTIONS_PER_IP);
    if (!h->guard) {
        snprintf(err, errlen, "out of memory");
        free(h);
        return NULL;
    }
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->mhd = MHD_start_daemon(
        flags, 0, http_guard_accept, h->guard, on_access, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ADMIN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SIGFLOW_MAX_ADMIN_CONNECTIONS,
        MHD_OPTION_NOTIFY_CONNECTION, http_guard_on_connection, h->guard,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host)", addr);
        http_guard_free(h->guard);
        free(h);
        return NULL;
    }
    return h;
}

void admin_http_stop(admin_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    http_guard_free(h->guard);
    free(h);
}
