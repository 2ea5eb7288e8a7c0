/*
 * outbox_writer.h - alerts into the outbox in groups, off the scorer's path (docs/reliability.md
 * "Alerts and a full disk", docs/performance.md "The whole daemon"): the scorer hands each
 * alert over (a copy) and goes on; one writer thread stores everything waiting in one
 * transaction (one commit, one fsync at durability = fsync, for many alerts). A failed write
 * is retried with backoff, and while it fails the scorer waits at its next hand-over: it does
 * not move past an alert that could not be stored. outbox_writer_flush is the checkpoint's
 * barrier: no checkpoint covers an alert not yet stored. Not patient (stopping, recovering):
 * after three more failed attempts a group is given up on and the writer says so
 * (outbox_writer_gave_up: the run writes no checkpoint, the next start re-creates those
 * alerts from the journal). Owns: the waiting alerts and the writer thread. Calls the
 * caller's write function (the runtime: outbox_put_batch with the routes) and log, metrics.
 * Used by the runtime's scorer (core/daemon/runtime_scoring.c).
 */
#ifndef SIGFLOW_OUTBOX_WRITER_H
#define SIGFLOW_OUTBOX_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"
#include "store/outbox.h"

typedef struct outbox_writer outbox_writer;

/* Store items[0..n) in one transaction; created[i]: item i is new. All or nothing. */
typedef sf_status (*outbox_writer_write_fn)(void *ctx, const outbox_item *items, size_t n,
                                            bool *created);
/* After a successful write, for each item (writer thread). */
typedef void (*outbox_writer_done_fn)(void *ctx, const outbox_item *item, bool created);

/* max_pending: alerts waiting at most (the scorer waits for room beyond it). NULL: no memory
   or no thread. */
outbox_writer *outbox_writer_start(size_t max_pending, outbox_writer_write_fn write,
                                   outbox_writer_done_fn done, void *ctx);
/*
 * Hand an alert over (copied). Waits while the writer holds max_pending alerts or while its
 * last write failed and is being retried. SF_EINVAL: the alert can never be stored (a name
 * over its limit); SF_ENOMEM.
 */
sf_status outbox_writer_add(outbox_writer *w, const outbox_item *item);
/* Wait until every alert added before the call is stored (or given up on): true when that
   happened within timeout_ms. */
bool outbox_writer_flush(outbox_writer *w, int64_t timeout_ms);
/* Patient (the scorer runs): a failed write is retried until it succeeds. Not patient
   (stopping, recovering): given up on after three more attempts. Starts not patient. */
void outbox_writer_set_patient(outbox_writer *w, bool patient);
/* Whether any alert was given up on: no checkpoint may be written for the rest of the run. */
bool outbox_writer_gave_up(outbox_writer *w);
/* Whether the last write failed and is being retried (the runtime's /readyz). NULL: false. */
bool outbox_writer_failing(outbox_writer *w);
/* Store what waits (not patient: three attempts), then stop the thread and free. NULL ok. */
void outbox_writer_stop(outbox_writer *w);

#endif
