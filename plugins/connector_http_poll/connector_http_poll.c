/*
 * connector_http_poll.c - the `http_poll` connector: every `interval` it GETs `url`, takes the
 * records at `items`, maps each with the host's map_json (the instance's map.* keys), emits
 * them and follows the pages until there are no more for now (docs/connector-http-poll.md).
 * The position (a cursor, or the next page's URL) is stored with checkpoint_set after each
 * page: the host commits it in the same transaction as that page's events, so a crash between
 * pages neither loses nor doubles a record. 429/503 wait out Retry-After; other failures back
 * off with jitter; every request, page and record is counted with the host's metrics.
 * Owns: the poll thread, its curl handle and position. Calls the SDK host table,
 * poll_fetch.c (libcurl), poll_page.c (json-c), poll_url.c. Loaded by the core.
 */
#include "sigflow.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "poll_fetch.h"
#include "poll_page.h"
#include "poll_url.h"

#define POLL_MAX_RETRY_AFTER_MS (3600 * 1000) /* the longest Retry-After honoured */
#define POLL_EMIT_RETRY_FIRST_MS 10           /* back-pressure: first wait, doubled */
#define POLL_EMIT_RETRY_MAX_MS 1000
#define POLL_MAX_HEADERS 64 /* headers.* keys */

static const sf_host *host;

typedef struct poll_conn {
    sf_instance *inst;
    /* options */
    char *url_tmpl;
    char *cursor_start;
    poll_paging pg;
    int64_t interval_ms, timeout_ms, retry_base_ms, retry_max_ms, max_pages;
    struct curl_slist *headers; /* headers.* and Authorization: never logged */
    const char *ckpt_key;       /* "cursor" or "next_url"; NULL: nothing to resume */
    /* the poll thread's */
    CURL *curl;
    char *position; /* the stored cursor or next URL; NULL: start from cursor_start */
    char *etag_url, *etag;
    bool unready; /* told the host (health_set) it cannot poll: 401/403/404 */
    int failures;
    unsigned int seed;
    time_t last_success;
    atomic_bool stopping;
} poll_conn;

static sf_status poll_init(const sf_host *h)
{
    host = h;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SF_OK : SF_EFATAL;
}

static bool poll_stopping(void *arg)
{
    poll_conn *pc = arg;
    return atomic_load(&pc->stopping) || host->should_stop(pc->inst);
}

static void metric(poll_conn *pc, const char *name, double d)
{
    host->metric_add(pc->inst, name, d);
}

static void gauge(poll_conn *pc, const char *name, double v)
{
    if (SF_HOST_HAS(host, metric_set))
        host->metric_set(pc->inst, name, v);
}

/* scheme://host/path of a URL, for log lines: the query may carry a key or a cursor. */
static void url_for_log(const char *url, char *out, size_t len)
{
    size_t n = strcspn(url, "?#");
    snprintf(out, len, "%.*s%s", (int)(n < 200 ? n : 200), url, url[n] ? "?..." : "");
}

/* ---- position ----------------------------------------------------------------------------- */

static void set_str(char **dst, const char *src)
{
    char *c = src ? strdup(src) : NULL;
    free(*dst);
    *dst = c;
}

/* The URL of the next request. NULL when it cannot be built (too long). */
static char *current_url(poll_conn *pc)
{
    if (pc->pg.has_next_url && pc->position)
        return strdup(pc->position);
    const char *cursor =
        pc->pg.cursor_src != CURSOR_NONE && pc->position ? pc->position : pc->cursor_start;
    return poll_url_expand(pc->url_tmpl, cursor);
}

/* Store the position with the events emitted since the last one (one transaction). Retried
 * until it is durable or the instance stops: the page is not fetched again meanwhile (its
 * events wait in the host's buffer), so nothing is doubled. False when stopped first. */
static bool commit_position(poll_conn *pc, const char *value)
{
    if (!pc->ckpt_key || !value)
        return true; /* nothing to resume from: events commit on their own */
    int64_t wait = pc->retry_base_ms;
    while (host->checkpoint_set(pc->inst, pc->ckpt_key, value) != SF_OK) {
        host->log(pc->inst, SF_LOG_WARN, "cannot store the position; retrying");
        if (host->sleep_ms(pc->inst, wait) || poll_stopping(pc))
            return false;
        wait = wait * 2 > pc->retry_max_ms ? pc->retry_max_ms : wait * 2;
    }
    set_str(&pc->position, value);
    return true;
}

