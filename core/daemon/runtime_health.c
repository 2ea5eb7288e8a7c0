/*
 * runtime_health.c - integration-health alerts into the outbox (docs/scoring.md "Health
 * alerts"): they go to `[sigflow] health_deliver` (default: the decision's `deliver`), with
 * the same at-least-once delivery as decision alerts. Called by the scorer thread (stale
 * signals) and the connector threads (schema drift); the targets are rebuilt by reloads.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "daemon/runtime_internal.h"
#include "mapping/mapping.h"
#include "model/alert_codec.h"

/* Point every health_deliver name at its worker. Called under nothing; takes target_lock. */
void runtime_health_targets_rebuild(runtime *rt)
{
    const sigflow_config *cfg = rt->site->cfg;
    char **names = cfg->n_health_deliver ? cfg->health_deliver : cfg->decision.deliver;
    size_t n = cfg->n_health_deliver ? cfg->n_health_deliver
                                     : (cfg->has_decision ? cfg->decision.n_deliver : 0);
    delivery_worker **workers = calloc(n ? n : 1, sizeof *workers);
    for (size_t i = 0; workers && i < n; i++)
        for (size_t j = 0; j < rt->n_insts; j++)
            if (strcmp(rt->insts[j]->si->cfg->name, names[i]) == 0)
                workers[i] = rt->insts[j]->worker;
    pthread_mutex_lock(&rt->target_lock);
    free(rt->health_target_workers);
    rt->health_target_workers = workers;
    rt->health_target_names = names; /* the site outlives its use here: retired, not freed */
    rt->n_health_targets = workers ? n : 0;
    pthread_mutex_unlock(&rt->target_lock);
}

void runtime_health_put(runtime *rt, sf_alert *a)
{
    if (!a->json && alert_render_json(a) != SF_OK) {
        log_error("component=health", "cannot render health alert=%s", a->id);
        return;
    }
    char *stored = alert_encode(a);
    bool created = false;
    pthread_mutex_lock(&rt->target_lock);
    sf_status st = stored ? outbox_put(rt->outbox, a->id, a->decision, "health", a->time_ms, stored,
                                       (const char *const *)rt->health_target_names,
                                       rt->n_health_targets, &created)
                          : SF_ENOMEM;
    for (size_t i = 0; st == SF_OK && created && i < rt->n_health_targets; i++)
        if (rt->health_target_workers[i])
            delivery_wake(rt->health_target_workers[i]);
    pthread_mutex_unlock(&rt->target_lock);
    free(stored);
    if (st != SF_OK) {
        log_error("component=health", "health alert=%s not stored in the outbox: status %d", a->id,
                  (int)st);
        return;
    }
    if (created)
        log_warn("component=health", "health alert=%s %s", a->id, a->json);
}

/*
 * A decision alert a stale signal suppressed (docs/scoring.md "Suppressed alerts"): stored in
 * the outbox with no delivery, so the audit trail (GET /v1/alerts, `sigflow explain`) shows
 * it and nothing sends it.
 */
void runtime_suppressed_put(runtime *rt, sf_alert *a)
{
    if (!a->json && alert_render_json(a) != SF_OK) {
        log_error("component=score", "cannot render suppressed alert=%s", a->id);
        return;
    }
    char *stored = alert_encode(a);
    bool created = false;
    sf_status st = stored ? outbox_put(rt->outbox, a->id, a->decision, a->entity, a->time_ms,
                                       stored, NULL, 0, &created)
                          : SF_ENOMEM;
    free(stored);
    if (st != SF_OK)
        log_error("component=score", "suppressed alert=%s not stored in the outbox: status %d",
                  a->id, (int)st);
    else if (created)
        log_info("component=score", "suppressed alert=%s entity=%s score=%.4f (%s)", a->id,
                 a->entity, a->score, a->suppressed ? a->suppressed : "");
}

/* A connector thread's drift alert: stored, then freed (the sink owns it). */
static void drift_sink(void *ctx, sf_alert *a)
{
    runtime_health_put(ctx, a);
    alert_free(a);
}

void runtime_health_watch(runtime *rt, site_instance *si)
{
    const sigflow_config *cfg = rt->site->cfg;
    if (!si->map)
        return;
    const char *decision = cfg->has_decision && cfg->decision.name ? cfg->decision.name : "";
    if (mapping_watch_drift(si->map, decision, si->cfg->name, cfg->drift_window,
                            cfg->drift_threshold, drift_sink, rt) != SF_OK)
        log_error("component=health", "instance=%s: no schema drift watch (out of memory)",
                  si->cfg->name);
}
