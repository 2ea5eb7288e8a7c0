/*
 * snapshot_store_ro.h - reading the state snapshot (snapshot_store.h) from outside the daemon, on
 * a read-only SQLite connection of its own (no lock taken, no migration, no write), so
 * `sigflow model` works while the daemon runs. Owns: that connection. Calls sqlite3. Used
 * by cli_model.c.
 */
#ifndef SIGFLOW_SNAPSHOT_STORE_RO_H
#define SIGFLOW_SNAPSHOT_STORE_RO_H

#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

/*
 * The checkpoint in <state_dir>/sigflow.db: *blob malloc'd, the journal position it covers
 * and when it was written (wall clock ms). *blob NULL when there is none yet. SF_EIO with
 * the reason in err when the store cannot be read.
 */
sf_status snapshot_store_read_ro(const char *state_dir, void **blob, size_t *len, uint64_t *seq,
                                 int64_t *written_ms, char *err, size_t errlen);

#endif
