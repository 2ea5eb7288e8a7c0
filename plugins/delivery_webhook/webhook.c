/*
 * webhook.c - the "webhook" delivery: POSTs each alert's JSON to a URL with an
 * Idempotency-Key (the alert id) and, given a secret, an HMAC-SHA256 signature header.
 * 2xx is delivered; 408/425/429/5xx and network errors are retried (Retry-After honoured);
 * any other status is a permanent failure. Built against sdk/sigflow.h, libcurl, libcrypto.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sigflow.h"

#define WEBHOOK_SNIPPET_MAX 200             /* bytes of a response body quoted in an error */
#define WEBHOOK_RETRY_AFTER_MAX_MS 86400000 /* a server may not park us for more than a day */
#define WEBHOOK_MAX_ID_LEN 256              /* bytes of an alert id sent as Idempotency-Key */

static const sf_host *host;

typedef struct webhook {
    char *url;
    char *secret;    /* NULL: unsigned */
    bool alert_body; /* body = alert: the replay-shaped alert JSON instead of the message */
    int64_t timeout_ms, connect_timeout_ms;
    CURL *curl; /* one per instance: deliver calls never overlap, so keep-alive is free */
} webhook;

/* What one request brought back. */
typedef struct webhook_reply {
    char body[WEBHOOK_SNIPPET_MAX + 1];
    size_t body_len;
    char retry_after[64];
} webhook_reply;

static sf_status webhook_init(const sf_host *h)
{
    host = h;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SF_OK : SF_EFATAL;
}

static char *webhook_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void webhook_free(webhook *w)
{
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    free(w->url);
    if (w->secret) {
        /* volatile so the compiler keeps the wipe of a dead buffer */
        for (volatile char *p = w->secret; *p; p++)
            *p = 0;
        free(w->secret);
    }
    free(w);
}

static sf_status webhook_create(sf_instance *inst, void **state)
{
    const char *url = host->opt_string(inst, "url");
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        host->set_error(inst, "url must start with http:// or https://");
        return SF_EINVAL;
    }
    webhook *w = calloc(1, sizeof *w);
    if (!w)
        return SF_ENOMEM;
    w->url = webhook_strdup(url);
    const char *secret = host->opt_string(inst, "secret");
    if (secret && *secret)
        w->secret = webhook_strdup(secret);
    const char *shape = host->opt_string(inst, "body");
    w->alert_body = shape && strcmp(shape, "alert") == 0;
    w->timeout_ms = host->opt_duration_ms(inst, "timeout");
    w->connect_timeout_ms = host->opt_duration_ms(inst, "connect_timeout");
    if (!w->url || (secret && *secret && !w->secret)) {
        webhook_free(w);
        return SF_ENOMEM;
    }
    *state = w;
    return SF_OK;
}

static sf_status webhook_start(sf_instance *inst, void *state)
{
    webhook *w = state;
    if (!w->curl && !(w->curl = curl_easy_init())) {
        host->set_error(inst, "cannot create a curl handle");
        return SF_ENOMEM;
    }
    return SF_OK;
}

static sf_status webhook_stop(sf_instance *inst, void *state)
{
    (void)inst;
    (void)state;
    return SF_OK; /* deliver is synchronous and bounded by timeout: nothing runs after it */
}

static void webhook_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    webhook_free(state);
}

/* ---- signing ---- */

/* "t=<unix>,v1=<hex hmac-sha256(secret, "<unix>.<body>")>" into out. */
static sf_status webhook_sign(const char *secret, const char *body, time_t now, char *out,
                              size_t outlen)
{
    char ts[32];
    int tlen = snprintf(ts, sizeof ts, "%lld", (long long)now);
    size_t blen = strlen(body);
    unsigned char *msg = malloc((size_t)tlen + 1 + blen);
    if (!msg)
        return SF_ENOMEM;
    memcpy(msg, ts, (size_t)tlen);
    msg[tlen] = '.';
    memcpy(msg + tlen + 1, body, blen);
    uint8_t mac[32];
    sf_status st = host->hmac_sha256(secret, strlen(secret), msg, (size_t)tlen + 1 + blen, mac);
    free(msg);
    if (st != SF_OK)
        return st;
    char hex[2 * sizeof mac + 1];
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    snprintf(out, outlen, "X-Sigflow-Signature: t=%s,v1=%s", ts, hex);
    return SF_OK;
}

/* ---- one request ---- */

static size_t webhook_on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    webhook_reply *r = ctx;
    size_t n = size * nmemb, room = WEBHOOK_SNIPPET_MAX - r->body_len;
    size_t take = n < room ? n : room;
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return n; /* the rest is read and dropped: only a snippet is ever shown */
}

static size_t webhook_on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    webhook_reply *r = ctx;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1, len = 0;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        while (i < n && data[i] != '\r' && data[i] != '\n' && len + 1 < sizeof r->retry_after)
            r->retry_after[len++] = data[i++];
        r->retry_after[len] = '\0';
    }
    return n;
}

/* Retry-After as delay-seconds or an HTTP date; 0 when absent or unreadable. */
static int64_t webhook_retry_after_ms(const char *v, time_t now)
{
    int64_t ms = 0;
    if (!*v)
        return 0;
    if (isdigit((unsigned char)*v)) {
        char *end = NULL;
        long long s = strtoll(v, &end, 10);
        if (*end == '\0' && s >= 0)
            ms = s > WEBHOOK_RETRY_AFTER_MAX_MS / 1000 ? WEBHOOK_RETRY_AFTER_MAX_MS : s * 1000;
    } else {
        time_t at = curl_getdate(v, NULL);
        if (at > now)
            ms = (int64_t)(at - now) * 1000;
    }
    return ms > WEBHOOK_RETRY_AFTER_MAX_MS ? WEBHOOK_RETRY_AFTER_MAX_MS : ms;
}

