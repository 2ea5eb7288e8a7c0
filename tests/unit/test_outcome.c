/*
 * test_outcome.c - outcomes and learning in the engine (core/score/outcome.c, learn.c,
 * learn_image.c): labels from outcome events (confirmed, false_positive, missed),
 * retirement and a returning customer's new life, model_version on alerts, and for a
 * generated stream with refits: the same alerts and labels for any shard count and across
 * a checkpoint saved and loaded anywhere. Expected labels are derived by hand from
 * docs/scoring.md "Outcomes and learning" in each test's comment.
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

#include "model/event.h"
#include "score/model.h"
#include "score/score.h"
#include "score/score_image.h"

#define H 3600000LL
#define D (24 * H)
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z, a multiple of 1d */

/* Everything the engine handed out, alerts and labels, as one line each. */
typedef struct seen_alert {
    char entity[32];
    int64_t t;
    double x1; /* the second signal's x */
} seen_alert;

typedef struct out {
    char **line;
    size_t n, cap;
    uint32_t max_version;
    seen_alert *al; /* every alert, in order */
    size_t n_al, cap_al;
} out;

static void add(out *o, const char *s)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->line = realloc(o->line, o->cap * sizeof *o->line);
        assert_non_null(o->line);
    }
    o->line[o->n++] = strdup(s);
}

static void on_alert(void *ctx, sf_alert *a)
{
    out *o = ctx;
    char buf[256];
    snprintf(buf, sizeof buf, "alert %s %lld v%u %s", a->entity, (long long)((a->time_ms - T0) / H),
             a->model_version, a->id);
    if (a->model_version > o->max_version)
        o->max_version = a->model_version;
    add(o, buf);
    add(o, a->json);
    if (o->n_al == o->cap_al) {
        o->cap_al = o->cap_al ? o->cap_al * 2 : 64;
        o->al = realloc(o->al, o->cap_al * sizeof *o->al);
        assert_non_null(o->al);
    }
    seen_alert *s = &o->al[o->n_al++];
    snprintf(s->entity, sizeof s->entity, "%s", a->entity);
    s->t = a->time_ms;
    s->x1 = a->n_reasons > 1 ? a->features[1] : 0;
}

static void on_label(void *ctx, const score_label *l)
{
    out *o = ctx;
    char buf[512];
    int k = snprintf(
        buf, sizeof buf,
        "label %s %s t=%lld alert=%lld outcome=%lld v%u id=%s x=", score_label_name(l->kind),
        l->entity, (long long)((l->time - T0) / H),
        l->alert_time == SCORE_LABEL_NO_TIME ? -1 : (long long)((l->alert_time - T0) / H),
        l->outcome_time == SCORE_LABEL_NO_TIME ? -1 : (long long)((l->outcome_time - T0) / H),
        l->model_version, l->alert_id);
    for (size_t i = 0; i < l->n_features && k < (int)sizeof buf - 32; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%.6f,", l->features[i]);
    add(o, buf);
}

static void out_free(out *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->line[i]);
    free(o->line);
    free(o->al);
    memset(o, 0, sizeof *o);
}

static void push(score_engine *e, const char *entity, const char *type, int64_t t)
{
    sf_event *ev = event_new(entity, type, t, NULL, 0);
    assert_non_null(ev);
    assert_int_equal(score_push(e, ev), SF_OK);
    event_free(ev);
}

/* ---- labels and retirement, by hand ---- */

/*
 * absent(login, 3d, w 4), bias -2: p = sigmoid(2) = 0.88 once the latest login is 3 days
 * old, sigmoid(-2) before. threshold 0.5, cooldown 30d, tick 1d, horizon 10d,
 * outcome = cancel, learning off (no refit changes anything).
 */
static score_engine *hand_engine(out *o, int shards)
{
    static config_decision dec;
    dec = (config_decision){.name = "churn",
                            .bias = -2,
                            .threshold = 0.5,
                            .rearm_below = 0.5,
                            .cooldown_ms = 30 * D,
                            .tick_ms = D,
                            .outcome = "cancel",
                            .horizon_ms = 10 * D,
                            .learning = false,
                            .refit_ms = 100 * D,
                            .prior = 10,
                            .fit_sample = 1000,
                            .fit_horizon_ms = 5 * D,
                            .target_precision = 0.6,
                            .auto_window_ms = 28 * D};
    static config_signal sig[1] = {{.name = "quiet",
                                    .event = "login",
                                    .measure = MEASURE_ABSENT,
                                    .window_ms = 3 * D,
                                    .weight = 4}};
    char err[256];
    score_engine *e = score_new(&dec, sig, 1, shards, on_alert, o, err, sizeof err);
    assert_non_null(e);
    score_set_label_fn(e, on_label, o);
    return e;
}

