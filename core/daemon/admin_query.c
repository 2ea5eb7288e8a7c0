/*
 * admin_query.c - the admin API's reads: GET /v1/entities/ID, GET /v1/alerts, GET /v1/model.
 * Part of the admin API (admin_api_internal.h); calls audit, labels, alert_codec, timefmt.
 *
 * The scoring shards own each entity's live state and do not expose it to other threads; an
 * entity's features, contributions and score are therefore its latest stored alert's
 * (docs/admin-api.md says so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "daemon/admin_api_internal.h"
#include "model/alert_codec.h"
#include "store/audit.h"

#define ADMIN_ENTITY_ALERTS 20        /* recent alerts GET /v1/entities/ID lists */
#define ADMIN_INSPECT_TIMEOUT_MS 3000 /* the scorer answers a live-state request within */
#define ADMIN_ALERTS_DEFAULT 100

static json_object *delivery_json(const audit_delivery *d)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "target", json_object_new_string(d->target));
    json_object_object_add(o, "state", json_object_new_string(audit_state_name(d->state)));
    json_object_object_add(o, "attempts", json_object_new_int(d->attempts));
    json_object_object_add(o, d->state == OUTBOX_OK ? "delivered_at" : "updated_at",
                           admin_time_json(d->updated_ms));
    if (d->last_error)
        json_object_object_add(o, "last_error", json_object_new_string(d->last_error));
    return o;
}

static json_object *reasons_json(const sf_alert *al)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr && i < al->n_reasons; i++) {
        const alert_reason *r = &al->reasons[i];
        json_object *o = json_object_new_object();
        if (!o)
            break;
        json_object_object_add(o, "signal", json_object_new_string(r->signal));
        json_object_object_add(o, "x", json_object_new_double(r->x));
        json_object_object_add(o, "weight", json_object_new_double(r->weight));
        json_object_object_add(o, "contribution", json_object_new_double(r->contribution));
        json_object_object_add(o, "sentence", json_object_new_string(r->text ? r->text : ""));
        json_object_array_add(arr, o);
    }
    return arr;
}

/* One alert of the audit trail; with_reasons adds its explanation. */
static json_object *alert_json(const audit_alert *a, bool with_reasons)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "alert_id", json_object_new_string(a->alert_id));
    json_object_object_add(o, "entity", json_object_new_string(a->entity));
    json_object_object_add(o, "time", admin_time_json(a->time_ms));
    sf_alert *al = alert_decode(a->json);
    if (al) {
        static const char *const kinds[] = {"decision", "health", "suppressed"};
        json_object_object_add(o, "kind", json_object_new_string(kinds[al->kind]));
        if (al->kind == ALERT_SUPPRESSED) /* docs/scoring.md "Suppressed alerts" */
            json_object_object_add(o, "suppressed", json_object_new_string(al->suppressed));
        json_object_object_add(o, "score", json_object_new_double(al->score));
        if (with_reasons)
            json_object_object_add(o, "reasons", reasons_json(al));
        alert_free(al);
    }
    json_object_object_add(o, "label", a->has_label ? admin_label_json(&a->label) : NULL);
    json_object *ds = json_object_new_array();
    for (size_t i = 0; ds && i < a->n_deliveries; i++)
        json_object_array_add(ds, delivery_json(&a->deliveries[i]));
    json_object_object_add(o, "deliveries", ds);
    return o;
}

/* ---- GET /v1/entities/ID -------------------------------------------------------------------- */

static void add_missed(void *ctx, const label_rec *l)
{
    if (l->kind == LABEL_MISSED)
        json_object_array_add(ctx, admin_label_json(l));
}

/* features, signals, score: from the latest alert (a[0], newest first). */
static void entity_explanation(json_object *o, const audit_alert *latest)
{
    sf_alert *al = latest ? alert_decode(latest->json) : NULL;
    json_object *features = json_object_new_object();
    json_object_object_add(o, "explained_by", al ? json_object_new_string("latest_alert") : NULL);
    json_object_object_add(o, "as_of", al ? admin_time_json(al->time_ms) : NULL);
    json_object_object_add(o, "score", al ? json_object_new_double(al->score) : NULL);
    for (size_t i = 0; al && features && i < al->n_reasons; i++)
        json_object_object_add(features, al->reasons[i].signal,
                               json_object_new_double(al->reasons[i].x));
    json_object_object_add(o, "features", features);
    json_object_object_add(o, "signals", al ? reasons_json(al) : json_object_new_array());
    if (!al)
        json_object_object_add(o, "note",
                               json_object_new_string("no alert stored for this entity"));
    alert_free(al);
}

