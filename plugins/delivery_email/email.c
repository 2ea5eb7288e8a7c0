/*
 * email.c - the "email" delivery: each alert (or digest) as a multipart/alternative e-mail
 * (text and HTML from templates) over SMTP with libcurl. `url = smtp://host:port` requires
 * STARTTLS unless `tls = off`; `smtps://` is TLS from the first byte; `user`/`password` are
 * secrets. The recipient is the `to` template ({{attr.owner_email}}), else `fallback_to`.
 * An SMTP 5xx answer is permanent (dead-lettered with the server's words); 4xx and network
 * errors are retried through the outbox. Built against sdk/sigflow.h (SDK 1.3) and libcurl.
 * docs/delivery-email.md describes it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "email_mime.h"
#include "sigflow.h"

#define EMAIL_ADDR_MAX 320 /* RFC 5321: 64 local + @ + 255 domain */

#define EMAIL_SUBJECT "[sigflow] {{title}} {{entity}} ({{score_pct}}%)"
#define EMAIL_DIGEST_SUBJECT "[sigflow] {{count}} alerts: {{title}}"
#define EMAIL_TEXT                                                                                 \
    "{{title}}\n\n{{entity}} scored {{score_pct}}%.\n{{#attrs}}{{name}}: {{value}}\n{{/attrs}}"    \
    "\nWhy:\n{{#reasons}}- {{text}} (+{{contribution}})\n{{/reasons}}"                             \
    "{{#links}}\n{{name}}: {{url}}{{/links}}\n"                                                    \
    "{{#feedback.confirm}}\nWas this alert right?\nRight: {{feedback.confirm}}\n"                  \
    "Wrong: {{feedback.false_positive}}\n{{/feedback.confirm}}"
#define EMAIL_DIGEST_TEXT                                                                          \
    "{{count}} alerts: {{title}}\n\n{{#alerts}}- {{entity}} ({{score_pct}}%): "                    \
    "{{#reasons}}{{text}}; {{/reasons}}\n{{/alerts}}"
#define EMAIL_STYLE_CELL "padding:4px 12px 4px 0;color:#555"
#define EMAIL_HTML                                                                                 \
    "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\">"                 \
    "<h2 style=\"margin-bottom:4px\">{{title}}</h2>"                                               \
    "<p style=\"font-size:16px\"><b>{{entity}}</b> scored <b>{{score_pct}}%</b></p>"               \
    "<table>{{#attrs}}<tr><td style=\"" EMAIL_STYLE_CELL "\">{{name}}</td><td>{{value}}</td></tr>" \
    "{{/attrs}}</table><h3>Why</h3><ul>{{#reasons}}<li>{{text}} "                                  \
    "<span style=\"color:#888\">(+{{contribution}})</span></li>{{/reasons}}</ul>"                  \
    "{{#links}}<p><a href=\"{{url}}\">{{name}}</a></p>{{/links}}"                                  \
    "{{#feedback.confirm}}<p>Was this alert right? "                                               \
    "<a href=\"{{feedback.confirm}}\" style=\"padding:6px 14px;background:#2e7d32;color:#fff;"     \
    "text-decoration:none;border-radius:4px\">Right</a> "                                          \
    "<a href=\"{{feedback.false_positive}}\" style=\"padding:6px 14px;background:#c62828;"         \
    "color:#fff;text-decoration:none;border-radius:4px\">Wrong</a></p>{{/feedback.confirm}}"       \
    "<p style=\"color:#888;font-size:12px\">sigflow alert {{alert_id}} at {{time}}</p>"            \
    "</body></html>"
#define EMAIL_DIGEST_HTML                                                                          \
    "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\">"                 \
    "<h2>{{count}} alerts: {{title}}</h2><ul>{{#alerts}}<li><b>{{entity}}</b> {{score_pct}}%"      \
    "{{#reasons}} &middot; {{text}}{{/reasons}}{{#feedback.false_positive}} "                      \
    "<a href=\"{{feedback.false_positive}}\">Wrong?</a>{{/feedback.false_positive}}</li>"          \
    "{{/alerts}}</ul></body></html>"