static void load_position(poll_conn *pc)
{
    char *v = NULL;
    if (!pc->ckpt_key || host->checkpoint_get(pc->inst, pc->ckpt_key, &v) != SF_OK || !v)
        return;
    set_str(&pc->position, v);
    host->free(v);
    host->log(pc->inst, SF_LOG_INFO, "resuming from the stored %s", pc->ckpt_key);
}

/* ---- delays ------------------------------------------------------------------------------- */

/* Doubling from retry_base to retry_max, then a random point in its upper half. */
static int64_t backoff(poll_conn *pc)
{
    int64_t d = pc->retry_base_ms;
    for (int i = 1; i < pc->failures && d < pc->retry_max_ms; i++)
        d *= 2;
    if (d > pc->retry_max_ms)
        d = pc->retry_max_ms;
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)(rand_r(&pc->seed) % (unsigned)(half + 1)) : 0);
}

static int64_t failed(poll_conn *pc, sf_log_level level, const char *fmt, ...) SF_PRINTF(3, 4);

/* A failed request or page: log why, count it, and the delay before the next try. */
static int64_t failed(poll_conn *pc, sf_log_level level, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    pc->failures++;
    int64_t d = backoff(pc);
    host->log(pc->inst, level, "%s; retrying in %" PRId64 " ms (failure %d in a row)", why, d,
              pc->failures);
    metric(pc, "failures", 1);
    gauge(pc, "up", 0);
    return d;
}

/* since SDK 1.4: /readyz names this connector while the API refuses it (401/403/404). */
static void health(poll_conn *pc, bool ok, const char *reason)
{
    if (ok == !pc->unready)
        return;
    pc->unready = !ok;
    if (SF_HOST_HAS(host, health_set))
        host->health_set(pc->inst, ok, reason);
}

static int64_t succeeded(poll_conn *pc)
{
    health(pc, true, NULL);
    if (pc->failures)
        host->log(pc->inst, SF_LOG_INFO, "polling again after %d failures", pc->failures);
    pc->failures = 0;
    pc->last_success = time(NULL);
    metric(pc, "polls", 1);
    gauge(pc, "up", 1);
    gauge(pc, "last_success_timestamp_seconds", (double)pc->last_success);
    gauge(pc, "seconds_since_success", 0);
    return pc->interval_ms;
}

/* ---- one page ----------------------------------------------------------------------------- */

/* Map and emit one record, waiting out back-pressure. False when stopped while waiting. */
static bool emit_record(poll_conn *pc, const char *json, size_t len, size_t i)
{
    int64_t wait = POLL_EMIT_RETRY_FIRST_MS;
    for (;;) {
        sf_event *ev = NULL;
        if (host->map_json(pc->inst, json, len, &ev) != SF_OK || !ev) {
            const char *e = SF_HOST_HAS(host, last_error) ? host->last_error(pc->inst) : "";
            host->log(pc->inst, SF_LOG_WARN, "record %zu of the page: %s (skipped)", i + 1,
                      e && *e ? e : "cannot map it to an event");
            metric(pc, "bad_records", 1);
            return true;
        }
        sf_status st = host->emit(pc->inst, ev); /* consumes ev */
        if (st == SF_OK) {
            metric(pc, "records", 1);
            return true;
        }
        if (st != SF_ERETRY) {
            host->log(pc->inst, SF_LOG_WARN, "record %zu of the page refused by the core (skipped)",
                      i + 1);
            metric(pc, "bad_records", 1);
            return true;
        }
        if (host->sleep_ms(pc->inst, wait) || poll_stopping(pc))
            return false;
        wait = wait * 2 > POLL_EMIT_RETRY_MAX_MS ? POLL_EMIT_RETRY_MAX_MS : wait * 2;
    }
}

