/*
 * runtime_scoring.c - the scorer thread: events from the journal into the engine, alerts
 * into the outbox, a checkpoint every checkpoint_interval (runtime_checkpoint.c). Logs
 * under component=score.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/alert_codec.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "base/limits.h"
#include "store/labels.h"
#include "store/outbox_writer.h"

#define SCORER_CLOCK_EVERY 256 /* events between clock reads while the scorer is behind */

/* The journal hands over each commit's events at once, in sequence order (ev->seq set): one
   lock on the scorer's queue and one wake-up per commit, not per event. */
void runtime_journal_sink_many(void *ctx, sf_event *const *evs, size_t n)
{
    runtime *rt = ctx;
    size_t pushed = queue_push_many(rt->journaled, (void *const *)evs, n, -1);
    for (size_t i = pushed; i < n; i++)
        event_free(evs[i]); /* closed: only after every connector stopped, so never in practice */
}

/* ---- alerts out --------------------------------------------------------------------------- */

/*
 * The outbox writer's write: a group of alerts and a delivery for each of the decision's
 * targets, one transaction (core/store/outbox_writer.c). Writer thread.
 */
static sf_status write_alerts(void *ctx, const outbox_item *items, size_t n, bool *created)
{
    runtime *rt = ctx;
    pthread_mutex_lock(&rt->target_lock);
    sf_status st = outbox_put_batch(rt->outbox, items, n, (const char *const *)rt->target_names,
                                    rt->n_targets, created);
    bool any = false;
    for (size_t i = 0; st == SF_OK && i < n; i++)
        any |= created[i];
    for (size_t i = 0; any && i < rt->n_targets; i++)
        if (rt->target_workers[i])
            delivery_wake(rt->target_workers[i]);
    pthread_mutex_unlock(&rt->target_lock);
    return st;
}

/* A stored alert (writer thread): counted and logged once, when it is new. */
static void alert_stored(void *ctx, const outbox_item *it, bool created)
{
    runtime *rt = ctx;
    if (!created)
        return; /* re-created by a journal replay: stored (and delivered) before */
    atomic_fetch_add(&rt->alerts, 1);
    runtime_observe_alert(it->time_ms);
    log_info("component=score", "alert alert=%s entity=%s score=%.4f", it->alert_id, it->entity,
             it->score);
}

/* At debug, what was scored: the score against the threshold and the strongest reasons. */
#define DEBUG_REASONS 3
static void log_scored(const sf_alert *a)
{
    char ctx[3 * SIGFLOW_MAX_ENTITY_LEN + 128], why[1024] = "";
    int n = snprintf(ctx, sizeof ctx, "component=score alert=%s ", a->id);
    log_format_kv(ctx + n, sizeof ctx - (size_t)n, "entity", a->entity);
    size_t o = 0;
    for (size_t i = 0; i < a->n_reasons && i < DEBUG_REASONS && o < sizeof why; i++) {
        const alert_reason *r = &a->reasons[i];
        int k = snprintf(why + o, sizeof why - o, "%s%s %+.2f (x=%.2f%s%s)", i ? "; " : "",
                         r->signal, r->contribution, r->x, r->text && *r->text ? ": " : "",
                         r->text ? r->text : "");
        if (k < 0)
            break;
        o += (size_t)k;
    }
    log_debug(ctx, "scored %.4f >= threshold %.4f (model_version %u); top reasons: %s", a->score,
              a->threshold, (unsigned)a->model_version, *why ? why : "none");
}

sf_status runtime_alerts_start(runtime *rt)
{
    rt->writer = outbox_writer_start(RUNTIME_ALERTS_PENDING, write_alerts, alert_stored, rt);
    return rt->writer ? SF_OK : SF_ENOMEM;
}

/*
 * Hand an alert to the outbox writer, which stores it with others in one transaction
 * (docs/reliability.md "Alerts and a full disk"): while a write fails, the hand-over waits,
 * so scoring does not move past an alert that could not be stored, and a checkpoint does
 * not cover one that is not stored yet.
 */
static void rt_on_alert(void *ctx, sf_alert *a)
{
    runtime *rt = ctx;
    if (rt->rebuilding) { /* history replayed for a reloaded decision: already past */
        rt->rebuild_alerts++;
        return;
    }
    if (a->kind == ALERT_HEALTH) {
        /* Stored directly: the decision alerts raised before it go first, in order. */
        outbox_writer_flush(rt->writer, CHECKPOINT_ALERTS_WAIT_MS);
        runtime_health_put(rt, a);
        return;
    }
    if (!a->json && alert_render_json(a) != SF_OK) {
        log_error("component=score", "cannot render alert=%s entity=%s", a->id, a->entity);
        return;
    }
    char *stored = alert_encode(a);
    outbox_item it = {.alert_id = a->id,
                      .decision = a->decision,
                      .entity = a->entity,
                      .json = stored,
                      .time_ms = a->time_ms,
                      .score = a->score};
    sf_status st = stored ? outbox_writer_add(rt->writer, &it) : SF_ENOMEM;
    free(stored);
    if (st != SF_OK) {
        log_error("component=score", "alert=%s entity=%s not stored in the outbox: status %d",
                  a->id, a->entity, (int)st);
        return;
    }
    log_scored(a);
}