/* Live state from the scorer: 1 = o filled (explained_by "engine"), 0 = not (no engine, the
   engine does not hold the entity, or no answer within the deadline: *note says which). */
static int entity_live(admin_api *a, json_object *o, const char *entity, const char **note)
{
    pthread_mutex_lock(&a->lock);
    admin_inspect_fn fn = a->on_inspect;
    void *ctx = a->on_inspect_ctx;
    pthread_mutex_unlock(&a->lock);
    score_inspection in;
    *note = "the scoring engine did not answer within the deadline";
    if (!fn || !fn(ctx, entity, ADMIN_INSPECT_TIMEOUT_MS, &in))
        return 0;
    if (!in.found || !in.now) {
        *note = "the scoring engine holds no state for this entity";
        score_inspection_clear(&in);
        return 0;
    }
    const sf_alert *now = in.now;
    json_object *features = json_object_new_object();
    for (size_t i = 0; features && i < now->n_reasons; i++)
        json_object_object_add(features, now->reasons[i].signal,
                               json_object_new_double(now->reasons[i].x));
    json_object_object_add(o, "explained_by", json_object_new_string("engine"));
    json_object_object_add(o, "as_of", admin_time_json(in.at));
    json_object_object_add(o, "score", json_object_new_double(now->score));
    json_object_object_add(o, "model_version", json_object_new_int64(now->model_version));
    json_object_object_add(o, "retired", json_object_new_boolean(in.retired));
    json_object_object_add(o, "armed", json_object_new_boolean(in.armed));
    json_object_object_add(o, "last_alert",
                           in.last_alert == INT64_MIN ? NULL : admin_time_json(in.last_alert));
    json_object_object_add(o, "features", features);
    json_object_object_add(o, "signals", reasons_json(now));
    score_inspection_clear(&in);
    return 1;
}

void admin_entity_get(admin_api *a, const char *entity, admin_reply *r)
{
    size_t len = strlen(entity);
    if (len == 0 || len > SIGFLOW_MAX_ENTITY_LEN) {
        admin_error(r, MHD_HTTP_BAD_REQUEST, "an entity id is 1 to %d bytes",
                    SIGFLOW_MAX_ENTITY_LEN);
        return;
    }
    bool known = false;
    if (labels_entity_known(a->st, entity, &known) != SF_OK) {
        admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the store failed (see the log)");
        return;
    }
    if (!known) {
        admin_error(r, MHD_HTTP_NOT_FOUND, "no entity `%s` in the store", entity);
        return;
    }
    audit_filter f = {.entity = entity,
                      .since_ms = INT64_MIN,
                      .label = AUDIT_LABEL_ANY,
                      .limit = ADMIN_ENTITY_ALERTS,
                      .newest_first = true};
    audit_alert *al = NULL;
    size_t n = 0;
    bool more = false;
    json_object *missed = json_object_new_array();
    if (audit_alerts(a->st, &f, &al, &n, &more) != SF_OK || !missed ||
        labels_each(a->st, entity, INT64_MIN, add_missed, missed) != SF_OK) {
        json_object_put(missed);
        audit_alerts_free(al, n);
        admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the store failed (see the log)");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "entity", json_object_new_string(entity));
    const char *note = NULL;
    if (!entity_live(a, o, entity, &note)) {
        entity_explanation(o, n ? &al[0] : NULL);
        json_object_object_add(o, "live_state", json_object_new_string(note));
    }
    json_object *alerts = json_object_new_array();
    for (size_t i = 0; alerts && i < n; i++)
        json_object_array_add(alerts, alert_json(&al[i], false));
    json_object_object_add(o, "alerts", alerts);
    json_object_object_add(o, "more_alerts", json_object_new_boolean(more));
    json_object_object_add(o, "missed", missed);
    audit_alerts_free(al, n);
    admin_json(r, MHD_HTTP_OK, o);
}

/* ---- GET /v1/alerts ------------------------------------------------------------------------- */

typedef struct query_check {
    const char *bad;
} query_check;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    query_check *q = cls;
    static const char *const known[] = {"since", "entity", "label", "limit"};
    bool ok = false;
    for (size_t i = 0; i < 4 && !ok; i++)
        ok = strcmp(key, known[i]) == 0;
    if (!ok || (value && strlen(value) > SIGFLOW_MAX_ADMIN_QUERY)) {
        q->bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

/* The query into f; 0, or the 400 is in r. */
static int alerts_filter(struct MHD_Connection *c, audit_filter *f, admin_reply *r)
{
    query_check q = {0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, &q);
    if (q.bad) {
        admin_error(r, MHD_HTTP_BAD_REQUEST,
                    "unknown or too long query parameter `%.32s` (since, entity, label, limit)",
                    q.bad);
        return -1;
    }
    *f = (audit_filter){
        .since_ms = INT64_MIN, .label = AUDIT_LABEL_ANY, .limit = ADMIN_ALERTS_DEFAULT};
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    const char *label = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "label");
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    f->entity = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "entity");
    if (since && time_parse(since, strlen(since), &f->since_ms) != 0) {
        admin_error(r, MHD_HTTP_BAD_REQUEST, "`since` must be RFC 3339 or epoch ms");
        return -1;
    }
    if (label) {
        int k = strcmp(label, "none") == 0 ? AUDIT_LABEL_NONE : label_kind_parse(label);
        if (k == LABEL_MISSED || k == -1) {
            admin_error(r, MHD_HTTP_BAD_REQUEST,
                        "`label` must be confirmed, false_positive or none (missed labels are "
                        "entities': GET /v1/entities/ID)");
            return -1;
        }
        f->label = k;
    }
    if (limit) {
        char *end = NULL;
        long v = strtol(limit, &end, 10);
        if (!*limit || *end || v < 1 || v > SIGFLOW_MAX_ADMIN_LIST) {
            admin_error(r, MHD_HTTP_BAD_REQUEST, "`limit` must be 1 to %d", SIGFLOW_MAX_ADMIN_LIST);
            return -1;
        }
        f->limit = (size_t)v;
    }
    return 0;
}

