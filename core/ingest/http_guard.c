#include "ingest/http_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "base/limits.h"

#define GUARD_SCAN_MS 200 /* how often the reaper looks at the table */

/* One open connection (its MHD socket context). */
typedef struct guarded {
    struct guarded *prev, *next;
    int fd;
    _Atomic int64_t since_ms; /* when its current request may have started */
    atomic_bool waiting;      /* suspended for its commit: no deadline */
    bool reaped;              /* shut down once already */
    struct sockaddr_storage peer;
} guarded;

struct http_guard {
    pthread_mutex_t mu; /* guards the list; held while shutting a socket down, so the socket
                           cannot be closed (and its number reused) meanwhile: libmicrohttpd
                           reports a connection closed before it closes the socket */
    pthread_cond_t cv;
    guarded *head;
    int64_t deadline_ms;
    unsigned max_conns, max_per_client;
    bool stopping;
    char metric[SIGFLOW_MAX_NAME_LEN + 64];
    char refused_total[SIGFLOW_MAX_NAME_LEN + 96], refused_client[SIGFLOW_MAX_NAME_LEN + 96];
    pthread_t reaper;
};

static void reap_expired(http_guard *g, int64_t now)
{
    for (guarded *x = g->head; x; x = x->next) {
        if (atomic_load(&x->waiting) || x->reaped ||
            now - atomic_load(&x->since_ms) < g->deadline_ms)
            continue;
        x->reaped = true;
        /* libmicrohttpd's next read sees the end of the stream and closes the connection. */
        if (shutdown(x->fd, SHUT_RDWR) == 0)
            metrics_add(g->metric, 1);
    }
}

static void *reaper_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-guard"); /* top -H, perf: docs/operating.md */
    http_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec until = monotime_after(GUARD_SCAN_MS);
        int rc = pthread_cond_timedwait(&g->cv, &g->mu, &until);
        if (rc != 0 && rc != ETIMEDOUT)
            break;
        reap_expired(g, monotime_ms());
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

http_guard *http_guard_new(const char *name, int64_t deadline_ms, unsigned max_conns,
                           unsigned max_per_client)
{
    http_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->deadline_ms = deadline_ms;
    g->max_conns = max_conns;
    g->max_per_client = max_per_client;
    snprintf(g->metric, sizeof g->metric, "sigflow_http_deadline_closed_total{listener=\"%s\"}",
             name);
    snprintf(g->refused_total, sizeof g->refused_total,
             "sigflow_http_refused_total{listener=\"%s\",reason=\"total\"}", name);
    snprintf(g->refused_client, sizeof g->refused_client,
             "sigflow_http_refused_total{listener=\"%s\",reason=\"per_client\"}", name);
    pthread_mutex_init(&g->mu, NULL);
    if (monotime_cond_init(&g->cv) != 0)
        goto fail;
    if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        goto fail;
    }
    return g;
fail:
    pthread_mutex_destroy(&g->mu);
    free(g);
    return NULL;
}

void http_guard_free(http_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->reaper, NULL);
    while (g->head) { /* none left after MHD_stop_daemon; defensive */
        guarded *x = g->head;
        g->head = x->next;
        free(x);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* The same client: the same IP address (any port). */
static bool same_client(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

enum MHD_Result http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    http_guard *g = cls;
    (void)addrlen;
    unsigned total = 0, same = 0;
    pthread_mutex_lock(&g->mu);
    for (guarded *x = g->head; x; x = x->next) {
        total++;
        same += same_client(&x->peer, addr);
    }
    pthread_mutex_unlock(&g->mu);
    if (total >= g->max_conns) {
        metrics_add(g->refused_total, 1);
        return MHD_NO;
    }
    if (same >= g->max_per_client) {
        metrics_add(g->refused_client, 1);
        return MHD_NO;
    }
    return MHD_YES;
}

static void guard_started(http_guard *g, struct MHD_Connection *c, void **socket_context)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    guarded *x = info ? calloc(1, sizeof *x) : NULL;
    if (!x)
        return; /* unguarded: libmicrohttpd's idle timeout still applies */
    x->fd = info->connect_fd;
    const union MHD_ConnectionInfo *peer =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (peer && peer->client_addr) {
        size_t len = peer->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
        memcpy(&x->peer, peer->client_addr, len);
    }
    atomic_init(&x->since_ms, monotime_ms());
    atomic_init(&x->waiting, false);
    /* The caps again, counted with this one in the list: two event loops can both pass
       http_guard_accept for the last free slot. The one over the cap is shut down at once. */
    const char *over = NULL;
    unsigned total = 0, same = 0;
    pthread_mutex_lock(&g->mu);
    for (guarded *o = g->head; o; o = o->next) {
        total++;
        same += same_client(&o->peer, (const struct sockaddr *)&x->peer);
    }
    if (total >= g->max_conns)
        over = g->refused_total;
    else if (same >= g->max_per_client)
        over = g->refused_client;
    if (over) {
        x->reaped = true;
        if (shutdown(x->fd, SHUT_RDWR) != 0)
            over = NULL; /* already gone: libmicrohttpd closes it anyway */
    }
    x->next = g->head;
    if (g->head)
        g->head->prev = x;
    g->head = x;
    pthread_mutex_unlock(&g->mu);
    if (over)
        metrics_add(over, 1);
    *socket_context = x;
}

static void guard_closed(http_guard *g, void **socket_context)
{
    guarded *x = *socket_context;
    if (!x)
        return;
    pthread_mutex_lock(&g->mu);
    if (x->prev)
        x->prev->next = x->next;
    else
        g->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    pthread_mutex_unlock(&g->mu);
    free(x);
    *socket_context = NULL;
}

void http_guard_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    http_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        guard_started(g, c, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        guard_closed(g, socket_context);
}

static guarded *guard_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void http_guard_request_done(http_guard *g, struct MHD_Connection *c)
{
    guarded *x = guard_of(c);
    if (!g || !x)
        return;
    /* Atomics, no lock: the reaper reads them while it walks the list under mu. */
    atomic_store(&x->since_ms, monotime_ms());
    atomic_store(&x->waiting, false);
}

void http_guard_set_waiting(http_guard *g, struct MHD_Connection *c, bool waiting)
{
    guarded *x = guard_of(c);
    if (!g || !x)
        return;
    if (!waiting)
        atomic_store(&x->since_ms, monotime_ms()); /* the answer gets a full deadline to go out */
    atomic_store(&x->waiting, waiting);
}
