#include "ingest/ingest_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest/http_guard.h"
#include "ingest/ingest_answer.h"
#include "ingest/ingest_routes.h"
#include "ingest/intake.h"
#include "ingest/path_log.h"
#include "plugin/host_request.h"
#include "plugin/instance.h"
#include "base/netaddr.h"
#include "base/log.h"
#include "base/log_limit.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "base/limits.h"
#include "base/queue.h"
#include "base/cpus.h"

#define LOG_CTX "component=ingest_http"
#define INGEST_MAX_LOOPS 8 /* event loops: one per CPU the daemon may run on, at most this many */
#define INGEST_LOOP_MAX_WAIT_MS 1000
#define INGEST_GATHER_PASSES 8 /* more passes into one commit (loop_gather) */
/* A loop wakes the scorer at most once this long (not once per commit: at one sender that
   wake-up and the scorer's run were a quarter of the process's CPU, docs/performance.md). */
#define INGEST_SCORER_WAKE_US 1000

typedef struct ingest_req ingest_req;

/*
 * One event loop: a libmicrohttpd daemon driven by its own thread (external epoll mode) on a
 * SO_REUSEPORT socket of the listen address, so the kernel spreads connections over the
 * loops. A request whose events are accepted has them queued in the journal without waking
 * the committer, and its callback returns without an answer and without suspending the
 * connection ("parked"): libmicrohttpd 0.9.75 keeps such a connection on its ready list
 * (state FULL_REQ_RECEIVED, event-loop info BLOCK: MHD_epoll does not drop it from `eready`
 * and MHD_get_timeout says 0) and calls the access handler again in its next MHD_run. After
 * the pass (and more passes while further requests are already arriving: loop_gather, one
 * commit for the senders answered together) the loop commits everything queued on its own
 * thread when nobody else is committing (journal_commit_here: one commit for the pass, no
 * hand-off; at `fsync` only when its connection is its only one: else it hands the commit to
 * the committer thread and serves its other connections through the fsync rather than idle)
 * and runs the next pass, whose second call of each parked request answers it: no suspend
 * and resume, which cost an epoll_ctl DEL and ADD per request (docs/performance.md, "How a
 * request is served").
 * A request whose commit the loop could not run (another thread was committing: the
 * committer thread does it) is suspended at that second call instead, and whoever commits
 * queues it on its loop's `ready` list (ringing `wake_fd` when that is another thread); the
 * loop resumes it between two MHD_run calls: a resume must never overtake the suspend of a
 * request whose callback is still returning (libmicrohttpd 0.9.75 corrupts memory then), and
 * on the loop's own thread it cannot. A parked connection can be closed (by its client) while
 * its commit is under way on the committer thread: the request then outlives it and is freed
 * by whichever of "commit done" (on_committed) and "connection completed" (on_completed)
 * comes last; `waiting` counts it until both happened.
 */
typedef struct ingest_loop {
    struct ingest_http *h;
    struct MHD_Daemon *mhd;
    int wake_fd;        /* eventfd in libmicrohttpd's epoll set: rung when another thread
                           queues on an empty `ready` */
    pthread_mutex_t mu; /* guards ready, rung and every submitted request's
                           committed/suspended/gone */
    ingest_req *ready;  /* committed, to resume */
    bool rung;          /* wake_fd was written and not yet read */
    journal *to_commit; /* the journal this pass queued requests in (this thread's only) */
    unsigned commits;   /* commits this loop ran or handed on (journal_commit_here calls) */
    unsigned conns;     /* connections libmicrohttpd holds on this loop (this thread's only) */
    unsigned queued;    /* requests queued for the loop's next commit (this thread's only) */
    ingest_answer_counts counts; /* this thread's only */
    pthread_t thread;
    bool running;
} ingest_loop;

/* The loop whose thread this is (NULL on other threads). */
static _Thread_local ingest_loop *tl_loop;

