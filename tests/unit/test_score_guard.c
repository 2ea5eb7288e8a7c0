/*
 * test_score_guard.c - the noise guards (docs/scoring.md "Noise guards") in the engine: a
 * generated world with a population-wide dip and a login outage gives health alerts and
 * decision alerts that do not depend on the shard count, survive a checkpoint anywhere
 * (saved with 3 shards, loaded with 1 and the reverse), and a checkpoint refuses a config
 * whose guards changed. The alerts themselves are checked against tests/golden/reference.py
 * by tests/integration/test_replay_guards.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint_support.h"
#include "score/score.h"
#include "score/score_image.h"

#define G_ENTS 24
#define G_DAYS 22

static const config_decision g_dec = {.name = "guarded",
                                      .bias = -2.5,
                                      .threshold = 0.6,
                                      .rearm_below = 0.45,
                                      .cooldown_ms = 12 * CK_H,
                                      .tick_ms = CK_H};

static const config_signal g_sig[] = {
    {.name = "login_drop",
     .event = "login",
     .measure = MEASURE_DROP,
     .recent_ms = CK_D,
     .usual_ms = 4 * CK_D,
     .cohort = true,
     .stale_below = 0.3,
     .stale_window_ms = 6 * CK_H,
     .stale_min = 10,
     .weight = 3,
     .explain = "{{pct}}% below the cohort"},
    {.name = "quiet",
     .event = "login",
     .measure = MEASURE_ABSENT,
     .window_ms = 10 * CK_H,
     .stale_below = 0.3,
     .stale_window_ms = 6 * CK_H,
     .stale_min = 5,
     .weight = 2,
     .explain = "{{since}}"},
    {.name = "ticket_rise",
     .event = "ticket",
     .measure = MEASURE_RISE,
     .recent_ms = 12 * CK_H,
     .usual_ms = 3 * CK_D,
     .span = 2,
     .cohort = true,
     .weight = 1},
    {.name = "tickets",
     .event = "ticket",
     .measure = MEASURE_COUNT,
     .window_ms = CK_D,
     .cap = 2,
     .weight = 1},
};
#define G_NSIG (sizeof g_sig / sizeof *g_sig)

typedef struct g_ev {
    int advance;
    char id[8];
    const char *type;
    int64_t time;
} g_ev;

static g_ev *g_events;
static size_t g_n;

static int by_time(const void *a, const void *b)
{
    const g_ev *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Logins every ~1.5h per entity, a dip (days 7-9, rate x0.35), an outage (days 12-13: no
 * login at all), 4 churners fading out, tickets, 4% late events, a few clock advances. */
static void gen_world(void)
{
    uint64_t s = 0x5eed;
    size_t cap = 16384;
    g_events = calloc(cap, sizeof *g_events);
    assert_non_null(g_events);
    g_n = 0;
    int64_t end = CK_T0 + G_DAYS * CK_D;
    for (int c = 0; c < G_ENTS; c++) {
        int64_t t = CK_T0 + (int64_t)(ck_rand(&s) % CK_H);
        int64_t fade = c < 4 ? CK_T0 + (14 + c) * CK_D : INT64_MAX;
        while (t < end && g_n + 2 < cap) {
            int64_t gap = 30 * 60000 + (int64_t)(ck_rand(&s) % (2 * CK_H));
            int64_t day = (t - CK_T0) / CK_D;
            if (day >= 7 && day < 10)
                gap = gap * 100 / 35;
            if (t > fade)
                gap *= 1 + (t - fade) / (6 * CK_H);
            t += gap;
            bool outage = day >= 12 && day < 14;
            if (!outage) {
                g_ev *e = &g_events[g_n++];
                snprintf(e->id, sizeof e->id, "c%02d", c);
                e->type = "login";
                e->time = t;
            }
            if (ck_rand(&s) % 100 < (t > fade ? 30u : 3u)) {
                g_ev *e = &g_events[g_n++];
                snprintf(e->id, sizeof e->id, "c%02d", c);
                e->type = "ticket";
                e->time = t + 1000;
            }
        }
    }
    qsort(g_events, g_n, sizeof *g_events, by_time);
    /* late events and clock advances */
    for (size_t i = 10; i + 1 < g_n; i++) {
        uint64_t r = ck_rand(&s) % 100;
        if (r < 4)
            g_events[i].time -= (int64_t)(ck_rand(&s) % (3 * CK_H));
        else if (r == 4)
            g_events[i].advance = 1;
    }
}

