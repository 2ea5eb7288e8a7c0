/*
 * message.c - the message model's own part: reading it (attrs by path, links by name, the
 * rounding every output shows) and freeing it. Built by message_build.c, written as JSON by
 * message_json.c; read by the template engine.
 */
#include "deliver/message.h"

#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

double message_round2(double v)
{
    return isfinite(v) ? round(v * 100.0) / 100.0 : 0.0;
}

static void pairs_free(msg_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

void message_free(message *m)
{
    if (!m)
        return;
    free(m->reasons);
    pairs_free(m->attrs, m->n_attrs);
    pairs_free(m->links, m->n_links);
    free(m->fb_confirm);
    free(m->fb_false_positive);
    if (m->attrs_obj)
        json_object_put(m->attrs_obj);
    for (size_t i = 0; i < m->n_items; i++)
        message_free(m->items[i]);
    free(m->items);
    free(m->json);
    free(m->title_buf);
    free(m);
}

const char *message_json_text(struct json_object *v)
{
    return json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

const char *message_attr(const message *m, const char *path)
{
    json_object *cur = m->attrs_obj;
    char key[SIGFLOW_MAX_NAME_LEN + 1];
    for (const char *p = path; cur && p && *p;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n > SIGFLOW_MAX_NAME_LEN || !json_object_is_type(cur, json_type_object))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        json_object *next = NULL;
        if (!json_object_object_get_ex(cur, key, &next) || !next)
            return NULL;
        cur = next;
        p = dot ? dot + 1 : NULL;
    }
    return cur && cur != m->attrs_obj ? message_json_text(cur) : NULL;
}

const char *message_link_url(const message *m, const char *name)
{
    for (size_t i = 0; i < m->n_links; i++)
        if (strcmp(m->links[i].name, name) == 0)
            return m->links[i].value;
    return NULL;
}
