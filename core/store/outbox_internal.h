/*
 * outbox_internal.h - the outbox's shared pieces for its two files: outbox.c (open, put,
 * claim, result) and outbox_admin.c (dead letters, counts, audit trail, pruning).
 * Nothing outside the outbox includes it.
 */
#ifndef SIGFLOW_OUTBOX_INTERNAL_H
#define SIGFLOW_OUTBOX_INTERNAL_H

#include "base/limits.h"
#include "store/outbox.h"

#define OUTBOX_CTX "component=outbox"

struct outbox {
    store *st;
    bool relaxed; /* the open transaction runs at synchronous=NORMAL (outbox__begin) */
};

/* The columns outbox__collect reads, joined with the alert; append WHERE/ORDER clauses. */
#define DELIVERY_COLUMNS                                                                           \
    "SELECT d.id, d.alert_id, d.target, a.decision, a.entity, a.json, d.last_error,"               \
    " a.time_ms, d.next_attempt_ms, d.attempts, d.state"                                           \
    " FROM outbox_delivery d JOIN outbox_alert a ON a.alert_id = d.alert_id "

/* All with the store lock held. */
/* Step a statement expected to finish and reset it; SF_EIO (logged) otherwise. */
sf_status outbox__done(outbox *o, sqlite3_stmt *st);
/* Run a cached statement expected to finish. */
sf_status outbox__run(outbox *o, const char *sql);
/*
 * BEGIN IMMEDIATE for the daemon's own outbox writes (alerts stored, deliveries claimed,
 * attempts and outcomes). At durability = fsync the transaction commits without an fsync of
 * its own (synchronous=NORMAL until outbox__finish): the next fsync'd commit on the database
 * (the journal's, a checkpoint's) makes it durable with it, since the WAL is synced whole.
 * What an OS crash before that can lose is re-created from the journal (an alert: no
 * checkpoint covers it yet) or attempted again (a delivery's state: at-least-once).
 * docs/durability.md, "The outbox at fsync".
 */
sf_status outbox__begin(outbox *o);
/* COMMIT when rc is SF_OK, else ROLLBACK; releases the store lock; returns the outcome. */
sf_status outbox__finish(outbox *o, sf_status rc);
/* outbox_result's write (counted: outbox_result_counted's) inside an open transaction. */
sf_status outbox__result_locked(outbox *o, int64_t id, outbox_result_kind r, int64_t retry_at_ms,
                                const char *error, bool counted);
/* error, or its first SIGFLOW_MAX_ERROR_LEN bytes copied into bounded. */
const char *outbox__bound_error(const char *error, char bounded[SIGFLOW_MAX_ERROR_LEN + 1]);
/* Step a bound SELECT of DELIVERY_COLUMNS into out[0..*n), at most max rows. */
sf_status outbox__collect(outbox *o, sqlite3_stmt *st, outbox_delivery *out, size_t max, size_t *n);

#endif
