/*
 * host_request.c - the host table's request accessors. See host_request.h.
 */
#include "plugin/host_request.h"

#include <microhttpd.h>

const char *host_req_method(const sf_http_request *r)
{
    return r ? r->method : NULL;
}

const char *host_req_path(const sf_http_request *r)
{
    return r ? r->path : NULL;
}

const char *host_req_header(const sf_http_request *r, const char *name)
{
    if (!r || !r->conn || !name)
        return NULL;
    /* libmicrohttpd compares header names case-insensitively. */
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *host_req_body(const sf_http_request *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r ? r->body : NULL;
}
