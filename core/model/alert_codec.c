#include "model/alert_codec.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "base/limits.h"

char *alert_encode(const sf_alert *a)
{
    json_object *o = json_object_new_object();
    json_object *reasons = json_object_new_array();
    json_object *features = json_object_new_array();
    if (!o || !reasons || !features) {
        json_object_put(o);
        json_object_put(reasons);
        json_object_put(features);
        return NULL;
    }
    json_object_object_add(o, "id", json_object_new_string(a->id));
    if (a->kind == ALERT_HEALTH) {
        json_object_object_add(o, "kind", json_object_new_string("health"));
        json_object_object_add(o, "health", json_object_new_string(a->health ? a->health : ""));
    } else if (a->kind == ALERT_SUPPRESSED) {
        json_object_object_add(o, "kind", json_object_new_string("suppressed"));
        json_object_object_add(o, "suppressed",
                               json_object_new_string(a->suppressed ? a->suppressed : ""));
    }
    json_object_object_add(o, "decision", json_object_new_string(a->decision));
    if (a->question)
        json_object_object_add(o, "question", json_object_new_string(a->question));
    json_object_object_add(o, "entity", json_object_new_string(a->entity));
    json_object_object_add(o, "time_ms", json_object_new_int64(a->time_ms));
    json_object_object_add(o, "score", json_object_new_double(a->score));
    json_object_object_add(o, "model_version", json_object_new_int64(a->model_version));
    for (size_t i = 0; i < a->n_reasons; i++) {
        const alert_reason *r = &a->reasons[i];
        json_object *jr = json_object_new_object();
        json_object_object_add(jr, "signal", json_object_new_string(r->signal));
        json_object_object_add(jr, "x", json_object_new_double(r->x));
        json_object_object_add(jr, "weight", json_object_new_double(r->weight));
        json_object_object_add(jr, "contribution", json_object_new_double(r->contribution));
        json_object_object_add(jr, "text", json_object_new_string(r->text ? r->text : ""));
        json_object_array_add(reasons, jr);
        json_object_array_add(features, json_object_new_double(a->features ? a->features[i] : 0));
    }
    json_object_object_add(o, "reasons", reasons);
    json_object_object_add(o, "features", features);
    if (a->attrs)
        json_object_object_add(o, "attrs", json_object_new_string(a->attrs));
    const char *s = json_object_to_json_string_ext(o, JSON_QUOTE_JSONC_FLAGS);
    char *out = s ? strdup(s) : NULL;
    json_object_put(o);
    return out;
}

static char *get_str(json_object *o, const char *key, bool required, bool *ok)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) {
        if (required)
            *ok = false;
        return NULL;
    }
    char *s = strdup(json_object_get_string(v));
    if (!s)
        *ok = false;
    return s;
}

static double get_num(json_object *o, const char *key, bool *ok)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
        *ok = false;
        return 0;
    }
    return json_object_get_double(v);
}

sf_alert *alert_decode(const char *text)
{
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)strlen(text)) : NULL;
    json_tokener_free(tok);
    sf_alert *a = calloc(1, sizeof *a);
    bool ok = o && a && json_object_is_type(o, json_type_object);
    json_object *reasons = NULL, *features = NULL, *t = NULL;
    if (ok) {
        char *id = get_str(o, "id", true, &ok);
        if (id && strlen(id) < sizeof a->id)
            strcpy(a->id, id);
        else
            ok = false;
        free(id);
        a->decision = get_str(o, "decision", true, &ok);
        a->question = get_str(o, "question", false, &ok);
        a->entity = get_str(o, "entity", true, &ok);
        a->attrs = get_str(o, "attrs", false, &ok);
        char *kind = get_str(o, "kind", false, &ok);
        if (kind && strcmp(kind, "health") == 0) {
            a->kind = ALERT_HEALTH;
            a->health = get_str(o, "health", true, &ok);
        } else if (kind && strcmp(kind, "suppressed") == 0) {
            a->kind = ALERT_SUPPRESSED;
            a->suppressed = get_str(o, "suppressed", true, &ok);
        } else if (kind && strcmp(kind, "decision") != 0) {
            ok = false;
        }
        free(kind);
        a->score = get_num(o, "score", &ok);
        json_object *mv = NULL; /* absent in alerts stored before it existed: 1 */
        a->model_version = json_object_object_get_ex(o, "model_version", &mv) &&
                                   json_object_is_type(mv, json_type_int)
                               ? (uint32_t)json_object_get_int64(mv)
                               : 1;
        ok = ok && json_object_object_get_ex(o, "time_ms", &t);
        a->time_ms = t ? json_object_get_int64(t) : 0;
        ok = ok && json_object_object_get_ex(o, "reasons", &reasons) &&
             json_object_is_type(reasons, json_type_array) &&
             json_object_object_get_ex(o, "features", &features) &&
             json_object_is_type(features, json_type_array) &&
             json_object_array_length(features) == json_object_array_length(reasons);
    }
    size_t n = ok ? json_object_array_length(reasons) : 0;
    if (ok && n > 0) {
        a->reasons = calloc(n, sizeof *a->reasons);
        a->features = calloc(n, sizeof *a->features);
        ok = a->reasons && a->features;
    }
    for (size_t i = 0; ok && i < n; i++) {
        json_object *jr = json_object_array_get_idx(reasons, i);
        alert_reason *r = &a->reasons[i];
        a->n_reasons = i + 1; /* so alert_free frees what was filled */
        ok = json_object_is_type(jr, json_type_object);
        if (!ok)
            break;
        r->signal = get_str(jr, "signal", true, &ok);
        r->text = get_str(jr, "text", true, &ok);
        r->x = get_num(jr, "x", &ok);
        r->weight = get_num(jr, "weight", &ok);
        r->contribution = get_num(jr, "contribution", &ok);
        a->features[i] = json_object_get_double(json_object_array_get_idx(features, i));
    }
    json_object_put(o);
    if (ok && alert_render_json(a) == SF_OK)
        return a;
    if (a)
        alert_free(a);
    return NULL;
}