struct ingest_http {
    ingest_loop loops[INGEST_MAX_LOOPS];
    unsigned n_loops;
    atomic_bool stopping;
    http_guard *guard;
    int port;
    ingest_routes routes;
    pthread_mutex_t lock; /* with idle: ingest_http_wait_idle's wait for `waiting` to be 0 */
    pthread_cond_t idle;  /* broadcast (under lock) when `waiting` falls to 0 */
    atomic_uint waiting;  /* requests waiting for their commit or its answer (shedding bound) */
    atomic_bool hold;     /* draining or reloading: a path without a route is 503, not 404 */
    path_log *unknown;    /* requests to paths without a route, for the log */
};

/* Per-request state, from the headers to the completion notice. */
struct ingest_req {
    char *body;
    size_t len, cap;
    size_t discarded; /* bytes dropped after the body outgrew SIGFLOW_MAX_HTTP_BODY */
    bool too_large;
    /* After the callback accepted events: the answer waits for their commit. */
    bool submitted, answered;
    unsigned commit_no; /* the loop's `commits` at submit: its next commit takes these events */
    /* Under loop->mu once submitted (the committing thread sets committed and commit_st): */
    bool committed;      /* on_committed ran: commit_st is the outcome */
    bool suspended;      /* the connection is suspended: on_committed queues it on `ready` */
    bool gone;           /* libmicrohttpd completed the connection: on_committed frees it */
    sf_status commit_st; /* set by the committer */
    ingest_loop *loop;
    struct MHD_Connection *conn;
    ingest_req *next_ready;
    struct MHD_Response *resp; /* the connector's answer, sent once the commit succeeded */
    unsigned code;
    char instance[SIGFLOW_MAX_NAME_LEN + 1];
};

/* ---- routes ------------------------------------------------------------------------------- */

sf_status ingest_http_route(ingest_http *h, const char *path, sf_instance *inst)
{
    return h ? ingest_routes_add(&h->routes, path, inst) : SF_EINVAL;
}

void ingest_http_unroute(ingest_http *h, sf_instance *inst)
{
    if (h)
        ingest_routes_remove(&h->routes, inst);
}

/* A request to a path no connector serves: logged, at most once a minute per path. */
static void log_unknown_path(ingest_http *h, struct MHD_Connection *c, const char *url,
                             const char *method)
{
    char client[INET6_ADDRSTRLEN] = "", known[512];
    const union MHD_ConnectionInfo *peer =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (peer && peer->client_addr) {
        const struct sockaddr *sa = peer->client_addr;
        const void *a = sa->sa_family == AF_INET6
                            ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                            : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        if (!inet_ntop(sa->sa_family, a, client, sizeof client))
            client[0] = '\0';
    }
    ingest_routes_list(&h->routes, known, sizeof known);
    (void)path_log_unknown(h->unknown, method, url, client, known, monotime_ms());
}

/* ---- the request state machine ------------------------------------------------------------ */

