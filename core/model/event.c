#include "model/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

sf_event *event_new(const char *entity, const char *type, int64_t time_ms, char *err, size_t errlen)
{
    size_t elen = entity ? strlen(entity) : 0;
    size_t tlen = type ? strlen(type) : 0;
    if (elen == 0 || elen > SIGFLOW_MAX_ENTITY_LEN) {
        if (err)
            snprintf(err, errlen, elen ? "entity longer than %d bytes" : "empty entity",
                     SIGFLOW_MAX_ENTITY_LEN);
        return NULL;
    }
    if (tlen == 0 || tlen > SIGFLOW_MAX_TYPE_LEN) {
        if (err)
            snprintf(err, errlen, tlen ? "type longer than %d bytes" : "empty type",
                     SIGFLOW_MAX_TYPE_LEN);
        return NULL;
    }
    /* One block for the event and its two strings: events are the hottest allocation. */
    sf_event *ev = malloc(sizeof *ev + elen + 1 + tlen + 1);
    if (!ev) {
        if (err)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *ev = (sf_event){.time_ms = time_ms};
    ev->entity = (char *)(ev + 1);
    ev->type = ev->entity + elen + 1;
    memcpy(ev->entity, entity, elen + 1);
    memcpy(ev->type, type, tlen + 1);
    return ev;
}

sf_status event_set_attrs(sf_event *ev, const char *json, size_t len)
{
    if (len > SIGFLOW_MAX_ATTRS_LEN)
        return SF_EINVAL;
    char *copy = malloc(len + 1);
    if (!copy)
        return SF_ENOMEM;
    memcpy(copy, json, len);
    copy[len] = '\0';
    free(ev->attrs);
    ev->attrs = copy;
    ev->attrs_len = len;
    return SF_OK;
}

void event_free(sf_event *ev)
{
    if (!ev)
        return;
    free(ev->attrs);
    free(ev->source_id);
    free(ev);
}