/*
 * a, b, c, f log in at 01:00 on day 0; c also every day after. The boundary of day 4 is the
 * first with latest <= T - 3d for a, b and f (day 1 00:00 >= day 0 01:00).
 *   day 2: f cancels -> f missed (no alert), retired: nothing at day 4 for f.
 *   day 4: alerts for a and b (p = 0.88), by id.
 *   day 5: c cancels -> missed (c never alerted: it logs in daily).
 *   day 6: a cancels -> a's alert of day 4 confirmed (within 10d before), a retired.
 *   day 8: a logs in again -> a new life: armed, no cooldown from the old alert.
 *   day 11: a's latest (day 8) is 3 days old -> alert, though the cooldown (30d) of its first
 *           life would forbid it.
 *   day 14: b's alert of day 4 had no outcome for 10 days -> false_positive.
 */
static void run_hand(score_engine *e)
{
    const char *ids[] = {"a", "b", "c", "f"};
    for (int i = 0; i < 4; i++)
        push(e, ids[i], "login", T0 + H);
    push(e, "f", "cancel", T0 + 2 * D);
    for (int d = 1; d <= 4; d++)
        push(e, "c", "login", T0 + d * D + H);
    push(e, "c", "cancel", T0 + 5 * D);
    push(e, "a", "cancel", T0 + 6 * D);
    push(e, "a", "login", T0 + 8 * D);
    push(e, "zz", "nothing", T0 + 15 * D); /* runs the boundaries up to day 15 */
    score_flush(e);
}

static const char *find(const out *o, const char *prefix, size_t *at)
{
    for (size_t i = *at; i < o->n; i++) {
        if (strncmp(o->line[i], prefix, strlen(prefix)) == 0) {
            *at = i + 1;
            return o->line[i];
        }
    }
    return NULL;
}

static void outcomes_label_alerts_and_retire_entities(void **state)
{
    (void)state;
    out o = {0};
    score_engine *e = hand_engine(&o, 1);
    run_hand(e);
    size_t at = 0;
    const char *want[] = {"label missed f t=48 alert=-1 outcome=48 v1 id= x=0.000000,",
                          "alert a 96 v1",
                          "alert b 96 v1",
                          "label missed c t=120 alert=-1 outcome=120 v1 id= x=0.000000,",
                          "label confirmed a t=144 alert=96 outcome=144 v1 id=",
                          "alert a 264 v1",
                          "label false_positive b t=336 alert=96 outcome=-1 v1 id="};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        const char *got = find(&o, want[k], &at);
        if (!got)
            fail_msg("expected `%s` after line %zu", want[k], at);
    }
    /* exactly these: 3 alerts and 4 labels */
    size_t alerts = 0, labels = 0;
    for (size_t i = 0; i < o.n; i++) {
        alerts += strncmp(o.line[i], "alert ", 6) == 0;
        labels += strncmp(o.line[i], "label ", 6) == 0;
    }
    assert_int_equal(alerts, 3);
    assert_int_equal(labels, 4);
    /* the confirmed label names the alert of day 4, features as the alert had them */
    at = 0;
    const char *a4 = find(&o, "alert a 96 ", &at);
    const char *conf = find(&o, "label confirmed a", &at);
    assert_non_null(strstr(conf, strrchr(a4, ' ') + 1));
    assert_non_null(strstr(conf, "x=1.000000,"));
    /* every alert says which model raised it */
    at = 0;
    find(&o, "alert a 96", &at);
    assert_non_null(strstr(o.line[at], "\"model_version\":1"));
    score_stats st;
    score_get_stats(e, &st);
    assert_int_equal(st.retired, 2); /* f and c; a came back */
    score_model_view *v = score_model_get(e);
    assert_non_null(v);
    assert_int_equal(v->confirmed, 1);
    assert_int_equal(v->false_positive, 1);
    assert_int_equal(v->missed, 2);
    assert_int_equal(v->signals[0].high_confirmed, 1); /* quiet was 1 in the confirmed alert */
    assert_int_equal(v->signals[0].high_false, 1);
    assert_string_equal(v->outcome, "cancel");
    score_model_view_free(v);
    score_free(e);
    out_free(&o);
}

/* An outcome for an entity the engine never saw is a miss without features; a second
   outcome for a retired entity says nothing. */