static void count_status(poll_conn *pc, const poll_response *r)
{
    char name[32];
    if (r->outcome == FETCH_RESPONSE)
        snprintf(name, sizeof name, "requests_%ld", r->status);
    else
        snprintf(name, sizeof name, "requests_%s",
                 r->outcome == FETCH_TIMEOUT ? "timeout" : "error");
    metric(pc, name, 1);
}

typedef enum page_result { PAGE_MORE, PAGE_DONE, PAGE_FAILED, PAGE_STOPPED } page_result;

/* The position after a page: the next link or cursor it gave, else where we are. */
static char *next_position(poll_conn *pc, const char *url, const poll_page *p, bool *refused)
{
    *refused = false;
    if (pc->pg.has_next_url) {
        if (!p->next_url)
            return strdup(url); /* the last page for now: read it again next time */
        char err[256];
        char *next = poll_url_next(pc->url_tmpl, url, p->next_url, err, sizeof err);
        if (!next) {
            host->log(pc->inst, SF_LOG_ERROR, "%s", err);
            *refused = true;
            return strdup(url);
        }
        return next;
    }
    if (pc->pg.cursor_src == CURSOR_NONE)
        return NULL;
    return p->cursor ? strdup(p->cursor) : pc->position ? strdup(pc->position) : NULL;
}

/* Emit a parsed page and store the position after it. */
static page_result take_page(poll_conn *pc, const char *url, const poll_page *p, int64_t *delay)
{
    for (size_t i = 0; i < p->n_items; i++) {
        size_t len;
        const char *json = poll_page_item_json(p, i, &len);
        if (!emit_record(pc, json, len, i))
            return PAGE_STOPPED;
    }
    bool refused;
    char *pos = next_position(pc, url, p, &refused);
    bool ok = commit_position(pc, pos);
    free(pos);
    if (!ok)
        return PAGE_STOPPED;
    metric(pc, "pages", 1);
    if (refused) {
        *delay = failed(pc, SF_LOG_ERROR, "paging stopped at a refused next link");
        return PAGE_FAILED;
    }
    bool more = p->more_known                      ? p->more
                : pc->pg.has_next_url              ? p->next_url != NULL
                : pc->pg.cursor_src != CURSOR_NONE ? p->n_items > 0
                                                   : false;
    /* No progress (the same request again) is the end for now, whatever the page says. */
    char *again = current_url(pc);
    if (more && again && strcmp(again, url) == 0)
        more = false;
    free(again);
    return more ? PAGE_MORE : PAGE_DONE;
}

/* An HTTP answer that is not a page: the delay before the next try. */
static int64_t answer_failed(poll_conn *pc, const char *shown, const poll_response *r)
{
    long s = r->status;
    if (s == 429 || s == 503) {
        int64_t ra = poll_retry_after_ms(r->retry_after[0] ? r->retry_after : NULL,
                                         (int64_t)time(NULL), POLL_MAX_RETRY_AFTER_MS);
        if (ra >= 0) {
            pc->failures++;
            metric(pc, "failures", 1);
            host->log(pc->inst, SF_LOG_WARN,
                      "GET %s answered %ld: waiting %" PRId64 " ms as Retry-After says", shown, s,
                      ra);
            return ra;
        }
        return failed(pc, SF_LOG_WARN, "GET %s answered %ld without a usable Retry-After", shown,
                      s);
    }
    if (s == 401 || s == 403 || s == 404) {
        metric(pc, "auth_failures", 1);
        char why[400];
        snprintf(why, sizeof why, "GET %s answered %ld (%s): check url, auth and headers.*", shown,
                 s, s == 404 ? "not found" : "not authorized");
        health(pc, false, why);
        return failed(pc, SF_LOG_ERROR, "GET %s answered %ld: %s (check url, auth and headers.*)",
                      shown, s, s == 404 ? "not found" : "not authorized");
    }
    return failed(pc, s >= 500 ? SF_LOG_WARN : SF_LOG_ERROR, "GET %s answered %ld", shown, s);
}

