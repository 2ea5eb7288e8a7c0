/*
 * intake.h - one connector instance's events on their way into the journal. emit adds to a
 * buffer that is committed with journal_append_handoff (events and the connector's cursor in
 * one transaction, then to the shard router in sequence order).
 * A connector that keeps a cursor (it read or stored a checkpoint: cursor mode) has its events
 * committed only together with its next cursor, so after a crash it re-reads exactly what the
 * journal lacks: neither lost nor doubled; events after its last cursor are dropped at stop
 * (it reads them again). Other connectors (pushed requests) are committed when a request
 * settles, every `batch` events, or `linger_ms` after the first buffered one.
 * Owns: the buffer and its thread. Calls journal. Used by the runtime's instance I/O.
 */
#ifndef SF_INTAKE_H
#define SF_INTAKE_H

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
/* Stop the linger thread; commit what is left, or in cursor mode drop it (the connector
   re-reads it from its cursor); free. NULL accepted. */
void intake_free(intake *in);

#endif
