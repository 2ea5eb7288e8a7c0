/*
 * ingest_routes.c - the ingest listener's route table (ingest_routes.h says what it owns).
 */
#include "ingest/ingest_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ingest_routes_init(ingest_routes *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->idle, NULL);
}

void ingest_routes_destroy(ingest_routes *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->routes[i]->path);
        free(t->routes[i]);
    }
    t->n = 0;
    pthread_cond_destroy(&t->idle);
    pthread_mutex_destroy(&t->lock);
}

/* Caller holds t->lock. */
static ingest_route *route_by_path(ingest_routes *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->routes[i]->path, path) == 0)
            return t->routes[i];
    return NULL;
}

sf_status ingest_routes_add(ingest_routes *t, const char *path, sf_instance *inst)
{
    if (!path || !inst || path[0] != '/' || strlen(path) > SIGFLOW_MAX_HTTP_PATH)
        return SF_EINVAL;
    sf_status st = SF_OK;
    pthread_mutex_lock(&t->lock);
    if (route_by_path(t, path) || t->n == SIGFLOW_MAX_INSTANCES) {
        st = SF_EINVAL;
        goto out;
    }
    ingest_route *r = calloc(1, sizeof *r);
    char *copy = strdup(path);
    if (!r || !copy) {
        free(r);
        free(copy);
        st = SF_ENOMEM;
        goto out;
    }
    r->path = copy;
    r->inst = inst;
    t->routes[t->n++] = r;
out:
    pthread_mutex_unlock(&t->lock);
    return st;
}

void ingest_routes_remove(ingest_routes *t, sf_instance *inst)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n;) {
        ingest_route *r = t->routes[i];
        if (r->inst != inst) {
            i++;
            continue;
        }
        /* Out of the table first so no new request finds it, then wait for those inside. */
        t->routes[i] = t->routes[--t->n];
        while (r->inflight > 0)
            pthread_cond_wait(&t->idle, &t->lock);
        free(r->path);
        free(r);
    }
    pthread_mutex_unlock(&t->lock);
}

ingest_route *ingest_routes_acquire(ingest_routes *t, const char *path)
{
    pthread_mutex_lock(&t->lock);
    ingest_route *r = route_by_path(t, path);
    if (r)
        r->inflight++;
    pthread_mutex_unlock(&t->lock);
    return r;
}

void ingest_routes_release(ingest_routes *t, ingest_route *r)
{
    pthread_mutex_lock(&t->lock);
    if (--r->inflight == 0)
        pthread_cond_broadcast(&t->idle);
    pthread_mutex_unlock(&t->lock);
}

bool ingest_routes_exists(ingest_routes *t, const char *path)
{
    pthread_mutex_lock(&t->lock);
    bool found = route_by_path(t, path) != NULL;
    pthread_mutex_unlock(&t->lock);
    return found;
}

void ingest_routes_list(ingest_routes *t, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && o < outlen; i++) {
        int n = snprintf(out + o, outlen - o, "%s%s", i ? " " : "", t->routes[i]->path);
        if (n < 0 || (size_t)n >= outlen - o) {
            if (outlen > 4)
                memcpy(out + outlen - 4, "...", 4);
            break;
        }
        o += (size_t)n;
    }
    pthread_mutex_unlock(&t->lock);
}
