/*
 * ingest_http.h - the core's inbound HTTP listener (libmicrohttpd) that connector plugins with
 * a `request` callback share: the core owns sockets, limits (body size, header count, time),
 * JSON-free routing by path, and back-pressure answers (503 + Retry-After when the connector's
 * emit was refused); the plugin sees only the request accessors of the host table.
 * Owns: the event loops (a libmicrohttpd daemon each) and the requests waiting for their
 * commit. Calls ingest_routes (the route table), ingest_answer (answers and their counts),
 * http_guard, instance (instance_request), the journal through intake; fills the
 * host_request.h view of each request. Used by runtime.
 */
#ifndef SIGFLOW_INGEST_HTTP_H
#define SIGFLOW_INGEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "sigflow.h"

typedef struct ingest_http ingest_http;

/*
 * Listen on "host:port" (IPv4, a name, or [IPv6]; port 0 picks a free one). NULL with a
 * message in err on failure. libmicrohttpd's epoll threads (one per core) serve every
 * connection; limits: SIGFLOW_MAX_HTTP_CONNECTIONS, SIGFLOW_MAX_HTTP_CONNECTIONS_PER_IP, a
 * whole-request deadline (http_guard.h). Answers: 404 for a path with no route (503 + Retry-After
 * while held), 405 (Allow: POST) for another method, 413 for a body over SIGFLOW_MAX_HTTP_BODY, 431
 * for more than SIGFLOW_MAX_HTTP_HEADERS headers, 503 + Retry-After at once past
 * SIGFLOW_MAX_INGEST_WAITING requests waiting for the journal; then instance_request decides: SF_OK
 * -> resp->status (0: 200) with resp->body, sent once the events the callback emitted are committed
 * (they are submitted as one batch and share a commit with concurrent requests; a failed commit is
 * 503 and keeps nothing); SF_ERETRY -> 503 with Retry-After: 1; SF_EINVAL -> resp->status if 4xx
 * else 400, with resp->body or the instance's last error; other -> 500. Any answer but the 2xx
 * drops what the callback emitted.
 */
ingest_http *ingest_http_start(const char *addr, char *err, size_t errlen);
/* Route `path` (exact match) to `inst`, which must be started and have a request callback.
   SF_EINVAL if the path is taken, does not start with '/' or is longer than
   SIGFLOW_MAX_HTTP_PATH; SF_ENOMEM. */
sf_status ingest_http_route(ingest_http *h, const char *path, sf_instance *inst);
/* Remove the routes of `inst` (before the instance is stopped). Returns once no request is
   inside the instance's callback; never call it from a request callback. */
void ingest_http_unroute(ingest_http *h, sf_instance *inst);
/* While on (a reload, a stop), a path with no route is answered 503 + Retry-After, not 404. */
void ingest_http_hold(ingest_http *h, bool on);
/* Wait until no request waits for its commit (each got its answer). NULL accepted. */
void ingest_http_wait_idle(ingest_http *h);
/* The bound port (useful with port 0 in tests). */
int ingest_http_port(const ingest_http *h);
/* Hold, wait until idle, close the listener and join its threads; remaining routes are
   dropped. The journal must still be open. */
void ingest_http_stop(ingest_http *h);

#endif
