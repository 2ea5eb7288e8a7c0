/*
 * runtime_metrics_score.c - the scoring side's series for the success measures
 * (docs/admin-api.md, Metrics): sigflow_events_scored_total, sigflow_engine_time_seconds
 * (the watermark), sigflow_entities{state}, and the sigflow_event_to_alert_seconds
 * histogram. Part of the runtime (runtime_internal.h); runs on the scorer thread, the
 * engine's owner. Calls score, metrics.
 */
#include "base/metrics.h"
#include "base/monotime.h"
#include "daemon/runtime_internal.h"

#define SCORE_METRICS_EVERY_MS 1000

void runtime_score_metrics(runtime *rt, bool now)
{
    static int64_t last_ms; /* one scorer thread per process */
    int64_t t = monotime_ms();
    if (!rt->engine || (!now && t - last_ms < SCORE_METRICS_EVERY_MS))
        return;
    last_ms = t;
    score_stats s;
    score_get_stats(rt->engine, &s);
    metrics_set("sigflow_events_scored_total", (double)s.events);
    metrics_set("sigflow_entities{state=\"live\"}", (double)s.entities);
    int64_t wm = score_watermark(rt->engine);
    if (wm != INT64_MIN)
        metrics_set("sigflow_engine_time_seconds", (double)wm / 1000.0);
}

void runtime_observe_alert(const sf_alert *a)
{
    double lag = (double)(walltime_ms() - a->time_ms) / 1000.0;
    metrics_observe("sigflow_event_to_alert_seconds", metrics_latency_bounds,
                    metrics_latency_nbounds, lag > 0 ? lag : 0);
}
