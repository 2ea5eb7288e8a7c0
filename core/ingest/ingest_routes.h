/*
 * ingest_routes.h - the ingest listener's route table: which connector instance serves which
 * path (exact match), and how many requests are inside each route's callback now, so that a
 * connector is taken off its path only once no request is inside it.
 * Owns: the table, its lock and its condition. Used by ingest_http (docs/design.md, "ingest").
 */
#ifndef SIGFLOW_INGEST_ROUTES_H
#define SIGFLOW_INGEST_ROUTES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sigflow.h"
#include "base/limits.h"
#include "plugin/instance.h"

/* A route: one path, one instance, and how many requests are inside its callback now. */
typedef struct ingest_route {
    char *path;
    sf_instance *inst;
    unsigned inflight;
} ingest_route;

typedef struct ingest_routes {
    pthread_mutex_t lock; /* guards routes, n and every route's inflight */
    pthread_cond_t idle;  /* broadcast when a route's inflight falls to 0 */
    ingest_route *routes[SIGFLOW_MAX_INSTANCES];
    size_t n;
} ingest_routes;

void ingest_routes_init(ingest_routes *t);
/* Frees every route left; no request may be inside one. */
void ingest_routes_destroy(ingest_routes *t);
/* SF_EINVAL if the path is taken, does not start with '/', is longer than
   SIGFLOW_MAX_HTTP_PATH or the table is full; SF_ENOMEM. */
sf_status ingest_routes_add(ingest_routes *t, const char *path, sf_instance *inst);
/* Remove the routes of `inst`: out of the table at once, freed once no request is inside. */
void ingest_routes_remove(ingest_routes *t, sf_instance *inst);
/* The route of `path` with a reference for one callback (NULL if none); give it back with
   ingest_routes_release. */
ingest_route *ingest_routes_acquire(ingest_routes *t, const char *path);
void ingest_routes_release(ingest_routes *t, ingest_route *r);
bool ingest_routes_exists(ingest_routes *t, const char *path);
/* The routed paths, space-separated, for a message (cut with "..." when long). */
void ingest_routes_list(ingest_routes *t, char *out, size_t outlen);

#endif
