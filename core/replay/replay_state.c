#include "replay/replay_state.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/journal.h"
#include "score/score_image.h"
#include "base/limits.h"
#include "store/snapshot_store.h"
#include "store/store.h"

int replay_state_save(const sigflow_config *cfg, score_engine *e)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    store *st = NULL;
    journal *j = NULL;
    score_membuf m = {0};
    int rc = 1;
    if (store_open(cfg->state_dir, (store_durability)cfg->durability, &st, err, sizeof err) !=
        SF_OK) {
        fprintf(stderr, "replay: --state: %s\n", err);
        return 1;
    }
    uint64_t seq = 0;
    void *old = NULL;
    size_t old_len = 0;
    if (journal_open(st, NULL, &j) != SF_OK ||
        snapshot_store_read(st, &seq, &old, &old_len) != SF_OK) {
        fprintf(stderr, "replay: --state: cannot read the store in %s\n", cfg->state_dir);
        goto done;
    }
    free(old);
    if (journal_last_seq(j) > 0 || old) {
        fprintf(stderr,
                "replay: --state: %s already holds %s; --state seeds a new instance "
                "only (move it away to start over)\n",
                cfg->state_dir, old ? "a scoring checkpoint" : "journaled events");
        goto done;
    }
    if (score_image_save(e, score_membuf_write, &m) != SF_OK ||
        snapshot_store_write(st, j, 0, m.data, m.len) != SF_OK) {
        fprintf(stderr, "replay: --state: saving the scoring state failed\n");
        goto done;
    }
    fprintf(stderr, "replay: scoring state saved in %s (%zu bytes): `sigflow run` starts from it\n",
            cfg->state_dir, m.len);
    rc = 0;
done:
    free(m.data);
    journal_close(j);
    store_close(st);
    return rc;
}
