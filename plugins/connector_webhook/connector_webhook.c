/*
 * connector_webhook.c - the `webhook` connector: events pushed to sigflow over HTTP.
 * The core's ingest listener owns the socket, the limits and the back-pressure answers; this
 * plugin checks the signature (none, sigflow, stripe or a generic hmac-sha256 header), maps each
 * JSON object with the instance's map.* keys (host->map_json) and emits. Calls only the SDK host
 * table and webhook_signature.c (libcrypto). Loaded by the core like any third-party plugin.
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sigflow.h"
#include "webhook_signature.h"

#define WEBHOOK_MAX_PATH 256       /* bytes of the `path` option (the core's route limit) */
#define WEBHOOK_MAX_BATCH 10000    /* JSON objects in one NDJSON request */
#define WEBHOOK_SMALL_BATCH 16     /* documents of a request mapped without an allocation */
#define WEBHOOK_MAX_HEADER_NAME 64 /* bytes of `signature_header` */

typedef enum webhook_scheme {
    SCHEME_NONE,
    SCHEME_SIGFLOW,
    SCHEME_STRIPE,
    SCHEME_HMAC
} webhook_scheme;

typedef struct webhook {
    webhook_scheme scheme;
    /* signature = hmac-sha256: which header, how the MAC is written, what leads it */
    char header[WEBHOOK_MAX_HEADER_NAME + 1];
    char prefix[WEBHOOK_SIG_MAX_PREFIX + 1];
    webhook_sig_encoding encoding;
    char *secret; /* resolved; wiped on destroy, never logged */
    size_t secret_len;
    int64_t tolerance_s;
} webhook;

/* One JSON document of the body, and the line it starts on (for error texts). */
typedef struct doc_span {
    const char *p;
    size_t len;
    size_t line;
} doc_span;

static const sf_host *H;

/*
 * Answers are built per thread: the host copies resp->body after the callback returns, on the
 * same thread, while another request of this instance may already be in the callback.
 */
static _Thread_local char reply_buf[160];

static sf_status reply(sf_http_response *resp, int status, const char *type, const char *fmt, ...)
    SF_PRINTF(4, 5);

static sf_status reply(sf_http_response *resp, int status, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply_buf, sizeof reply_buf, fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->body = reply_buf;
    resp->content_type = type;
    return SF_OK;
}

/* The 202 answer, {"accepted":N}, written without printf: it is the answer to every request. */
static sf_status reply_accepted(sf_http_response *resp, size_t n)
{
    static const char head[] = "{\"accepted\":";
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    char *p = reply_buf;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    while (nd)
        *p++ = digits[--nd];
    *p++ = '}';
    *p = '\0';
    resp->status = 202;
    resp->body = reply_buf;
    resp->content_type = "application/json";
    return SF_OK;
}

static sf_status webhook_init(const sf_host *host)
{
    H = host;
    return SF_OK;
}

/* ---- create / destroy --------------------------------------------------------------------- */

static bool path_is_valid(const char *path)
{
    if (!path || path[0] != '/' || strlen(path) > WEBHOOK_MAX_PATH)
        return false;
    for (const char *c = path; *c; c++)
        if (*c <= ' ' || *c == '?' || *c == '#' || *c == 0x7f)
            return false;
    return true;
}

static webhook_scheme scheme_from(const char *s)
{
    if (s && strcmp(s, "sigflow") == 0)
        return SCHEME_SIGFLOW;
    if (s && strcmp(s, "stripe") == 0)
        return SCHEME_STRIPE;
    if (s && strcmp(s, "hmac-sha256") == 0)
        return SCHEME_HMAC;
    return SCHEME_NONE;
}

/* An HTTP header name: RFC 9110 token characters. */
static bool header_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > WEBHOOK_MAX_HEADER_NAME)
        return false;
    for (const char *c = name; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("!#$%&'*+-.^_`|~", *c)))
            return false;
    return true;
}

