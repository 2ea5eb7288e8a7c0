/*
 * health_alert.h - integration-health alerts (docs/scoring.md "Health alerts"): a signal
 * that turned stale or recovered, a connector field that drifted or recovered. They are
 * sf_alert records of kind ALERT_HEALTH, so the outbox, delivery and replay carry them like
 * decision alerts; their JSON is
 * {"kind":"health","alert_id","decision","time","state", "signal" | "connector" and "field",
 *  "text","figures":{...}}.
 * Owns: building them. Calls alert (ids), strbuf, timefmt. Used by score_guard (stale) and
 * the runtime's drift watch.
 */
#ifndef SIGFLOW_HEALTH_ALERT_H
#define SIGFLOW_HEALTH_ALERT_H

#include <stdint.h>

#include "model/alert.h"

/* One figure of an alert: a name and a number, or a string when str is set. */
typedef struct health_figure {
    const char *name;
    double num;
    const char *str;
} health_figure;

/*
 * A new health alert at time_ms. subject: "signal" with sig set, or "connector" with conn and
 * field set. The id is deterministic in (decision, state, subject, time).
 */
sf_alert *health_alert_new(const char *decision, int64_t time_ms, const char *state,
                           const char *sig, const char *conn, const char *field, const char *text,
                           const health_figure *fig, size_t n_fig);

#endif
