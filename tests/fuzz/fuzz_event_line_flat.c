/*
 * fuzz_event_line_flat.c - the flat path of map.* mappings (event_line_scan and
 * mapping_apply_flat in core/mapping) against json-c on any input: for a mapping whose paths
 * are all top-level keys, mapping_apply (flat path first) and mapping_apply_json (json-c only)
 * must give the same status, error text and event, and whatever the flat path takes json-c
 * must take, with the same event. A difference aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "mapping/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_event(const sf_event *a, const sf_event *b)
{
    return strcmp(a->entity, b->entity) == 0 && strcmp(a->type, b->type) == 0 &&
           a->time_ms == b->time_ms && a->has_value == b->has_value &&
           (!a->has_value || memcmp(&a->value, &b->value, sizeof a->value) == 0) &&
           a->dropped == b->dropped && a->attrs_len == b->attrs_len && !a->attrs == !b->attrs &&
           (!a->attrs || strcmp(a->attrs, b->attrs) == 0) && !a->source_id == !b->source_id &&
           (!a->source_id || strcmp(a->source_id, b->source_id) == 0);
}

/* entity, type, time in seconds, value, id and two attrs: every field the flat path reads */
static mapping *flat_mapping(void)
{
    static config_kv kv[] = {{"map.entity", "c", 1},       {"map.type", "t", 2},
                             {"map.time", "ts", 3},        {"map.time_unit", "s", 4},
                             {"map.value", "v", 5},        {"map.id", "id", 6},
                             {"map.attr.plan", "plan", 7}, {"map.attr.n", "n", 8},
                             {"types", "login, usage", 9}, {"type.use", "usage", 10}};
    config_instance inst = {.name = "hook",
                            .plugin = "webhook",
                            .kind = SF_KIND_CONNECTOR,
                            .line = 1,
                            .kv = kv,
                            .n_kv = sizeof kv / sizeof kv[0]};
    diag d = {0};
    mapping *m = mapping_new(&inst, "fuzz.ini", &d);
    diag_clear(&d);
    if (!m)
        abort();
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mapping *probe, *fast, *slow;
    if (!probe) {
        probe = flat_mapping();
        fast = flat_mapping();
        slow = flat_mapping();
    }
    const char *s = (const char *)data;
    char e0[SIGFLOW_MAX_ERROR_LEN] = "", e1[SIGFLOW_MAX_ERROR_LEN] = "",
         e2[SIGFLOW_MAX_ERROR_LEN] = "";
    sf_event *p = NULL, *a = NULL, *b = NULL;
    sf_status s0 = SF_EINVAL;
    int taken = mapping_apply_flat(probe, s, size, &p, e0, sizeof e0, &s0);
    sf_status s1 = mapping_apply(fast, s, size, &a, e1, sizeof e1);
    sf_status s2 = mapping_apply_json(slow, s, size, &b, e2, sizeof e2);
    if (s1 != s2 || (taken && (s0 != SF_OK || s2 != SF_OK)) || (!taken && p))
        abort();
    if (s1 != SF_OK && strcmp(e1, e2) != 0)
        abort();
    if (s1 == SF_OK && (!a || !b || !same_event(a, b)))
        abort();
    if (taken && !same_event(p, b))
        abort();
    event_free(p);
    event_free(a);
    event_free(b);
    return 0;
}