/* One request and its page. *delay is set when the poll ends here with a failure. */
static page_result one_page(poll_conn *pc, int64_t *delay)
{
    char *url = current_url(pc);
    if (!url) {
        *delay =
            failed(pc, SF_LOG_ERROR, "the request URL would be longer than %d bytes", POLL_MAX_URL);
        return PAGE_FAILED;
    }
    char shown[256];
    url_for_log(url, shown, sizeof shown);
    bool same = pc->etag_url && strcmp(pc->etag_url, url) == 0;
    poll_request rq = {.url = url,
                       .headers = pc->headers,
                       .if_none_match = same ? pc->etag : NULL,
                       .timeout_ms = pc->timeout_ms,
                       .cancelled = poll_stopping,
                       .ctx = pc};
    poll_response r;
    poll_fetch(pc->curl, &rq, &r);
    page_result res = PAGE_FAILED;
    if (r.outcome == FETCH_CANCELLED) {
        res = PAGE_STOPPED;
        goto done;
    }
    count_status(pc, &r);
    if (r.outcome != FETCH_RESPONSE) {
        *delay = failed(pc, SF_LOG_WARN, "GET %s: %s (%s)", shown, poll_outcome_text(r.outcome),
                        r.error);
        goto done;
    }
    if (r.status == 304) {
        res = PAGE_DONE; /* nothing new since the ETag */
        goto done;
    }
    if (r.status < 200 || r.status > 299) {
        *delay = answer_failed(pc, shown, &r);
        goto done;
    }
    poll_page p;
    char err[300];
    if (r.status == 204 || r.len == 0) {
        res = PAGE_DONE;
        goto done;
    }
    if (poll_page_parse(r.body, r.len, &pc->pg, &p, err, sizeof err) != 0) {
        metric(pc, "bad_pages", 1);
        *delay = failed(pc, SF_LOG_ERROR, "GET %s: %s", shown, err);
        goto done;
    }
    res = take_page(pc, url, &p, delay);
    poll_page_free(&p);
    if (res != PAGE_STOPPED && r.etag[0]) {
        set_str(&pc->etag_url, url);
        set_str(&pc->etag, r.etag);
    }
done:
    poll_response_free(&r);
    free(url);
    return res;
}

/* Pages until there are no more for now (or max_pages). The delay before the next poll. */
static int64_t poll_once(poll_conn *pc)
{
    int64_t delay = pc->interval_ms;
    for (int64_t n = 0; n < pc->max_pages; n++) {
        page_result r = one_page(pc, &delay);
        if (r == PAGE_STOPPED)
            return 0;
        if (r == PAGE_FAILED)
            return delay;
        if (r == PAGE_DONE)
            return succeeded(pc);
    }
    host->log(pc->inst, SF_LOG_INFO,
              "max_pages (%" PRId64 ") read in this poll; the rest follows in the next",
              pc->max_pages);
    return succeeded(pc);
}

static void poll_thread(sf_instance *inst, void *arg)
{
    poll_conn *pc = arg;
    load_position(pc);
    while (!poll_stopping(pc)) {
        int64_t delay = poll_once(pc);
        if (pc->last_success)
            gauge(pc, "seconds_since_success", (double)(time(NULL) - pc->last_success));
        if (poll_stopping(pc) || host->sleep_ms(inst, delay))
            break;
    }
}

/* ---- create: options ---------------------------------------------------------------------- */

static bool header_name_ok(const char *n)
{
    if (!*n || strlen(n) > 64)
        return false;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *c)))
            return false;
    return true;
}

static sf_status add_header(poll_conn *pc, const char *name, const char *value)
{
    if (!header_name_ok(name) || strpbrk(value, "\r\n") || strlen(value) > 1024) {
        host->set_error(pc->inst,
                        "headers.%s: not a header name, or a value with a line break "
                        "or over 1024 bytes",
                        name);
        return SF_EINVAL;
    }
    char line[1200];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *t = curl_slist_append(pc->headers, line);
    explicit_bzero(line, sizeof line);
    if (!t)
        return SF_ENOMEM;
    pc->headers = t;
    return SF_OK;
}

