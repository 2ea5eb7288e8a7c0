/*
 * fuzz_event_line.c - the canonical event line reader (core/mapping/event_line.c) against
 * json-c on any input: mapping_apply (reader first) and mapping_apply_json (json-c only) must
 * give the same status, error text and event, and whatever the reader takes json-c must take.
 * A difference aborts.
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
           (!a->attrs || strcmp(a->attrs, b->attrs) == 0) && !a->source_id == !b->source_id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mapping *fast, *slow;
    static mapping_view view;
    if (!fast) {
        diag d = {0};
        fast = mapping_new(NULL, "fuzz.ini", &d);
        slow = mapping_new(NULL, "fuzz.ini", &d);
        diag_clear(&d);
        if (!fast || !slow)
            abort();
    }
    const char *s = (const char *)data;
    char e1[SIGFLOW_MAX_ERROR_LEN] = "", e2[SIGFLOW_MAX_ERROR_LEN] = "";
    sf_event *a = NULL, *b = NULL;
    int taken = mapping_apply_view(fast, s, size, &view);
    sf_status s1 = mapping_apply(fast, s, size, &a, e1, sizeof e1);
    sf_status s2 = mapping_apply_json(slow, s, size, &b, e2, sizeof e2);
    if (s1 != s2 || (taken && s2 != SF_OK))
        abort();
    if (s1 != SF_OK && strcmp(e1, e2) != 0)
        abort();
    if (s1 == SF_OK && (!a || !b || !same_event(a, b)))
        abort();
    if (taken && (view.entity_len != strlen(a->entity) ||
                  memcmp(view.entity, a->entity, view.entity_len) != 0))
        abort();
    event_free(a);
    event_free(b);
    return 0;
}