static void unknown_and_repeated_outcomes(void **state)
{
    (void)state;
    out o = {0};
    score_engine *e = hand_engine(&o, 1);
    push(e, "ghost", "cancel", T0);
    push(e, "a", "login", T0 + H);
    push(e, "a", "cancel", T0 + 2 * H);
    push(e, "a", "cancel", T0 + 3 * H);
    score_flush(e);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.line[0], "label missed ghost t=0 alert=-1 outcome=0 v1 id= x=");
    assert_string_equal(o.line[1], "label missed a t=2 alert=-1 outcome=2 v1 id= x=0.000000,");
    score_free(e);
    out_free(&o);
}

static void same_labels_for_any_shard_count(void **state)
{
    (void)state;
    out one = {0}, three = {0};
    score_engine *e1 = hand_engine(&one, 1), *e3 = hand_engine(&three, 3);
    run_hand(e1);
    run_hand(e3);
    assert_int_equal(one.n, three.n);
    for (size_t i = 0; i < one.n; i++)
        assert_string_equal(one.line[i], three.line[i]);
    score_free(e1);
    score_free(e3);
    out_free(&one);
    out_free(&three);
}

/* ---- a generated stream with refits ---- */

typedef struct gev {
    char entity[16];
    const char *type;
    int64_t t;
} gev;

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/*
 * 60 accounts over 70 days. Everyone logs in about daily and views pages at random;
 * half stop logging in on a random day and cancel 5-9 days later; some of those come back.
 */
static size_t gen(gev *ev, size_t cap, uint64_t seed)
{
    size_t n = 0;
    uint64_t s = seed;
    for (int a = 0; a < 60; a++) {
        int stop = rng_next(&s) % 2 == 0 ? 10 + (int)(rng_next(&s) % 50) : 1000;
        int cancel = stop + 5 + (int)(rng_next(&s) % 5);
        bool back = rng_next(&s) % 4 == 0;
        for (int d = 0; d < 70; d++) {
            bool gone = d >= stop && (!back || d < cancel + 3);
            if (!gone && n < cap && rng_next(&s) % 10 < 8) {
                snprintf(ev[n].entity, sizeof ev[n].entity, "acct%02d", a);
                ev[n].type = "login";
                ev[n++].t = T0 + d * D + (int64_t)(rng_next(&s) % D);
            }
            if (n < cap && rng_next(&s) % 3 == 0) {
                snprintf(ev[n].entity, sizeof ev[n].entity, "acct%02d", a);
                ev[n].type = "page";
                ev[n++].t = T0 + d * D + (int64_t)(rng_next(&s) % D);
            }
            if (d == cancel && n < cap) {
                snprintf(ev[n].entity, sizeof ev[n].entity, "acct%02d", a);
                ev[n].type = "cancel";
                ev[n++].t = T0 + d * D + 12 * H;
            }
        }
    }
    /* stream order: by time, with a few late events (swap neighbours now and then) */
    for (size_t i = 1; i < n; i++) {
        gev x = ev[i];
        size_t j = i;
        while (j > 0 && ev[j - 1].t > x.t) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
    for (size_t i = 1; i + 1 < n; i += 97) {
        gev x = ev[i];
        ev[i] = ev[i + 1];
        ev[i + 1] = x;
    }
    return n;
}

static score_engine *learn_engine(out *o, int shards, bool auto_threshold)
{
    static config_decision dec;
    dec = (config_decision){.name = "churn",
                            .bias = -2,
                            .threshold = 0.3,
                            .threshold_auto = auto_threshold,
                            .rearm_below = 0.2,
                            .rearm_set = true,
                            .cooldown_ms = 7 * D,
                            .tick_ms = 6 * H,
                            .outcome = "cancel",
                            .horizon_ms = 14 * D,
                            .learning = true,
                            .refit_ms = 2 * D,
                            .prior = 5,
                            .fit_sample = 2000, /* of some 16,000 snapshots: cut often */
                            .fit_horizon_ms = 7 * D,
                            .target_precision = 0.5,
                            .auto_window_ms = 10 * D};
    static config_signal sig[2] = {{.name = "quiet",
                                    .event = "login",
                                    .measure = MEASURE_ABSENT,
                                    .window_ms = 2 * D,
                                    .weight = 0.5},
                                   {.name = "pages",
                                    .event = "page",
                                    .measure = MEASURE_COUNT,
                                    .window_ms = 3 * D,
                                    .cap = 2,
                                    .weight = 2}};
    char err[256];
    score_engine *e = score_new(&dec, sig, 2, shards, on_alert, o, err, sizeof err);
    assert_non_null(e);
    score_set_label_fn(e, on_label, o);
    return e;
}

static void push_all(score_engine *e, const gev *ev, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        push(e, ev[i].entity, ev[i].type, ev[i].t);
}

static void assert_same(const out *a, const out *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->line[i], b->line[i]) != 0)
            fail_msg("line %zu differs:\n%s\n%s", i, a->line[i], b->line[i]);
    }
}

