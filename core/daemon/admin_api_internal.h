/*
 * admin_api_internal.h - shared by the admin API's files: admin_api.c (requests, auth,
 * bodies, routing), admin_feedback.c (labels in: POST /v1/feedback and signed links),
 * admin_query.c (reads: entities, alerts, model), admin_reply.c (answers) and
 * admin_settings.c (what the API knows of the config). Calls go one way: admin_api.c to the
 * handlers, all of them to admin_reply.c and admin_settings.c. Nothing else includes it.
 */
#ifndef SIGFLOW_ADMIN_API_INTERNAL_H
#define SIGFLOW_ADMIN_API_INTERNAL_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "daemon/admin_api.h"
#include "store/store.h"

#define ADMIN_CTX "component=admin_api"

typedef struct admin_signal {
    char name[SIGFLOW_MAX_NAME_LEN + 1];
    double weight;
} admin_signal;

/* What the API knows of the config; replaced whole under `lock` by a reload. */
typedef struct admin_settings {
    char *admin_token;     /* NULL: the /v1 API is off */
    char *feedback_secret; /* NULL: links are off */
    char *public_url;
    char decision[SIGFLOW_MAX_NAME_LEN + 1];
    double bias, threshold;
    size_t n_signals;
    admin_signal signals[SIGFLOW_MAX_SIGNALS];
} admin_settings;

struct admin_api {
    store *st;
    pthread_mutex_t lock; /* guards settings, the hook and the model */
    admin_settings set;
    score_model_view *model; /* the engine's, as last published; NULL: the configured one */
    admin_label_fn on_label;
    void *on_label_ctx;
    admin_inspect_fn on_inspect; /* live entity state from the scorer (NULL: none) */
    void *on_inspect_ctx;
};

/* A request as it is read. */
typedef struct admin_req {
    char *body;
    size_t len;
    bool too_large;
} admin_req;

/* An answer: status, content type, body (owned, malloc'd). */
typedef struct admin_reply {
    unsigned status;
    const char *type;
    char *body;
} admin_reply;

/* admin_reply.c */
/* {"error": msg} with the status. */
void admin__error(admin_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The JSON object as the body (consumed). */
void admin__json(admin_reply *r, unsigned status, json_object *o);
/* A label as JSON. */
json_object *admin__label_json(const label_rec *l);
json_object *admin__time_json(int64_t ms);

/* admin_settings.c */
/* The settings of cfg (s is overwritten: clear it first when it held some). */
void admin__settings_from(admin_settings *s, const sigflow_config *cfg);
/* Copies of the settings' secrets (caller frees with admin__settings_clear). */
void admin__settings_copy(admin_api *a, admin_settings *out);
void admin__settings_clear(admin_settings *s);

/* admin_feedback.c */
void admin__feedback_post(admin_api *a, const admin_req *rq, admin_reply *r);
void admin__feedback_link(admin_api *a, const char *token, admin_reply *r);

/* admin_query.c */
void admin__entity_get(admin_api *a, const char *entity, admin_reply *r);
void admin__alerts_get(admin_api *a, struct MHD_Connection *c, admin_reply *r);
void admin__model_get(admin_api *a, admin_reply *r);

#endif