/* The generic scheme's keys: signature_header is required with it, and means nothing without. */
static sf_status generic_options(sf_instance *inst, webhook *w)
{
    static const char *const keys[] = {"signature_header", "signature_encoding",
                                       "signature_prefix"};
    if (w->scheme != SCHEME_HMAC) {
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            if (H->opt_is_set(inst, keys[i])) {
                H->set_error(inst, "%s is only used with signature = hmac-sha256", keys[i]);
                return SF_EINVAL;
            }
        return SF_OK;
    }
    const char *name = H->opt_string(inst, "signature_header");
    if (!header_name_is_valid(name)) {
        H->set_error(inst,
                     "signature = hmac-sha256 needs signature_header, a header name of at most "
                     "%d bytes (e.g. X-Hub-Signature-256)",
                     WEBHOOK_MAX_HEADER_NAME);
        return SF_EINVAL;
    }
    const char *prefix = H->opt_string(inst, "signature_prefix");
    if (prefix && strlen(prefix) > WEBHOOK_SIG_MAX_PREFIX) {
        H->set_error(inst, "signature_prefix is longer than %d bytes", WEBHOOK_SIG_MAX_PREFIX);
        return SF_EINVAL;
    }
    const char *enc = H->opt_string(inst, "signature_encoding");
    snprintf(w->header, sizeof w->header, "%s", name);
    snprintf(w->prefix, sizeof w->prefix, "%s", prefix ? prefix : "");
    w->encoding = enc && strcmp(enc, "base64") == 0 ? WEBHOOK_ENC_BASE64 : WEBHOOK_ENC_HEX;
    return SF_OK;
}

static void webhook_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    webhook *w = state;
    if (!w)
        return;
    if (w->secret) {
        OPENSSL_cleanse(w->secret, w->secret_len);
        free(w->secret);
    }
    free(w);
}

static sf_status webhook_create(sf_instance *inst, void **state)
{
    *state = NULL;
    const char *path = H->opt_string(inst, "path");
    if (!path_is_valid(path)) {
        H->set_error(inst,
                     "path = %s: must start with '/', have no spaces, '?' or '#', and be at "
                     "most %d bytes",
                     path ? path : "(unset)", WEBHOOK_MAX_PATH);
        return SF_EINVAL;
    }
    webhook *w = calloc(1, sizeof *w);
    if (!w)
        return SF_ENOMEM;
    w->scheme = scheme_from(H->opt_string(inst, "signature"));
    w->tolerance_s = H->opt_duration_ms(inst, "tolerance") / 1000;
    if (generic_options(inst, w) != SF_OK) {
        webhook_destroy(inst, w);
        return SF_EINVAL;
    }
    const char *secret = H->opt_string(inst, "secret");
    if (w->scheme != SCHEME_NONE) {
        if (!secret || !*secret) {
            H->set_error(inst, "signature = %s needs a secret (secret = env:NAME or file:/path)",
                         H->opt_string(inst, "signature"));
            webhook_destroy(inst, w);
            return SF_EINVAL;
        }
        w->secret_len = strlen(secret);
        w->secret = malloc(w->secret_len + 1);
        if (!w->secret) {
            webhook_destroy(inst, w);
            return SF_ENOMEM;
        }
        memcpy(w->secret, secret, w->secret_len + 1);
    } else if (secret && *secret) {
        H->log(inst, SF_LOG_WARN,
               "a secret is set but signature = none: requests are not "
               "authenticated");
    }
    *state = w;
    return SF_OK;
}

/* ---- request ------------------------------------------------------------------------------ */

static const char *scheme_header(const webhook *w)
{
    if (w->scheme == SCHEME_HMAC)
        return w->header;
    return w->scheme == SCHEME_STRIPE ? "Stripe-Signature" : "X-Sigflow-Signature";
}

