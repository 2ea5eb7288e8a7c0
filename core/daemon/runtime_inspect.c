/*
 * runtime_inspect.c - live entity state for the admin API (GET /v1/entities/ID,
 * docs/admin-api.md): the admin HTTP thread queues a request and waits with a deadline; the
 * scorer thread, the engine's only user, answers it between two events (score_inspect lets
 * every shard go idle, then reads the entity). A request the deadline gave up on is freed by
 * whichever side touches it last. Owns: the request list. Calls score_inspect. Used by
 * runtime.c (create, free, the admin hook) and runtime_scoring.c (serve, each loop).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "score/inspect.h"

typedef enum { REQ_QUEUED, REQ_TAKEN, REQ_DONE, REQ_ABANDONED } req_state;

typedef struct inspect_req {
    char id[SIGFLOW_MAX_ENTITY_LEN + 1];
    req_state state;
    sf_status st;
    score_inspection res;
    struct inspect_req *next;
} inspect_req;

struct rt_inspector {
    pthread_mutex_t mu;
    pthread_cond_t done;
    inspect_req *head; /* queued, oldest first */
};

rt_inspector *runtime__inspector_new(void)
{
    rt_inspector *in = calloc(1, sizeof *in);
    pthread_condattr_t ca;
    if (!in)
        return NULL;
    if (pthread_condattr_init(&ca) != 0) {
        free(in);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&in->done, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0 || pthread_mutex_init(&in->mu, NULL) != 0) {
        if (rc == 0)
            pthread_cond_destroy(&in->done);
        free(in);
        return NULL;
    }
    return in;
}

/* After the scorer thread and the admin server stopped: nobody waits or serves any more. */
void runtime__inspector_free(rt_inspector *in)
{
    if (!in)
        return;
    for (inspect_req *r = in->head, *n; r; r = n) {
        n = r->next;
        free(r);
    }
    pthread_cond_destroy(&in->done);
    pthread_mutex_destroy(&in->mu);
    free(in);
}

static void unlink_req(rt_inspector *in, inspect_req *req)
{
    for (inspect_req **p = &in->head; *p; p = &(*p)->next) {
        if (*p == req) {
            *p = req->next;
            return;
        }
    }
}

int runtime__inspect_entity(void *ctx, const char *id, int64_t timeout_ms, score_inspection *out)
{
    runtime *rt = ctx;
    rt_inspector *in = rt->inspector;
    memset(out, 0, sizeof *out);
    if (!in || strlen(id) > SIGFLOW_MAX_ENTITY_LEN)
        return 0;
    inspect_req *req = calloc(1, sizeof *req);
    if (!req)
        return 0;
    strcpy(req->id, id);
    struct timespec until = monotime_after(timeout_ms);
    pthread_mutex_lock(&in->mu);
    inspect_req **tail = &in->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = req;
    int rc = 0;
    while (req->state != REQ_DONE && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&in->done, &in->mu, &until);
    int answered = 0;
    if (req->state == REQ_DONE) {
        answered = req->st == SF_OK;
        if (answered)
            *out = req->res;
        else
            score_inspection_clear(&req->res);
        free(req);
    } else if (req->state == REQ_QUEUED) {
        unlink_req(in, req);
        free(req);
    } else { /* taken: the scorer frees it when it is done */
        req->state = REQ_ABANDONED;
    }
    pthread_mutex_unlock(&in->mu);
    return answered;
}

void runtime__inspect_serve(runtime *rt)
{
    rt_inspector *in = rt->inspector;
    if (!in)
        return;
    pthread_mutex_lock(&in->mu);
    inspect_req *list = in->head;
    in->head = NULL;
    for (inspect_req *r = list; r; r = r->next)
        r->state = REQ_TAKEN;
    pthread_mutex_unlock(&in->mu);
    for (inspect_req *r = list, *n; r; r = n) {
        n = r->next;
        r->st = rt->engine ? score_inspect(rt->engine, r->id, &r->res) : SF_EUNSUPPORTED;
        if (r->st != SF_OK && r->st != SF_EUNSUPPORTED)
            log_warn("component=score", "live state of an entity not read (status %d)", (int)r->st);
        pthread_mutex_lock(&in->mu);
        if (r->state == REQ_ABANDONED) {
            score_inspection_clear(&r->res);
            free(r);
        } else {
            r->state = REQ_DONE;
        }
        pthread_mutex_unlock(&in->mu);
    }
    pthread_mutex_lock(&in->mu);
    pthread_cond_broadcast(&in->done);
    pthread_mutex_unlock(&in->mu);
}
