/*
 * fuzz_score.c - the scoring engine on arbitrary event streams (4 bytes per event: entity,
 * type, time step (sometimes backwards: late events), value). Besides not crashing, the
 * alert stream must be identical through 1 and 3 shards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN 60000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)

typedef struct collected {
    char *text;
    size_t len, cap;
} collected;

static void collect(void *ctx, sf_alert *a)
{
    collected *c = ctx;
    size_t n = strlen(a->json) + 1;
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *t = realloc(c->text, cap);
        if (!t)
            abort();
        c->text = t;
        c->cap = cap;
    }
    memcpy(c->text + c->len, a->json, n - 1);
    c->text[c->len + n - 1] = '\n';
    c->len += n;
    c->text[c->len] = '\0';
}

static const cfg_decision fuzz_dec = {.name = "fuzz", .bias = -2, .threshold = 0.6,
                                      .rearm_below = 0.45, .cooldown_ms = 2 * HOUR,
                                      .tick_ms = HOUR};
static const cfg_signal fuzz_sig[] = {
    {.name = "drop", .event = "login", .measure = MEASURE_DROP, .recent_ms = 6 * HOUR,
     .usual_ms = DAY, .weight = 2, .explain = "{{pct}} {{recent_rate}} {{n}}"},
    {.name = "rise", .event = "ticket", .measure = MEASURE_RISE, .of_value = true,
     .recent_ms = 3 * HOUR, .usual_ms = 12 * HOUR, .span = 0.5, .weight = 1},
    {.name = "count", .event = "ticket", .measure = MEASURE_COUNT, .window_ms = 5 * HOUR,
     .cap = 2.5, .weight = 1, .explain = "{{n}} in {{window}}"},
    {.name = "recent", .event = "level", .measure = MEASURE_RECENT, .window_ms = 4 * HOUR,
     .weight = -0.5},
    {.name = "absent", .event = "login", .measure = MEASURE_ABSENT, .window_ms = 8 * HOUR,
     .weight = 1.5, .explain = "{{since}}"},
    {.name = "below", .event = "level", .measure = MEASURE_VALUE_BELOW, .limit = 5,
     .weight = 0.7, .explain = "{{value}} < {{limit}}"},
    {.name = "above", .event = "usage", .measure = MEASURE_VALUE_ABOVE, .limit = 20,
     .weight = 0.9},
};
static const char *const fuzz_types[] = {"login", "ticket", "level", "usage", "other"};

static void run(const uint8_t *data, size_t size, int shards, collected *out)
{
    char err[256];
    score_engine *e = score_new(&fuzz_dec, fuzz_sig, sizeof fuzz_sig / sizeof fuzz_sig[0],
                                shards, collect, out, err, sizeof err);
    if (!e)
        abort();
    int64_t t = 1793491200000LL;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        char id[8];
        snprintf(id, sizeof id, "e%u", data[i] % 8u);
        int64_t step = (int64_t)(data[i + 2] & 0x7f) * 7 * MIN;
        t += (data[i + 2] & 0x80) && (data[i + 1] & 0x80) ? -step : step;
        sf_event *ev = event_new(id, fuzz_types[(data[i + 1] & 0x7f) % 5u], t, NULL, 0);
        if (!ev)
            abort();
        ev->has_value = data[i + 3] & 1;
        ev->value = (double)(data[i + 3] >> 1) - 20;
        if (score_push(e, ev) != SF_OK)
            abort();
        event_free(ev);
    }
    if (score_advance(e, t + 2 * DAY) != SF_OK)
        abort();
    score_flush(e);
    score_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * 4096)
        return 0;
    collected one = {0}, three = {0};
    run(data, size, 1, &one);
    run(data, size, 3, &three);
    if (one.len != three.len || (one.len && memcmp(one.text, three.text, one.len) != 0))
        abort(); /* the shard count changed the alerts */
    free(one.text);
    free(three.text);
    return 0;
}
