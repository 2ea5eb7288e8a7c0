/*
 * slack.c - the "slack" delivery: POSTs each alert (or a digest) as a Block Kit message to a
 * Slack incoming webhook (`url`, a secret: the URL is the credential). 2xx is delivered;
 * 429 (with its Retry-After) and 5xx and network errors are retried through the outbox;
 * any other 4xx (invalid_blocks, no_service, channel_not_found...) is dead-lettered with
 * Slack's error text. Built against sdk/sigflow.h (SDK 1.3: the message model) and libcurl.
 * docs/delivery-slack.md describes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sigflow.h"
#include "slack_blocks.h"
#include "slack_http.h"

#define SLACK_DEFAULT_TEXT "{{title}} {{entity}} ({{score_pct}}%)"

static const sf_host *host;

typedef struct slack {
    char *url; /* the secret */
    char *text;
    size_t max_reasons;
    int64_t timeout_ms, connect_timeout_ms;
    CURL *curl;
} slack;

static sf_status slack_init(const sf_host *h)
{
    host = h;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SF_OK : SF_EFATAL;
}

static void slack_free(slack *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    if (s->url) {
        for (volatile char *p = s->url; *p; p++)
            *p = 0;
        free(s->url);
    }
    free(s->text);
    free(s);
}

static sf_status slack_create(sf_instance *inst, void **state)
{
    const char *url = host->opt_string(inst, "url");
    if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
        host->set_error(inst, "url must be an http(s) incoming-webhook URL");
        return SF_EINVAL;
    }
    slack *s = calloc(1, sizeof *s);
    if (!s)
        return SF_ENOMEM;
    s->url = strdup(url);
    s->text = strdup(host->opt_string(inst, "text"));
    s->max_reasons = (size_t)host->opt_int(inst, "max_reasons");
    s->timeout_ms = host->opt_duration_ms(inst, "timeout");
    s->connect_timeout_ms = host->opt_duration_ms(inst, "connect_timeout");
    if (!s->url || !s->text) {
        slack_free(s);
        return SF_ENOMEM;
    }
    *state = s;
    return SF_OK;
}

static sf_status slack_start(sf_instance *inst, void *state)
{
    slack *s = state;
    if (!s->curl && !(s->curl = curl_easy_init())) {
        host->set_error(inst, "cannot create a curl handle");
        return SF_ENOMEM;
    }
    return SF_OK;
}

static sf_status slack_stop(sf_instance *inst, void *state)
{
    (void)inst;
    (void)state;
    return SF_OK; /* deliver is synchronous and bounded by `timeout` */
}

static void slack_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    slack_free(state);
}

static sf_deliver_result slack_classify(sf_instance *inst, const slack_reply *r,
                                        int64_t *retry_after_ms)
{
    if (r->rc != CURLE_OK) {
        host->set_error(inst, "%s (will retry)", r->curl_error);
        return SF_DELIVER_RETRY;
    }
    if (r->status >= 200 && r->status < 300)
        return SF_DELIVER_OK;
    bool retry = r->status == 429 || r->status >= 500 || r->status == 408;
    host->set_error(inst, "Slack answered HTTP %ld%s: %s", r->status, retry ? " (will retry)" : "",
                    r->body_len ? r->body : "(empty body)");
    if (!retry)
        return SF_DELIVER_FAIL;
    *retry_after_ms = r->retry_after_ms;
    return SF_DELIVER_RETRY;
}

static sf_deliver_result slack_deliver(sf_instance *inst, void *state, const sf_alert *alert,
                                       int64_t *retry_after_ms)
{
    slack *s = state;
    slack_style st = {.max_reasons = s->max_reasons, .text = s->text};
    char *body = slack_blocks(host, inst, alert, &st);
    if (!body)
        return SF_DELIVER_FAIL; /* the same alert would render the same way */
    if (!s->curl && slack_start(inst, s) != SF_OK) {
        free(body);
        return SF_DELIVER_RETRY;
    }
    slack_reply r;
    slack_post(s->curl, s->url, body, s->timeout_ms, s->connect_timeout_ms, &r);
    free(body);
    return slack_classify(inst, &r, retry_after_ms);
}

static const sf_option slack_options[] = {
    {.name = "url",
     .type = SF_OPT_SECRET,
     .flags = SF_OPT_REQUIRED,
     .help = "the incoming-webhook URL (env:NAME or file:/path: the URL is the credential)"},
    {.name = "text",
     .type = SF_OPT_TEMPLATE,
     .default_value = SLACK_DEFAULT_TEXT,
     .help = "the notification text (Slack's `text` fallback), docs/templates.md"},
    {.name = "max_reasons",
     .type = SF_OPT_INT,
     .default_value = "5",
     .flags = SF_OPT_HAS_RANGE,
     .min = 1,
     .max = 50,
     .help = "reasons listed before \"and N more\""},
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
    {0}};

static const sf_plugin slack_plugin = {
    SF_PLUGIN_INIT,
    .min_host_minor = 3, /* the message model, render_as, template options */
    .flags = SF_PLUGIN_DIGEST,
    .name = "slack",
    .version = "1.0.0",
    .description =
        "posts each alert to a Slack incoming webhook as Block Kit, with feedback buttons",
    .kind = SF_KIND_DELIVERY,
    .options = slack_options,
    .init = slack_init,
    .create = slack_create,
    .start = slack_start,
    .stop = slack_stop,
    .destroy = slack_destroy,
    .deliver = slack_deliver,
};

SF_PLUGIN_DEFINE(slack_plugin)
