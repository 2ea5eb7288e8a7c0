/*
 * slack_http.h - one POST of a JSON body to a Slack incoming webhook with libcurl, and what
 * came back: status, Slack's error text, Retry-After. Owns: nothing but the call.
 * Used by slack.c.
 */
#ifndef SLACK_HTTP_H
#define SLACK_HTTP_H

#include <stdint.h>

#include <curl/curl.h>

#define SLACK_SNIPPET_MAX 200 /* bytes of Slack's answer quoted in an error */

typedef struct slack_reply {
    long status;
    char body[SLACK_SNIPPET_MAX + 1];
    size_t body_len;
    int64_t retry_after_ms; /* 0 when absent */
    char curl_error[CURL_ERROR_SIZE];
    CURLcode rc;
} slack_reply;

/* POST body to url; r filled in. The URL (a credential) never appears in r->curl_error. */
void slack_post(CURL *c, const char *url, const char *body, int64_t timeout_ms,
                int64_t connect_timeout_ms, slack_reply *r);

#endif
