/*
 * intake.h - one connector instance's events on their way into the journal. emit adds to a
 * bounded buffer; the buffer is committed with journal_append_handoff (events and the
 * connector's cursor in one transaction, then to the shard router in sequence order) when the
 * connector stores a checkpoint, when a request or poll settles, when the buffer is full, or
 * `linger_ms` after its first event (a small thread per intake). So a pull connector's cursor
 * never runs ahead of, nor behind, the events it covers: a restart neither loses nor doubles.
 * Owns: the buffer and its thread. Calls journal. Used by the runtime's instance I/O.
 */
#ifndef SF_INTAKE_H
#define SF_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "journal.h"

typedef struct intake intake;

/* `connector` is copied; it scopes dedup and names the cursor's namespace. */
intake *intake_new(journal *j, const char *connector, size_t capacity, int64_t linger_ms);
/*
 * Buffer ev (always consumed). When the buffer is full it is committed first; if that fails
 * the event is refused with SF_ERETRY (back-pressure: the connector keeps its position).
 */
sf_status intake_add(intake *in, sf_event *ev);
/* Commit what is buffered, with the cursor when cursor_key is set; blocks until durable. */
sf_status intake_commit(intake *in, const char *cursor_key, const char *cursor_value);
/* Stop the linger thread, commit what is left (errors logged), free. NULL accepted. */
void intake_free(intake *in);

#endif