static const sf_host *host;

typedef struct email {
    char *url, *user, *password, *from, *fallback_to;
    char from_addr[EMAIL_ADDR_MAX + 1];
    const char *domain; /* into from_addr: Message-IDs are <alert-id@domain> */
    char *to, *subject, *text, *html;
    bool custom_subject, custom_text, custom_html, tls_off;
    int64_t timeout_ms, connect_timeout_ms;
    CURL *curl;
} email;

static sf_status email_init(const sf_host *h)
{
    host = h;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SF_OK : SF_EFATAL;
}

static void wipe(char *s)
{
    if (!s)
        return;
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

static void email_free(email *e)
{
    if (!e)
        return;
    if (e->curl)
        curl_easy_cleanup(e->curl);
    wipe(e->password);
    wipe(e->user);
    free(e->url), free(e->from), free(e->fallback_to);
    free(e->to), free(e->subject), free(e->text), free(e->html);
    free(e);
}

static char *dup_opt(sf_instance *inst, const char *name, bool *ok)
{
    const char *v = host->opt_string(inst, name);
    char *d = v ? strdup(v) : NULL;
    if (v && !d)
        *ok = false;
    return d;
}

static sf_status email_check(sf_instance *inst, email *e)
{
    if (strncmp(e->url, "smtp://", 7) != 0 && strncmp(e->url, "smtps://", 8) != 0) {
        host->set_error(inst, "url must start with smtp:// or smtps://");
        return SF_EINVAL;
    }
    if (!email_address(e->from, e->from_addr, sizeof e->from_addr)) {
        host->set_error(inst, "from `%s` holds no e-mail address", e->from);
        return SF_EINVAL;
    }
    char addr[EMAIL_ADDR_MAX + 1];
    if (e->fallback_to && !email_address(e->fallback_to, addr, sizeof addr)) {
        host->set_error(inst, "fallback_to `%s` is not an e-mail address", e->fallback_to);
        return SF_EINVAL;
    }
    e->domain = strchr(e->from_addr, '@') + 1;
    return SF_OK;
}

static sf_status email_create(sf_instance *inst, void **state)
{
    email *e = calloc(1, sizeof *e);
    bool ok = e != NULL;
    if (!e)
        return SF_ENOMEM;
    e->url = dup_opt(inst, "url", &ok);
    e->user = dup_opt(inst, "user", &ok);
    e->password = dup_opt(inst, "password", &ok);
    e->from = dup_opt(inst, "from", &ok);
    e->fallback_to = dup_opt(inst, "fallback_to", &ok);
    e->to = dup_opt(inst, "to", &ok);
    e->subject = dup_opt(inst, "subject", &ok);
    e->text = dup_opt(inst, "text", &ok);
    e->html = dup_opt(inst, "html", &ok);
    e->custom_subject = host->opt_is_set(inst, "subject");
    e->custom_text = host->opt_is_set(inst, "text");
    e->custom_html = host->opt_is_set(inst, "html");
    const char *tls = host->opt_string(inst, "tls");
    e->tls_off = tls && strcmp(tls, "off") == 0;
    e->timeout_ms = host->opt_duration_ms(inst, "timeout");
    e->connect_timeout_ms = host->opt_duration_ms(inst, "connect_timeout");
    sf_status st = !ok || !e->url || !e->from || !e->to ? SF_ENOMEM : email_check(inst, e);
    if (st != SF_OK) {
        email_free(e);
        return st;
    }
    *state = e;
    return SF_OK;
}

static sf_status email_start(sf_instance *inst, void *state)
{
    email *e = state;
    if (!e->curl && !(e->curl = curl_easy_init())) {
        host->set_error(inst, "cannot create a curl handle");
        return SF_ENOMEM;
    }
    return SF_OK;
}

static sf_status email_stop(sf_instance *inst, void *state)
{
    (void)inst;
    (void)state;
    return SF_OK; /* deliver is synchronous and bounded by `timeout` */
}

static void email_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    email_free(state);
}

