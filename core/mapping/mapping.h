/*
 * mapping.h - one connector instance's JSON -> event mapping, a core service all connectors
 * share. Without `map.*` keys it reads sigflow's canonical shape
 * {"entity","type","time","value",...other keys become attrs}. With them:
 *   map.entity = a.b.c   (dotted path; required when any map.* is set)
 *   map.type   = path    or   map.type = =literal  (a fixed type)
 *   map.time   = path    (RFC 3339 string, or a number: see map.time_unit)
 *   map.time_unit = ms|s (for numeric times; default ms)
 *   map.value  = path    (optional number)
 *   map.id     = path    (optional source event id, for inbound dedup)
 *   map.attr.NAME = path (copied into attrs as NAME)
 * and `types`, `type.SOURCE = TYPE`, `on_unmapped` (mapping_types.h): a document they drop
 * maps to an event with `dropped` set, which the host acknowledges and never journals.
 * Owns: the compiled mapping and its per-field miss counters (atomic; read by health and
 * metrics). Calls json-c, event_line (the fast paths), timefmt, event. Used by the host
 * (map_json), replay, connectors.
 */
#ifndef SIGFLOW_MAPPING_H
#define SIGFLOW_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "config/config.h"
#include "mapping/drift.h"
#include "model/event.h"
#include "sigflow.h"

struct json_object;
typedef struct mapping mapping;

/* The fields whose misses are counted, in this order. */
enum mapping_field { MAP_ENTITY, MAP_TYPE, MAP_TIME, MAP_VALUE, MAP_ID, MAP_NFIELDS };

/* Compile the map.* keys of `inst` (NULL: canonical). Errors to d as file:line. */
mapping *mapping_new(const config_instance *inst, const char *file, diag *d);
void mapping_free(mapping *m);

/*
 * Parse json[0..len) (depth and size bounded by limits.h) and map it. On SF_OK *out is a new
 * event. On SF_EINVAL, err says what and where ("line 1 col 17: unexpected '}'",
 * "missing entity (path data.object.customer)", "entity longer than 256 bytes").
 */
/*
 * Events dated more than `ms` ahead of the wall clock are refused (and counted as time
 * misses); 0 turns the check off (replay, whose stream is its own clock). Process-wide: the
 * daemon sets [sigflow] max_future_skew at start and reload.
 */
void mapping_set_max_future_skew(int64_t ms);

sf_status mapping_apply(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                        size_t errlen);
/*
 * mapping_apply for the canonical shape tries the event line reader first (event_line.h): a
 * line in its subset is mapped without a JSON tree, anything else goes through json-c. So does
 * a map.* mapping whose paths are all top-level keys (mapping_apply_flat). This is the json-c
 * path alone, for the differential tests and fuzz harnesses that hold the paths equal.
 */
sf_status mapping_apply_json(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                             size_t errlen);

/* A mapped event as views, for callers that copy it into their own memory (replay). */
typedef struct mapping_view {
    const char *entity; /* into the input, not NUL-terminated */
    size_t entity_len;
    const char *type; /* NUL-terminated: the journaled type (after `types`/`type.*`) */
    int64_t time_ms;
    double value; /* meaningful when has_value */
    bool has_value;
    const char *attrs; /* JSON object text, NUL-terminated, or NULL for none */
    size_t attrs_len;
    uint8_t dropped; /* EVENT_FILTERED: acknowledged without an event, as mapping_apply */
    char attrs_buf[SIGFLOW_MAX_ATTRS_LEN + 1];
    char type_buf[SIGFLOW_MAX_TYPE_LEN + 1];
} mapping_view;

/*
 * The canonical mapping's fast path: true when json[0..len) was mapped into *v (counted as
 * mapping_apply counts it; no allocation). False when the line is not for the event line
 * reader, or is not canonical: nothing was counted, and mapping_apply must map (or refuse) it.
 */
bool mapping_apply_view(mapping *m, const char *json, size_t len, mapping_view *v);

/*
 * The flat path of a map.* mapping whose paths are all one key deep (map.entity = customer):
 * true when json[0..len) is a flat line in the reader's subset that maps cleanly, with *st and
 * *out what mapping_apply_json gives (and counted as it counts). False: declined (another
 * mapping, another line, or one json-c must word an error or count a miss for), nothing counted.
 */
bool mapping_apply_flat(mapping *m, const char *json, size_t len, sf_event **out, char *err,
                        size_t errlen, sf_status *st);

/* The same on an already parsed object (borrowed). */
sf_status mapping_apply_obj(mapping *m, struct json_object *obj, sf_event **out, char *err,
                            size_t errlen);

/*
 * Judge schema drift on every document from now on (ingest/drift.h): the mapped fields
 * (canonical: entity, type, time), `window` documents, `threshold`; health alerts go to fn.
 * A second call keeps the first watch. Thread-safe against mapping_apply.
 */
sf_status mapping_watch_drift(mapping *m, const char *decision, const char *connector, int window,
                              double threshold, drift_alert_fn fn, void *ctx);

/* Documents seen, and per field how many lacked it or had the wrong type. */
uint64_t mapping_seen(const mapping *m);
/* Documents acknowledged without an event: type not in `types`; unmapped, on_unmapped=ignore. */
uint64_t mapping_filtered(const mapping *m);
uint64_t mapping_ignored(const mapping *m);
uint64_t mapping_misses(const mapping *m, enum mapping_field f);
const char *mapping_field_name(enum mapping_field f);

#endif