/* The headers are in: refuse what can be refused before reading a body. */
static enum MHD_Result on_headers(ingest_http *h, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    if (!ingest_routes_exists(&h->routes, url)) {
        /* Draining or reloading: the connector may be back in a moment, and a sender drops
           an event it was told 404 about. */
        if (atomic_load(&h->hold))
            return ingest_answer_busy(c, NULL);
        log_unknown_path(h, c, url, method);
        return ingest_answer_text(c, NULL, MHD_HTTP_NOT_FOUND, "no connector at this path\n");
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return ingest_answer(c, NULL, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST is accepted here\n",
                             NULL, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
    if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) > SIGFLOW_MAX_HTTP_HEADERS)
        return ingest_answer_text(c, NULL, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                                  "too many request headers\n");
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == ERANGE || n > SIGFLOW_MAX_HTTP_BODY)
            return ingest_answer_too_large(c, NULL);
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
    if (!rq->too_large && n > SIGFLOW_MAX_HTTP_BODY - rq->len) {
        rq->too_large = true;
        rq->discarded = rq->len;
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
    }
    if (rq->too_large) {
        rq->discarded += n;
        return rq->discarded > 2 * (size_t)SIGFLOW_MAX_HTTP_BODY ? MHD_NO : MHD_YES;
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

/* The connector's 2xx, built now (its text lives in the callback's thread) and sent once the
   request's events are committed. */
static sf_status keep_answer(ingest_req *rq, sf_instance *inst, const sf_http_response *resp)
{
    unsigned code = ingest_answer_code(resp);
    const char *body = resp->body ? resp->body : "";
    rq->resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!rq->resp ||
        MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "text/plain") != MHD_YES)
        return SF_ENOMEM;
    rq->code = code;
    const char *name = instance_get_name(inst); /* per request: no printf */
    size_t n = strnlen(name, sizeof rq->instance - 1);
    memcpy(rq->instance, name, n);
    rq->instance[n] = '\0';
    return SF_OK;
}

static void req_free(ingest_req *rq)
{
    if (rq->resp)
        MHD_destroy_response(rq->resp);
    free(rq->body);
    free(rq);
}

static void waiting_done(ingest_http *h)
{
    if (atomic_fetch_sub(&h->waiting, 1) != 1)
        return;
    pthread_mutex_lock(&h->lock); /* a waiter checks `waiting` under it before it sleeps */
    pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
}

/* The committing thread: the request's events are stored (or not). A parked request is
   answered by its loop's next call of the access handler; a suspended one is queued for its
   loop to resume (the loop woken only when this is another thread and nothing else was
   waiting to resume); one whose connection is gone is freed here. */
