/*
 * runtime_scorer.c - the scorer thread: the journal's sink queues each commit's events
 * (the `journaled` queue), the scorer pops them into the engine, applies a reloaded
 * decision's engine (runtime_retune.c), ticks the wall clock, checkpoints every
 * checkpoint_interval and at stop (runtime_checkpoint.c) and serves live-state reads.
 * Logs nothing of its own. Called by runtime.c (the sink, the thread).
 */
#include <pthread.h>

#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "store/outbox_writer.h"

#define SCORER_CLOCK_EVERY 256 /* events between clock reads while the scorer is behind */
#define SCORER_POP_MAX 256     /* events taken from the journaled queue under one lock */

/* The journal hands over each commit's events at once, in sequence order (ev->seq set): one
   lock on the scorer's queue and one wake-up per commit, not per event. */
void runtime__journal_sink_many(void *ctx, sf_event *const *evs, size_t n)
{
    runtime *rt = ctx;
    size_t pushed = queue_push_many(rt->journaled, (void *const *)evs, n, -1);
    for (size_t i = pushed; i < n; i++)
        event_free(evs[i]); /* closed: only after every connector stopped, so never in practice */
}

/*
 * One event into the engine; more_in_batch: events of its batch follow it. True when
 * the loop should do its periodic work (clock, checkpoint, metrics) after this event.
 */
static bool score_one(runtime *rt, sf_event *ev, bool more_in_batch, unsigned *since_clock)
{
    if (ev->seq)
        rt->applied_seq = ev->seq;
    if (ev->time_ms > atomic_load(&rt->event_clock_ms))
        atomic_store(&rt->event_clock_ms, ev->time_ms);
    bool behind = false;
    if (rt->engine) {
        score_push(rt->engine, ev);
        /* The engine batches for throughput; once the queue runs dry, hand the alerts of
           what was pushed to delivery now rather than at the next batch. */
        behind = more_in_batch || queue_length(rt->journaled) > 0;
        if (!behind) {
            score_flush(rt->engine);
            runtime__score_caught_up(rt);
        }
    }
    event_free(ev);
    /* While it is behind, the clock is read every SCORER_CLOCK_EVERY events, not per event
       (a clock read per event was a fifth of this thread's time). */
    if (behind && ++*since_clock < SCORER_CLOCK_EVERY)
        return false;
    *since_clock = 0;
    return true;
}

void *runtime__scorer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-score"); /* top -H, perf: docs/operating.md */
    runtime *rt = arg;
    int64_t last_wall_tick = 0;
    unsigned since_clock = 0;
    /* Events are taken SCORER_POP_MAX at a time: one lock on the journaled queue per batch,
       not per event (the journal hands over whole commits). */
    sf_event *batch[SCORER_POP_MAX];
    outbox_writer_set_patient(rt->writer, true); /* a failed alert write is retried */
    for (;;) {
        size_t n = queue_pop_many(rt->journaled, (void **)batch, SCORER_POP_MAX, 500);
        pthread_mutex_lock(&rt->engine_lock);
        score_engine *next = rt->pending_engine;
        const sigflow_config *next_cfg = rt->pending_cfg;
        rt->pending_engine = NULL;
        pthread_mutex_unlock(&rt->engine_lock);
        if (next)
            runtime__engine_swap(rt, next, next_cfg); /* keeps or rebuilds the entity state */
        if (n == 0 && atomic_load(&rt->draining) && queue_length(rt->journaled) == 0)
            break; /* closed before `draining` was set, so empty now means empty for good */
        for (size_t i = 0; i < n || n == 0; i++) {
            if (n > 0 && !score_one(rt, batch[i], i + 1 < n, &since_clock))
                continue;
            /* clock = wall: silence is noticed even when nothing arrives (docs/scoring.md). */
            int64_t now = monotime_ms();
            if (rt->engine && rt->clock == CONFIG_CLOCK_WALL && now - last_wall_tick >= 1000) {
                score_advance(rt->engine, walltime_ms());
                last_wall_tick = now;
            }
            if (now - rt->last_checkpoint_ms >= atomic_load(&rt->checkpoint_interval_ms))
                runtime__checkpoint(rt);
            runtime__score_metrics(rt, false);
            runtime__inspect_serve(rt); /* GET /v1/entities/ID: live state, between two events */
            if (n == 0)
                break;
        }
    }
    outbox_writer_set_patient(rt->writer, false); /* stopping: a failing write is given up */
    runtime__checkpoint(rt); /* on a clean stop: the next start replays nothing */
    return NULL;
}
