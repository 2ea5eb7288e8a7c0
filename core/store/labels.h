/*
 * labels.h - what became of an alert or an entity, as the store keeps it: `confirmed` or
 * `false_positive` for an alert, `missed` for an entity that reached the outcome with no
 * alert. Each label has a source: `outcome` (the engine, from the stream's outcome events)
 * or `person` (the admin API, a feedback link, `sigflow feedback`). An alert has at most one
 * label per source and a person's label wins; a second, different person label is a
 * conflict unless replaced. Owns: the labels rows. Calls store. Used by the admin API, the
 * CLI (explain) and whoever records the engine's outcome labels.
 */
#ifndef SIGFLOW_LABELS_H
#define SIGFLOW_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "sigflow.h"
#include "store/store.h"

typedef enum label_kind {
    LABEL_CONFIRMED = 0,
    LABEL_FALSE_POSITIVE = 1,
    LABEL_MISSED = 2
} label_kind;
typedef enum label_source { LABEL_SOURCE_OUTCOME = 0, LABEL_SOURCE_PERSON = 1 } label_source;

typedef struct label_rec {
    int64_t id;
    char alert_id[SIGFLOW_MAX_ALERT_ID_LEN + 1]; /* "" for missed */
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    label_kind kind;
    label_source source;
    char via[16];        /* "outcome", "api", "link" */
    int64_t time_ms;     /* the alert's time; for missed, when the entity was missed */
    int64_t recorded_ms; /* wall clock when stored */
} label_rec;

/* What labels_put did. */
typedef enum labels_result {
    LABELS_CREATED,   /* a new label */
    LABELS_UNCHANGED, /* the same label was there already */
    LABELS_REPLACED,  /* a different label of the same source was replaced (replace = true) */
    LABELS_CONFLICT,  /* a different person label is there; *stored is that one */
    LABELS_NOT_FOUND  /* no such alert (or, for missed, entity) in the store */
} labels_result;

const char *label_kind_name(label_kind k);
/* "confirmed" | "false_positive" | "missed" -> kind; -1 otherwise. */
int label_kind_parse(const char *s);
const char *label_source_name(label_source s);

/*
 * Label the alert `alert_id` (kind confirmed or false_positive; SF_EINVAL for missed). The
 * alert's entity and time come from the outbox (or an earlier label of it). `via` is
 * "api", "link" or "outcome". Outcome labels always replace an earlier outcome label.
 * SF_OK with *res saying what happened and *stored (may be NULL) the label now stored for
 * that source (the conflicting one for LABELS_CONFLICT).
 */
sf_status labels_put_alert(store *s, const char *alert_id, label_kind kind, label_source src,
                           const char *via, bool replace, label_rec *stored, labels_result *res);
/*
 * Label `entity` missed at time_ms. LABELS_NOT_FOUND unless the entity has an event in the
 * journal, an alert, or a label. A second missed label of one source at the same time is
 * LABELS_UNCHANGED.
 */
sf_status labels_put_missed(store *s, const char *entity, int64_t time_ms, label_source src,
                            const char *via, label_rec *stored, labels_result *res);

/* The alert's label that counts (a person's over the outcome's); *found false when none. */
sf_status labels_get_alert(store *s, const char *alert_id, label_rec *out, bool *found);

/* Labels of an entity (or every entity, when NULL) with time_ms >= since_ms, oldest first. */
typedef void (*labels_fn)(void *ctx, const label_rec *l);
sf_status labels_each(store *s, const char *entity, int64_t since_ms, labels_fn fn, void *ctx);

/* Labels per source (n[LABEL_SOURCE_OUTCOME], n[LABEL_SOURCE_PERSON]). */
sf_status labels_count(store *s, uint64_t n[2]);

/* Whether the store knows the entity: an event in the journal, an alert, or a label. */
sf_status labels_entity_known(store *s, const char *entity, bool *known);

#endif
