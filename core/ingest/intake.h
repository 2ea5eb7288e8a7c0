/*
 * intake.h - one connector instance's events on their way into the journal. emit adds to a
 * buffer that is committed with journal_append_handoff (events and the connector's cursor in
 * one transaction, then to the shard router in sequence order).
 * A connector that keeps a cursor (it read or stored a checkpoint: cursor mode) has its events
 * committed only together with its next cursor, so after a crash it re-reads exactly what the
 * journal lacks: neither lost nor doubled; events after its last cursor are dropped at stop
 * (it reads them again). Other connectors (pushed requests) are committed when a request
 * settles, every `batch` events, or `linger_ms` after the first buffered one.
 * A request scope (the HTTP listener's) takes the events emitted on its thread while it is
 * open instead: they are the request's alone, committed together when the request settles,
 * and dropped whole when it is answered with an error, so an error answer leaves nothing
 * behind (docs/reliability.md, "Ingest answers").
 * Owns: the buffer and its thread, the request scopes. Calls journal. Used by the runtime's
 * instance I/O and by ingest_http (scopes).
 */
#ifndef SIGFLOW_INTAKE_H
#define SIGFLOW_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "model/event.h"
#include "store/journal.h"

typedef struct intake intake;

/*
 * `connector` is copied; it scopes dedup and names the cursor's namespace. `batch`: events per
 * commit without a cursor; `capacity`: events a cursor-mode connector may emit between two
 * checkpoints before they are committed without one (a warning says so).
 */
intake *intake_new(journal *j, const char *connector, size_t batch, size_t capacity,
                   int64_t linger_ms);
/* The connector keeps a cursor (it called checkpoint_get or checkpoint_set). */
void intake_cursor_mode(intake *in);
/*
 * Buffer ev (always consumed). When the buffer is full it is committed first; if that fails
 * the event is refused with SF_ERETRY (back-pressure: the connector keeps its position).
 */
sf_status intake_add(intake *in, sf_event *ev);
/* Commit what is buffered, with the cursor when cursor_key is set; blocks until durable. */
sf_status intake_commit(intake *in, const char *cursor_key, const char *cursor_value);
/*
 * One request's events. Open it on the thread that calls the connector's request callback;
 * while it is open, emits of that thread (to a connector not in cursor mode) land in it and a
 * settle (intake_commit without cursor) returns SF_OK without committing: the owner submits
 * them with intake_scope_submit or drops them with intake_scope_discard.
 */
typedef struct intake_scope {
    intake *in; /* the intake the events were emitted to (NULL: none yet) */
    sf_event **evs;
    size_t n, alloc;
    struct intake_scope *prev; /* the scope open before this one on the thread (none in use) */
} intake_scope;

void intake_scope_open(intake_scope *s);
/* Close the scope (the thread's emits go to their intakes again); its events stay in it. */
void intake_scope_close(intake_scope *s);
/*
 * The scope's events to the journal as one batch (see journal_submit_batch): done(ctx, st)
 * follows on SF_OK. The scope is empty afterwards whatever the result. SF_EINVAL if empty.
 * With `here` set, the batch is queued for the caller to commit (journal_submit_batch_deferred)
 * and *here names the journal to call journal_commit_here on.
 */
sf_status intake_scope_submit(intake_scope *s, journal_done_fn done, void *ctx, journal **here);
/* Free what the scope holds. */
void intake_scope_discard(intake_scope *s);

/* Stop the linger thread; commit what is left, or in cursor mode drop it (the connector
   re-reads it from its cursor); free. NULL accepted. */
void intake_free(intake *in);

#endif
