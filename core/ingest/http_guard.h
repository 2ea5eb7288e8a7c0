/*
 * http_guard.h - slow-client protection for a libmicrohttpd listener: a whole-request
 * deadline. libmicrohttpd's own timeout is an idle timeout, which a client sending one header
 * byte every few seconds never meets; the guard times each request from the moment the
 * connection is ready for it (accepted, or the previous answer sent) and shuts the socket of
 * any request not complete by then, so it cannot hold a connection slot for longer (with
 * SIGFLOW_MAX_HTTP_BODY that is also a minimum data rate). A request waiting for its commit
 * (suspended) is exempt. It also caps connections in all and per client address across every
 * daemon sharing the guard (the ingest listener runs one per core). Owns: the connection table and
 * its reaper thread. Calls libmicrohttpd, metrics. Used by ingest_http and admin_http.
 */
#ifndef SIGFLOW_HTTP_GUARD_H
#define SIGFLOW_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct http_guard http_guard;

/* `name` labels the metrics sigflow_http_deadline_closed_total{listener=NAME} and
   sigflow_http_refused_total{listener=NAME,reason=total|per_client}. NULL: ENOMEM. */
http_guard *http_guard_new(const char *name, int64_t deadline_ms, unsigned max_conns,
                           unsigned max_per_client);
/* After MHD_stop_daemon (no callback runs any more). NULL accepted. */
void http_guard_free(http_guard *g);

/* The accept policy (MHD_start_daemon's apc); cls is the guard. */
enum MHD_Result http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void http_guard_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code);
/* From MHD_OPTION_NOTIFY_COMPLETED: the connection is ready for its next request. */
void http_guard_request_done(http_guard *g, struct MHD_Connection *c);
/* A request that waits for something else (its commit) stops / starts its clock again. */
void http_guard_set_waiting(http_guard *g, struct MHD_Connection *c, bool waiting);

#endif
