/*
 * drift.h - schema drift of one connector's mapping (docs/scoring.md "Schema drift"): per
 * mapped field, the share of the last `window` documents that lacked it or had the wrong
 * type. A healthy field whose share goes above `threshold` drifted: one `drift` health alert
 * (connector, field path, share, the keys-only shape of the document that tipped it); once
 * the share is back at or under threshold/2, one `recovered`.
 * Owns: the windows and states (one mutex: documents come from several threads). Calls
 * health_alert, json-c. Used by mapping.c (every document) and the runtime (the sink).
 */
#ifndef SIGFLOW_DRIFT_H
#define SIGFLOW_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/alert.h"

struct json_object;
typedef struct drift drift;

/* Receives each health alert (the sink frees it with alert_free). Any thread. */
typedef void (*drift_alert_fn)(void *ctx, sf_alert *a);

/*
 * Watch n fields (names[i]: the path shown, NULL = not judged). window in
 * 10..SIGFLOW_MAX_DRIFT_WINDOW, threshold in (0, 1). NULL on no memory.
 */
drift *drift_new(const char *decision, const char *connector, const char *const *names, int n,
                 int window, double threshold, drift_alert_fn fn, void *ctx);
void drift_free(drift *d);
/* One document: bit i of `missed` set when field i was missing or of the wrong type. */
void drift_observe(drift *d, unsigned missed, struct json_object *doc);
/* The same for a document not parsed (the event line reader's): parsed only for an alert. */
void drift_observe_text(drift *d, unsigned missed, const char *json, size_t len);
/* Keys-only shape of a JSON value into out (bounded by SIGFLOW_MAX_SHAPE_LEN): {"a",b:{"c"}}. */
void drift_shape(struct json_object *doc, char *out, size_t outlen);

#endif
