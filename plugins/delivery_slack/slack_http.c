/*
 * slack_http.c - the POST and the answer: body snippet, Retry-After in seconds (Slack sends
 * delay-seconds), curl errors with the URL kept out of them.
 */
#include "slack_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLACK_RETRY_AFTER_MAX_MS 3600000 /* Slack may not park a delivery for more than 1h */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    slack_reply *r = ctx;
    size_t n = size * nmemb, room = SLACK_SNIPPET_MAX - r->body_len;
    size_t take = n < room ? n : room;
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    slack_reply *r = ctx;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        long long s = 0;
        for (; i < n && isdigit((unsigned char)data[i]) && s < SLACK_RETRY_AFTER_MAX_MS; i++)
            s = s * 10 + (data[i] - '0');
        r->retry_after_ms =
            s * 1000 > SLACK_RETRY_AFTER_MAX_MS ? SLACK_RETRY_AFTER_MAX_MS : s * 1000;
    }
    return n;
}

void slack_post(CURL *c, const char *url, const char *body, int64_t timeout_ms,
                int64_t connect_timeout_ms, slack_reply *r)
{
    memset(r, 0, sizeof *r);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
    if (!h2) {
        curl_slist_free_all(h);
        r->rc = CURLE_OUT_OF_MEMORY;
        return;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h2);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sigflow-slack/1");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
    r->rc = curl_easy_perform(c);
    curl_slist_free_all(h2);
    if (r->rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else /* the error buffer may quote the URL, which is the secret: keep curl's generic text */
        strncpy(r->curl_error, curl_easy_strerror(r->rc), sizeof r->curl_error - 1);
    for (char *p = r->body; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}
