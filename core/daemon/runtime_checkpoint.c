/*
 * runtime_checkpoint.c - the scoring state's checkpoints and the recovery at start: the
 * scorer thread saves the engine's score image with the journal position it covers into the
 * state snapshot (then lets retention drop what it covers); at start the snapshot is loaded
 * and the journal after it replayed. Logs under component=checkpoint. Calls score_image,
 * snapshot_store, journal, outbox_writer. Called by runtime_scoring.c (the scorer thread)
 * and runtime.c (recovery).
 */
#include <stdlib.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "score/score_image.h"
#include "store/outbox_writer.h"
#include "store/snapshot_store.h"

#define CHECKPOINT_CTX "component=checkpoint"
#define RECOVER_ALERTS_WAIT_MS 60000 /* recovery's last alerts (a failing write gives up first) */

/*
 * Save the scoring state with the journal position it covers (one transaction), then let
 * retention drop what it covers and is old enough. Scorer thread (the engine's owner).
 */
void runtime__checkpoint(runtime *rt)
{
    rt->last_checkpoint_ms = monotime_ms();
    if (!rt->engine || rt->applied_seq == rt->checkpointed_seq)
        return;
    score_membuf m = {0};
    int64_t t0 = monotime_ms();
    sf_status st = score_image_save(rt->engine, score_membuf_write, &m);
    /* The alerts of what the state covers are all handed over (the save flushed the
       engine): the checkpoint waits until they are stored. */
    if (st == SF_OK && !outbox_writer_flush(rt->writer, CHECKPOINT_ALERTS_WAIT_MS)) {
        free(m.data);
        log_warn(CHECKPOINT_CTX, "no checkpoint yet: alerts are still waiting to be "
                                 "stored in the outbox");
        return;
    }
    if (outbox_writer_gave_up(rt->writer)) { /* it would cover an alert that is not stored */
        free(m.data);
        log_warn(CHECKPOINT_CTX, "no checkpoint: an alert could not be stored in the "
                                 "outbox; the next start re-creates it from the journal");
        return;
    }
    if (st == SF_OK)
        st = snapshot_store_write(rt->st, rt->journal, rt->applied_seq, m.data, m.len);
    free(m.data);
    if (st != SF_OK) {
        log_error(CHECKPOINT_CTX,
                  "checkpoint failed (status %d): the journal is kept "
                  "whole until one succeeds",
                  (int)st);
        return;
    }
    rt->checkpointed_seq = rt->applied_seq;
    size_t deleted = 0;
    journal_retain(rt->journal, atomic_load(&rt->journal_retention_ms), &deleted);
    log_info(CHECKPOINT_CTX,
             "scoring state saved: seq=%llu bytes=%zu ms=%lld "
             "journal_events_retired=%zu",
             (unsigned long long)rt->checkpointed_seq, m.len, (long long)(monotime_ms() - t0),
             deleted);
}

static sf_status recover_one(void *ctx, uint64_t seq, sf_event *ev)
{
    (void)seq;
    runtime *rt = ctx;
    sf_status st = rt->engine ? score_push(rt->engine, ev) : SF_OK;
    event_free(ev);
    return st;
}

/*
 * Rebuild the scoring state from the journal, in event time, before anything new arrives.
 * Alert ids are deterministic and the outbox put is idempotent, so the alerts this
 * re-creates are stored once: only those never stored before (a crash between scoring and
 * the outbox) are new.
 */
/* Load the scoring checkpoint; the journal position to replay after (0: from the start). */
static uint64_t load_checkpoint(runtime *rt)
{
    uint64_t seq = 0;
    void *blob = NULL;
    size_t len = 0;
    if (snapshot_store_read(rt->st, &seq, &blob, &len) != SF_OK || !blob || !rt->engine) {
        free(blob);
        return 0;
    }
    score_membuf m = {.data = blob, .len = len};
    char err[SIGFLOW_MAX_ERROR_LEN] = "";
    sf_status st = score_image_load(rt->engine, score_membuf_read, &m, err, sizeof err);
    free(blob);
    if (st == SF_OK) {
        log_info(CHECKPOINT_CTX, "scoring state loaded: seq=%llu bytes=%zu",
                 (unsigned long long)seq, len);
        return seq;
    }
    if (st == SF_EUNSUPPORTED) { /* the engine is untouched: rebuild from what is journaled */
        log_warn(CHECKPOINT_CTX,
                 "%s: scoring state is rebuilt from the journal kept "
                 "(journal_retention)",
                 err);
        return 0;
    }
    log_error(CHECKPOINT_CTX, "checkpoint unreadable (%s): rebuilding from the journal", err);
    score_free(rt->engine); /* a half-loaded engine refuses pushes */
    rt->engine = runtime__engine_for(rt, rt->site->cfg);
    return 0;
}

sf_status runtime__recover(runtime *rt)
{
    uint64_t from = load_checkpoint(rt);
    uint64_t last = journal_last_seq(rt->journal);
    rt->applied_seq = rt->checkpointed_seq = from;
    if (rt->engine)
        atomic_store(&rt->event_clock_ms, score_watermark(rt->engine));
    if (last <= from)
        return SF_OK;
    int64_t t0 = monotime_ms();
    sf_status st = journal_read(rt->journal, from, recover_one, rt);
    if (rt->engine)
        score_flush(rt->engine);
    outbox_writer_flush(rt->writer, RECOVER_ALERTS_WAIT_MS); /* "alerts were new" counts them */
    if (st != SF_OK) {
        log_error(CHECKPOINT_CTX, "recovery from the journal failed: status %d", (int)st);
        return st;
    }
    rt->applied_seq = last;
    if (rt->engine)
        atomic_store(&rt->event_clock_ms, score_watermark(rt->engine));
    log_info(CHECKPOINT_CTX,
             "recovered %llu events from the journal in %lld ms; "
             "%llu alerts were new",
             (unsigned long long)(last - from), (long long)(monotime_ms() - t0),
             (unsigned long long)atomic_load(&rt->alerts));
    return SF_OK;
}
