#include "plugin/host_alert.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_quote.h"
#include "model/alert.h"
#include "base/sf_limits.h"
#include "base/strbuf.h"
#include "base/timefmt.h"

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
    json_tokener *tok = json_tokener_new_ex(SF_MAX_JSON_DEPTH);
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

/* Expand one {{name}}; false if the name is unknown. */
static bool expand(strbuf *b, const sf_alert *a, const char *name, size_t n)
{
    char num[64];
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
    if (IS("entity"))
        strbuf_puts(b, a->entity);
    else if (IS("decision"))
        strbuf_puts(b, a->decision);
    else if (IS("question"))
        strbuf_puts(b, a->question);
    else if (IS("alert_id"))
        strbuf_puts(b, a->id);
    else if (IS("score")) {
        snprintf(num, sizeof num, "%.2f", a->score);
        strbuf_puts(b, num);
    } else if (IS("score_pct")) {
        snprintf(num, sizeof num, "%.0f", a->score * 100.0);
        strbuf_puts(b, num);
    } else if (IS("time")) {
        time_format_rfc3339(a->time_ms, num, sizeof num);
        strbuf_puts(b, num);
    } else if (IS("reasons")) {
        for (size_t i = 0; i < a->n_reasons; i++) {
            if (i)
                strbuf_puts(b, "\n");
            const alert_reason *r = &a->reasons[i];
            strbuf_puts(b, r->text && *r->text ? r->text : r->signal);
        }
    } else if (n > 5 && memcmp(name, "attr.", 5) == 0) {
        char key[SF_MAX_NAME_LEN + 1];
        if (n - 5 > SF_MAX_NAME_LEN)
            return false;
        memcpy(key, name + 5, n - 5);
        key[n - 5] = '\0';
        char *v = attr_text(a, key);
        strbuf_puts(b, v);
        free(v);
    } else
        return false;
#undef IS
    return true;
}

char *host_alert_render(const sf_alert *a, const char *tmpl)
{
    strbuf b = {0};
    strbuf_add(&b, "", 0);
    for (const char *p = tmpl; p && *p;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            strbuf_puts(&b, p);
            break;
        }
        strbuf_add(&b, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close || !expand(&b, a, open + 2, (size_t)(close - open - 2))) {
            free(b.p);
            return NULL;
        }
        p = close + 2;
    }
    return strbuf_take(&b);
}
