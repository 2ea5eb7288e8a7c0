/*
 * runtime_scoring.c - the daemon's scoring engine and where its output goes: the engine
 * built for a config (runtime__engine_for), its alerts handed to the outbox writer, its
 * outcome labels stored. Logs under component=score. Calls score, alert_codec, outbox_writer,
 * labels. Called by runtime.c, runtime_retune.c and runtime_checkpoint.c; its callbacks run
 * on the scorer thread (runtime_scorer.c).
 */
#include <stdlib.h>
#include <string.h>

#include "model/alert_codec.h"
#include "base/log.h"
#include "daemon/runtime_internal.h"
#include "base/limits.h"
#include "store/labels.h"
#include "store/outbox_writer.h"

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
    runtime__observe_alert(it->time_ms);
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

sf_status runtime__alerts_start(runtime *rt)
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
    if (a->kind == ALERT_HEALTH || a->kind == ALERT_SUPPRESSED) {
        /* Stored directly: the decision alerts raised before it go first, in order. */
        outbox_writer_flush(rt->writer, CHECKPOINT_ALERTS_WAIT_MS);
        if (a->kind == ALERT_HEALTH)
            runtime__health_put(rt, a);
        else
            runtime__suppressed_put(rt, a);
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

score_engine *runtime__engine_for(runtime *rt, const sigflow_config *cfg)
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