static sf_status g_apply(score_engine *e, const g_ev *v)
{
    if (v->advance)
        return score_advance(e, v->time);
    sf_event ev = {.entity = (char *)v->id, .type = (char *)v->type, .time_ms = v->time};
    return score_push(e, &ev);
}

static score_engine *g_engine(int shards, ck_out *out)
{
    char err[256];
    score_engine *e = score_new(&g_dec, g_sig, G_NSIG, shards, ck_collect, out, err, sizeof err);
    assert_non_null(e);
    return e;
}

static ck_out run_whole(int shards)
{
    ck_out out = {0};
    score_engine *e = g_engine(shards, &out);
    for (size_t i = 0; i < g_n; i++)
        assert_int_equal(g_apply(e, &g_events[i]), SF_OK);
    assert_int_equal(score_advance(e, CK_T0 + (G_DAYS + 1) * CK_D), SF_OK);
    score_flush(e);
    score_free(e);
    return out;
}

static int setup(void **state)
{
    (void)state;
    gen_world();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_events);
    return 0;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void dip_and_outage_give_health_alerts_and_decisions(void **state)
{
    (void)state;
    ck_out o = run_whole(1);
    assert_non_null(o.text);
    /* both login signals go stale in the outage and recover after it */
    assert_true(count(o.text, "\"state\":\"stale\",\"signal\":\"login_drop\"") >= 1);
    assert_true(count(o.text, "\"state\":\"recovered\",\"signal\":\"login_drop\"") >= 1);
    assert_true(count(o.text, "\"state\":\"stale\",\"signal\":\"quiet\"") >= 1);
    assert_true(count(o.text, "\"state\":\"recovered\",\"signal\":\"quiet\"") >= 1);
    /* decision alerts still fire (the churners), each marked as such */
    assert_true(count(o.text, "{\"kind\":\"decision\",\"alert_id\"") >= 2);
    assert_int_equal(count(o.text, "\"kind\":"), o.n);
    free(o.text);
}

static void shard_count_does_not_change_the_alerts(void **state)
{
    (void)state;
    ck_out one = run_whole(1);
    for (int shards = 2; shards <= 4; shards++) {
        ck_out many = run_whole(shards);
        assert_int_equal(one.n, many.n);
        assert_string_equal(one.text, many.text);
        free(many.text);
    }
    free(one.text);
}

static void split(size_t k, int shards_a, int shards_b, const ck_out *want)
{
    ck_out out = {0};
    score_engine *a = g_engine(shards_a, &out);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(g_apply(a, &g_events[i]), SF_OK);
    score_membuf m = {0};
    assert_int_equal(score_image_save(a, score_membuf_write, &m), SF_OK);
    score_free(a);
    score_engine *b = g_engine(shards_b, &out);
    char err[256] = "";
    assert_int_equal(ck_load(b, m.data, m.len, err, sizeof err), SF_OK);
    free(m.data);
    for (size_t i = k; i < g_n; i++)
        assert_int_equal(g_apply(b, &g_events[i]), SF_OK);
    assert_int_equal(score_advance(b, CK_T0 + (G_DAYS + 1) * CK_D), SF_OK);
    score_flush(b);
    score_free(b);
    assert_int_equal(out.n, want->n);
    assert_string_equal(out.text, want->text);
    free(out.text);
}

static void checkpoint_anywhere_gives_the_alerts_of_one_engine(void **state)
{
    (void)state;
    ck_out want = run_whole(1);
    /* before the first boundary, in the dip, in the outage (stale), just after it, late */
    const double days[] = {0.01, 8.5, 12.5, 13.9, 14.2, 18};
    for (size_t k = 0; k < sizeof days / sizeof *days; k++) {
        size_t pos = 0;
        while (pos < g_n && g_events[pos].time < CK_T0 + (int64_t)(days[k] * (double)CK_D))
            pos++;
        split(pos, 3, 1, &want);
        split(pos, 1, 2, &want);
    }
    free(want.text);
}

