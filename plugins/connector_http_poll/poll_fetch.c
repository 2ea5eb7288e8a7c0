#include "poll_fetch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "poll_page.h"

typedef struct fetch_ctx {
    const poll_request *rq;
    poll_response *r;
    size_t cap;
    bool too_large;
} fetch_ctx;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    fetch_ctx *c = arg;
    size_t n = size * nmemb;
    if (c->r->len + n > POLL_MAX_BODY) {
        c->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (c->r->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < c->r->len + n + 1)
            cap *= 2;
        char *b = realloc(c->r->body, cap);
        if (!b)
            return 0;
        c->r->body = b;
        c->cap = cap;
    }
    memcpy(c->r->body + c->r->len, data, n);
    c->r->len += n;
    c->r->body[c->r->len] = '\0';
    return n;
}

/* "Name: value\r\n" -> value into dst when the name matches (case-insensitive). */
static void header_value(const char *line, size_t n, const char *name, char *dst)
{
    size_t l = strlen(name);
    if (n <= l || strncasecmp(line, name, l) != 0 || line[l] != ':')
        return;
    const char *v = line + l + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v) > POLL_MAX_HEADER_VALUE ? 0 : (size_t)(end - v);
    memcpy(dst, v, len); /* an over-long value is dropped, not cut */
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    fetch_ctx *c = arg;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after a 100) */
        c->r->etag[0] = c->r->retry_after[0] = '\0';
        return n;
    }
    header_value(data, n, "ETag", c->r->etag);
    header_value(data, n, "Retry-After", c->r->retry_after);
    return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    fetch_ctx *c = arg;
    return c->rq->cancelled && c->rq->cancelled(c->rq->ctx) ? 1 : 0;
}

static poll_outcome classify(CURLcode rc, const fetch_ctx *c)
{
    switch (rc) {
    case CURLE_OK:
        return FETCH_RESPONSE;
    case CURLE_OPERATION_TIMEDOUT:
        return FETCH_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return FETCH_CANCELLED;
    case CURLE_WRITE_ERROR:
        return c->too_large ? FETCH_TOO_LARGE : FETCH_FAILED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return FETCH_NETWORK;
    default:
        return FETCH_FAILED;
    }
}

void poll_fetch(CURL *curl, const poll_request *rq, poll_response *out)
{
    memset(out, 0, sizeof *out);
    fetch_ctx c = {.rq = rq, .r = out};
    struct curl_slist *hdrs = NULL, *t;
    for (const struct curl_slist *h = rq->headers; h; h = h->next) {
        if (!(t = curl_slist_append(hdrs, h->data)))
            goto oom;
        hdrs = t;
    }
    if (rq->if_none_match && *rq->if_none_match) {
        char line[POLL_MAX_HEADER_VALUE + 32];
        snprintf(line, sizeof line, "If-None-Match: %s", rq->if_none_match);
        if (!(t = curl_slist_append(hdrs, line)))
            goto oom;
        hdrs = t;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)rq->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sigflow-http-poll/1");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &c);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &c);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, out->error);
    CURLcode rc = curl_easy_perform(curl);
    out->outcome = classify(rc, &c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    else if (!out->error[0])
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    if (out->outcome == FETCH_RESPONSE && !out->body && !(out->body = calloc(1, 1)))
        out->outcome = FETCH_FAILED;
    return;
oom:
    curl_slist_free_all(hdrs);
    out->outcome = FETCH_FAILED;
    snprintf(out->error, sizeof out->error, "out of memory");
}

void poll_response_free(poll_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

const char *poll_outcome_text(poll_outcome o)
{
    switch (o) {
    case FETCH_RESPONSE:
        return "answered";
    case FETCH_TIMEOUT:
        return "timed out";
    case FETCH_NETWORK:
        return "network error";
    case FETCH_TOO_LARGE:
        return "response larger than 16 MiB";
    case FETCH_CANCELLED:
        return "cancelled (stopping)";
    case FETCH_FAILED:
        break;
    }
    return "request failed";
}
