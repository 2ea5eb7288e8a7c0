/*
 * admin_http.h - the operator's read-only HTTP endpoints (libmicrohttpd, loopback by
 * default): GET /healthz (the process answers), GET /readyz (recovery done, instances
 * started: 200, else 503), GET /metrics (Prometheus text of core/base/metrics.c). Owns: its MHD
 * daemon. Calls metrics, netaddr. Used by the runtime.
 */
#ifndef SF_ADMIN_HTTP_H
#define SF_ADMIN_HTTP_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct admin_http admin_http;

/* Listen on "host:port"; `ready` (borrowed) is read by /readyz. NULL with err on failure. */
admin_http *admin_http_start(const char *addr, const atomic_bool *ready, char *err, size_t errlen);
void admin_http_stop(admin_http *h);

#endif
