/*
 * http_guard.h - slow-client protection for a libmicrohttpd listener: a whole-request
 * deadline. libmicrohttpd's own timeout is an idle timeout, which a client sending one header
 * byte every few seconds never meets; the guard times each request from the moment the
 * connection is ready for it (accepted, or the previous answer sent) and shuts the socket of
 * any request not complete by then, so it cannot hold a connection slot for longer (with
 * SF_MAX_HTTP_BODY that is also a minimum data rate). A request waiting for its commit
 * (suspended) is exempt. Owns: the connection table and its reaper thread. Calls
 * libmicrohttpd, metrics. Used by ingest_http and admin_http.
 */
#ifndef SF_HTTP_GUARD_H
#define SF_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct http_guard http_guard;

/* `name` labels the metric sigflow_http_deadline_closed_total{listener=NAME}. NULL: ENOMEM. */
http_guard *http_guard_new(const char *name, int64_t deadline_ms);
/* After MHD_stop_daemon (no callback runs any more). NULL accepted. */
void http_guard_free(http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void http_guard_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code);
/* From MHD_OPTION_NOTIFY_COMPLETED: the connection is ready for its next request. */
void http_guard_request_done(http_guard *g, struct MHD_Connection *c);
/* A request that waits for something else (its commit) stops / starts its clock again. */
void http_guard_set_waiting(http_guard *g, struct MHD_Connection *c, bool waiting);

#endif
