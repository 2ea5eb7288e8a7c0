/*
 * outbox_internal.h - the outbox's shared pieces for its two files: outbox.c (open, put,
 * claim, result) and outbox_admin.c (dead letters, counts, audit trail, pruning).
 * Nothing outside the outbox includes it.
 */
#ifndef SIGFLOW_OUTBOX_INTERNAL_H
#define SIGFLOW_OUTBOX_INTERNAL_H

#include "store/outbox.h"

#define OUTBOX_CTX "component=outbox"

struct outbox {
    store *st;
};

/* The columns outbox_collect reads, joined with the alert; append WHERE/ORDER clauses. */
#define DELIVERY_COLUMNS                                                                           \
    "SELECT d.id, d.alert_id, d.target, a.decision, a.entity, a.json, d.last_error,"               \
    " a.time_ms, d.next_attempt_ms, d.attempts, d.state"                                           \
    " FROM outbox_delivery d JOIN outbox_alert a ON a.alert_id = d.alert_id "

/* All with the store lock held. */
/* Step a statement expected to finish and reset it; SF_EIO (logged) otherwise. */
sf_status outbox_done(outbox *o, sqlite3_stmt *st);
/* Run a cached statement expected to finish. */
sf_status outbox_run(outbox *o, const char *sql);
/* COMMIT when rc is SF_OK, else ROLLBACK; releases the store lock; returns the outcome. */
sf_status outbox_finish(outbox *o, sf_status rc);
/* Step a bound SELECT of DELIVERY_COLUMNS into out[0..*n), at most max rows. */
sf_status outbox_collect(outbox *o, sqlite3_stmt *st, outbox_delivery *out, size_t max, size_t *n);

#endif
