/*
 * label.h - what the engine learned about an alert or an entity from the stream's outcome
 * events (docs/scoring.md "Outcomes and learning"): an alert confirmed by an
 * outcome within the horizon after it, an alert that became a false positive (the horizon
 * passed, or the outcome had come before it), or an entity that reached its outcome with no
 * alert (missed). Labels from people (the admin API) are another source and win over these.
 * Owns: the label record. Made by score_outcome.c; handed to the engine's label callback in
 * stream order (score_set_label_fn).
 */
#ifndef SIGFLOW_SCORE_LABEL_H
#define SIGFLOW_SCORE_LABEL_H

#include <stddef.h>
#include <stdint.h>

typedef enum score_label_kind {
    SCORE_LABEL_CONFIRMED,
    SCORE_LABEL_FALSE_POSITIVE,
    SCORE_LABEL_MISSED
} score_label_kind;

#define SCORE_LABEL_NO_TIME INT64_MIN

/*
 * A person's label in the event stream (docs/scoring.md "People's labels"): type
 * `sigflow.label`, entity = the alert's entity, time = the alert's time, value 1 (confirmed)
 * or 0 (false_positive). The daemon journals one for each label a person gives an alert, so
 * replay and backtest of the journal see it where `run` did. No signal may read it.
 */
#define SCORE_PERSON_LABEL_TYPE "sigflow.label"

typedef struct score_label {
    score_label_kind kind;
    char alert_id[40];      /* the alert labelled; "" for missed */
    char *entity;           /* owned */
    int64_t time;           /* when it was decided: the outcome's time, or alert time + horizon */
    int64_t alert_time;     /* SCORE_LABEL_NO_TIME for missed */
    int64_t outcome_time;   /* SCORE_LABEL_NO_TIME for false_positive */
    uint32_t model_version; /* of the alert; missed: the model in use at the outcome */
    size_t n_features;      /* 0 when the entity was unknown */
    double *features;       /* the alert's feature vector (missed: at the outcome); owned */
} score_label;

/* "confirmed", "false_positive", "missed". */
const char *score_label_name(score_label_kind k);
void score_label_free(score_label *l);

/* Called once per label, in stream order, on the thread that pushes (like alerts). */
typedef void (*score_label_fn)(void *ctx, const score_label *label);

#endif
