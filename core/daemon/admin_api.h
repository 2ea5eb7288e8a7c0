/*
 * admin_api.h - the operator's /v1 endpoints on the admin listener (docs/admin-api.md):
 * POST /v1/feedback, GET /v1/feedback/TOKEN (signed links: no admin token), GET
 * /v1/entities/ID, GET /v1/alerts, GET /v1/model. Every endpoint but the signed link needs
 * `Authorization: Bearer ADMIN_TOKEN`; with no admin_token configured they answer 403.
 * Owns: its own connection to the store (so its reads never hold up the journal's), copies
 * of the secrets and of the configured model, the per-request state. Calls store, labels,
 * audit, feedback_token, alert_codec, metrics, json-c, libmicrohttpd; reads the model view
 * the runtime publishes (score/model.h). Used by
 * admin_http (routing) and the runtime (start, reload, the label hook).
 */
#ifndef SIGFLOW_ADMIN_API_H
#define SIGFLOW_ADMIN_API_H

#include <microhttpd.h>
#include <stddef.h>

#include "config/config.h"
#include "score/inspect.h"
#include "score/model.h"
#include "store/labels.h"

typedef struct admin_api admin_api;

/* A person's label was stored (created or replaced); called on the admin HTTP thread. */
typedef void (*admin_label_fn)(void *ctx, const label_rec *label);

/*
 * Open the store of cfg->state_dir and take the config's secrets and model. NULL with err
 * when the store cannot be opened. Logs at start whether the /v1 API is enabled.
 */
admin_api *admin_api_new(const sigflow_config *cfg, char *err, size_t errlen);
/* A reload: new secrets, public_url and configured model (the store stays). */
void admin_api_configure(admin_api *a, const sigflow_config *cfg);
void admin_api_set_label_hook(admin_api *a, admin_label_fn fn, void *ctx);
/* Live state of one entity (score/inspect.h) within timeout_ms: 1 answered, 0 not (GET
   /v1/entities/ID then explains with the latest stored alert). Admin HTTP thread. */
typedef int (*admin_inspect_fn)(void *ctx, const char *entity, int64_t timeout_ms,
                                score_inspection *out);
void admin_api_set_inspect(admin_api *a, admin_inspect_fn fn, void *ctx);
/*
 * The engine's model now, for GET /v1/model (takes ownership of v; NULL is ignored). The
 * scorer thread, the engine's owner, publishes a copy every few seconds; until the first,
 * /v1/model serves the configured model.
 */
void admin_api_set_model(admin_api *a, score_model_view *v);
void admin_api_free(admin_api *a);

/* libmicrohttpd's access handler for a URL under /v1 (admin_http routes them here). */
enum MHD_Result admin_api_access(admin_api *a, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *data, size_t *size,
                                 void **con_cls);
/* Release a request's state (MHD_OPTION_NOTIFY_COMPLETED). */
void admin_api_completed(void *con_cls);
/* Publish the store-backed series (labels, manual interventions) before /metrics is written. */
void admin_api_metrics_refresh(admin_api *a);

#endif
