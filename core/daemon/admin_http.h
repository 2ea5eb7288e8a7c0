/*
 * admin_http.h - the operator's read-only HTTP endpoints (libmicrohttpd, loopback by
 * default): GET /healthz (the process answers), GET /readyz (recovery done, instances
 * started: 200, else 503), GET /metrics (Prometheus text of core/base/metrics.c), and routes
 * /v1/... to the admin API (admin_api.h). Owns: its MHD daemon. Calls metrics, netaddr,
 * admin_api. Used by the runtime.
 */
#ifndef SIGFLOW_ADMIN_HTTP_H
#define SIGFLOW_ADMIN_HTTP_H

#include <stdatomic.h>
#include <stddef.h>

#include "daemon/admin_api.h"

typedef struct admin_http admin_http;

/*
 * Listen on "host:port"; `ready` (borrowed) is read by /readyz; `api` (borrowed, may be NULL:
 * /v1 then answers 503) serves /v1. NULL with err on failure.
 */
admin_http *admin_http_start(const char *addr, const atomic_bool *ready, admin_api *api, char *err,
                             size_t errlen);
void admin_http_stop(admin_http *h);

#endif