static void refits_are_shard_free_and_learn(bool auto_threshold)
{
    static gev ev[20000];
    size_t n = gen(ev, 20000, 7);
    out ref = {0};
    score_engine *e = learn_engine(&ref, 1, auto_threshold);
    push_all(e, ev, 0, n);
    score_flush(e);
    score_model_view *v = score_model_get(e);
    assert_non_null(v);
    assert_true(v->version > 3);      /* refits happened and changed the model */
    assert_true(ref.max_version > 1); /* and raised alerts */
    assert_true(v->n_history >= 3);
    assert_true(v->confirmed + v->false_positive + v->missed > 10);
    /* quiet (no login for 2 days) predicts the cancel; pages are noise */
    assert_true(v->signals[0].weight > v->signals[0].configured + 1);
    assert_true(v->signals[1].weight < v->signals[1].configured);
    score_model_view_free(v);
    score_free(e);
    for (int shards = 2; shards <= 3; shards++) {
        out o = {0};
        e = learn_engine(&o, shards, auto_threshold);
        push_all(e, ev, 0, n);
        score_flush(e);
        assert_same(&ref, &o);
        score_free(e);
        out_free(&o);
    }
    /* checkpoints at several points, saved with one shard count and loaded with another */
    const size_t cuts[] = {n / 5, n / 2, (4 * n) / 5};
    for (size_t k = 0; k < 3; k++) {
        out o = {0};
        score_engine *a = learn_engine(&o, k == 1 ? 3 : 1, auto_threshold);
        push_all(a, ev, 0, cuts[k]);
        score_membuf m = {0};
        assert_int_equal(score_image_save(a, score_membuf_write, &m), SF_OK);
        score_free(a);
        score_engine *b = learn_engine(&o, k == 1 ? 1 : 2, auto_threshold);
        char err[256];
        if (score_image_load(b, score_membuf_read, &m, err, sizeof err) != SF_OK)
            fail_msg("load: %s", err);
        push_all(b, ev, cuts[k], n);
        score_flush(b);
        /* load then save reproduces the bytes */
        score_free(b);
        free(m.data);
        assert_same(&ref, &o);
        out_free(&o);
    }
    out_free(&ref);
}

static void refits_same_for_any_shards_and_checkpoints(void **state)
{
    (void)state;
    refits_are_shard_free_and_learn(false);
}

static void auto_threshold_same_for_any_shards_and_checkpoints(void **state)
{
    (void)state;
    refits_are_shard_free_and_learn(true);
}

/* Load then save gives the same bytes, learning part included. */
static void learning_checkpoint_round_trips(void **state)
{
    (void)state;
    static gev ev[20000];
    size_t n = gen(ev, 20000, 11);
    out o = {0};
    score_engine *a = learn_engine(&o, 2, true);
    push_all(a, ev, 0, n / 2);
    score_membuf m1 = {0}, m2 = {0};
    assert_int_equal(score_image_save(a, score_membuf_write, &m1), SF_OK);
    score_engine *b = learn_engine(&o, 3, true);
    char err[256];
    assert_int_equal(score_image_load(b, score_membuf_read, &m1, err, sizeof err), SF_OK);
    assert_int_equal(score_image_save(b, score_membuf_write, &m2), SF_OK);
    assert_int_equal(m1.len, m2.len);
    assert_memory_equal(m1.data, m2.data, m1.len);
    score_model_view *va = score_model_get(a), *vb = score_model_get(b);
    assert_int_equal(va->version, vb->version);
    assert_true(va->version > 1);
    assert_int_equal(va->n_history, vb->n_history);
    assert_true(va->bias == vb->bias && va->threshold == vb->threshold);
    score_model_view_free(va);
    score_model_view_free(vb);
    /* every truncation of the learning part is refused */
    for (size_t cut = m1.len - 200; cut < m1.len; cut += 37) {
        score_membuf t = {.data = m1.data, .len = cut};
        score_engine *c = learn_engine(&o, 1, true);
        assert_int_not_equal(score_image_load(c, score_membuf_read, &t, err, sizeof err), SF_OK);
        score_free(c);
    }
    score_free(a);
    score_free(b);
    free(m1.data);
    free(m2.data);
    out_free(&o);
}

