/*
 * test_score.c - the engine (core/score/score.c, score_shard.c): tick order and skipped
 * boundaries, events on boundaries, unused types, late events, arming/rearm/cooldown,
 * --until, and identical alerts for any shard count. Expected alerts are derived by hand
 * from docs/scoring.md in each test's comment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "score/score.h"

#define M 60000LL
#define H 3600000LL
#define D (24 * H)
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z, a multiple of 1h */

typedef struct got {
    char entity[32];
    int64_t t;
    double score;
    char id[40];
    char *json;
} got;

typedef struct sink {
    got a[4096];
    size_t n;
} sink;

static void on_alert(void *ctx, sf_alert *a)
{
    sink *s = ctx;
    assert_true(s->n < sizeof s->a / sizeof s->a[0]);
    got *g = &s->a[s->n++];
    snprintf(g->entity, sizeof g->entity, "%s", a->entity);
    g->t = a->time_ms;
    g->score = a->score;
    memcpy(g->id, a->id, sizeof g->id);
    g->json = strdup(a->json);
    assert_non_null(g->json);
}

static void sink_clear(sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->a[i].json);
    s->n = 0;
}

static void push(score_engine *e, const char *entity, const char *type, int64_t t)
{
    sf_event *ev = event_new(entity, type, t, NULL, 0);
    assert_non_null(ev);
    assert_int_equal(score_push(e, ev), SF_OK);
    event_free(ev);
}

static void push_v(score_engine *e, const char *entity, const char *type, int64_t t, double v)
{
    sf_event *ev = event_new(entity, type, t, NULL, 0);
    assert_non_null(ev);
    ev->value = v;
    ev->has_value = true;
    assert_int_equal(score_push(e, ev), SF_OK);
    event_free(ev);
}

static double sigmoid(double z)
{
    return 1 / (1 + exp(-z));
}

/* absent(window 2h, w 2) and a count of "ticket" (1d, cap 1, w -10); bias -1, thr 0.5. */
static score_engine *absent_engine(sink *s, int shards)
{
    static config_decision dec = {
        .name = "churn", .bias = -1, .threshold = 0.5, .rearm_below = 0.5, .tick_ms = H};
    static config_signal sig[2] = {
        {.name = "quiet",
         .event = "login",
         .measure = MEASURE_ABSENT,
         .window_ms = 2 * H,
         .weight = 2,
         .explain = "no login for {{since}}"},
        {.name = "tickets",
         .event = "ticket",
         .measure = MEASURE_COUNT,
         .window_ms = D,
         .cap = 1,
         .weight = -10},
    };
    char err[256];
    score_engine *e = score_new(&dec, sig, 2, shards, on_alert, s, err, sizeof err);
    assert_non_null(e);
    return e;
}

/*
 * b logs in at 10:30, a at 10:45. Boundary T fires an entity once latest <= T - 2h, so both
 * fire at 13:00 (12:00 - 2h = 10:00 < 10:30). Boundaries run only when an event with a
 * later time arrives: the noise event at exactly 13:00 does not run 13:00, one at 13:00:00.001
 * does. Within the tick, a before b (byte order), each with p = sigmoid(-1 + 2).
 */
static void tick_evaluates_entities_in_id_order_when_a_later_event_arrives(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = absent_engine(&s, 1);
    push(e, "b", "login", T0 + 10 * H + 30 * M);
    push(e, "a", "login", T0 + 10 * H + 45 * M);
    push(e, "zz", "noise", T0 + 13 * H);
    score_flush(e);
    assert_int_equal(s.n, 0);
    push(e, "zz", "noise", T0 + 13 * H + 1);
    score_flush(e);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.a[0].entity, "a");
    assert_string_equal(s.a[1].entity, "b");
    assert_int_equal(s.a[0].t, T0 + 13 * H);
    assert_int_equal(s.a[1].t, T0 + 13 * H);
    assert_true(fabs(s.a[0].score - sigmoid(1)) < 1e-12);
    score_stats st;
    score_get_stats(e, &st);
    assert_int_equal(st.entities, 2); /* the noise type created no entity */
    assert_int_equal(st.events, 4);
    assert_int_equal(st.applied, 2);
    assert_int_equal(st.ticks, 3); /* 11:00, 12:00, 13:00; none before the first event */
    sink_clear(&s);
    score_free(e);
}

/*
 * g logs in at 08:00 (absent from the 10:00 tick on). A ticket at exactly 10:00 is applied
 * before boundary 10:00 runs, so it counts there: z = -1 + 2 - 10, no alert at 10:00 or
 * later. h, without a ticket, fires at 10:00.
 */
static void event_at_exactly_a_boundary_counts_at_that_tick(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = absent_engine(&s, 1);
    push(e, "g", "login", T0 + 8 * H);
    push(e, "h", "login", T0 + 8 * H);
    push(e, "g", "ticket", T0 + 10 * H);
    push(e, "x", "noise", T0 + 12 * H);
    score_flush(e);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].entity, "h");
    assert_int_equal(s.a[0].t, T0 + 10 * H);
    sink_clear(&s);
    score_free(e);
}

