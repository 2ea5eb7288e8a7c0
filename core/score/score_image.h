/*
 * score_image.h - the score image: the scoring engine's whole state serialised (what a
 * checkpoint writes, docs/durability.md; stored by store/snapshot_store.h): save a
 * flushed engine to a versioned, checksummed, shard-count-free byte stream and load it into
 * a fresh engine, so recovery replays only the journal after the checkpoint.
 * Owns: the image format (docs/scoring.md "Checkpoints"). Calls score (internals),
 * score_shard, score_state. Used by the runtime (recovery and periodic checkpoints).
 */
#ifndef SIGFLOW_SCORE_IMAGE_H
#define SIGFLOW_SCORE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "score/score.h"

#define SCORE_IMAGE_VERSION 2 /* 1 (no learning part) is still read */

/* Consume len bytes (all of them, or fail: the status is returned by save). */
typedef sf_status (*score_write_fn)(void *ctx, const void *buf, size_t len);
/* Put up to len bytes in buf and their count in *got; *got = 0 only at the end. */
typedef sf_status (*score_read_fn)(void *ctx, void *buf, size_t len, size_t *got);

/*
 * Flush (score_flush: every pushed event applied, every alert handed to on_alert), then
 * write the engine's whole state through `write`, in chunks of at most 64 KiB. The bytes
 * depend only on the state, never on the shard count. Call it on the thread that pushes,
 * between pushes. Errors: the engine's own if it failed earlier (or while flushing);
 * SF_EINVAL if an entity's attrs exceed SIGFLOW_MAX_EVENT_LINE or a decision/signal name its
 * limit; SF_ENOMEM; a write callback's error, as it returned it (then stop writing).
 */
sf_status score_image_save(score_engine *e, score_write_fn write, void *ctx);

/*
 * Load a checkpoint into a fresh engine (score_new, nothing pushed or advanced yet): then
 * pushing the events after the checkpoint gives exactly the alerts of one engine that saw
 * every event. The message for the operator goes to err.
 *   SF_OK
 *   SF_EUNSUPPORTED  made for another decision/signals config (or another tick): the
 *                    engine is untouched and usable ("decision changed: state starts fresh")
 *   SF_EINVAL        not a checkpoint, unknown version, engine not fresh (engine untouched),
 *                    or truncated/corrupt/checksum mismatch found while restoring entities
 *   SF_ENOMEM, or the read callback's error
 * After any error other than SF_EUNSUPPORTED and the header-time SF_EINVALs, some entities
 * may be in: the engine then refuses further pushes (it returns the error); free it.
 */
sf_status score_image_load(score_engine *e, score_read_fn read, void *ctx, char *err,
                           size_t errlen);

/* A 64-bit fingerprint of what the state means (see docs/scoring.md), for logs and tables. */
uint64_t score_image_fingerprint(const score_engine *e);

/* Helpers for the common case of a checkpoint held in memory (one SQLite blob). */
typedef struct score_membuf {
    unsigned char *data; /* malloc'd; the caller frees */
    size_t len, cap;
    size_t pos; /* read position for score_membuf_read */
} score_membuf;
sf_status score_membuf_write(void *ctx, const void *buf, size_t len);
sf_status score_membuf_read(void *ctx, void *buf, size_t len, size_t *got);

#endif
