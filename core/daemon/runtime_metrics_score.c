/*
 * runtime_metrics_score.c - the scoring side's series for the success measures
 * (docs/admin-api.md, Metrics): sigflow_events_scored_total, sigflow_engine_time_seconds
 * (the watermark), sigflow_entities{state}, and the sigflow_event_to_alert_seconds
 * histogram; and the model view GET /v1/model serves (admin_api_set_model). Part of the
 * runtime (runtime_internal.h); runs on the scorer thread, the engine's owner. Calls score,
 * metrics, admin_api.
 */
#include <stdio.h>

#include "base/metrics.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"
#include "score/score_guard.h"

#define SCORE_METRICS_EVERY_MS 1000
#define SCORE_MODEL_EVERY_MS 2000 /* how stale GET /v1/model may be */

void runtime__score_metrics(runtime *rt, bool now)
{
    static int64_t last_ms, last_model_ms; /* one scorer thread per process */
    int64_t t = monotime_ms();
    if (rt->engine && rt->admin_api && (now || t - last_model_ms >= SCORE_MODEL_EVERY_MS)) {
        admin_api_set_model(rt->admin_api, score_model_get(rt->engine));
        last_model_ms = t;
    }
    if (!rt->engine || (!now && t - last_ms < SCORE_METRICS_EVERY_MS))
        return;
    last_ms = t;
    score_stats s;
    score_get_stats(rt->engine, &s);
    metrics_set("sigflow_events_scored_total", (double)s.events);
    uint64_t retired = s.retired < s.entities ? s.retired : s.entities;
    metrics_set("sigflow_entities{state=\"live\"}", (double)(s.entities - retired));
    metrics_set("sigflow_entities{state=\"retired\"}", (double)retired);
    int64_t wm = score_watermark(rt->engine);
    if (wm != INT64_MIN)
        metrics_set("sigflow_engine_time_seconds", (double)wm / 1000.0);
    runtime__guard_metrics(rt);
}

/* The noise guards (docs/scoring.md "Noise guards"): each judged signal's stale state, each
   cohort signal's rho. Signal names are config names (a-z 0-9 _ . -): no label escaping. */
void runtime__guard_metrics(runtime *rt)
{
    score_guard_status st[SIGFLOW_MAX_SIGNALS];
    size_t n = score_guard_status_of(rt->engine, st, SIGFLOW_MAX_SIGNALS);
    char name[SIGFLOW_MAX_NAME_LEN + 64];
    for (size_t i = 0; i < n; i++) {
        if (st[i].judged) {
            snprintf(name, sizeof name, "sigflow_signal_stale{signal=\"%s\"}", st[i].signal);
            metrics_set(name, st[i].stale ? 1 : 0);
        }
        if (st[i].cohort) {
            snprintf(name, sizeof name, "sigflow_signal_cohort_rho{signal=\"%s\"}", st[i].signal);
            metrics_set(name, st[i].rho);
        }
    }
}

void runtime__score_caught_up(runtime *rt)
{
    score_stats s;
    score_get_stats(rt->engine, &s);
    metrics_set("sigflow_events_scored_total", (double)s.events);
}

void runtime__observe_alert(int64_t alert_time_ms)
{
    double lag = (double)(walltime_ms() - alert_time_ms) / 1000.0;
    metrics_observe("sigflow_event_to_alert_seconds", metrics_latency_bounds,
                    metrics_latency_nbounds, lag > 0 ? lag : 0);
}