static sf_status read_headers(poll_conn *pc)
{
    const char *suffix = NULL, *v;
    size_t i = 0;
    if (SF_HOST_HAS(host, opt_prefixed))
        for (; (v = host->opt_prefixed(pc->inst, "headers.", i, &suffix)) && i < POLL_MAX_HEADERS;
             i++)
            if (add_header(pc, suffix, v) != SF_OK)
                return SF_EINVAL;
    const char *token = host->opt_string(pc->inst, "auth");
    if (token && *token) {
        char bearer[1100];
        if (strlen(token) > 1024) {
            host->set_error(pc->inst, "auth: the token is longer than 1024 bytes");
            return SF_EINVAL;
        }
        snprintf(bearer, sizeof bearer, "Bearer %s", token);
        sf_status st = add_header(pc, "Authorization", bearer);
        explicit_bzero(bearer, sizeof bearer);
        return st;
    }
    return SF_OK;
}

/* One path option into p (has: set when given). */
static sf_status read_path(poll_conn *pc, const char *key, poll_path *p, bool *has)
{
    const char *v = host->opt_string(pc->inst, key);
    if (has)
        *has = v && *v;
    const char *why = poll_path_compile(v, p);
    if (why) {
        host->set_error(pc->inst, "%s = %s: %s", key, v, why);
        return SF_EINVAL;
    }
    return SF_OK;
}

static sf_status read_paging(poll_conn *pc)
{
    const char *cursor = host->opt_string(pc->inst, "cursor");
    const char *why = poll_cursor_compile(cursor, &pc->pg);
    if (why) {
        host->set_error(pc->inst, "cursor = %s: %s", cursor, why);
        return SF_EINVAL;
    }
    if (read_path(pc, "items", &pc->pg.items, NULL) != SF_OK ||
        read_path(pc, "next_url", &pc->pg.next_url, &pc->pg.has_next_url) != SF_OK ||
        read_path(pc, "more", &pc->pg.more, &pc->pg.has_more) != SF_OK ||
        read_path(pc, "end", &pc->pg.end, &pc->pg.has_end) != SF_OK)
        return SF_EINVAL;
    bool has_cursor = pc->pg.cursor_src != CURSOR_NONE;
    bool templated = strstr(pc->url_tmpl, "{cursor}") != NULL;
    if (has_cursor && pc->pg.has_next_url)
        why = "cursor and next_url are two ways of paging: set one";
    else if (pc->pg.has_more && pc->pg.has_end)
        why = "more and end say the same thing: set one";
    else if (has_cursor && !templated)
        why = "cursor is set but url has no {cursor} to put it in";
    else if (!has_cursor && templated && !pc->pg.has_next_url)
        why = "url has {cursor} but no cursor = response.PATH or last.PATH says where it comes "
              "from";
    if (why) {
        host->set_error(pc->inst, "%s", why);
        return SF_EINVAL;
    }
    pc->ckpt_key = has_cursor ? "cursor" : pc->pg.has_next_url ? "next_url" : NULL;
    return SF_OK;
}

static void poll_destroy(sf_instance *inst, void *state)
{
    (void)inst;
    poll_conn *pc = state;
    if (!pc)
        return;
    if (pc->curl)
        curl_easy_cleanup(pc->curl);
    curl_slist_free_all(pc->headers); /* holds the token: gone with it */
    poll_paging_free(&pc->pg);
    free(pc->url_tmpl);
    free(pc->cursor_start);
    free(pc->position);
    free(pc->etag_url);
    free(pc->etag);
    free(pc);
}

static sf_status poll_create(sf_instance *inst, void **state)
{
    *state = NULL;
    poll_conn *pc = calloc(1, sizeof *pc);
    if (!pc)
        return SF_ENOMEM;
    pc->inst = inst;
    const char *url = host->opt_string(inst, "url");
    const char *start = host->opt_string(inst, "cursor_start");
    char *probe = url ? poll_url_expand(url, "x") : NULL;
    bool url_ok = probe && poll_url_valid(probe);
    free(probe);
    if (!url_ok) {
        host->set_error(inst, "url = %s: not an http:// or https:// URL (of at most %d bytes)",
                        url ? url : "(unset)", POLL_MAX_URL);
        poll_destroy(inst, pc);
        return SF_EINVAL;
    }
    pc->url_tmpl = strdup(url);
    pc->cursor_start = strdup(start ? start : "");
    pc->curl = curl_easy_init();
    if (!pc->url_tmpl || !pc->cursor_start || !pc->curl) {
        poll_destroy(inst, pc);
        return SF_ENOMEM;
    }
    pc->interval_ms = host->opt_duration_ms(inst, "interval");
    pc->timeout_ms = host->opt_duration_ms(inst, "timeout");
    pc->retry_base_ms = host->opt_duration_ms(inst, "retry_base");
    pc->retry_max_ms = host->opt_duration_ms(inst, "retry_max");
    pc->max_pages = host->opt_int(inst, "max_pages");
    if (pc->retry_max_ms < pc->retry_base_ms)
        pc->retry_max_ms = pc->retry_base_ms;
    pc->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)pc;
    sf_status st = read_paging(pc);
    if (st == SF_OK)
        st = read_headers(pc);
    if (st != SF_OK) {
        poll_destroy(inst, pc);
        return st;
    }
    *state = pc;
    return SF_OK;
}

