/*
 * admin_reply.c - the admin API's answers: {"error": ...} and JSON bodies, times and labels
 * as JSON. Used by every admin API file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "daemon/admin_api_internal.h"

void admin__error(admin_reply *r, unsigned status, const char *fmt, ...)
{
    char msg[SIGFLOW_MAX_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "error", json_object_new_string(msg));
    admin__json(r, status, o);
}

void admin__json(admin_reply *r, unsigned status, json_object *o)
{
    free(r->body);
    r->body = NULL;
    r->type = "application/json";
    r->status = status;
    const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
    size_t n = text ? strlen(text) : 0;
    if (text && (r->body = malloc(n + 2))) {
        memcpy(r->body, text, n);
        memcpy(r->body + n, "\n", 2);
    } else {
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    json_object_put(o);
}

json_object *admin__time_json(int64_t ms)
{
    char buf[32];
    time_format_rfc3339(ms, buf, sizeof buf);
    return json_object_new_string(buf);
}

json_object *admin__label_json(const label_rec *l)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (l->alert_id[0])
        json_object_object_add(o, "alert_id", json_object_new_string(l->alert_id));
    json_object_object_add(o, "entity", json_object_new_string(l->entity));
    json_object_object_add(o, "label", json_object_new_string(label_kind_name(l->kind)));
    json_object_object_add(o, "source", json_object_new_string(label_source_name(l->source)));
    json_object_object_add(o, "via", json_object_new_string(l->via));
    json_object_object_add(o, "time", admin__time_json(l->time_ms));
    json_object_object_add(o, "recorded_at", admin__time_json(l->recorded_ms));
    return o;
}
