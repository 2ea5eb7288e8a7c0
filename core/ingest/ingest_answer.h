/*
 * ingest_answer.h - the answers the ingest listener sends, and their counts in /metrics
 * (`sigflow_ingest_requests_total{connector,code}`): a connector's status turned into the
 * answer its sender gets, and the listener's own refusals (404, 405, 413, 431, 503 +
 * Retry-After). On an ingest loop's thread the counts are kept for the loop's pass and added
 * to their /metrics series once at its end (no lock, no lookup); elsewhere at once.
 * Owns: the answers' texts and the counts of the thread's pass. Used by ingest_http.
 */
#ifndef SIGFLOW_INGEST_ANSWER_H
#define SIGFLOW_INGEST_ANSWER_H

#include <microhttpd.h>

#include "sigflow.h"
#include "base/limits.h"

#define INGEST_ANSWER_COUNTS 8 /* distinct (connector, code) series a loop keeps at hand */

struct metrics_series;

/* The answers of one loop pass (that loop's thread only), by (connector, code): each entry
   keeps its /metrics series once resolved, so a pass's flush is an atomic add per entry, with
   no name formatted and no lookup in the metrics table (at c = 1, every request). */
typedef struct ingest_answer_counts {
    struct {
        char instance[SIGFLOW_MAX_NAME_LEN + 1]; /* "" for answers without a connector */
        unsigned code;
        unsigned n;                    /* answers this pass */
        struct metrics_series *series; /* sigflow_ingest_requests_total{...}; NULL: no memory */
    } c[INGEST_ANSWER_COUNTS];
    unsigned n; /* entries in use (kept from pass to pass) */
} ingest_answer_counts;

/* This thread's answers are counted in `counts` from now on (an ingest loop, at its start). */
void ingest_answer_counts_bind(ingest_answer_counts *counts);
/* Add the pass's counts to /metrics and zero them (its thread, at the end of a pass). */
void ingest_answer_counts_flush(ingest_answer_counts *counts);
/* Count one answer sent (instance NULL or "": no connector). */
void ingest_answer_count(const char *instance, unsigned code);

/* Queue one answer and count it. `extra_name`/`extra_value` is an optional header (Allow,
   Retry-After); content_type NULL is text/plain. */
enum MHD_Result ingest_answer(struct MHD_Connection *c, const char *instance, unsigned code,
                              const char *body, const char *content_type, const char *extra_name,
                              const char *extra_value);
enum MHD_Result ingest_answer_text(struct MHD_Connection *c, const char *instance, unsigned code,
                                   const char *body);
/* 503 + Retry-After: 1, nothing of the request kept. */
enum MHD_Result ingest_answer_busy(struct MHD_Connection *c, const char *instance);
/* 413: the body passed SIGFLOW_MAX_HTTP_BODY. */
enum MHD_Result ingest_answer_too_large(struct MHD_Connection *c, const char *instance);
/* The status of the answer a connector's callback chose with SF_OK: resp->status, 200 when
   it left it 0, 500 when it is not an HTTP status (100-599). */
unsigned ingest_answer_code(const sf_http_response *resp);
/* The connector's callback returned `st` with `resp`: the answer its sender gets (the 2xx of
   a request whose events wait for their commit is sent by ingest_http, not here). */
enum MHD_Result ingest_answer_status(struct MHD_Connection *c, sf_instance *inst, sf_status st,
                                     const sf_http_response *resp);

#endif
