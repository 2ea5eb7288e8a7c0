/*
 * fuzz_score.c - the scoring engine on arbitrary event streams (4 bytes per event: entity,
 * type, time step (sometimes backwards: late events), value). Besides not crashing, the
 * alert stream must be identical through 1 and 3 shards, and equal to a naive scheduler
 * written here from docs/scoring.md that evaluates every entity at every tick (it shares only
 * the measures, score_state.c, with the engine): skipping must never change an alert.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/score.h"
#include "score/score_state.h"

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

static const config_decision fuzz_dec = {.name = "fuzz",
                                         .bias = -2,
                                         .threshold = 0.6,
                                         .rearm_below = 0.45,
                                         .cooldown_ms = 2 * HOUR,
                                         .tick_ms = HOUR};
static const config_signal fuzz_sig[] = {
    {.name = "drop",
     .event = "login",
     .measure = MEASURE_DROP,
     .recent_ms = 6 * HOUR,
     .usual_ms = DAY,
     .weight = 2,
     .explain = "{{pct}} {{recent_rate}} {{n}}"},
    {.name = "rise",
     .event = "ticket",
     .measure = MEASURE_RISE,
     .of_value = true,
     .recent_ms = 3 * HOUR,
     .usual_ms = 12 * HOUR,
     .span = 0.5,
     .weight = 1},
    {.name = "count",
     .event = "ticket",
     .measure = MEASURE_COUNT,
     .window_ms = 5 * HOUR,
     .cap = 2.5,
     .weight = 1,
     .explain = "{{n}} in {{window}}"},
    {.name = "recent",
     .event = "level",
     .measure = MEASURE_RECENT,
     .window_ms = 4 * HOUR,
     .weight = -0.5},
    {.name = "absent",
     .event = "login",
     .measure = MEASURE_ABSENT,
     .window_ms = 8 * HOUR,
     .weight = 1.5,
     .explain = "{{since}}"},
    {.name = "below",
     .event = "level",
     .measure = MEASURE_VALUE_BELOW,
     .limit = 5,
     .weight = 0.7,
     .explain = "{{value}} < {{limit}}"},
    {.name = "above", .event = "usage", .measure = MEASURE_VALUE_ABOVE, .limit = 20, .weight = 0.9},
};
static const char *const fuzz_types[] = {"login", "ticket", "level", "usage", "other"};

#define N_ENT 8

typedef struct naive_entity {
    _Alignas(8) unsigned char blob[1024];
    int has, armed;
    int64_t last; /* INT64_MIN: never */
} naive_entity;

typedef struct naive {
    score_layout l;
    naive_entity ent[N_ENT];
    int started;
    int64_t next_tick, watermark;
    collected *out;
} naive;

static void naive_eval(naive *nv, int k, int64_t t)
{
    naive_entity *e = &nv->ent[k];
    double z = fuzz_dec.bias;
    for (size_t i = 0; i < nv->l.n; i++)
        z += fuzz_sig[i].weight * score_state_x(&nv->l, e->blob, i, t);
    double p = 1.0 / (1.0 + exp(-z));
    if (p < fuzz_dec.rearm_below)
        e->armed = 1;
    if (e->armed && p >= fuzz_dec.threshold &&
        (e->last == INT64_MIN || t - e->last >= fuzz_dec.cooldown_ms)) {
        e->armed = 0;
        e->last = t;
        char line[96];
        snprintf(line, sizeof line, "e%d %lld %.17g", k, (long long)t, p);
        sf_alert a = {.json = line};
        collect(nv->out, &a);
    }
}

static void naive_ticks(naive *nv, int64_t last_inclusive)
{
    for (; nv->next_tick <= last_inclusive; nv->next_tick += fuzz_dec.tick_ms)
        for (int k = 0; k < N_ENT; k++) /* "e0" < "e1" < ... in byte order */
            if (nv->ent[k].has)
                naive_eval(nv, k, nv->next_tick);
}

static void naive_push(naive *nv, int k, const char *type, int64_t t, double v, bool has_v)
{
    int64_t tick = fuzz_dec.tick_ms;
    if (!nv->started) {
        nv->started = 1;
        nv->watermark = t;
        nv->next_tick = (t / tick + (t % tick > 0)) * tick;
    }
    naive_ticks(nv, t - 1);
    if (t > nv->watermark)
        nv->watermark = t;
    int used = 0;
    for (size_t i = 0; i < nv->l.n; i++) {
        if (strcmp(fuzz_sig[i].event, type) == 0) {
            if (!nv->ent[k].has) {
                score_state_init(&nv->l, nv->ent[k].blob);
                nv->ent[k].has = 1;
            }
            score_state_apply(&nv->l, nv->ent[k].blob, i, t, v, has_v);
            used = 1;
        }
    }
    if (used)
        naive_eval(nv, k, nv->watermark);
}

/* The engine's alerts as the naive scheduler prints them. */
static void collect_short(void *ctx, sf_alert *a)
{
    char line[96];
    snprintf(line, sizeof line, "%s %lld %.17g", a->entity, (long long)a->time_ms, a->score);
    sf_alert b = {.json = line};
    collect(ctx, &b);
}

static void run_naive(const uint8_t *data, size_t size, collected *out)
{
    static naive nv;
    char err[256];
    memset(&nv, 0, sizeof nv);
    nv.out = out;
    if (score_layout_init(&nv.l, fuzz_sig, sizeof fuzz_sig / sizeof fuzz_sig[0], err, sizeof err) !=
            SF_OK ||
        nv.l.size > sizeof nv.ent[0].blob)
        abort();
    for (int k = 0; k < N_ENT; k++) {
        nv.ent[k].armed = 1;
        nv.ent[k].last = INT64_MIN;
    }
    int64_t t = 1793491200000LL;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        int64_t step = (int64_t)(data[i + 2] & 0x7f) * 7 * MIN;
        t += (data[i + 2] & 0x80) && (data[i + 1] & 0x80) ? -step : step;
        naive_push(&nv, data[i] % 8, fuzz_types[(data[i + 1] & 0x7f) % 5u], t,
                   (double)(data[i + 3] >> 1) - 20, data[i + 3] & 1);
    }
    if (nv.started)
        naive_ticks(&nv, t + 2 * DAY);
}

static void run(const uint8_t *data, size_t size, int shards, score_alert_fn fn, collected *out)
{
    char err[256];
    score_engine *e = score_new(&fuzz_dec, fuzz_sig, sizeof fuzz_sig / sizeof fuzz_sig[0], shards,
                                fn, out, err, sizeof err);
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
    collected one = {0}, three = {0}, fast = {0}, slow = {0};
    run(data, size, 1, collect, &one);
    run(data, size, 3, collect, &three);
    if (one.len != three.len || (one.len && memcmp(one.text, three.text, one.len) != 0))
        abort(); /* the shard count changed the alerts */
    run(data, size, 1, collect_short, &fast);
    run_naive(data, size, &slow);
    if (fast.len != slow.len || (fast.len && memcmp(fast.text, slow.text, fast.len) != 0)) {
        fprintf(stderr, "engine:\n%s\nnaive:\n%s\n", fast.text ? fast.text : "",
                slow.text ? slow.text : "");
        abort(); /* skipping changed an alert */
    }
    free(one.text);
    free(three.text);
    free(fast.text);
    free(slow.text);
    return 0;
}
