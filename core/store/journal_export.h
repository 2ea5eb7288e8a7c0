/*
 * journal_export.h - reading the journal from outside the daemon: a read-only SQLite
 * connection of its own on <state_dir>/sigflow.db (never migrating, never writing, never
 * taking the daemon's lock), so `sigflow journal` and `sigflow replay --journal` work while
 * the daemon runs. Reads the events committed when it starts, in journal (sequence) order,
 * in pages, each in its own short read transaction (the daemon's WAL checkpoints go on).
 * Owns: the connection. Calls sqlite3, event. Used by cli_journal.c and replay.c.
 */
#ifndef SIGFLOW_JOURNAL_EXPORT_H
#define SIGFLOW_JOURNAL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/event.h"
#include "sigflow.h"

typedef struct journal_filter {
    bool has_since;
    int64_t since_ms;      /* journaled (arrived) at or after this, ms since the epoch */
    const char *connector; /* only events that came through this connector; NULL: all */
} journal_filter;

/*
 * fn gets each event (borrowed for the call), its sequence number and the connector it came
 * through (NULL when unknown); a status other than SF_OK stops the read and is returned.
 */
typedef sf_status (*journal_export_fn)(void *ctx, uint64_t seq, const sf_event *ev,
                                       const char *connector);

/*
 * Read every committed event of the store in state_dir that passes `f`, in sequence order.
 * On an error (no database there, a newer schema, a read failure) err says what and where.
 */
sf_status journal_export(const char *state_dir, const journal_filter *f, journal_export_fn fn,
                         void *ctx, char *err, size_t errlen);

#endif
