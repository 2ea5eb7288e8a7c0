/*
 * runtime_retune.c - a reload that changed the decision, applied on the scorer thread.
 * Owns: the hand-over of entity state from the running engine to the reloaded one. A change
 * that keeps what the state means (threshold, weights, bias, cooldown, question, explain
 * texts, ...) carries every entity's state over through the checkpoint format; one that
 * changes it (a signal's event, measure or decay windows, the tick, the signal list) rebuilds
 * the state from the retained journal, in journal order as live scoring saw it, before the
 * engine goes live. The log says which (docs/scoring.md "Reloading a decision").
 * Calls score_image (save/load), journal_read. Called by runtime_scoring.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/monotime.h"
#include "base/limits.h"
#include "daemon/runtime_internal.h"
#include "score/score_image.h"

/* Move old's entity state into the fresh engine `next`; SF_EUNSUPPORTED: it means another thing. */
static sf_status carry_state(score_engine *old, score_engine *next, char *why, size_t whylen)
{
    score_membuf m = {0};
    sf_status st = score_image_save(old, score_membuf_write, &m);
    if (st == SF_OK) {
        score_membuf r = {.data = m.data, .len = m.len};
        st = score_image_load(next, score_membuf_read, &r, why, whylen);
    } else {
        snprintf(why, whylen, "the running state could not be saved: status %d", (int)st);
    }
    free(m.data);
    return st;
}

typedef struct rebuild_ctx {
    runtime *rt;
    score_engine *e;
    uint64_t upto; /* the last journal position the running engine applied */
    uint64_t events;
    bool past;
} rebuild_ctx;

static sf_status rebuild_one(void *ctx, uint64_t seq, sf_event *ev)
{
    rebuild_ctx *c = ctx;
    sf_status st = SF_OK;
    if (seq > c->upto) {
        c->past = true; /* still queued for the scorer: it pushes them itself */
        st = SF_ERETRY;
    } else if (score_push(c->e, ev) == SF_OK) {
        c->events++;
    }
    event_free(ev);
    return st;
}

/* Replay the retained journal up to what was applied into e; the alerts of history are not sent. */
static sf_status rebuild(runtime *rt, score_engine *e, uint64_t *events)
{
    rebuild_ctx c = {.rt = rt, .e = e, .upto = rt->applied_seq};
    rt->rebuilding = true;
    rt->rebuild_alerts = 0;
    sf_status st = c.upto ? journal_read(rt->journal, 0, rebuild_one, &c) : SF_OK;
    if (st == SF_ERETRY && c.past)
        st = SF_OK;
    score_flush(e);
    rt->rebuilding = false;
    *events = c.events;
    return st;
}

void runtime__engine_swap(runtime *rt, score_engine *next, const sigflow_config *cfg)
{
    score_engine *old = rt->engine;
    if (old)
        score_flush(old); /* the old decision's alerts up to here are out */
    rt->engine = next;
    if (!next) {
        score_free(old);
        return;
    }
    char why[SIGFLOW_MAX_ERROR_LEN] = "no entity state was running";
    sf_status st = old ? carry_state(old, next, why, sizeof why) : SF_EUNSUPPORTED;
    score_free(old);
    score_stats s;
    if (st == SF_OK) {
        score_get_stats(next, &s);
        log_info("component=score",
                 "decision reloaded: its change keeps what the state means; entity state kept "
                 "entities=%llu",
                 (unsigned long long)s.entities);
        return;
    }
    if (st != SF_EUNSUPPORTED) { /* a half-loaded engine refuses pushes: start it again */
        log_error("component=score", "cannot carry the entity state over (%s)", why);
        score_free(next);
        rt->engine = next = runtime__engine_for(rt, cfg);
        if (!next)
            return;
    }
    int64_t t0 = monotime_ms();
    uint64_t events = 0;
    st = rebuild(rt, next, &events);
    score_get_stats(next, &s);
    if (st != SF_OK)
        log_error("component=score",
                  "rebuilding the entity state from the journal failed (status %d): "
                  "scoring goes on from what was rebuilt",
                  (int)st);
    log_warn("component=score",
             "decision reloaded: its change alters what the state means (%s); entity state "
             "rebuilt from the journal kept events=%llu entities=%llu ms=%lld "
             "history_alerts_not_sent=%llu",
             why, (unsigned long long)events, (unsigned long long)s.entities,
             (long long)(monotime_ms() - t0), (unsigned long long)rt->rebuild_alerts);
    rt->checkpointed_seq = UINT64_MAX; /* checkpoint the new meaning at once */
    rt->last_checkpoint_ms = 0;
}