/* ---- one message ---- */

/* The server's first refusal ("550 5.1.1 <x>: no such mailbox"), for the error text. */
typedef struct answer {
    char line[256];
} answer;

static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ctx)
{
    (void)c;
    answer *a = ctx;
    if (type != CURLINFO_HEADER_IN || size < 4 || data[0] < '4' || data[0] > '5' || a->line[0])
        return 0;
    size_t n = size < sizeof a->line - 1 ? size : sizeof a->line - 1;
    memcpy(a->line, data, n);
    while (n && (a->line[n - 1] == '\n' || a->line[n - 1] == '\r'))
        n--;
    a->line[n] = '\0';
    for (char *p = a->line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return 0;
}

typedef struct upload {
    const char *s;
    size_t len, off;
} upload;

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
    upload *u = ctx;
    size_t n = size * nmemb, left = u->len - u->off;
    size_t take = n < left ? n : left;
    memcpy(buf, u->s + u->off, take);
    u->off += take;
    return take;
}

/* The recipient: the rendered `to`, else fallback_to. false (set_error) when neither fits. */
static bool recipient(sf_instance *inst, email *e, const sf_alert *a, char *out, size_t len)
{
    char *to = host->render_as(inst, a, e->to, SF_ESCAPE_PLAIN);
    bool ok = to && email_address(to, out, len);
    if (!ok && e->fallback_to)
        ok = email_address(e->fallback_to, out, len);
    if (!ok)
        host->set_error(inst, "no recipient: `to` gave \"%.80s\" and no fallback_to is set",
                        to ? to : "");
    if (to)
        host->free(to);
    return ok;
}

static sf_deliver_result email_send(sf_instance *inst, email *e, const char *rcpt, const char *msg)
{
    char from[EMAIL_ADDR_MAX + 3], to[EMAIL_ADDR_MAX + 3], err[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", e->from_addr);
    snprintf(to, sizeof to, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, to);
    if (!rcpts) {
        host->set_error(inst, "out of memory");
        return SF_DELIVER_RETRY;
    }
    upload u = {.s = msg, .len = strlen(msg)};
    CURL *c = e->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, e->tls_off ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (e->user)
        curl_easy_setopt(c, CURLOPT_USERNAME, e->user);
    if (e->password)
        curl_easy_setopt(c, CURLOPT_PASSWORD, e->password);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    answer last = {{0}};
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &last);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L); /* feeds on_debug; nothing is printed */
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpts);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK)
        return SF_DELIVER_OK;
    /* curl's error text names the SMTP step and the server's code, never the password */
    bool permanent = code >= 500 && code < 600;
    host->set_error(inst, "SMTP %ld: %s%s%s%s", code, err[0] ? err : curl_easy_strerror(rc),
                    last.line[0] ? " (server: " : "", last.line, last.line[0] ? ")" : "");
    if (!permanent)
        host->log(inst, SF_LOG_DEBUG, "temporary SMTP failure %ld: will retry", code);
    return permanent ? SF_DELIVER_FAIL : SF_DELIVER_RETRY;
}

static char *render(sf_instance *inst, const sf_alert *a, const char *custom, bool is_custom,
                    const char *one, const char *digest, sf_escape esc)
{
    const char *t = is_custom ? custom : host->msg_item_count(a) ? digest : one;
    return host->render_as(inst, a, t, esc);
}

