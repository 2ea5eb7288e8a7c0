/*
 * snapshot_store.h - the durable state snapshot: the last score image (score/score_image.h)
 * in the store, as one blob and the journal
 * position it covers, written in one transaction together with the journal's checkpointed
 * mark, so recovery (load the blob, replay the journal after its position) is exact and
 * retention may drop what the blob covers. Owns: the score_checkpoint row (the
 * table keeps its name: existing stores). Calls store,
 * journal. Used by the runtime and `replay --state`.
 */
#ifndef SIGFLOW_SNAPSHOT_STORE_H
#define SIGFLOW_SNAPSHOT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/journal.h"
#include "store/store.h"

/* Replace the checkpoint with blob[0..len), covering the journal up to seq. */
sf_status snapshot_store_write(store *s, journal *j, uint64_t seq, const void *blob, size_t len);
/* The stored checkpoint: *blob malloc'd (NULL, *len 0 and *seq 0 when there is none). */
sf_status snapshot_store_read(store *s, uint64_t *seq, void **blob, size_t *len);

#endif