static void on_committed(void *ctx, sf_status st)
{
    ingest_req *rq = ctx;
    ingest_loop *l = rq->loop;
    ingest_http *h = l->h;
    bool ring = false;
    pthread_mutex_lock(&l->mu);
    rq->commit_st = st;
    rq->committed = true;
    bool gone = rq->gone;
    if (!gone && rq->suspended) {
        ring = !l->ready && tl_loop != l && !l->rung;
        rq->next_ready = l->ready;
        l->ready = rq;
    }
    /* Rung under the lock: the loop reads wake_fd when it finds `rung`, and then the write
       has happened (else it would stay readable and the loop spin). */
    uint64_t one = 1;
    if (ring) {
        if (write(l->wake_fd, &one, sizeof one) == sizeof one || errno == EAGAIN)
            l->rung = true;
        else
            log_error(LOG_CTX, "cannot wake an ingest loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&l->mu);
    if (gone) { /* its sender left: nobody to tell (on_committed left it to us) */
        req_free(rq);
        waiting_done(h); /* last: the listener may be stopped once nothing waits */
    }
}

/* The commit is over: the connector's answer, or 503 and nothing kept. */
static enum MHD_Result on_committed_answer(ingest_http *h, struct MHD_Connection *c, ingest_req *rq)
{
    http_guard_set_waiting(h->guard, c, false);
    enum MHD_Result ok;
    if (rq->commit_st != SF_OK) {
        log_limited(SF_LOG_WARN, LOG_CTX, /* one per request on a full disk: limited */
                    "instance=%s: a request's events could not be journaled (status %d):"
                    " answered 503, nothing of it kept",
                    rq->instance, (int)rq->commit_st);
        ok = ingest_answer_busy(c, rq->instance);
    } else {
        ok = MHD_queue_response(c, rq->code, rq->resp);
        if (ok == MHD_YES)
            ingest_answer_count(rq->instance, rq->code);
    }
    rq->answered = true;
    waiting_done(h);
    return ok;
}

/*
 * A call of the access handler for a submitted request that has no answer yet (the loop's
 * thread): answer it if its commit is over; keep it parked (MHD_YES without an answer: called
 * again in the next pass) while its loop has not yet run the commit that takes its events;
 * else the committer thread has them: suspend the connection until on_committed queues it on
 * `ready` (parked, it would keep the loop polling at timeout 0 meanwhile).
 */
static enum MHD_Result on_waiting(ingest_loop *l, struct MHD_Connection *c, ingest_req *rq)
{
    bool park = rq->commit_no == l->commits; /* both this thread's only */
    pthread_mutex_lock(&l->mu);
    bool done = rq->committed;
    if (!done && !park)
        rq->suspended = true;
    pthread_mutex_unlock(&l->mu);
    if (done)
        return on_committed_answer(l->h, c, rq);
    if (!park) /* resumed by this loop after this callback returned (loop_resume_ready) */
        MHD_suspend_connection(c);
    return MHD_YES;
}

/* Commit what the loop queued (journal_commit_here): here if nobody else is committing,
   else the committer thread takes it. A commit that waits for the disk (`fsync`) goes to the
   committer thread unless the loop has nothing else to do (`alone`: its one connection):
   the loop serves its other connections through the fsync instead of idling. */
static void loop_commit(ingest_loop *l, bool alone)
{
    journal *j = l->to_commit;
    l->to_commit = NULL;
    l->queued = 0;
    l->commits++; /* the requests queued before are now committed or the committer's */
    if (!alone && journal_commit_waits_for_disk(j))
        journal_commit_hand_off(j);
    else
        journal_commit_here(j);
}

/* This request is the only one its loop can see this pass: its connection is the loop's only
   one, so waiting for the end of the pass gathers nothing (a single sender, c = 1). Counted
   by on_connection, never asked of libmicrohttpd here: in 0.9.75,
   MHD_get_daemon_info(MHD_DAEMON_INFO_CURRENT_CONNECTIONS) frees the connections closed so
   far (MHD_cleanup_connections, daemon.c:7858). Called from the access handler, that is
   inside MHD_epoll's walk of its ready list, which holds on to the next connection across
   the handler (daemon.c:5148), it freed that one when it was closed and still listed (one
   MHD's idle timeout had closed, back on the list for its reset): the loop crashed
   (docs/reliability.md, "Ingest answers"). */
static bool loop_alone(const ingest_loop *l)
{
    return l->conns == 1;
}

/* Past SIGFLOW_MAX_INGEST_WAITING requests waiting for the journal, answer 503 at once. */
static bool shed_load(ingest_http *h)
{
    bool full = atomic_load(&h->waiting) >= SIGFLOW_MAX_INGEST_WAITING;
    if (full)
        metrics_add("sigflow_ingest_shed_total", 1);
    return full;
}

/* Queue the request's events in the journal for the commit they share with the other
   requests of this pass and those waiting now (group commit), and park the request: answered
   in the loop's next pass, after that commit (on_waiting). */
static enum MHD_Result submit(ingest_loop *l, struct MHD_Connection *c, ingest_req *rq,
                              intake_scope *scope)
{
    ingest_http *h = l->h;
    rq->loop = l;
    rq->conn = c;
    rq->submitted = true;
    atomic_fetch_add(&h->waiting, 1);
    http_guard_set_waiting(h->guard, c, true);
    journal *j = NULL;
    sf_status st = intake_scope_submit(scope, on_committed, rq, &j);
    if (st != SF_OK) { /* not queued: on_committed will not run */
        rq->commit_st = st;
        rq->committed = true;
        return on_committed_answer(h, c, rq);
    }
    if (l->to_commit && l->to_commit != j)
        loop_commit(l, false); /* another journal: never in one daemon, but safe */
    rq->commit_no = l->commits;
    l->to_commit = j;
    l->queued++;
    if (loop_alone(l)) {
        loop_commit(l, true); /* c = 1: at once, in the callback (no second pass) */
        return on_waiting(l, c, rq);
    }
    return MHD_YES; /* parked */
}

/* The whole body is in: hand it to the instance routed at this path now. Its events are the
   request's own (an intake scope): committed together before the 2xx, or dropped whole. */
static enum MHD_Result on_complete(ingest_loop *l, struct MHD_Connection *c, const char *url,
                                   const char *method, ingest_req *rq)
{
    ingest_http *h = l->h;
    if (rq->too_large)
        return ingest_answer_too_large(c, NULL);
    if (shed_load(h))
        return ingest_answer_busy(c, NULL);
    ingest_route *r = ingest_routes_acquire(&h->routes, url);
    if (!r) /* unrouted while the body came in (a reload): the source should come back */
        return ingest_answer_busy(c, NULL);
    sf_http_request req = {
        .method = method,
        .path = url,
        .body = rq->body ? rq->body : "",
        .body_len = rq->len,
        .conn = c,
    };
    sf_http_response resp = {0};
    intake_scope scope;
    intake_scope_open(&scope);
    sf_status st = instance_request(r->inst, &req, &resp);
    intake_scope_close(&scope);
    enum MHD_Result ok;
    if (st == SF_OK && scope.n > 0 && keep_answer(rq, r->inst, &resp) != SF_OK)
        st = SF_ENOMEM;
    if (st == SF_OK && scope.n > 0) {
        ok = submit(l, c, rq, &scope); /* before the release: the intake is still there */
    } else {
        intake_scope_discard(&scope); /* an error answer leaves nothing behind */
        ok = ingest_answer_status(c, r->inst, st, &resp);
    }
    ingest_routes_release(&h->routes, r);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    ingest_loop *l = cls;
    ingest_req *rq = *con_cls;
    if (!rq)
        return on_headers(l->h, c, url, method, con_cls);
    if (rq->submitted) /* called again (parked) or resumed: is its commit over? */
        return on_waiting(l, c, rq);
    if (*upload_data_size > 0)
        return on_body(rq, upload_data, upload_data_size);
    return on_complete(l, c, url, method, rq);
}

/* The connection is done with the request (answered, or closed by its client, a timeout or
   the slow-client guard). A submitted request whose commit is still under way stays for
   on_committed to free. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)why;
    ingest_loop *l = cls;
    http_guard_request_done(l->h->guard, c);
    ingest_req *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    if (rq->submitted && !rq->answered) { /* the sender left before its answer */
        metrics_add("sigflow_ingest_abandoned_total", 1);
        pthread_mutex_lock(&l->mu);
        rq->gone = true;
        bool committing = !rq->committed;
        pthread_mutex_unlock(&l->mu);
        if (committing)
            return; /* on_committed frees it and ends its wait */
        waiting_done(l->h);
    }
    req_free(rq);
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

/* libmicrohttpd took or freed a connection of this loop (its thread; at MHD_stop_daemon the
   stopping one, the loop's thread joined): counted for loop_alone, then the guard's. A
   connection closed in this pass counts until MHD_run frees it at the pass's end. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    ingest_loop *l = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        l->conns++;
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && l->conns > 0)
        l->conns--;
    http_guard_on_connection(l->h->guard, c, socket_context, code);
}

/* Resume what the committing thread queued (this loop's thread, outside any callback). */
static void loop_resume_ready(ingest_loop *l)
{
    pthread_mutex_lock(&l->mu);
    ingest_req *rq = l->ready;
    l->ready = NULL;
    bool rung = l->rung;
    l->rung = false;
    pthread_mutex_unlock(&l->mu);
    uint64_t n;
    if (rung && read(l->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_error(LOG_CTX, "ingest loop wake-up: %s", strerror(errno));
    while (rq) {
        ingest_req *next = rq->next_ready; /* rq may be answered and gone after MHD_run */
        MHD_resume_connection(rq->conn);
        rq = next;
    }
}

/* One pass: resume what is committed, run libmicrohttpd (reads, callbacks, answers), first
   waiting up to `wait_ms` for input or a wake-up (0: only what is there). One epoll_wait, in
   libmicrohttpd, whose epoll set holds wake_fd too (loop_start). */
static void loop_pass_wait(ingest_loop *l, int32_t wait_ms)
{
    loop_resume_ready(l);
    if (MHD_run_wait(l->mhd, wait_ms) != MHD_YES)
        log_warn(LOG_CTX, "ingest loop: MHD_run failed");
    ingest_answer_counts_flush(&l->counts);
}

static void loop_pass(ingest_loop *l)
{
    loop_pass_wait(l, 0);
}

/* Wake the scorer for the events this loop's commits handed it since its last wake-up, once
   that is INGEST_SCORER_WAKE_US ago (its answers are out by then); the poll timeout, in ms. */
static MHD_UNSIGNED_LONG_LONG loop_wake_scorer(MHD_UNSIGNED_LONG_LONG to)
{
    int64_t due;
    if (!queue_wakeups_owed(&due))
        return to;
    int64_t left = due - monotime_us();
    if (left <= 0) {
        queue_wake_deferred();
        return to;
    }
    MHD_UNSIGNED_LONG_LONG left_ms = (MHD_UNSIGNED_LONG_LONG)(left + 999) / 1000;
    return left_ms < to ? left_ms : to;
}

/*
 * Before committing what the pass queued: while other connections' requests are already
 * arriving (the epoll fd is readable) and some connection has none queued yet, one more pass
 * reads them into the same commit, at most INGEST_GATHER_PASSES. A commit costs about 30 us
 * whatever it holds (SQLite's locks and WAL writes), and senders answered together send again
 * together: the first of them woke the loop, and the rest were on their way. This waits for
 * nothing: a pass runs only for input that is there (docs/performance.md, "How a request is
 * served").
 */
static void loop_gather(ingest_loop *l, int epfd)
{
    for (int extra = 0; extra < INGEST_GATHER_PASSES && l->queued < l->conns; extra++) {
        struct pollfd more = {.fd = epfd, .events = POLLIN};
        if (poll(&more, 1, 0) <= 0)
            return;
        loop_pass(l);
    }
}

static void *loop_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-ingest"); /* top -H, perf: docs/operating.md */
    ingest_loop *l = arg;
    tl_loop = l;
    ingest_answer_counts_bind(&l->counts);
    queue_defer_wakeups(INGEST_SCORER_WAKE_US); /* and loop_wake_scorer */
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    int epfd = info ? info->epoll_fd : -1;
    while (!atomic_load(&l->h->stopping)) {
        MHD_UNSIGNED_LONG_LONG to = INGEST_LOOP_MAX_WAIT_MS;
        if (MHD_get_timeout(l->mhd, &to) != MHD_YES || to > INGEST_LOOP_MAX_WAIT_MS)
            to = INGEST_LOOP_MAX_WAIT_MS;
        to = loop_wake_scorer(to);
        if (l->to_commit) /* parked in the last pass: commit them after this one, at once */
            to = 0;
        loop_pass_wait(l, (int32_t)to);
        if (l->to_commit) /* more requests on their way: into this commit */
            loop_gather(l, epfd);
        if (l->to_commit) { /* this pass's requests: commit them here if nobody else is */
            loop_commit(l, false);
            loop_pass(l); /* answer them (their second call) */
        }
    }
    if (l->to_commit) /* none at a stop (its connectors went first), but never left queued */
        loop_commit(l, false);
    MHD_run(l->mhd); /* send the last answers queued */
    ingest_answer_counts_flush(&l->counts);
    queue_defer_wakeups(0); /* wakes the scorer for what is still owed */
    return NULL;
}

/* One loop's daemon on `ss` (port filled in by the first loop), SO_REUSEPORT. */
static bool loop_start(ingest_loop *l, ingest_http *h, struct sockaddr_storage *ss)
{
    l->h = h;
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_fd < 0)
        return false;
    pthread_mutex_init(&l->mu, NULL);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    l->mhd = MHD_start_daemon(
        flags, 0, http_guard_accept, h->guard, on_access, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned int)1, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SIGFLOW_HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)SIGFLOW_MAX_HTTP_CONNECTIONS, /* the guard's, shared */
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)SIGFLOW_HTTP_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
        MHD_OPTION_END);
    if (!l->mhd)
        return false;
    /* wake_fd in libmicrohttpd's own epoll set, so that its epoll_wait (MHD_run_wait) is the
       loop's one wait. An event whose data is NULL is skipped by libmicrohttpd 0.9.75's
       MHD_epoll (its "shutdown signal"): the loop reads wake_fd itself (loop_resume_ready). */
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (!ep || epoll_ctl(ep->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0)
        return false;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (info && h->port == 0) {
        h->port = (int)info->port; /* port 0: the others bind the one the first got */
        if (ss->ss_family == AF_INET6)
            ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)h->port);
        else
            ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)h->port);
    }
    l->running = pthread_create(&l->thread, NULL, loop_main, l) == 0;
    return l->running;
}