static void save_bytes(int shards, size_t k, score_membuf *m)
{
    ck_out out = {0};
    score_engine *e = g_engine(shards, &out);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(g_apply(e, &g_events[i]), SF_OK);
    memset(m, 0, sizeof *m);
    assert_int_equal(score_image_save(e, score_membuf_write, m), SF_OK);
    score_free(e);
    free(out.text);
}

static void guard_state_bytes_do_not_depend_on_shards_and_round_trip(void **state)
{
    (void)state;
    size_t k = 0; /* inside the outage: stale spells, flags */
    while (k < g_n && g_events[k].time < CK_T0 + 13 * CK_D)
        k++;
    score_membuf a, b, c = {0};
    save_bytes(1, k, &a);
    save_bytes(3, k, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    ck_out out = {0};
    score_engine *e = g_engine(2, &out);
    char err[256];
    assert_int_equal(ck_load(e, a.data, a.len, err, sizeof err), SF_OK);
    assert_int_equal(score_image_save(e, score_membuf_write, &c), SF_OK);
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.data, c.data, a.len);
    score_free(e);
    free(a.data);
    free(b.data);
    free(c.data);
    free(out.text);
}

static void changed_guards_are_unsupported(void **state)
{
    (void)state;
    score_membuf m;
    save_bytes(1, g_n / 2, &m);
    config_signal sig[G_NSIG];
    memcpy(sig, g_sig, sizeof sig);
    sig[0].stale_window_ms = 12 * CK_H; /* the buckets mean something else now */
    char err[256] = "";
    score_engine *e = score_new(&g_dec, sig, G_NSIG, 1, NULL, NULL, err, sizeof err);
    assert_non_null(e);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EUNSUPPORTED);
    assert_non_null(strstr(err, "noise guards"));
    score_free(e);
    /* no guards at all: also another meaning */
    for (size_t i = 0; i < G_NSIG; i++) {
        sig[i].cohort = false;
        sig[i].stale_below = 0;
    }
    e = score_new(&g_dec, sig, G_NSIG, 1, NULL, NULL, err, sizeof err);
    assert_non_null(e);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EUNSUPPORTED);
    score_free(e);
    /* stale_below and stale_min only read the state: kept */
    memcpy(sig, g_sig, sizeof sig);
    sig[0].stale_below = 0.5;
    sig[1].stale_min = 50;
    e = score_new(&g_dec, sig, G_NSIG, 1, NULL, NULL, err, sizeof err);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_OK);
    score_free(e);
    free(m.data);
}

static void corrupt_guard_part_is_refused(void **state)
{
    (void)state;
    score_membuf m;
    save_bytes(1, (size_t)(0.6 * (double)g_n), &m);
    size_t dn = (size_t)m.data[16] | (size_t)m.data[17] << 8;
    size_t guard = 20 + dn + 8 + 104; /* header, descriptor, fingerprint, engine */
    assert_int_equal(m.data[12], 1);  /* flags: a guard part follows */
    /* the magic, a flag byte with an unknown bit, a bucket count past the window */
    const size_t at[] = {guard + 4, guard + 12, guard + 12 + 1 + 56};
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        unsigned char *p = malloc(m.len);
        assert_non_null(p);
        memcpy(p, m.data, m.len);
        p[at[k]] ^= 0x40;
        ck_reseal(p, m.len);
        ck_out out = {0};
        score_engine *e = g_engine(1, &out);
        char err[256] = "";
        assert_int_equal(ck_load(e, p, m.len, err, sizeof err), SF_EINVAL);
        assert_non_null(strstr(err, "checkpoint:"));
        score_free(e);
        free(p);
    }
    free(m.data);
}

/* What the live-time test needs of each alert. */
typedef struct seen {
    int64_t stale_at, recovered_at, quiet_at, suppressed_at;
    int n_suppressed; /* p9's */
    double suppressed_score;
} seen;

static void note(void *ctx, sf_alert *a)
{
    seen *s = ctx;
    if (a->kind == ALERT_HEALTH) {
        if (strstr(a->json, "\"state\":\"stale\"") && s->stale_at == 0)
            s->stale_at = a->time_ms;
        if (strstr(a->json, "\"state\":\"recovered\"") && s->recovered_at == 0)
            s->recovered_at = a->time_ms;
    } else if (strcmp(a->entity, "p9") == 0 && a->kind == ALERT_SUPPRESSED) {
        s->n_suppressed++;
        s->suppressed_at = a->time_ms;
        s->suppressed_score = a->score;
        assert_string_equal(a->suppressed, "stale quiet");
        assert_non_null(strstr(a->json, "\"kind\":\"suppressed\""));
    } else if (strcmp(a->entity, "p9") == 0 && s->quiet_at == 0) {
        s->quiet_at = a->time_ms;
    }
}

