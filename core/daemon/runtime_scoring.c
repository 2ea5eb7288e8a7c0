/*
 * runtime_scoring.c - the scorer thread: events from the journal into the engine, alerts
 * into the outbox, checkpoints; and recovery (checkpoint, then the journal after it).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/alert_codec.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "score/score_image.h"
#include "base/limits.h"
#include "store/labels.h"
#include "store/outbox_writer.h"
#include "store/snapshot_store.h"

#define CHECKPOINT_ALERTS_WAIT_MS 5000 /* a checkpoint waits this long for alerts to be stored */
#define SCORER_CLOCK_EVERY 256         /* events between clock reads while the scorer is behind */
#define SCORER_POP_MAX 256             /* events taken from the journaled queue under one lock */
#define RECOVER_ALERTS_WAIT_MS 60000   /* recovery's last alerts (a failing write gives up first) */

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
 * so scoring does not move past an alert that could not be stored, and checkpoint() does
 * not cover one that is not stored yet.
 */
static void rt_on_alert(void *ctx, sf_alert *a)
{
    runtime *rt = ctx;
    if (rt->rebuilding) { /* history replayed for a reloaded decision: already past */
        rt->rebuild_alerts++;
        return;
    }
    if (a->kind == ALERT_HEALTH || a->kind == ALERT_SUPPRESSED) {
        /* Stored directly: the decision alerts raised before it go first, in order. */
        outbox_writer_flush(rt->writer, CHECKPOINT_ALERTS_WAIT_MS);
        if (a->kind == ALERT_HEALTH)
            runtime_health_put(rt, a);
        else
            runtime_suppressed_put(rt, a);
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

/*
 * Save the scoring state with the journal position it covers (one transaction), then let
 * retention drop what it covers and is old enough. Scorer thread (the engine's owner).
 */
static void checkpoint(runtime *rt)
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
        log_warn("component=checkpoint", "no checkpoint yet: alerts are still waiting to be "
                                         "stored in the outbox");
        return;
    }
    if (outbox_writer_gave_up(rt->writer)) { /* it would cover an alert that is not stored */
        free(m.data);
        log_warn("component=checkpoint", "no checkpoint: an alert could not be stored in the "
                                         "outbox; the next start re-creates it from the journal");
        return;
    }
    if (st == SF_OK)
        st = snapshot_store_write(rt->st, rt->journal, rt->applied_seq, m.data, m.len);
    free(m.data);
    if (st != SF_OK) {
        log_error("component=checkpoint",
                  "checkpoint failed (status %d): the journal is kept "
                  "whole until one succeeds",
                  (int)st);
        return;
    }
    rt->checkpointed_seq = rt->applied_seq;
    size_t deleted = 0;
    journal_retain(rt->journal, atomic_load(&rt->journal_retention_ms), &deleted);
    log_info("component=checkpoint",
             "scoring state saved: seq=%llu bytes=%zu ms=%lld "
             "journal_events_retired=%zu",
             (unsigned long long)rt->checkpointed_seq, m.len, (long long)(monotime_ms() - t0),
             deleted);
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
            runtime_score_caught_up(rt);
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

void *runtime_scorer_main(void *arg)
{
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
            runtime_engine_swap(rt, next, next_cfg); /* keeps or rebuilds the entity state */
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
                checkpoint(rt);
            runtime_score_metrics(rt, false);
            runtime_inspect_serve(rt); /* GET /v1/entities/ID: live state, between two events */
            if (n == 0)
                break;
        }
    }
    outbox_writer_set_patient(rt->writer, false); /* stopping: a failing write is given up */
    checkpoint(rt); /* on a clean stop: the next start replays nothing */
    return NULL;
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
        log_info("component=checkpoint", "scoring state loaded: seq=%llu bytes=%zu",
                 (unsigned long long)seq, len);
        return seq;
    }
    if (st == SF_EUNSUPPORTED) { /* the engine is untouched: rebuild from what is journaled */
        log_warn("component=checkpoint",
                 "%s: scoring state is rebuilt from the journal kept "
                 "(journal_retention)",
                 err);
        return 0;
    }
    log_error("component=checkpoint", "checkpoint unreadable (%s): rebuilding from the journal",
              err);
    score_free(rt->engine); /* a half-loaded engine refuses pushes */
    rt->engine = runtime_engine_for(rt, rt->site->cfg);
    return 0;
}

sf_status runtime_recover(runtime *rt)
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
        log_error("component=runtime", "recovery from the journal failed: status %d", (int)st);
        return st;
    }
    rt->applied_seq = last;
    if (rt->engine)
        atomic_store(&rt->event_clock_ms, score_watermark(rt->engine));
    log_info("component=runtime",
             "recovered %llu events from the journal in %lld ms; "
             "%llu alerts were new",
             (unsigned long long)(last - from), (long long)(monotime_ms() - t0),
             (unsigned long long)atomic_load(&rt->alerts));
    return SF_OK;
}
