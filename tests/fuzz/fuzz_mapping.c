/*
 * fuzz_mapping.c - JSON documents through the canonical mapping and a map.* mapping. The
 * first byte picks the mapping; the rest is the document. Events made must respect limits.
 * Both mappings judge schema drift over a short window, so drift alerts (and the keys-only
 * shape of arbitrary documents) are built too: they must be valid, bounded JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "ingest/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_drift(void *ctx, sf_alert *a)
{
    (void)ctx;
    if (!a->json || strlen(a->json) > SIGFLOW_MAX_ERROR_LEN * 4 || a->kind != ALERT_HEALTH)
        abort();
    alert_free(a);
}

static mapping *fuzz_mapped(void)
{
    static config_kv kv[] = {{"map.entity", "data.object.customer", 1},
                             {"map.type", "type", 2},
                             {"map.time", "created", 3},
                             {"map.time_unit", "s", 4},
                             {"map.value", "data.amount", 5},
                             {"map.id", "id", 6},
                             {"map.attr.first", "items.0.name", 7}};
    config_instance in = {.name = "f",
                          .plugin = "webhook",
                          .kind = SF_KIND_CONNECTOR,
                          .line = 1,
                          .kv = kv,
                          .n_kv = sizeof kv / sizeof kv[0]};
    diag d = {0};
    mapping *m = mapping_new(&in, "fuzz.ini", &d);
    diag_clear(&d);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mapping *maps[2];
    if (!maps[0]) {
        diag d = {0};
        maps[0] = mapping_new(NULL, "fuzz.ini", &d);
        maps[1] = fuzz_mapped();
        diag_clear(&d);
        if (!maps[0] || !maps[1])
            abort();
        for (int i = 0; i < 2; i++)
            if (mapping_watch_drift(maps[i], "d", "f", 2, 0.2, on_drift, NULL) != SF_OK)
                abort();
    }
    if (size == 0)
        return 0;
    mapping *m = maps[data[0] & 1];
    char err[SIGFLOW_MAX_ERROR_LEN];
    sf_event *ev = NULL;
    sf_status st = mapping_apply(m, (const char *)data + 1, size - 1, &ev, err, sizeof err);
    if (st == SF_OK) {
        if (!ev || !ev->entity || !*ev->entity || strlen(ev->entity) > SIGFLOW_MAX_ENTITY_LEN ||
            !ev->type || strlen(ev->type) > SIGFLOW_MAX_TYPE_LEN ||
            ev->attrs_len > SIGFLOW_MAX_ATTRS_LEN)
            abort();
        event_free(ev);
    } else if (ev || !memchr(err, '\0', sizeof err)) {
        abort();
    }
    return 0;
}