static sf_status poll_start(sf_instance *inst, void *state)
{
    poll_conn *pc = state;
    atomic_store(&pc->stopping, false);
    pc->failures = 0;
    return host->thread_spawn(inst, poll_thread, pc);
}

static sf_status poll_stop(sf_instance *inst, void *state)
{
    (void)inst;
    poll_conn *pc = state;
    atomic_store(&pc->stopping, true); /* the transfer is cancelled within its next tick */
    return SF_OK;
}

/* ---- declared options and descriptor ------------------------------------------------------ */

static const sf_option poll_options[] = {
    {.name = "url",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_REQUIRED,
     .help = "the URL to GET; {cursor} is replaced by the URL-encoded cursor"},
    {.name = "items",
     .type = SF_OPT_STRING,
     .default_value = "",
     .help = "path of the records' array in the response (empty: the body is the array)"},
    {.name = "cursor",
     .type = SF_OPT_STRING,
     .help = "where the next cursor comes from: response.PATH or last.PATH"},
    {.name = "cursor_start",
     .type = SF_OPT_STRING,
     .default_value = "",
     .help = "the cursor of the very first request"},
    {.name = "next_url",
     .type = SF_OPT_STRING,
     .help = "path of the next page's URL in the response (instead of cursor); same host only"},
    {.name = "more",
     .type = SF_OPT_STRING,
     .help = "path of a boolean that is true while more pages wait (Stripe's has_more)"},
    {.name = "end",
     .type = SF_OPT_STRING,
     .help = "path of a boolean that is true on the last page for now (end_of_stream)"},
    {.name = "headers.",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_PREFIX,
     .help = "headers.NAME = value: a header sent with every request"},
    {.name = "auth",
     .type = SF_OPT_SECRET,
     .help = "a token sent as Authorization: Bearer <token>"},
    {.name = "interval",
     .type = SF_OPT_DURATION,
     .default_value = "1m",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 86400000,
     .help = "time between polls"},
    {.name = "timeout",
     .type = SF_OPT_DURATION,
     .default_value = "30s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 100,
     .max = 600000,
     .help = "deadline of one request, connecting included"},
    {.name = "max_pages",
     .type = SF_OPT_INT,
     .default_value = "100",
     .flags = SF_OPT_HAS_RANGE,
     .min = 1,
     .max = 100000,
     .help = "pages one poll reads at most; the rest follows in the next poll"},
    {.name = "retry_base",
     .type = SF_OPT_DURATION,
     .default_value = "1s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 10,
     .max = 3600000,
     .help = "first wait after a failed request (doubled per failure, with jitter)"},
    {.name = "retry_max",
     .type = SF_OPT_DURATION,
     .default_value = "5m",
     .flags = SF_OPT_HAS_RANGE,
     .min = 10,
     .max = 86400000,
     .help = "longest wait after failed requests"},
    {0}};

static const sf_plugin poll_plugin = {
    SF_PLUGIN_INIT,
    .min_host_minor = 0, /* metric_set and opt_prefixed are used when the host has them */
    .name = "http_poll",
    .version = "1.0.0",
    .description = "polls an HTTP JSON API page by page, resuming from a committed cursor",
    .kind = SF_KIND_CONNECTOR,
    .options = poll_options,
    .init = poll_init,
    .create = poll_create,
    .start = poll_start,
    .stop = poll_stop,
    .destroy = poll_destroy,
};

SF_PLUGIN_DEFINE(poll_plugin)