static webhook_sig_result check_signature(const webhook *w, const sf_http_request *req,
                                          const char *body, size_t len)
{
    const char *value = H->req_header(req, scheme_header(w));
    if (w->scheme == SCHEME_HMAC)
        return webhook_generic_verify(value, w->prefix, w->encoding, w->secret, w->secret_len, body,
                                      len);
    return webhook_sig_verify(value, w->secret, w->secret_len, body, len, (int64_t)time(NULL),
                              w->tolerance_s);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* NDJSON when the sender says so, or when the first line is a whole object and more follow. */
static bool body_is_ndjson(const sf_http_request *req, const char *body, size_t len)
{
    const char *ct = H->req_header(req, "Content-Type");
    static const char *const types[] = {"application/x-ndjson", "application/ndjson",
                                        "application/jsonl", "application/x-jsonlines"};
    for (size_t i = 0; ct && i < sizeof types / sizeof *types; i++)
        if (strncasecmp(ct, types[i], strlen(types[i])) == 0)
            return true;
    size_t i = 0;
    while (i < len && is_space(body[i]))
        i++;
    const char *nl = memchr(body + i, '\n', len - i);
    if (i == len || body[i] != '{' || !nl)
        return false;
    const char *last = nl;
    while (last > body + i && is_space(last[-1]))
        last--;
    if (last[-1] != '}')
        return false;
    for (const char *p = nl; p < body + len; p++)
        if (!is_space(*p))
            return true;
    return false;
}

/* Cut the body into documents: the whole of it, or one per non-blank line. */
static size_t split_docs(const char *body, size_t len, bool ndjson, doc_span *out, size_t max)
{
    size_t n = 0, line = 1;
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *nl = ndjson ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *a = p, *b = nl ? nl : end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a < b) {
            if (n == max)
                return max + 1;
            if (out)
                out[n] = (doc_span){.p = a, .len = (size_t)(b - a), .line = line};
            n++;
        }
        if (!nl)
            break;
        p = nl + 1;
        line++;
    }
    return n;
}

/* Map every document first: a batch is accepted whole or not at all. */
static sf_status map_all(sf_instance *inst, const doc_span *docs, size_t n, bool ndjson,
                         sf_event **evs)
{
    for (size_t i = 0; i < n; i++) {
        sf_status st = H->map_json(inst, docs[i].p, docs[i].len, &evs[i]);
        if (st == SF_OK)
            continue;
        for (size_t j = 0; j < i; j++)
            H->event_free(evs[j]);
        H->metric_add(inst, "rejected", 1);
        /* map_json's set_error names the field or the parse position, and the listener
           answers 400 with it; in a batch, say which line too. */
        if (ndjson && SF_HOST_HAS(H, last_error)) {
            char why[400];
            snprintf(why, sizeof why, "%s", H->last_error(inst));
            H->set_error(inst, "line %zu: %s (nothing from this request was accepted)",
                         docs[i].line, why);
        }
        return st == SF_ENOMEM ? SF_ENOMEM : SF_EINVAL;
    }
    return SF_OK;
}

static sf_status emit_all(sf_instance *inst, const doc_span *docs, size_t n, sf_event **evs,
                          sf_http_response *resp)
{
    for (size_t i = 0; i < n; i++) {
        sf_status st = H->emit(inst, evs[i]); /* consumes evs[i] */
        if (st == SF_OK)
            continue;
        for (size_t j = i + 1; j < n; j++)
            H->event_free(evs[j]);
        if (st == SF_ERETRY) /* 503: the sender retries the whole request */
            return SF_ERETRY;
        /* The core keeps a request's events only with its 2xx: nothing of it is kept. */
        H->set_error(inst,
                     "line %zu: the core refused the event (status %d); nothing from this "
                     "request was kept",
                     docs[i].line, (int)st);
        return st;
    }
    H->metric_add(inst, "accepted", (double)n);
    return reply_accepted(resp, n);
}

static sf_status ingest_body(sf_instance *inst, const sf_http_request *req, const char *body,
                             size_t len, sf_http_response *resp)
{
    bool ndjson = body_is_ndjson(req, body, len);
    /* Most requests carry a few documents: their spans and events live on the stack, and the
       body is cut once. A bigger batch is counted first and gets arrays of its size. */
    doc_span small_docs[WEBHOOK_SMALL_BATCH];
    sf_event *small_evs[WEBHOOK_SMALL_BATCH];
    size_t n = split_docs(body, len, ndjson, small_docs, WEBHOOK_SMALL_BATCH);
    if (n == 0)
        return reply(resp, 400, NULL, "empty body: send one JSON object, or NDJSON lines\n");
    doc_span *docs = small_docs;
    sf_event **evs = small_evs;
    sf_status st = SF_ENOMEM;
    if (n > WEBHOOK_SMALL_BATCH) {
        n = split_docs(body, len, ndjson, NULL, WEBHOOK_MAX_BATCH);
        if (n > WEBHOOK_MAX_BATCH)
            return reply(resp, 413, NULL, "more than %d objects in one request\n",
                         WEBHOOK_MAX_BATCH);
        docs = calloc(n, sizeof *docs);
        evs = calloc(n, sizeof *evs);
        if (!docs || !evs)
            goto out;
        split_docs(body, len, ndjson, docs, n);
    }
    st = map_all(inst, docs, n, ndjson, evs);
    if (st == SF_OK)
        st = emit_all(inst, docs, n, evs, resp);
out:
    if (docs != small_docs) {
        free(docs);
        free(evs);
    }
    return st;
}

