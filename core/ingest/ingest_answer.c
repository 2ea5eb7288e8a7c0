/*
 * ingest_answer.c - the ingest listener's answers and their counts (ingest_answer.h says what
 * it owns).
 */
#include "ingest/ingest_answer.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"
#include "plugin/instance.h"

#define LOG_CTX "component=ingest_http"

/* The counts of the pass this thread runs (an ingest loop's; NULL on other threads). */
static _Thread_local ingest_answer_counts *tl_counts;

static void series_name(char *out, size_t len, const char *instance, unsigned code)
{
    if (instance && instance[0])
        snprintf(out, len, "sigflow_ingest_requests_total{connector=\"%s\",code=\"%u\"}", instance,
                 code);
    else
        snprintf(out, len, "sigflow_ingest_requests_total{code=\"%u\"}", code);
}

static void count_answers(const char *instance, unsigned code, unsigned n)
{
    char series[SIGFLOW_MAX_NAME_LEN + 96];
    series_name(series, sizeof series, instance, code);
    metrics_add(series, n);
}

void ingest_answer_counts_bind(ingest_answer_counts *counts)
{
    tl_counts = counts;
}

void ingest_answer_counts_flush(ingest_answer_counts *counts)
{
    for (unsigned i = 0; i < counts->n; i++) {
        if (counts->c[i].n == 0)
            continue;
        if (counts->c[i].series)
            metrics_series_add(counts->c[i].series, counts->c[i].n);
        else
            count_answers(counts->c[i].instance, counts->c[i].code, counts->c[i].n);
        counts->c[i].n = 0;
    }
}

void ingest_answer_count(const char *instance, unsigned code)
{
    ingest_answer_counts *k = tl_counts;
    if (!instance)
        instance = "";
    size_t len = strlen(instance);
    if (!k || len >= sizeof k->c[0].instance) {
        count_answers(instance, code, 1);
        return;
    }
    for (unsigned i = 0; i < k->n; i++)
        if (k->c[i].code == code && strcmp(k->c[i].instance, instance) == 0) {
            k->c[i].n++;
            return;
        }
    if (k->n == INGEST_ANSWER_COUNTS) { /* more series than a loop keeps: counted at once */
        count_answers(instance, code, 1);
        return;
    }
    char name[SIGFLOW_MAX_NAME_LEN + 96];
    series_name(name, sizeof name, instance, code);
    memcpy(k->c[k->n].instance, instance, len + 1);
    k->c[k->n].code = code;
    k->c[k->n].n = 1;
    k->c[k->n].series = metrics_series_get(name);
    k->n++;
}

enum MHD_Result ingest_answer(struct MHD_Connection *c, const char *instance, unsigned code,
                              const char *body, const char *content_type, const char *extra_name,
                              const char *extra_value)
{
    if (!body)
        body = "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 content_type ? content_type : "text/plain");
    if (ok == MHD_YES && extra_name)
        ok = MHD_add_response_header(resp, extra_name, extra_value);
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES)
        ingest_answer_count(instance, code);
    return ok;
}

enum MHD_Result ingest_answer_text(struct MHD_Connection *c, const char *instance, unsigned code,
                                   const char *body)
{
    return ingest_answer(c, instance, code, body, NULL, NULL, NULL);
}

enum MHD_Result ingest_answer_busy(struct MHD_Connection *c, const char *instance)
{
    return ingest_answer(c, instance, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "busy: retry later (nothing from this request was kept)\n", NULL,
                         MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

enum MHD_Result ingest_answer_too_large(struct MHD_Connection *c, const char *instance)
{
    char msg[96];
    snprintf(msg, sizeof msg, "request body larger than %d bytes\n", SIGFLOW_MAX_HTTP_BODY);
    return ingest_answer_text(c, instance, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

unsigned ingest_answer_code(const sf_http_response *resp)
{
    unsigned code = resp->status > 0 ? (unsigned)resp->status : MHD_HTTP_OK;
    return code >= 100 && code <= 599 ? code : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

enum MHD_Result ingest_answer_status(struct MHD_Connection *c, sf_instance *inst, sf_status st,
                                     const sf_http_response *resp)
{
    const char *name = instance_get_name(inst);
    switch (st) {
    case SF_OK:
        return ingest_answer(c, name, ingest_answer_code(resp), resp->body, resp->content_type,
                             NULL, NULL);
    case SF_ERETRY:
        return ingest_answer_busy(c, name);
    case SF_EINVAL: {
        /* A 4xx the plugin chose (401, 413, 422) stands; anything else is a plain 400. */
        unsigned code = resp->status >= 400 && resp->status < 500 ? (unsigned)resp->status
                                                                  : MHD_HTTP_BAD_REQUEST;
        if (resp->body)
            return ingest_answer(c, name, code, resp->body, resp->content_type, NULL, NULL);
        char msg[SIGFLOW_MAX_ERROR_LEN + 2];
        snprintf(msg, sizeof msg, "%s\n", instance_last_error(inst));
        return ingest_answer_text(c, name, code, msg[0] != '\n' ? msg : "invalid request\n");
    }
    default:
        log_error(LOG_CTX, "instance=%s request callback failed: status=%d error=%s", name, (int)st,
                  instance_last_error(inst));
        return ingest_answer_text(c, name, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal error in the connector\n");
    }
}