/* Boundaries before the first event are skipped: the first one run is ceil(first / tick). */
static void boundaries_before_first_event_are_skipped(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = absent_engine(&s, 1);
    push(e, "a", "noise", T0 + 5 * H + 1);
    push(e, "a", "noise", T0 + 7 * H + 1); /* runs 6:00 and 7:00 */
    score_stats st;
    score_get_stats(e, &st);
    assert_int_equal(st.ticks, 2);
    assert_int_equal(score_watermark(e), T0 + 7 * H + 1);
    score_free(e);
}

/*
 * A late event is applied exactly and its entity evaluated at the watermark: the watermark
 * is 10:00 (another entity); a login of k at 06:00 arrives late; k is absent at once
 * (06:00 <= 10:00 - 2h) and fires at 10:00, the watermark, not at 08:00.
 */
static void late_event_is_evaluated_at_the_watermark(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = absent_engine(&s, 1);
    push(e, "a", "ticket", T0 + 10 * H);
    push(e, "k", "login", T0 + 6 * H);
    score_flush(e);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].entity, "k");
    assert_int_equal(s.a[0].t, T0 + 10 * H);
    sink_clear(&s);
    score_free(e);
}

/* value_above(limit 5, w 4), bias -2: x=1 gives p = sigmoid(2) ~ 0.88, x=0 sigmoid(-2). */
static score_engine *level_engine(sink *s, int shards, int64_t cooldown)
{
    static config_decision dec;
    dec = (config_decision){.name = "lvl",
                            .bias = -2,
                            .threshold = 0.5,
                            .rearm_below = 0.3,
                            .cooldown_ms = 0,
                            .tick_ms = H};
    dec.cooldown_ms = cooldown;
    static config_signal sig[1] = {{.name = "level",
                                    .event = "level",
                                    .measure = MEASURE_VALUE_ABOVE,
                                    .limit = 5,
                                    .weight = 4}};
    char err[256];
    score_engine *e = score_new(&dec, sig, 1, shards, on_alert, s, err, sizeof err);
    assert_non_null(e);
    return e;
}

/*
 * 0:10 high -> fire (armed, no last alert). 0:20 high -> disarmed, nothing. 0:30 low ->
 * p < 0.3 re-arms. 0:40 high -> armed but 30 min since 0:10 < 1h cooldown: nothing (ticks
 * 1:00 likewise: 50 min). 1:10 high -> exactly 1h: fires.
 */
static void rearm_and_cooldown_follow_the_spec(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = level_engine(&s, 1, H);
    push_v(e, "e", "level", T0 + 10 * M, 10);
    push_v(e, "e", "level", T0 + 20 * M, 10);
    push_v(e, "e", "level", T0 + 30 * M, 0);
    push_v(e, "e", "level", T0 + 40 * M, 10);
    push_v(e, "e", "level", T0 + 70 * M, 10);
    score_flush(e);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.a[0].t, T0 + 10 * M);
    assert_int_equal(s.a[1].t, T0 + 70 * M);
    assert_true(fabs(s.a[1].score - sigmoid(2)) < 1e-12);
    sink_clear(&s);
    score_free(e);
}

/* Without a re-arm (p never below rearm_below) a high score fires once only. */
static void disarmed_entity_never_fires_again_without_rearm(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = level_engine(&s, 1, 0);
    for (int i = 0; i < 50; i++)
        push_v(e, "e", "level", T0 + i * H, 9);
    score_flush(e);
    assert_int_equal(s.n, 1);
    sink_clear(&s);
    score_free(e);
}

/*
 * --until: the absent entity fires at a tick after the last event only when told to advance:
 * login at 00:00, last event at 00:00; advancing to 02:00 runs 01:00 and 02:00 (inclusive).
 */
static void advance_runs_boundaries_up_to_and_including_now(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = absent_engine(&s, 1);
    push(e, "a", "login", T0);
    score_flush(e);
    assert_int_equal(s.n, 0);
    assert_int_equal(score_advance(e, T0 + 2 * H), SF_OK);
    score_flush(e);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].t, T0 + 2 * H);
    sink_clear(&s);
    score_free(e);
}

/* Live: after score_advance(now) the clock is now, and an older event is evaluated at now. */
static void event_after_advance_is_evaluated_at_the_clock(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = level_engine(&s, 2, 0);
    push_v(e, "e", "level", T0, 0);
    assert_int_equal(score_advance(e, T0 + 90 * M), SF_OK);
    push_v(e, "e", "level", T0 + 10 * M, 10);
    score_flush(e);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.a[0].t, T0 + 90 * M);
    assert_int_equal(score_watermark(e), T0 + 10 * M);
    sink_clear(&s);
    score_free(e);
}

