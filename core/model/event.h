/*
 * event.h - the event as the core holds it: {entity, type, time, value?, attrs}.
 * Owns: one heap object per event. Used by: mapping (builds), host (emit), runtime and
 * score (consume). Calls nothing but the allocator.
 */
#ifndef SIGFLOW_EVENT_H
#define SIGFLOW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigflow.h"

struct sf_event {
    char *entity;    /* NUL-terminated, 1..SIGFLOW_MAX_ENTITY_LEN bytes; inside the event's block */
    char *type;      /* NUL-terminated, 1..SIGFLOW_MAX_TYPE_LEN bytes; inside the event's block */
    int64_t time_ms; /* event time, ms since the Unix epoch */
    double value;    /* meaningful when has_value */
    bool has_value;
    char *attrs; /* JSON object text, NUL-terminated, or NULL for {}; owned */
    size_t attrs_len;
    char *source_id; /* the source's own event id (map.id) or NULL; owned */
    uint64_t seq;    /* journal sequence number once journaled, else 0 */
    /* Acknowledged but never journaled (mapping_types.h): its type is not in the
       connector's `types`, or it was unmapped under on_unmapped = ignore. */
    uint8_t dropped;
};

enum { EVENT_KEPT = 0, EVENT_FILTERED = 1, EVENT_UNMAPPED = 2 };

/*
 * New event with copies of entity and type. Returns NULL and writes the reason to err
 * (may be NULL) when an argument is empty or over its limit.
 */
sf_event *event_new(const char *entity, const char *type, int64_t time_ms, char *err,
                    size_t errlen);
/* Replace attrs with a copy of json[0..len) (not validated here). SF_EINVAL over the limit. */
sf_status event_set_attrs(sf_event *ev, const char *json, size_t len);
void event_free(sf_event *ev);

#endif