static sf_deliver_result email_deliver(sf_instance *inst, void *state, const sf_alert *alert,
                                       int64_t *retry_after_ms)
{
    (void)retry_after_ms; /* SMTP has no Retry-After: the host's backoff */
    email *e = state;
    char rcpt[EMAIL_ADDR_MAX + 1], mid[512];
    if (!recipient(inst, e, alert, rcpt, sizeof rcpt))
        return SF_DELIVER_FAIL;
    char *subject = render(inst, alert, e->subject, e->custom_subject, EMAIL_SUBJECT,
                           EMAIL_DIGEST_SUBJECT, SF_ESCAPE_PLAIN);
    char *text = render(inst, alert, e->text, e->custom_text, EMAIL_TEXT, EMAIL_DIGEST_TEXT,
                        SF_ESCAPE_PLAIN);
    char *html =
        render(inst, alert, e->html, e->custom_html, EMAIL_HTML, EMAIL_DIGEST_HTML, SF_ESCAPE_HTML);
    snprintf(mid, sizeof mid, "%s@%s", host->alert_id(alert), e->domain);
    email_parts p = {.from = e->from,
                     .to = rcpt,
                     .subject = subject,
                     .message_id = mid,
                     .text = text,
                     .html = html,
                     .date = time(NULL)};
    char *msg = subject && text && html ? email_mime_build(&p) : NULL;
    sf_deliver_result r = SF_DELIVER_FAIL; /* a template that fails fails every time */
    if (msg && (e->curl || email_start(inst, e) == SF_OK))
        r = email_send(inst, e, rcpt, msg);
    else if (msg)
        r = SF_DELIVER_RETRY;
    free(msg);
    host->free(subject), host->free(text), host->free(html);
    return r;
}

static const char *const email_tls[] = {"required", "off", NULL};

static const sf_option email_options[] = {
    {.name = "url",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "smtp://host:port (STARTTLS) or smtps://host:port (TLS)"},
    {.name = "tls",
     .type = SF_OPT_ENUM,
     .default_value = "required",
     .choices = email_tls,
     .help =
         "required: refuse to send without STARTTLS on smtp://; off: plain SMTP (local relays)"},
    {.name = "user", .type = SF_OPT_SECRET, .help = "SMTP user (env:NAME or file:/path)"},
    {.name = "password", .type = SF_OPT_SECRET, .help = "SMTP password (env:NAME or file:/path)"},
    {.name = "from",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "sender: addr or \"Name <addr>\"; its domain ends every Message-ID"},
    {.name = "to",
     .type = SF_OPT_TEMPLATE,
     .flags = SF_OPT_REQUIRED,
     .help = "recipient, a template: {{attr.owner_email}}"},
    {.name = "fallback_to",
     .type = SF_OPT_STRING,
     .help = "recipient when `to` renders no address"},
    {.name = "subject",
     .type = SF_OPT_TEMPLATE,
     .default_value = EMAIL_SUBJECT,
     .help = "subject template (RFC 2047-encoded when not ASCII)"},
    {.name = "text",
     .type = SF_OPT_TEMPLATE,
     .default_value = EMAIL_TEXT,
     .help = "text/plain part template"},
    {.name = "html",
     .type = SF_OPT_TEMPLATE,
     .default_value = EMAIL_HTML,
     .help = "text/html part template (values HTML-escaped)"},
    {.name = "timeout",
     .type = SF_OPT_DURATION,
     .default_value = "30s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 300000,
     .help = "whole SMTP session deadline; a timeout is retried"},
    {.name = "connect_timeout",
     .type = SF_OPT_DURATION,
     .default_value = "5s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 60000,
     .help = "TCP/TLS connect deadline"},
    {0}};

static const sf_plugin email_plugin = {
    SF_PLUGIN_INIT,
    .min_host_minor = 3, /* the message model, render_as, template options */
    .flags = SF_PLUGIN_DIGEST,
    .name = "email",
    .version = "1.0.0",
    .description =
        "sends each alert as a text+HTML e-mail over SMTP (STARTTLS), with feedback links",
    .kind = SF_KIND_DELIVERY,
    .options = email_options,
    .init = email_init,
    .create = email_create,
    .start = email_start,
    .stop = email_stop,
    .destroy = email_destroy,
    .deliver = email_deliver,
};

SF_PLUGIN_DEFINE(email_plugin)