/* Times outside years 0000-9999 are refused and change nothing. */
static void refuses_times_out_of_range(void **state)
{
    (void)state;
    sink s = {0};
    score_engine *e = level_engine(&s, 1, 0);
    sf_event *ev = event_new("e", "level", SCORE_TIME_MAX_MS + 1, NULL, 0);
    assert_non_null(ev);
    assert_int_equal(score_push(e, ev), SF_EINVAL);
    ev->time_ms = T0;
    assert_int_equal(score_push(e, ev), SF_OK);
    event_free(ev);
    assert_int_equal(score_advance(e, INT64_MIN), SF_EINVAL);
    score_stats st;
    score_get_stats(e, &st);
    assert_int_equal(st.events, 1);
    score_free(e);
}

/* Same (decision, entity, time): same id; any change: another id; 32 hex digits. */
static void alert_ids_are_deterministic(void **state)
{
    (void)state;
    char a[40], b[40], c[40];
    alert_make_id("churn", "c1", T0, a);
    alert_make_id("churn", "c1", T0, b);
    alert_make_id("churn", "c1", T0 + 1, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    alert_make_id("churn", "c2", T0, c);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void run_random(int shards, sink *s)
{
    static config_decision dec = {.name = "mix",
                                  .bias = -2.2,
                                  .threshold = 0.6,
                                  .rearm_below = 0.45,
                                  .cooldown_ms = 6 * H,
                                  .tick_ms = H};
    static config_signal sig[4] = {
        {.name = "drop",
         .event = "login",
         .measure = MEASURE_DROP,
         .recent_ms = D,
         .usual_ms = 4 * D,
         .weight = 2,
         .explain = "{{pct}}% {{recent_rate}}"},
        {.name = "tix",
         .event = "ticket",
         .measure = MEASURE_COUNT,
         .window_ms = 2 * D,
         .cap = 3,
         .weight = 1.5,
         .explain = "{{n}} in {{window}}"},
        {.name = "quiet", .event = "login", .measure = MEASURE_ABSENT, .window_ms = D, .weight = 1},
        {.name = "low",
         .event = "usage",
         .measure = MEASURE_VALUE_BELOW,
         .limit = 3,
         .weight = 0.8},
    };
    static const char *types[] = {"login", "login", "login", "ticket", "usage", "other"};
    char err[256];
    score_engine *e = score_new(&dec, sig, 4, shards, on_alert, s, err, sizeof err);
    assert_non_null(e);
    rng = 0x9E3779B97F4A7C15ull;
    int64_t t = T0;
    for (int i = 0; i < 6000; i++) {
        char id[16];
        snprintf(id, sizeof id, "e%llu", (unsigned long long)(next_rand() % 97));
        t += (int64_t)(next_rand() % (20 * M));
        int64_t et = next_rand() % 10 == 0 ? t - (int64_t)(next_rand() % (6 * H)) : t;
        push_v(e, id, types[next_rand() % 6], et, (double)(next_rand() % 60) / 10);
    }
    assert_int_equal(score_advance(e, t + 3 * D), SF_OK);
    score_flush(e);
    score_free(e);
}

static void alerts_do_not_depend_on_shard_count(void **state)
{
    (void)state;
    static sink base, other;
    run_random(1, &base);
    assert_true(base.n > 20);
    int counts[] = {2, 3, 7};
    for (size_t k = 0; k < 3; k++) {
        run_random(counts[k], &other);
        assert_int_equal(other.n, base.n);
        for (size_t i = 0; i < base.n; i++)
            assert_string_equal(other.a[i].json, base.a[i].json);
        sink_clear(&other);
    }
    sink_clear(&base);
}

static void rejects_bad_decision(void **state)
{
    (void)state;
    config_decision dec = {.name = "d", .threshold = 0.5, .rearm_below = 0.5, .tick_ms = 0};
    config_signal sig = {.name = "s", .event = "x", .measure = MEASURE_RECENT, .window_ms = H};
    char err[256] = "";
    assert_null(score_new(&dec, &sig, 1, 1, on_alert, NULL, err, sizeof err));
    assert_non_null(strstr(err, "tick"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tick_evaluates_entities_in_id_order_when_a_later_event_arrives),
        cmocka_unit_test(event_at_exactly_a_boundary_counts_at_that_tick),
        cmocka_unit_test(boundaries_before_first_event_are_skipped),
        cmocka_unit_test(late_event_is_evaluated_at_the_watermark),
        cmocka_unit_test(rearm_and_cooldown_follow_the_spec),
        cmocka_unit_test(disarmed_entity_never_fires_again_without_rearm),
        cmocka_unit_test(advance_runs_boundaries_up_to_and_including_now),
        cmocka_unit_test(event_after_advance_is_evaluated_at_the_clock),
        cmocka_unit_test(refuses_times_out_of_range),
        cmocka_unit_test(alert_ids_are_deterministic),
        cmocka_unit_test(alerts_do_not_depend_on_shard_count),
        cmocka_unit_test(rejects_bad_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