void admin_alerts_get(admin_api *a, struct MHD_Connection *c, admin_reply *r)
{
    audit_filter f;
    if (alerts_filter(c, &f, r) != 0)
        return;
    audit_alert *al = NULL;
    size_t n = 0;
    bool more = false;
    if (audit_alerts(a->st, &f, &al, &n, &more) != SF_OK) {
        admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the store failed (see the log)");
        return;
    }
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr && i < n; i++)
        json_object_array_add(arr, alert_json(&al[i], true));
    json_object_object_add(o, "alerts", arr);
    json_object_object_add(o, "more", json_object_new_boolean(more));
    audit_alerts_free(al, n);
    admin_json(r, MHD_HTTP_OK, o);
}

/* ---- GET /v1/model -------------------------------------------------------------------------- */

static json_object *weights_json(const admin_settings *s)
{
    json_object *w = json_object_new_object();
    for (size_t i = 0; w && i < s->n_signals; i++)
        json_object_object_add(w, s->signals[i].name, json_object_new_double(s->signals[i].weight));
    return w;
}

/* {"bias","weights","threshold"} of one side of a model change. */
static json_object *side_json(const score_model_view *v, double bias, const double *w, double th)
{
    json_object *o = json_object_new_object();
    json_object *ws = json_object_new_object();
    for (size_t i = 0; ws && i < v->n_signals; i++)
        json_object_object_add(ws, v->signals[i].name, json_object_new_double(w[i]));
    json_object_object_add(o, "bias", json_object_new_double(bias));
    json_object_object_add(o, "weights", ws);
    json_object_object_add(o, "threshold", json_object_new_double(th));
    return o;
}

static json_object *history_json(const score_model_view *v)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr && i < v->n_history; i++) {
        const score_model_change *c = &v->history[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "time", admin_time_json(c->time));
        json_object_object_add(o, "version", json_object_new_int64(c->version));
        json_object_object_add(o, "cause", json_object_new_string(c->cause ? c->cause : ""));
        json_object_object_add(o, "applied", json_object_new_boolean(c->applied));
        json_object_object_add(o, "old", side_json(v, c->old_bias, c->old_w, c->old_threshold));
        json_object_object_add(o, "new", side_json(v, c->new_bias, c->new_w, c->new_threshold));
        json_object_object_add(o, "labels_used", json_object_new_int64((int64_t)c->rows));
        json_object_object_add(o, "positives", json_object_new_int64((int64_t)c->positives));
        json_object_object_add(o, "alerts_judged",
                               json_object_new_int64((int64_t)c->alerts_judged));
        json_object_object_add(o, "alert_precision",
                               c->alert_precision == c->alert_precision
                                   ? json_object_new_double(c->alert_precision)
                                   : NULL);
        json_object_array_add(arr, o);
    }
    return arr;
}

