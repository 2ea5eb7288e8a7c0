/*
 * poll_fetch.h - one bounded GET of the `http_poll` connector over libcurl: the body (at most
 * POLL_MAX_BODY bytes), the status, and the ETag and Retry-After headers; a deadline for the
 * whole transfer; cancelled within a fraction of a second when the instance stops; no
 * redirects followed, http and https only. Owns: the response buffers. Calls libcurl.
 * Used by connector_http_poll.c.
 */
#ifndef POLL_FETCH_H
#define POLL_FETCH_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLL_MAX_HEADER_VALUE 512 /* bytes kept of an ETag or Retry-After value */

typedef enum poll_outcome {
    FETCH_RESPONSE = 0, /* an HTTP answer: see status */
    FETCH_TIMEOUT,      /* no complete answer within the timeout */
    FETCH_NETWORK,      /* DNS, connection refused/reset, TLS */
    FETCH_TOO_LARGE,    /* the body passed POLL_MAX_BODY */
    FETCH_CANCELLED,    /* the instance is stopping */
    FETCH_FAILED        /* anything else libcurl refused */
} poll_outcome;

typedef struct poll_request {
    const char *url;
    const struct curl_slist *headers; /* fixed headers (auth, headers.*); may be NULL */
    const char *if_none_match;        /* an ETag to send as If-None-Match; may be NULL */
    int64_t timeout_ms;
    bool (*cancelled)(void *ctx);
    void *ctx;
} poll_request;

typedef struct poll_response {
    poll_outcome outcome;
    long status;
    char *body; /* NUL-terminated; len bytes */
    size_t len;
    char etag[POLL_MAX_HEADER_VALUE + 1];
    char retry_after[POLL_MAX_HEADER_VALUE + 1];
    char error[CURL_ERROR_SIZE]; /* libcurl's words for a failed transfer */
} poll_response;

/* GET rq->url on `curl` (reused between calls for keep-alive). Fills *out; always returns
   with out->outcome set. Free with poll_response_free. */
void poll_fetch(CURL *curl, const poll_request *rq, poll_response *out);
void poll_response_free(poll_response *r);
/* The outcome in a few words, for a log line. */
const char *poll_outcome_text(poll_outcome o);

#endif