/* A person's label as the daemon journals it: sigflow.label at the alert's entity and time. */
static void push_label(score_engine *e, const char *entity, int64_t t, int value)
{
    sf_event *ev = event_new(entity, "sigflow.label", t, NULL, 0);
    assert_non_null(ev);
    ev->value = value;
    ev->has_value = true;
    assert_int_equal(score_push(e, ev), SF_OK);
    event_free(ev);
}

/* false_positive on every alert since `from` in which pages (signal 1) was high. */
static size_t label_pages_alerts(score_engine *e, const out *o, int64_t from)
{
    size_t k = 0;
    for (size_t i = 0; i < o->n_al; i++) {
        if (o->al[i].t >= from && o->al[i].x1 >= 0.5) {
            push_label(e, o->al[i].entity, o->al[i].t, 0);
            k++;
        }
    }
    return k;
}

/* The weight of `pages` fitted at the first refit after time t; *before_same: every refit up
   to t fitted the same weights in both views. */
static size_t first_refit_after(const score_model_view *v, int64_t t)
{
    for (size_t k = 0; k < v->n_history; k++)
        if (v->history[k].time > t)
            return k;
    fail_msg("no refit after the labels");
    return 0;
}

/*
 * People's labels reach the refits (docs/scoring.md "People's labels"): after the first half
 * of the stream, a person marks every alert of the last 13 days in which `pages` was high as
 * false_positive (sigflow.label events). The refits before are the unlabelled run's; at the
 * first refit after the labels pages' weight is lower than without them. The labelled run
 * gives the same alerts and labels for 1 and 3 shards and across a checkpoint saved after
 * the labels with 3 shards and loaded with 2.
 */
static void person_labels_lower_the_weight_at_the_next_refit(void **state)
{
    (void)state;
    static gev ev[20000];
    size_t n = gen(ev, 20000, 7), cut = n / 2;
    out plain = {0}, lab = {0};
    score_engine *a = learn_engine(&plain, 1, false);
    push_all(a, ev, 0, n);
    score_flush(a);
    score_engine *b = learn_engine(&lab, 1, false);
    push_all(b, ev, 0, cut);
    score_flush(b);
    int64_t now = score_watermark(b);
    size_t labelled = label_pages_alerts(b, &lab, now - 13 * D);
    assert_true(labelled >= 3);
    push_all(b, ev, cut, n);
    score_flush(b);
    score_model_view *va = score_model_get(a), *vb = score_model_get(b);
    assert_non_null(va);
    assert_non_null(vb);
    assert_int_equal(va->n_history, vb->n_history);
    size_t k = first_refit_after(vb, now);
    for (size_t j = 0; j < k; j++)
        assert_true(va->history[j].new_w[1] == vb->history[j].new_w[1]);
    assert_true(va->history[k].time == vb->history[k].time);
    assert_true(vb->history[k].new_w[1] < va->history[k].new_w[1]);
    assert_true(vb->signals[1].weight < va->signals[1].weight);
    /* the labelled count of rows: snapshots plus the people's labels */
    assert_int_equal(vb->history[k].rows, va->history[k].rows + labelled);
    score_model_view_free(va);
    score_model_view_free(vb);
    score_free(a);
    score_free(b);
    /* 3 shards; and a checkpoint after the labels (3 shards) loaded with 2 */
    for (int pass = 0; pass < 2; pass++) {
        out o = {0};
        score_engine *c = learn_engine(&o, 3, false);
        push_all(c, ev, 0, cut);
        score_flush(c);
        assert_int_equal(label_pages_alerts(c, &o, now - 13 * D), labelled);
        if (pass == 1) {
            score_membuf m = {0};
            assert_int_equal(score_image_save(c, score_membuf_write, &m), SF_OK);
            score_free(c);
            c = learn_engine(&o, 2, false);
            char err[256];
            if (score_image_load(c, score_membuf_read, &m, err, sizeof err) != SF_OK)
                fail_msg("load: %s", err);
            free(m.data);
        }
        push_all(c, ev, cut, n);
        score_flush(c);
        assert_same(&lab, &o);
        score_free(c);
        out_free(&o);
    }
    out_free(&plain);
    out_free(&lab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes_label_alerts_and_retire_entities),
        cmocka_unit_test(unknown_and_repeated_outcomes),
        cmocka_unit_test(same_labels_for_any_shard_count),
        cmocka_unit_test(refits_same_for_any_shards_and_checkpoints),
        cmocka_unit_test(auto_threshold_same_for_any_shards_and_checkpoints),
        cmocka_unit_test(learning_checkpoint_round_trips),
        cmocka_unit_test(person_labels_lower_the_weight_at_the_next_refit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
