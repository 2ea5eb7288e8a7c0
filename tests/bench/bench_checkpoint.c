/*
 * bench_checkpoint - entity-state checkpoint save and load (score_image.c) on the bench
 * decision (tests/bench/bench.ini: login drop 7d/28d, ticket count 14d cap 4, downgrade
 * recent 30d, usage drop of value 7d/28d, tick 1h). Every customer gets a login, then
 * `events` more events of gen_events.py's type mix over 60 days, attrs {"plan":...}; the
 * engine is saved to memory and loaded into fresh engines; the loaded state must save to
 * the same bytes.
 *
 *   bench_checkpoint [-e customers] [-n more events] [-s shards]     (defaults 1M, 3M, 1)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "score/score.h"
#include "score/score_image.h"

#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */

static const config_decision dec = {.name = "churn_risk",
                                    .question = "Is this customer about to churn?",
                                    .bias = -3,
                                    .threshold = 0.8,
                                    .rearm_below = 0.6,
                                    .cooldown_ms = 3 * DAY,
                                    .tick_ms = HOUR};
static const config_signal sig[] = {
    {.name = "login_drop",
     .event = "login",
     .measure = MEASURE_DROP,
     .recent_ms = 7 * DAY,
     .usual_ms = 28 * DAY,
     .weight = 2.5},
    {.name = "tickets",
     .event = "ticket.opened",
     .measure = MEASURE_COUNT,
     .window_ms = 14 * DAY,
     .cap = 4,
     .weight = 2},
    {.name = "downgrade",
     .event = "subscription.downgrade",
     .measure = MEASURE_RECENT,
     .window_ms = 30 * DAY,
     .weight = 1.5},
    {.name = "usage_drop",
     .event = "usage",
     .measure = MEASURE_DROP,
     .of_value = true,
     .recent_ms = 7 * DAY,
     .usual_ms = 28 * DAY,
     .weight = 1},
};
static const char *const plans[] = {"{\"plan\":\"free\"}", "{\"plan\":\"pro\"}",
                                    "{\"plan\":\"enterprise\"}"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void count_alert(void *ctx, sf_alert *a)
{
    (void)a;
    ++*(uint64_t *)ctx;
}

static sf_status count_bytes(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    *(size_t *)ctx += len;
    return SF_OK;
}

static int push(score_engine *e, long cust, const char *type, int64_t t, double v,
                const char *attrs)
{
    char id[16];
    snprintf(id, sizeof id, "c%07ld", cust);
    sf_event ev = {.entity = id,
                   .type = (char *)type,
                   .time_ms = t,
                   .value = v,
                   .has_value = true,
                   .attrs = (char *)attrs,
                   .attrs_len = strlen(attrs)};
    return score_push(e, &ev) == SF_OK ? 0 : -1;
}

static int fill(score_engine *e, long custs, long events)
{
    uint64_t s = 42;
    long total = custs + events;
    for (long i = 0; i < total; i++) {
        int64_t t = T0 + (int64_t)((double)i / (double)total * 60.0 * DAY);
        long c = i < custs ? i : (long)(rnd(&s) % (uint64_t)custs);
        unsigned r = (unsigned)(rnd(&s) % 100);
        const char *type = i < custs || r < 50 ? "login"
                           : r < 80            ? "usage"
                           : r < 95            ? "ticket.opened"
                                               : "subscription.downgrade";
        if (push(e, c, type, t, (double)(rnd(&s) % 100) / 10.0, plans[c % 3]) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long custs = 1000000, events = 3000000;
    int shards = 1, opt;
    while ((opt = getopt(argc, argv, "e:n:s:")) != -1) {
        if (opt == 'e')
            custs = atol(optarg);
        else if (opt == 'n')
            events = atol(optarg);
        else if (opt == 's')
            shards = atoi(optarg);
        else
            return fprintf(stderr, "usage: %s [-e customers] [-n events] [-s shards]\n", argv[0]),
                   2;
    }
    char err[256];
    uint64_t alerts = 0;
    score_engine *e = score_new(&dec, sig, 4, shards, count_alert, &alerts, err, sizeof err);
    if (!e || fill(e, custs, events) != 0)
        return fprintf(stderr, "bench_checkpoint: cannot build the engine: %s\n", err), 1;
    score_flush(e);
    score_stats st;
    score_get_stats(e, &st);
    score_membuf m = {0}, m2 = {0};
    size_t sunk = 0;
    double t0 = now_s();
    if (score_image_save(e, count_bytes, &sunk) != SF_OK)
        return fprintf(stderr, "bench_checkpoint: save failed\n"), 1;
    double serialize = now_s() - t0;
    t0 = now_s();
    if (score_image_save(e, score_membuf_write, &m) != SF_OK)
        return fprintf(stderr, "bench_checkpoint: save failed\n"), 1;
    double save = now_s() - t0;
    printf("checkpoint: %llu entities, %llu events, %llu alerts, %d shards: save %.3f s "
           "(%.3f s to a sink that keeps nothing), %zu bytes (%.1f bytes/entity; state in "
           "memory %.1f bytes/entity)\n",
           (unsigned long long)st.entities, (unsigned long long)st.events,
           (unsigned long long)alerts, shards, save, serialize, m.len,
           (double)m.len / (double)st.entities, (double)st.state_bytes / (double)st.entities);
    if (sunk != m.len)
        return fprintf(stderr, "bench_checkpoint: two saves differ in length\n"), 1;
    score_free(e);
    int load_shards[2] = {1, 2};
    for (int k = 0; k < 2; k++) {
        score_engine *b = score_new(&dec, sig, 4, load_shards[k], NULL, NULL, err, sizeof err);
        m.pos = 0;
        t0 = now_s();
        if (!b || score_image_load(b, score_membuf_read, &m, err, sizeof err) != SF_OK)
            return fprintf(stderr, "bench_checkpoint: load failed: %s\n", err), 1;
        double load = now_s() - t0;
        m2.len = 0;
        if (score_image_save(b, score_membuf_write, &m2) != SF_OK || m2.len != m.len ||
            memcmp(m.data, m2.data, m.len) != 0)
            return fprintf(stderr, "bench_checkpoint: loaded state saves differently\n"), 1;
        printf("checkpoint: load into %d shard(s) %.3f s (re-saved: identical bytes)\n",
               load_shards[k], load);
        score_free(b);
    }
    free(m.data);
    free(m2.data);
    return 0;
}
