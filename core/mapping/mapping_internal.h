/*
 * mapping_internal.h - what the mapping's three files share (mapping.h is the interface):
 * the compiled mapping (built by mapping_compile.c from map.* keys; read by mapping.c, the
 * json-c path, and mapping_lines.c, the paths without a JSON tree) and the checks every path
 * makes alike, so that a document maps the same whichever path reads it.
 * Used by mapping.c, mapping_compile.c and mapping_lines.c only.
 */
#ifndef SIGFLOW_MAPPING_INTERNAL_H
#define SIGFLOW_MAPPING_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "mapping/drift.h"
#include "mapping/event_line.h"
#include "mapping/mapping.h"
#include "mapping/mapping_types.h"

#define MAP_MAX_PATH_LEN 256 /* bytes of one map.* path */
#define MAP_MAX_SEGMENTS SIGFLOW_MAX_JSON_DEPTH
#define MAP_MAX_ATTRS 32 /* map.attr.* keys of one connector */

typedef struct map_path {
    char *text;                   /* as written, for messages */
    char *segs[MAP_MAX_SEGMENTS]; /* pointers into one buffer, segs[0] owns it */
    long index[MAP_MAX_SEGMENTS]; /* array index of a numeric segment, else -1 */
    size_t n;
    size_t seg0_len; /* strlen(segs[0]): the key the flat path looks for */
} map_path;

/*
 * Every document bumps `seen`: one shared counter would bounce its cache line between the
 * parser threads on every event, so each thread counts in its own line and readers add them.
 */
#define MAP_SEEN_STRIPES 8
typedef struct map_counter {
    _Alignas(64) _Atomic uint64_t n;
} map_counter;

typedef struct map_attr {
    char *name;
    size_t name_len;
    map_path path;
} map_attr;

struct mapping {
    bool canonical;
    bool flat; /* map.* set and every path one key deep: mapping_apply_flat first */
    map_path field[MAP_NFIELDS]; /* n == 0: not mapped */
    char *type_literal;          /* map.type = =literal */
    bool time_in_seconds;        /* map.time_unit = s */
    map_attr attrs[MAP_MAX_ATTRS];
    size_t n_attrs;
    map_counter seen[MAP_SEEN_STRIPES];
    _Atomic uint64_t misses[MAP_NFIELDS];
    _Atomic(drift *) drift; /* schema drift watch (mapping_watch_drift), or NULL */
    map_types *types;       /* types, type.*, on_unmapped; NULL: keep all, refuse unmapped */
};

/* "entity", "type", "time", "value", "id": the field names of map.* keys and messages. */
extern const char *const map_field_names[MAP_NFIELDS];

/* This thread's stripe of m->seen (threads take stripes in turn as they first map). */
map_counter *map_seen_stripe(mapping *m);
/* A time as a scalar (every path reads it here): an RFC 3339 string, or outside the canonical
   shape any string time_parse reads; an integer; a number of seconds with map.time_unit = s. */
bool map_time_value(const mapping *m, const event_line_value *v, int64_t *ms);
/* Within the range the scorer takes and not over max_future_skew ahead of this host's clock. */
bool map_time_acceptable(int64_t ms);
/* This host's clock, in ms since the epoch (the time of an event mapped without map.time). */
int64_t map_now_ms(void);
/* A document acknowledged without an event (mapping_types.h): the host counts and drops it. */
sf_status map_dropped(sf_event **out, uint8_t why, char *err, size_t errlen);
/* A view (mapping_apply_view) as the event mapping_apply_obj would have made. */
sf_status map_view_event(const mapping_view *v, sf_event **out, char *err, size_t errlen);

#endif
