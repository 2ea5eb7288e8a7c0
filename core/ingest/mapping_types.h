/*
 * mapping_types.h - which event types a connector keeps, how it renames them, and what it
 * does with a document its mapping cannot read (docs/config.md "Choosing event types"):
 *   types = a, b, c            keep only these event types (after renaming); the others are
 *                              acknowledged (2xx, cursor moves) and counted, never journaled
 *   type.SOURCE_VALUE = TYPE   the source's type value SOURCE_VALUE becomes TYPE
 *   on_unmapped = refuse|ignore  a document without a mapped field (entity, type, time):
 *                              refuse (400 / a bad line, the default) or acknowledge and count
 * Owns the compiled lists and their atomic counters. Calls diag, suggest. Used by mapping.c
 * (mapping_new, mapping_apply_obj), which owns one per connector.
 */
#ifndef SIGFLOW_MAPPING_TYPES_H
#define SIGFLOW_MAPPING_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

typedef struct map_types map_types;

/* Whether an instance key is one of these (`types`, `type.*`, `on_unmapped`). */
bool map_types_is_key(const char *key);

/*
 * Compile the keys of `inst` (NULL: none). Errors go to d as file:line and *ok is set false.
 * NULL (and *ok untouched) when no such key is set: every type is kept as it comes.
 */
map_types *map_types_new(const config_instance *inst, const char *file, diag *d, bool *ok);
void map_types_free(map_types *t);

/*
 * The event type to journal for the source's `type`: its rename or itself; NULL when `types`
 * does not list it (counted as filtered). Thread-safe (t may be NULL: type itself).
 */
const char *map_types_apply(map_types *t, const char *type);
/* on_unmapped = ignore: count one unreadable document and acknowledge it. */
bool map_types_ignore_unmapped(map_types *t);

/* Documents acknowledged without an event: their type not kept; unmapped and ignored. */
uint64_t map_types_filtered(const map_types *t);
uint64_t map_types_ignored(const map_types *t);

#endif