/*
 * absent counts only live time: p9's last login is just before a 12h outage of the login
 * feed and it never comes back. Its 10h of silence must be live time: the alert comes at
 * the first boundary >= latest + 10h + the stale spell (stale boundary to recovered
 * boundary), not at the recovery, when its wall-clock silence already passed 10h.
 */
static void absent_counts_only_live_time(void **state)
{
    (void)state;
    const config_signal sig[] = {{.name = "quiet",
                                  .event = "login",
                                  .measure = MEASURE_ABSENT,
                                  .window_ms = 10 * CK_H,
                                  .stale_below = 0.5,
                                  .stale_window_ms = 6 * CK_H,
                                  .stale_min = 5,
                                  .weight = 5}};
    const config_decision dec = {
        .name = "d", .bias = -2.5, .threshold = 0.6, .rearm_below = 0.5, .tick_ms = CK_H};
    for (int shards = 1; shards <= 2; shards++) {
        seen s = {0};
        char err[256];
        score_engine *e = score_new(&dec, sig, 1, shards, note, &s, err, sizeof err);
        assert_non_null(e);
        int64_t latest = 0, out_from = CK_T0 + 3 * CK_D, out_to = out_from + 12 * CK_H;
        for (int64_t t = CK_T0 + 60000; t < CK_T0 + 6 * CK_D; t += 30 * 60000) {
            if (t >= out_from && t < out_to)
                continue;
            for (int c = 0; c < 10; c++) {
                if (c == 9 && t >= out_from)
                    continue; /* p9 is gone */
                char id[4] = {'p', (char)('0' + c), 0, 0};
                sf_event ev = {.entity = id, .type = "login", .time_ms = t + c};
                assert_int_equal(score_push(e, &ev), SF_OK);
                if (c == 9)
                    latest = t + c;
            }
        }
        score_flush(e);
        score_free(e);
        assert_true(s.stale_at > out_from && s.stale_at < out_to);
        assert_true(s.recovered_at > out_to);
        int64_t due = latest + 10 * CK_H + (s.recovered_at - s.stale_at);
        int64_t want = (due + CK_H - 1) / CK_H * CK_H;
        assert_true(want > s.recovered_at); /* wall-clock silence would fire at recovery */
        assert_int_equal(s.quiet_at, want);
        /* on the wall clock p9 is silent for 10h inside the stale spell: the alert x = 0
           suppressed there is recorded once, at that boundary, with the score it would have
           had (docs/scoring.md "Suppressed alerts") */
        int64_t wall = (latest + 10 * CK_H + CK_H - 1) / CK_H * CK_H;
        assert_true(wall > s.stale_at && wall < s.recovered_at);
        assert_int_equal(s.n_suppressed, 1);
        assert_int_equal(s.suppressed_at, wall);
        assert_true(fabs(s.suppressed_score - 1 / (1 + exp(-2.5))) < 1e-12);
    }
}

static void stale_window_must_be_a_multiple_of_tick(void **state)
{
    (void)state;
    config_signal sig[G_NSIG];
    memcpy(sig, g_sig, sizeof sig);
    sig[1].stale_window_ms = 90 * 60000;
    char err[256] = "";
    assert_null(score_new(&g_dec, sig, G_NSIG, 1, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "signal quiet: stale_window must be a multiple"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dip_and_outage_give_health_alerts_and_decisions),
        cmocka_unit_test(shard_count_does_not_change_the_alerts),
        cmocka_unit_test(checkpoint_anywhere_gives_the_alerts_of_one_engine),
        cmocka_unit_test(guard_state_bytes_do_not_depend_on_shards_and_round_trip),
        cmocka_unit_test(changed_guards_are_unsupported),
        cmocka_unit_test(corrupt_guard_part_is_refused),
        cmocka_unit_test(absent_counts_only_live_time),
        cmocka_unit_test(stale_window_must_be_a_multiple_of_tick),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