static sf_status webhook_request(sf_instance *inst, void *state, const sf_http_request *req,
                                 sf_http_response *resp)
{
    webhook *w = state;
    size_t len = 0;
    const char *body = H->req_body(req, &len);
    if (w->scheme != SCHEME_NONE) {
        const char *name = scheme_header(w);
        webhook_sig_result r = check_signature(w, req, body, len);
        if (r == WEBHOOK_SIG_ERROR) {
            H->set_error(inst, "could not compute the HMAC (libcrypto)");
            return SF_EIO;
        }
        if (r != WEBHOOK_SIG_OK) {
            H->metric_add(inst, "unauthorized", 1);
            return reply(resp, 401, NULL, "%s: %s\n", name, webhook_sig_result_text(r));
        }
    }
    return ingest_body(inst, req, body, len, resp);
}

/* ---- declared options and the descriptor -------------------------------------------------- */

static const char *const signature_choices[] = {"none", "sigflow", "stripe", "hmac-sha256", NULL};
static const char *const encoding_choices[] = {"hex", "base64", NULL};

static const sf_option webhook_options[] = {
    {.name = "path",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "URL path on the core's ingest listener, e.g. /hooks/billing"},
    {.name = "signature",
     .type = SF_OPT_ENUM,
     .default_value = "none",
     .choices = signature_choices,
     .help = "none, sigflow (X-Sigflow-Signature), stripe (Stripe-Signature) or hmac-sha256 "
             "(signature_header: GitHub, Shopify, ...)"},
    {.name = "signature_header",
     .type = SF_OPT_STRING,
     .help = "hmac-sha256: the header carrying the MAC, e.g. X-Hub-Signature-256"},
    {.name = "signature_encoding",
     .type = SF_OPT_ENUM,
     .default_value = "hex",
     .choices = encoding_choices,
     .help = "hmac-sha256: how the MAC is written, hex (GitHub) or base64 (Shopify)"},
    {.name = "signature_prefix",
     .type = SF_OPT_STRING,
     .help = "hmac-sha256: text before the MAC in the header, e.g. sha256= (GitHub)"},
    {.name = "secret",
     .type = SF_OPT_SECRET,
     .help = "HMAC-SHA256 key, env:NAME or file:/path; required unless signature = none"},
    {.name = "tolerance",
     .type = SF_OPT_DURATION,
     .default_value = "5m",
     .flags = SF_OPT_HAS_RANGE,
     .min = 1000,
     .max = 86400000,
     .help = "how far a signed timestamp may be from now, either way"},
    {0}};

/*
 * Routing contract: ABI 1.0 has no host function to register a path, so the core routes the
 * `path` option of every started connector that has a `request` callback to that instance on
 * its ingest listener (and unroutes it before stop). Callbacks of one instance are serialised
 * by the host (the plugin is not declared reentrant), which keeps each 400 answer's error
 * text the one of its own request.
 */
static const sf_plugin webhook_plugin = {
    SF_PLUGIN_INIT,
    .name = "webhook",
    .version = "1.0.0",
    .description = "events pushed over HTTP (JSON or NDJSON), with optional HMAC signatures",
    .kind = SF_KIND_CONNECTOR,
    .options = webhook_options,
    .init = webhook_init,
    .create = webhook_create,
    .destroy = webhook_destroy,
    .request = webhook_request,
};

SF_PLUGIN_DEFINE(webhook_plugin)