static void loop_stop(ingest_loop *l)
{
    if (l->running)
        pthread_join(l->thread, NULL);
    if (l->mhd)
        MHD_stop_daemon(l->mhd);
    if (l->wake_fd >= 0) {
        close(l->wake_fd);
        pthread_mutex_destroy(&l->mu);
    }
}

static void ingest_free(ingest_http *h)
{
    atomic_store(&h->stopping, true);
    for (unsigned i = 0; i < h->n_loops; i++)
        loop_stop(&h->loops[i]);
    http_guard_free(h->guard);
    path_log_free(h->unknown);
    ingest_routes_destroy(&h->routes);
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

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
    ingest_routes_init(&h->routes);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->idle, NULL);
    atomic_init(&h->hold, false);
    atomic_init(&h->stopping, false);
    atomic_init(&h->waiting, 0);
    if (!(h->guard =
              http_guard_new("ingest", SIGFLOW_HTTP_REQUEST_DEADLINE_S * 1000LL,
                             SIGFLOW_MAX_HTTP_CONNECTIONS, SIGFLOW_MAX_HTTP_CONNECTIONS_PER_IP)) ||
        !(h->unknown = path_log_new())) {
        snprintf(err, errlen, "out of memory");
        http_guard_free(h->guard);
        free(h);
        return NULL;
    }
    /* One event loop per CPU the daemon may run on: a connection costs a socket, not a
       thread, and two loops on one CPU only take turns (and split each other's commits). */
    unsigned n = cpus_usable(INGEST_MAX_LOOPS);
    for (; h->n_loops < n; h->n_loops++) {
        h->loops[h->n_loops].wake_fd = -1;
        if (!loop_start(&h->loops[h->n_loops], h, &ss)) {
            h->n_loops++; /* stopped with the others */
            snprintf(err, errlen, "cannot listen on %s (address in use or not local?)", addr);
            ingest_free(h);
            return NULL;
        }
    }
    log_info(LOG_CTX, "listening on %s (port %d, %u event loops)", addr, h->port, n);
    return h;
}

int ingest_http_port(const ingest_http *h)
{
    return h ? h->port : 0;
}

void ingest_http_hold(ingest_http *h, bool on)
{
    if (h)
        atomic_store(&h->hold, on);
}

void ingest_http_wait_idle(ingest_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    while (atomic_load(&h->waiting) > 0)
        pthread_cond_wait(&h->idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

void ingest_http_stop(ingest_http *h)
{
    if (!h)
        return;
    ingest_http_hold(h, true);
    ingest_http_wait_idle(h); /* every request waiting for a commit got its answer */
    ingest_free(h);           /* joins the loops: no callback runs after this */
}
