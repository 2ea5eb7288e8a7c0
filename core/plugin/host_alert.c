#include "plugin/host_alert.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "model/alert.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "plugin/host_message.h"

#define LENT_MAX 64

/* Strings lent to the plugin during the current callback on this thread. */
static __thread char *tl_lent[LENT_MAX];
static __thread size_t tl_n_lent;

void host_alert_release(void)
{
    for (size_t i = 0; i < tl_n_lent; i++)
        free(tl_lent[i]);
    tl_n_lent = 0;
}

const char *host_alert_id(const sf_alert *a)
{
    return a->id;
}
const char *host_alert_decision(const sf_alert *a)
{
    return a->decision;
}
const char *host_alert_question(const sf_alert *a)
{
    return a->question;
}
const char *host_alert_entity(const sf_alert *a)
{
    return a->entity;
}
int64_t host_alert_time_ms(const sf_alert *a)
{
    return a->time_ms;
}
double host_alert_score(const sf_alert *a)
{
    return a->score;
}
size_t host_alert_reason_count(const sf_alert *a)
{
    return a->n_reasons;
}

const char *host_alert_reason_signal(const sf_alert *a, size_t i)
{
    return i < a->n_reasons ? a->reasons[i].signal : NULL;
}

const char *host_alert_reason_text(const sf_alert *a, size_t i)
{
    return i < a->n_reasons ? a->reasons[i].text : NULL;
}

double host_alert_reason_x(const sf_alert *a, size_t i)
{
    return i < a->n_reasons ? a->reasons[i].x : 0;
}

double host_alert_reason_weight(const sf_alert *a, size_t i)
{
    return i < a->n_reasons ? a->reasons[i].weight : 0;
}

const char *host_alert_json(const sf_alert *a)
{
    return a->json;
}

/* The attribute as text: strings as they are, other JSON values in their JSON form. */
static char *attr_text(const sf_alert *a, const char *name)
{
    if (!a->attrs || !name)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(SIGFLOW_MAX_JSON_DEPTH);
    if (!tok)
        return NULL;
    json_object *obj = json_tokener_parse_ex(tok, a->attrs, (int)strlen(a->attrs));
    json_tokener_free(tok);
    json_object *v = NULL;
    char *out = NULL;
    if (obj && json_object_object_get_ex(obj, name, &v) && v)
        out = strdup(json_object_is_type(v, json_type_string)
                         ? json_object_get_string(v)
                         : json_object_to_json_string_ext(v, JSON_QUOTE_JSONC_FLAGS));
    json_object_put(obj);
    return out;
}

const char *host_alert_attr(const sf_alert *a, const char *name)
{
    if (tl_n_lent == LENT_MAX)
        return NULL;
    char *s = attr_text(a, name);
    if (s)
        tl_lent[tl_n_lent++] = s;
    return s;
}

/*
 * A health alert (docs/scoring.md "Health alerts") is about an integration, not an entity:
 * whatever the template, it renders as one line "health STATE: TEXT".
 */
static char *render_health(const sf_alert *a)
{
    json_object *o = a->health ? json_tokener_parse(a->health) : NULL;
    json_object *st = NULL, *tx = NULL;
    strbuf b = {0};
    strbuf_puts(&b, "health ");
    if (o && json_object_object_get_ex(o, "state", &st) &&
        json_object_object_get_ex(o, "text", &tx)) {
        strbuf_puts(&b, json_object_get_string(st));
        strbuf_puts(&b, ": ");
        strbuf_puts(&b, json_object_get_string(tx));
    } else {
        strbuf_puts(&b, a->json ? a->json : "");
    }
    json_object_put(o);
    return strbuf_take(&b);
}

char *host_alert_render(const sf_alert *a, const char *tmpl)
{
    if (a->kind == ALERT_HEALTH)
        return render_health(a);
    char err[SIGFLOW_MAX_ERROR_LEN];
    return host_msg_render(a, tmpl, SF_ESCAPE_PLAIN, err, sizeof err);
}
