/*
 * learn_image.h - the learning part of the score image (format version 2):
 * model, history, counts and every shard's outcome tables, as one length-prefixed part after
 * the entities. Owns that part's encoding (docs/scoring.md "Checkpoints"). Calls learn,
 * outcome, score_shard. Called by score_image.c (save) and score_image_load.c.
 */
#ifndef SIGFLOW_SCORE_LEARN_IMAGE_H
#define SIGFLOW_SCORE_LEARN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "score/score.h"

/* The part's bytes (malloc'd, *len long). Every shard idle. */
sf_status learn_image_encode(score_engine *e, unsigned char **out, size_t *len);
/*
 * Restore the part into an engine whose entities were just restored (ids must name them;
 * times at most `watermark`). SF_EINVAL with a message on anything malformed. A model saved
 * under other configured bias/weights/threshold is dropped (and that is recorded): the
 * operator changed the config, the new values win.
 */
sf_status learn_image_decode(score_engine *e, const unsigned char *p, size_t n, int64_t watermark,
                             char *err, size_t errlen);

#endif
