/*
 * host_request.h - the request half of the host table: what an inbound HTTP request looks like
 * to a connector's request callback (method, path, headers, body). The ingest listener
 * (core/ingest/ingest_http.c) fills one per request; the table's req_* entries read it.
 * Owns nothing (the listener owns the request). Calls libmicrohttpd (header lookup). Used by
 * host.c (the table) and ingest_http.c.
 */
#ifndef SIGFLOW_HOST_REQUEST_H
#define SIGFLOW_HOST_REQUEST_H

#include <stddef.h>

#include "sigflow.h"

/* What a request looks like to the host table's req_* accessors. */
struct sf_http_request {
    const char *method;
    const char *path;
    const char *body;
    size_t body_len;
    void *conn; /* struct MHD_Connection *, for header lookups */
};

const char *host_req_method(const sf_http_request *r);
const char *host_req_path(const sf_http_request *r);
/* Case-insensitive, as HTTP header names are; NULL when absent. */
const char *host_req_header(const sf_http_request *r, const char *name);
const char *host_req_body(const sf_http_request *r, size_t *len);

#endif
