/*
 * audit.h - the audit trail read back: stored alerts (by entity, time, label) with the label
 * that counts and each delivery's state, attempts and time. Read-only. Owns: the rows it
 * returns. Calls store and labels (reads outbox_alert, outbox_delivery, labels). Used by the
 * admin API (GET /v1/alerts, /v1/entities/ID) and `sigflow explain`.
 */
#ifndef SIGFLOW_AUDIT_H
#define SIGFLOW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/labels.h"
#include "store/outbox.h"
#include "store/store.h"

#define AUDIT_LABEL_ANY (-1)  /* filter: every alert */
#define AUDIT_LABEL_NONE (-2) /* filter: alerts nobody labelled */

typedef struct audit_delivery {
    char target[SIGFLOW_MAX_NAME_LEN + 1];
    outbox_state state;
    int attempts;
    int64_t updated_ms; /* delivered at, for OUTBOX_OK */
    char *last_error;   /* NULL when none */
} audit_delivery;

typedef struct audit_alert {
    char alert_id[OUTBOX_MAX_ALERT_ID_LEN + 1];
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1];
    int64_t time_ms, created_ms;
    char *json; /* as stored (alert_codec) */
    bool has_label;
    label_rec label; /* the one that counts: a person's over the outcome's */
    size_t n_deliveries;
    audit_delivery *deliveries;
} audit_alert;

typedef struct audit_filter {
    const char *entity; /* NULL: any */
    int64_t since_ms;   /* alerts with time >= since */
    int label;          /* label_kind, AUDIT_LABEL_ANY or AUDIT_LABEL_NONE */
    size_t limit;       /* at most this many (>= 1) */
    bool newest_first;
} audit_filter;

/* Alerts matching f into *out (free with audit_alerts_free); *more: some were left out. */
sf_status audit_alerts(store *s, const audit_filter *f, audit_alert **out, size_t *n, bool *more);
void audit_alerts_free(audit_alert *a, size_t n);

const char *audit_state_name(outbox_state st); /* pending, inflight, delivered, dead, dropped */

#endif
