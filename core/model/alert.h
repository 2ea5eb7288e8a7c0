/*
 * alert.h - an alert as the core holds it: the decision that fired, the entity, the score,
 * and the explanation (every signal's x, weight, contribution and sentence, strongest
 * first). Owns: the alert object and its JSON rendering. Used by score (creates), the host's
 * alert accessors, delivery and the replay output.
 */
#ifndef SIGFLOW_ALERT_H
#define SIGFLOW_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

typedef struct alert_reason {
    char *signal; /* signal name; owned */
    double x;     /* feature in [0,1] */
    double weight;
    double contribution; /* weight * x */
    char *text;          /* rendered explain template ("" when none); owned */
} alert_reason;

/* What an alert is about: a decision about an entity, or the health of an integration. */
/* ALERT_SUPPRESSED: a decision alert a stale signal kept from firing, recorded in the audit
   trail only (docs/scoring.md "Suppressed alerts"): never delivered, never learned from. */
typedef enum alert_kind { ALERT_DECISION = 0, ALERT_HEALTH = 1, ALERT_SUPPRESSED = 2 } alert_kind;

struct sf_alert {
    alert_kind kind; /* ALERT_HEALTH: entity is "", no reasons; `health` holds its JSON */
    char id[40];     /* deterministic in (decision, entity, time): hex */
    char *decision;  /* owned */
    char *question;  /* owned, may be NULL */
    char *entity;    /* owned */
    int64_t time_ms; /* engine time at which it fired */
    double score;
    double threshold;       /* the threshold it crossed (the model's then): debug log only */
    uint32_t model_version; /* the model that raised it: 1 = as configured, +1 per refit */
    alert_reason *reasons;  /* n_reasons: largest contribution first, ties in config order */
    size_t n_reasons;
    double *features;    /* x per signal in config order; n_reasons long */
    char *attrs;         /* attrs JSON of the entity's latest event, or NULL; owned */
    char *json;          /* one-line JSON, built by alert_render_json; owned */
    char *health;        /* ALERT_HEALTH: its one-line JSON (health_alert.h); owned */
    char *suppressed;    /* ALERT_SUPPRESSED: why, "stale SIGNAL[, SIGNAL...]"; owned */
    struct message *msg; /* message model set by the delivery worker for one call; borrowed */
};

/* Deterministic id: hex of a 128-bit hash of decision, entity and time_ms. */
void alert_make_id(const char *decision, const char *entity, int64_t time_ms, char out[40]);
/* A suppressed alert's id: the same hash with `decision US "suppressed"` for the decision. */
void alert_make_suppressed_id(const char *decision, const char *entity, int64_t time_ms,
                              char out[40]);
/*
 * (Re)build a->json:
 * {"kind":"decision","alert_id","decision","entity","time" (RFC 3339 UTC,
 * ms),"score","model_version", "reasons":[{"signal","x","weight","contribution","text"}]} A health
 * alert's JSON is its `health` text. A suppressed one starts {"kind":"suppressed", and has
 * "suppressed":"stale SIGNAL" after "model_version".
 */
sf_status alert_render_json(sf_alert *a);
void alert_free(sf_alert *a);

#endif