/* The body snippet made printable for a one-line log. */
static void webhook_clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

static sf_deliver_result webhook_classify(sf_instance *inst, long status, webhook_reply *r,
                                          time_t now, int64_t *retry_after_ms)
{
    webhook_clean(r->body);
    if (status >= 200 && status < 300)
        return SF_DELIVER_OK;
    bool retry = status == 408 || status == 425 || status == 429 || status >= 500;
    host->set_error(inst, "HTTP %ld%s: %s", status, retry ? " (will retry)" : "",
                    r->body_len ? r->body : "(empty body)");
    if (!retry)
        return SF_DELIVER_FAIL;
    *retry_after_ms = webhook_retry_after_ms(r->retry_after, now);
    return SF_DELIVER_RETRY;
}

/* The id goes into a header line: no control characters (no header injection), bounded. */
static bool webhook_header_safe(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if ((unsigned char)id[n] < 0x20 || id[n] == 0x7f)
            return false;
    return n > 0 && n <= WEBHOOK_MAX_ID_LEN;
}

static struct curl_slist *webhook_headers(webhook *w, const char *id, const char *body, time_t now)
{
    char line[512];
    struct curl_slist *h = NULL, *next;
    const char *fixed[] = {"Content-Type: application/json",
                           "Expect:", "User-Agent: sigflow-webhook/1"};
    for (size_t i = 0; i < 3; i++) {
        if (!(next = curl_slist_append(h, fixed[i])))
            goto fail;
        h = next;
    }
    snprintf(line, sizeof line, "Idempotency-Key: %s", id);
    if (!(next = curl_slist_append(h, line)))
        goto fail;
    h = next;
    if (w->secret) {
        if (webhook_sign(w->secret, body, now, line, sizeof line) != SF_OK ||
            !(next = curl_slist_append(h, line)))
            goto fail;
        h = next;
    }
    return h;
fail:
    curl_slist_free_all(h);
    return NULL;
}

static sf_deliver_result webhook_deliver(sf_instance *inst, void *state, const sf_alert *alert,
                                         int64_t *retry_after_ms)
{
    webhook *w = state;
    webhook_reply reply = {0};
    char curl_err[CURL_ERROR_SIZE] = "";
    /* The message model (title, attrs, rounded score, contributing reasons, links, feedback
       URLs) on a host that has it; the alert JSON on request or on an older host. */
    const char *body = !w->alert_body && SF_HOST_HAS(host, msg_json) ? host->msg_json(alert)
                                                                     : host->alert_json(alert);
    const char *id = host->alert_id(alert);
    time_t now = time(NULL);
    if (!body || !id || !webhook_header_safe(id)) {
        host->set_error(inst, "alert has no JSON or an id unfit for a header");
        return SF_DELIVER_FAIL;
    }
    if (!w->curl && webhook_start(inst, w) != SF_OK)
        return SF_DELIVER_RETRY;
    struct curl_slist *headers = webhook_headers(w, id, body, now);
    if (!headers) {
        host->set_error(inst, "cannot build request headers");
        return SF_DELIVER_RETRY;
    }
    CURL *c = w->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)w->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, webhook_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, webhook_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        /* The error buffer can name the host but never the secret or the body. */
        host->set_error(inst, "%s%s (will retry)",
                        rc == CURLE_OPERATION_TIMEDOUT ? "timeout: " : "",
                        curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return SF_DELIVER_RETRY;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return webhook_classify(inst, status, &reply, now, retry_after_ms);
}

static const char *const webhook_bodies[] = {"message", "alert", NULL};

static const sf_option webhook_options[] = {
    {.name = "url",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "http(s) URL the alert JSON is POSTed to"},
    {.name = "secret",
     .type = SF_OPT_SECRET,
     .help = "HMAC-SHA256 key: adds X-Sigflow-Signature: t=<unix>,v1=<hex of t.body>"},
    {.name = "timeout",
     .type = SF_OPT_DURATION,
     .default_value = "10s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 300000,
     .help = "whole request deadline; a timeout is retried"},
    {.name = "connect_timeout",
     .type = SF_OPT_DURATION,
     .default_value = "3s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 60000,
     .help = "TCP/TLS connect deadline"},
    {.name = "body",
     .type = SF_OPT_ENUM,
     .default_value = "message",
     .choices = webhook_bodies,
     .help = "message: the message model JSON (docs/templates.md); alert: the alert as "
             "`sigflow replay` prints it"},
    {0}};

static const sf_plugin webhook_plugin = {
    SF_PLUGIN_INIT,
    .min_host_minor = 1, /* host->hmac_sha256 */
    .name = "webhook",
    .version = "1.0.0",
    .description = "POST each alert as JSON to a URL, signed, idempotent, with retries",
    .kind = SF_KIND_DELIVERY,
    .options = webhook_options,
    .init = webhook_init,
    .create = webhook_create,
    .start = webhook_start,
    .stop = webhook_stop,
    .destroy = webhook_destroy,
    .deliver = webhook_deliver,
};

SF_PLUGIN_DEFINE(webhook_plugin)