/* The engine's model (caller holds a->lock). */
static void model_from_view(json_object *o, const score_model_view *v)
{
    double w[SIGFLOW_MAX_SIGNALS], cw[SIGFLOW_MAX_SIGNALS];
    json_object *lift = json_object_new_object();
    for (size_t i = 0; i < v->n_signals; i++) {
        w[i] = v->signals[i].weight;
        cw[i] = v->signals[i].configured;
        json_object *l = json_object_new_object();
        json_object_object_add(l, "high_in_confirmed",
                               json_object_new_int64((int64_t)v->signals[i].high_confirmed));
        json_object_object_add(l, "high_in_false_positive",
                               json_object_new_int64((int64_t)v->signals[i].high_false));
        json_object_object_add(lift, v->signals[i].name, l);
    }
    json_object *now = side_json(v, v->bias, w, v->threshold);
    json_object_object_foreach(now, key, val) json_object_object_add(o, key, json_object_get(val));
    json_object_put(now);
    json_object_object_add(o, "configured",
                           side_json(v, v->configured_bias, cw, v->configured_threshold));
    json_object_object_add(o, "model_version", json_object_new_int64(v->version));
    json_object_object_add(o, "learning", json_object_new_boolean(v->learning));
    json_object_object_add(o, "threshold_auto", json_object_new_boolean(v->threshold_auto));
    json_object_object_add(o, "outcome", v->outcome[0] ? json_object_new_string(v->outcome) : NULL);
    json_object_object_add(o, "last_refit",
                           v->last_refit == INT64_MIN ? NULL : admin_time_json(v->last_refit));
    json_object_object_add(o, "lift", lift);
    json_object *learn = json_object_new_object();
    json_object_object_add(learn, "horizon_ms", json_object_new_int64(v->horizon_ms));
    json_object_object_add(learn, "fit_horizon_ms", json_object_new_int64(v->fit_horizon_ms));
    json_object_object_add(learn, "refit_ms", json_object_new_int64(v->refit_ms));
    json_object_object_add(learn, "prior", json_object_new_double(v->prior));
    json_object_object_add(learn, "fit_sample", json_object_new_int64((int64_t)v->fit_sample));
    json_object_object_add(learn, "target_precision", json_object_new_double(v->target_precision));
    json_object_object_add(learn, "rearm_below", json_object_new_double(v->rearm_below));
    json_object_object_add(o, "learning_settings", learn);
    json_object *counts = json_object_new_object();
    json_object_object_add(counts, "confirmed", json_object_new_int64((int64_t)v->confirmed));
    json_object_object_add(counts, "false_positive",
                           json_object_new_int64((int64_t)v->false_positive));
    json_object_object_add(counts, "missed", json_object_new_int64((int64_t)v->missed));
    json_object_object_add(o, "outcome_labels", counts);
    json_object_object_add(o, "history", history_json(v));
    json_object_object_add(o, "model_source", json_object_new_string("engine"));
}

/* The configured model: before the engine published one (or with no decision). */
static void model_configured(json_object *o, const admin_settings *s)
{
    json_object *conf = json_object_new_object();
    json_object_object_add(o, "bias", json_object_new_double(s->bias));
    json_object_object_add(o, "weights", weights_json(s));
    json_object_object_add(o, "threshold", json_object_new_double(s->threshold));
    json_object_object_add(conf, "bias", json_object_new_double(s->bias));
    json_object_object_add(conf, "weights", weights_json(s));
    json_object_object_add(conf, "threshold", json_object_new_double(s->threshold));
    json_object_object_add(o, "configured", conf);
    json_object_object_add(o, "history", json_object_new_array());
    json_object_object_add(o, "model_source", json_object_new_string("configured"));
}

void admin_model_get(admin_api *a, admin_reply *r)
{
    uint64_t n[2] = {0, 0};
    if (labels_count(a->st, n) != SF_OK) {
        admin_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the store failed (see the log)");
        return;
    }
    admin_settings s;
    admin_settings_copy(a, &s);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "decision", json_object_new_string(s.decision));
    pthread_mutex_lock(&a->lock);
    if (a->model)
        model_from_view(o, a->model);
    else
        model_configured(o, &s);
    pthread_mutex_unlock(&a->lock);
    admin_settings_clear(&s);
    json_object *labels = json_object_new_object();
    json_object_object_add(labels, "outcome", json_object_new_int64((int64_t)n[0]));
    json_object_object_add(labels, "person", json_object_new_int64((int64_t)n[1]));
    json_object_object_add(o, "labels", labels);
    admin_json(r, MHD_HTTP_OK, o);
}
