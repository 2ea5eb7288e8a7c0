/*
 * readiness.h - what keeps the daemon from doing its job right now, for GET /readyz
 * (docs/reliability.md, Readiness): each reason is keyed by the instance it is about, set
 * when the trouble starts and cleared when it ends (a poller answered 401, then 200).
 * Owns the reason list (process-wide, under its own lock). Calls strbuf, json_quote.
 * Written by the plugin host (host->health_set, since SDK 1.4), the runtime (an instance
 * that does not start; the store, state_dir's file system and the ingest listener:
 * runtime_ready.c) and read by admin_http. An instance's reason and a component's reason
 * with the same name are two entries.
 */
#ifndef SIGFLOW_READINESS_H
#define SIGFLOW_READINESS_H

#include <stddef.h>

#include "base/strbuf.h"

/* Set (or replace) the reason of `instance` (plugin names its plugin). NULL reason clears. */
void readiness_set(const char *instance, const char *plugin, const char *reason);
/* Clear the reason of `instance`, if any (its instance is gone). */
void readiness_clear(const char *instance);
/*
 * The daemon's own parts ("journal", "outbox", "state_dir", "ingest", "wal"): set, or clear
 * with a NULL reason. Returns 1 when this changed whether the component has a reason, else 0 (so
 * the caller logs the change once).
 */
int readiness_set_component(const char *component, const char *reason);
/* Number of reasons now. */
size_t readiness_count(void);
/*
 * The reasons as JSON, appended to b:
 * {"status":"not ready","reasons":[{"instance":"I","plugin":"P","reason":"R"},...]}
 * (a component's entry: {"component":"C","reason":"R"})
 */
void readiness_json(strbuf *b);

#endif