/*
 * An outcome label (docs/scoring.md "Outcomes and learning") goes to the labels table with
 * source = outcome (a person's label there wins). A journal replay after a restart decides
 * the same labels again: the store answers "unchanged" and nothing is logged twice.
 */
static void rt_on_label(void *ctx, const score_label *l)
{
    runtime *rt = ctx;
    labels_result res = LABELS_NOT_FOUND;
    sf_status st;
    if (l->kind == SCORE_LABEL_MISSED)
        st = labels_put_missed(rt->st, l->entity, l->outcome_time, LABEL_SOURCE_OUTCOME, "outcome",
                               NULL, &res);
    else
        st = labels_put_alert(rt->st, l->alert_id,
                              l->kind == SCORE_LABEL_CONFIRMED ? LABEL_CONFIRMED
                                                               : LABEL_FALSE_POSITIVE,
                              LABEL_SOURCE_OUTCOME, "outcome", false, NULL, &res);
    if (st != SF_OK) {
        log_error("component=score", "label=%s entity=%s alert=%s not stored: status %d",
                  score_label_name(l->kind), l->entity, l->alert_id[0] ? l->alert_id : "-",
                  (int)st);
        return;
    }
    if (res == LABELS_CREATED || res == LABELS_REPLACED)
        log_info("component=score", "label=%s entity=%s alert=%s model_version=%u source=outcome",
                 score_label_name(l->kind), l->entity, l->alert_id[0] ? l->alert_id : "-",
                 l->model_version);
}

score_engine *runtime_engine_for(runtime *rt, const sigflow_config *cfg)
{
    if (!cfg->has_decision)
        return NULL;
    char err[SIGFLOW_MAX_ERROR_LEN];
    score_engine *e = score_new(&cfg->decision, cfg->signals, cfg->n_signals, cfg->shards,
                                rt_on_alert, rt, err, sizeof err);
    if (!e)
        log_error("component=score", "cannot start scoring: %s", err);
    else
        score_set_label_fn(e, rt_on_label, rt);
    return e;
}

void *runtime_scorer_main(void *arg)
{
    runtime *rt = arg;
    int64_t last_wall_tick = 0;
    unsigned since_clock = 0;
    outbox_writer_set_patient(rt->writer, true); /* a failed alert write is retried */
    for (;;) {
        sf_event *ev = queue_pop(rt->journaled, 500);
        pthread_mutex_lock(&rt->engine_lock);
        score_engine *next = rt->pending_engine;
        const sigflow_config *next_cfg = rt->pending_cfg;
        rt->pending_engine = NULL;
        pthread_mutex_unlock(&rt->engine_lock);
        if (next)
            runtime_engine_swap(rt, next, next_cfg); /* keeps or rebuilds the entity state */
        if (ev) {
            if (ev->seq)
                rt->applied_seq = ev->seq;
            if (ev->time_ms > atomic_load(&rt->event_clock_ms))
                atomic_store(&rt->event_clock_ms, ev->time_ms);
            bool behind = false;
            if (rt->engine) {
                score_push(rt->engine, ev);
                /* The engine batches for throughput; once the queue runs dry, hand the
                   alerts of what was pushed to delivery now rather than at the next batch. */
                behind = queue_length(rt->journaled) > 0;
                if (!behind) {
                    score_flush(rt->engine);
                    runtime_score_caught_up(rt);
                }
            }
            event_free(ev);
            /* While it is behind, the clock is read every SCORER_CLOCK_EVERY events, not per
               event (a clock read per event was a fifth of this thread's time). */
            if (behind && ++since_clock < SCORER_CLOCK_EVERY)
                continue;
        } else if (atomic_load(&rt->draining) && queue_length(rt->journaled) == 0) {
            break; /* closed before `draining` was set, so empty now means empty for good */
        }
        since_clock = 0;
        /* clock = wall: silence is noticed even when nothing arrives (docs/scoring.md, Time). */
        int64_t now = monotime_ms();
        if (rt->engine && rt->clock == CONFIG_CLOCK_WALL && now - last_wall_tick >= 1000) {
            score_advance(rt->engine, walltime_ms());
            last_wall_tick = now;
        }
        if (now - rt->last_checkpoint_ms >= atomic_load(&rt->checkpoint_interval_ms))
            runtime_checkpoint(rt);
        runtime_score_metrics(rt, false);
        runtime_inspect_serve(rt); /* GET /v1/entities/ID: live state, between two events */
    }
    outbox_writer_set_patient(rt->writer, false); /* stopping: a failing write is given up */
    runtime_checkpoint(rt); /* on a clean stop: the next start replays nothing */
    return NULL;
}
