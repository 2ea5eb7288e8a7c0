/*
 * test_score_image.c - score_image.c: an engine saved after any prefix of a stream
 * and loaded into a new engine (any shard counts on either side) gives exactly the alerts of
 * one engine that saw the whole stream; the bytes follow docs/scoring.md "Checkpoints" and
 * do not depend on shards; truncated, corrupt, forged, foreign and future checkpoints are
 * refused with the statuses score_image.h promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint_support.h"

#define N_OPS 500

typedef struct snap {
    score_membuf m;
} snap;

static void out_free(ck_out *o)
{
    free(o->text);
    memset(o, 0, sizeof *o);
}

static uint64_t le_sum(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* One engine with `shards` over ops[0..n); its alerts in *out. */
static void run_whole(const ck_op *ops, size_t n, int shards, ck_out *out)
{
    score_engine *e = ck_engine(shards, out);
    assert_non_null(e);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
    score_flush(e);
    score_free(e);
}

/* ops[0..k) through an engine with `shards`, then its checkpoint in *m. */
static void save_prefix(const ck_op *ops, size_t k, int shards, ck_out *out, score_membuf *m)
{
    score_engine *e = ck_engine(shards, out);
    assert_non_null(e);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
    memset(m, 0, sizeof *m);
    assert_int_equal(score_image_save(e, score_membuf_write, m), SF_OK);
    score_free(e);
}

/* A: ops[0..k) with sa shards, save; B (sb shards): load, ops[k..n). Alerts of both in out. */
static void run_split(const ck_op *ops, size_t n, size_t k, int sa, int sb, ck_out *out)
{
    score_membuf m;
    char err[256];
    save_prefix(ops, k, sa, out, &m);
    score_engine *b = ck_engine(sb, out);
    assert_non_null(b);
    sf_status st = ck_load(b, m.data, m.len, err, sizeof err);
    if (st != SF_OK)
        fail_msg("load after %zu ops (%d->%d, %zu bytes, ref sum %d): %s", k, sa, sb, m.len,
                 ck_ref_checksum(m.data, m.len - 8) == le_sum(m.data + m.len - 8), err);
    for (size_t i = k; i < n; i++)
        assert_int_equal(ck_apply(b, &ops[i]), SF_OK);
    score_flush(b);
    score_free(b);
    free(m.data);
}

static void split_anywhere_gives_the_alerts_of_one_engine(void **state)
{
    (void)state;
    static const int combos[4][2] = {{1, 1}, {3, 1}, {1, 3}, {3, 3}};
    static ck_op ops[N_OPS];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        ck_gen(seed, ops, N_OPS, CK_NIDS);
        ck_out ref = {0};
        run_whole(ops, N_OPS, 1, &ref);
        assert_true(ref.n >= 20); /* the stream exercises firing, cooldown and re-arming */
        for (size_t k = 0; k <= N_OPS; k += (k < 4 || k > N_OPS - 4) ? 1 : 23) {
            for (int c = 0; c < 4; c++) {
                ck_out got = {0};
                run_split(ops, N_OPS, k, combos[c][0], combos[c][1], &got);
                if (got.len != ref.len || memcmp(got.text, ref.text, ref.len) != 0)
                    fail_msg("seed %llu split at %zu, shards %d->%d: %zu alerts, want %zu",
                             (unsigned long long)seed, k, combos[c][0], combos[c][1], got.n, ref.n);
                out_free(&got);
            }
        }
        out_free(&ref);
    }
}

/* Save, load, go on, save again...: a chain of restarts changes nothing either. */
static void chained_checkpoints_give_the_alerts_of_one_engine(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(7, ops, N_OPS, CK_NIDS);
    ck_out ref = {0}, got = {0};
    run_whole(ops, N_OPS, 3, &ref);
    score_engine *e = ck_engine(1, &got);
    char err[256];
    for (size_t i = 0; i < N_OPS; i++) {
        if (i % 37 == 36) {
            score_membuf m = {0};
            assert_int_equal(score_image_save(e, score_membuf_write, &m), SF_OK);
            score_free(e);
            e = ck_engine(i % 2 ? 3 : 1, &got);
            assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_OK);
            free(m.data);
        }
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
    }
    score_flush(e);
    score_free(e);
    assert_int_equal(got.n, ref.n);
    assert_string_equal(got.text, ref.text);
    out_free(&ref);
    out_free(&got);
}

static void snapshot_bytes_do_not_depend_on_shards(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(11, ops, N_OPS, CK_NIDS);
    for (size_t k = 50; k <= N_OPS; k += 150) {
        ck_out o1 = {0}, o3 = {0};
        score_membuf m1, m3;
        save_prefix(ops, k, 1, &o1, &m1);
        save_prefix(ops, k, 3, &o3, &m3);
        assert_int_equal(m1.len, m3.len);
        assert_memory_equal(m1.data, m3.data, m1.len);
        free(m1.data);
        free(m3.data);
        out_free(&o1);
        out_free(&o3);
    }
}

static void load_then_save_gives_the_same_bytes(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(12, ops, N_OPS, CK_NIDS);
    ck_out o = {0};
    score_membuf m, m2 = {0};
    char err[256];
    save_prefix(ops, 321, 3, &o, &m);
    score_engine *e = ck_engine(1, &o);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_OK);
    assert_int_equal(score_image_save(e, score_membuf_write, &m2), SF_OK);
    assert_int_equal(m2.len, m.len);
    assert_memory_equal(m2.data, m.data, m.len);
    score_free(e);
    free(m.data);
    free(m2.data);
    out_free(&o);
}

/* ---- the format as documented ------------------------------------------------------- */

static uint64_t le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Bytes of one signal's state per the doc: measure order as in ck_sig. */
static size_t doc_signal_bytes(const config_signal *s, const unsigned char *p)
{
    switch (s->measure) {
    case MEASURE_DROP:
    case MEASURE_RISE:
        return p[0] ? 34 : 1;
    case MEASURE_COUNT:
        return 1 + 8 * (size_t)p[0];
    case MEASURE_RECENT:
    case MEASURE_ABSENT:
        return p[0] ? 9 : 1;
    default:
        return p[0] ? 17 : 1;
    }
}

static void format_follows_the_documentation(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(13, ops, N_OPS, CK_NIDS);
    ck_out o = {0};
    score_membuf m;
    save_prefix(ops, N_OPS, 3, &o, &m);
    const unsigned char *p = m.data;
    assert_memory_equal(p, "SFCHKPT\n", 8);
    assert_int_equal(le(p + 8, 4), 2); /* version */
    size_t dn = le(p + 16, 4), pos = 20;
    assert_int_equal(le(p + pos, 2), 5); /* decision name "churn" first */
    assert_memory_equal(p + pos + 2, "churn", 5);
    assert_int_equal(le(p + pos + 7, 8), CK_H); /* tick */
    assert_int_equal(le(p + pos + 15, 4), CK_NSIG);
    pos += dn + 8;               /* descriptor and its fingerprint */
    assert_int_equal(p[pos], 1); /* started */
    uint64_t n_ent = le(p + pos + 88, 8);
    assert_int_equal(n_ent, CK_NIDS); /* every id got an event of a used type */
    pos += 104;
    char prev[300] = "";
    for (uint64_t i = 0; i < n_ent; i++) {
        size_t idn = le(p + pos, 2);
        char id[300];
        memcpy(id, p + pos + 2, idn);
        id[idn] = '\0';
        assert_true(i == 0 || strcmp(prev, id) < 0); /* ascending byte order */
        strcpy(prev, id);
        pos += 2 + idn;
        unsigned flags = p[pos++];
        assert_true(flags <= 15);
        if (flags & 2)
            pos += 8;
        if (flags & 4)
            pos += 4 + le(p + pos, 4);
        for (size_t k = 0; k < CK_NSIG; k++)
            pos += doc_signal_bytes(&ck_sig[k], p + pos);
    }
    assert_string_equal(prev, "\xe2\x82\xac");     /* largest in byte order: 0xe2 > 'z' */
    uint64_t learn_len = le(p + pos, 8);           /* version 2: the learning part, length first */
    assert_int_equal(le(p + pos + 8, 4), CK_NSIG); /* it starts with the signal count */
    pos += 8 + learn_len;
    assert_memory_equal(p + pos, "SFCKEND\n", 8);
    assert_int_equal(pos + 16, m.len);
    assert_true(le(p + pos + 8, 8) == ck_ref_checksum(p, pos + 8));
    free(m.data);
    out_free(&o);
}

/* ---- refusals ------------------------------------------------------------------------ */

static score_membuf good_snapshot(size_t k)
{
    static ck_op ops[N_OPS];
    ck_gen(21, ops, N_OPS, CK_NIDS);
    ck_out o = {0};
    score_membuf m;
    save_prefix(ops, k, 1, &o, &m);
    out_free(&o);
    return m;
}

static sf_status load_copy(const unsigned char *p, size_t n, char *err, size_t errlen)
{
    ck_out o = {0};
    score_engine *e = ck_engine(1, &o);
    sf_status st = ck_load(e, p, n, err, errlen);
    score_free(e);
    out_free(&o);
    return st;
}

static void truncated_snapshot_is_refused_at_every_length(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(200);
    char err[256];
    for (size_t n = 0; n < m.len; n++) {
        err[0] = '\0';
        sf_status st = load_copy(m.data, n, err, sizeof err);
        if (st != SF_EINVAL)
            fail_msg("%zu of %zu bytes: status %d", n, m.len, st);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(load_copy(m.data, m.len, err, sizeof err), SF_OK);
    free(m.data);
}

static void any_flipped_bit_is_refused(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(200);
    char err[256];
    for (size_t i = 0; i < m.len; i++) {
        m.data[i] ^= (unsigned char)(1u << (i % 8));
        sf_status st = load_copy(m.data, m.len, err, sizeof err);
        if (st != SF_EINVAL)
            fail_msg("bit flipped at byte %zu of %zu: status %d", i, m.len, st);
        m.data[i] ^= (unsigned char)(1u << (i % 8));
    }
    free(m.data);
}

static void bytes_after_the_checksum_are_refused(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(100);
    char err[256];
    assert_int_equal(score_membuf_write(&m, "\0", 1), SF_OK);
    assert_int_equal(load_copy(m.data, m.len, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "after the checksum"));
    free(m.data);
}

static void unknown_version_is_refused_with_its_number(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(100);
    char err[256];
    m.data[8] = 3;
    ck_reseal(m.data, m.len);
    assert_int_equal(load_copy(m.data, m.len, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "version 3"));
    free(m.data);
}

static void forged_entity_order_is_refused(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(N_OPS);
    char err[256];
    size_t first = 20 + le(m.data + 16, 4) + 8 + 104;
    assert_int_equal(le(m.data + first, 2), 3);
    assert_memory_equal(m.data + first + 2, "C01", 3); /* smallest id first */
    m.data[first + 2] = 'z';                           /* "z01" > "a": out of order */
    ck_reseal(m.data, m.len);
    assert_int_equal(load_copy(m.data, m.len, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "order"));
    free(m.data);
}

static void forged_time_past_the_watermark_is_refused(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(N_OPS);
    char err[256];
    size_t eng = 20 + le(m.data + 16, 4) + 8;
    /* watermark down to the earliest accepted time: every entity's events are now "future" */
    int64_t wm = SCORE_TIME_MIN_MS;
    for (int b = 0; b < 8; b++)
        m.data[eng + 8 + b] = (unsigned char)((uint64_t)wm >> (8 * b));
    ck_reseal(m.data, m.len);
    assert_int_equal(load_copy(m.data, m.len, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "corrupt"));
    free(m.data);
}

static score_engine *engine_with(const config_signal *sig, ck_out *out)
{
    char err[256];
    score_engine *e = score_new(&ck_dec, sig, CK_NSIG, 1, ck_collect, out, err, sizeof err);
    assert_non_null(e);
    return e;
}

static void changed_decay_constant_is_unsupported_and_engine_stays_usable(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(31, ops, N_OPS, CK_NIDS);
    config_signal sig[CK_NSIG];
    memcpy(sig, ck_sig, sizeof sig);
    sig[0].usual_ms = 2 * CK_D;
    ck_out o = {0}, fresh = {0}, after = {0};
    score_membuf m;
    char err[256];
    save_prefix(ops, 250, 1, &o, &m);
    score_engine *e = engine_with(sig, &after);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EUNSUPPORTED);
    assert_non_null(strstr(err, "logins_drop"));
    assert_non_null(strstr(err, "usual"));
    /* untouched: it scores the rest exactly like an engine that never saw a checkpoint */
    score_engine *f = engine_with(sig, &fresh);
    for (size_t i = 250; i < N_OPS; i++) {
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
        assert_int_equal(ck_apply(f, &ops[i]), SF_OK);
    }
    score_flush(e);
    score_flush(f);
    assert_true(fresh.n > 0);
    assert_string_equal(after.text, fresh.text);
    score_free(e);
    score_free(f);
    free(m.data);
    out_free(&o);
    out_free(&fresh);
    out_free(&after);
}

static void other_decision_or_tick_is_unsupported(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(100);
    char err[256];
    config_decision dec = ck_dec;
    dec.tick_ms = 2 * CK_H;
    ck_out o = {0};
    score_engine *e = score_new(&dec, ck_sig, CK_NSIG, 1, ck_collect, &o, err, sizeof err);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EUNSUPPORTED);
    assert_non_null(strstr(err, "tick"));
    score_free(e);
    dec = ck_dec;
    dec.name = "upsell";
    e = score_new(&dec, ck_sig, CK_NSIG, 1, ck_collect, &o, err, sizeof err);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EUNSUPPORTED);
    assert_non_null(strstr(err, "churn"));
    assert_int_not_equal(score_image_fingerprint(e), 0);
    score_free(e);
    free(m.data);
}

/* Weights, threshold, windows, limits only read the state: the state is kept. */
static void changed_weights_and_windows_keep_the_state(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(N_OPS);
    char err[256];
    config_signal sig[CK_NSIG];
    memcpy(sig, ck_sig, sizeof sig);
    sig[0].weight = 3;
    sig[2].window_ms = 9 * CK_H;
    sig[5].limit = 7;
    ck_out o = {0};
    score_engine *e = engine_with(sig, &o);
    score_engine *base = engine_with(ck_sig, &o);
    assert_int_equal(score_image_fingerprint(e), score_image_fingerprint(base));
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_OK);
    score_stats st;
    score_get_stats(e, &st);
    assert_int_equal(st.entities, CK_NIDS);
    score_free(e);
    score_free(base);
    free(m.data);
}

static void load_into_a_used_engine_is_refused(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(100);
    char err[256];
    ck_out o = {0};
    score_engine *e = ck_engine(1, &o);
    assert_int_equal(score_advance(e, CK_T0), SF_OK);
    assert_int_equal(ck_load(e, m.data, m.len, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "fresh"));
    score_free(e);
    free(m.data);
}

static void failed_load_poisons_the_engine(void **state)
{
    (void)state;
    score_membuf m = good_snapshot(N_OPS);
    char err[256];
    ck_out o = {0};
    score_engine *e = ck_engine(3, &o);
    assert_int_equal(ck_load(e, m.data, m.len - 20, err, sizeof err), SF_EINVAL);
    static ck_op ops[1];
    ck_gen(1, ops, 1, CK_NIDS);
    assert_int_equal(ck_apply(e, &ops[0]), SF_EINVAL); /* entities half in: no further work */
    score_free(e);
    free(m.data);
    out_free(&o);
}

static sf_status failing_write(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return ++*(int *)ctx >= 2 ? SF_EIO : SF_OK;
}

static sf_status failing_read(void *ctx, void *buf, size_t len, size_t *got)
{
    score_membuf *m = ctx;
    if (m->pos > 0) {
        *got = 0;
        return SF_EIO;
    }
    return score_membuf_read(ctx, buf, len < 30 ? len : 30, got);
}

static void io_errors_are_passed_on(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(41, ops, N_OPS, CK_NIDS);
    ck_out o = {0};
    score_engine *e = ck_engine(1, &o);
    for (size_t i = 0; i < N_OPS; i++)
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
    int calls = 0;
    assert_int_equal(score_image_save(e, failing_write, &calls), SF_EIO);
    score_free(e);
    score_membuf m = good_snapshot(100);
    char err[256];
    e = ck_engine(1, &o);
    assert_int_equal(score_image_load(e, failing_read, &m, err, sizeof err), SF_EIO);
    assert_non_null(strstr(err, "read failed"));
    score_free(e);
    free(m.data);
    out_free(&o);
}

typedef struct trickle {
    score_membuf m;
    uint64_t rnd;
} trickle;

/* Hands over 1 to 13 bytes per call: every field and checksum word split across reads. */
static sf_status trickle_read(void *ctx, void *buf, size_t len, size_t *got)
{
    trickle *t = ctx;
    size_t k = 1 + ck_rand(&t->rnd) % 13;
    return score_membuf_read(&t->m, buf, len < k ? len : k, got);
}

static void reads_of_any_size_load_the_same(void **state)
{
    (void)state;
    static ck_op ops[N_OPS];
    ck_gen(61, ops, N_OPS, CK_NIDS);
    ck_out ref = {0}, got = {0};
    run_whole(ops, N_OPS, 1, &ref);
    score_membuf m;
    char err[256];
    save_prefix(ops, 260, 3, &got, &m);
    score_engine *e = ck_engine(1, &got);
    trickle t = {.m = m, .rnd = 99};
    if (score_image_load(e, trickle_read, &t, err, sizeof err) != SF_OK)
        fail_msg("%s", err);
    for (size_t i = 260; i < N_OPS; i++)
        assert_int_equal(ck_apply(e, &ops[i]), SF_OK);
    score_flush(e);
    assert_string_equal(got.text, ref.text);
    score_free(e);
    free(m.data);
    out_free(&ref);
    out_free(&got);
}

/* Before any event the engine keeps only an advanced clock: that survives too. */
static void engine_before_its_first_event_round_trips(void **state)
{
    (void)state;
    static ck_op ops[N_OPS + 1];
    ck_gen(51, ops + 1, N_OPS, CK_NIDS);
    ops[0] = (ck_op){.advance = 1, .time = ops[1].time + 5 * CK_H}; /* wall clock ahead */
    ck_out ref = {0}, got = {0};
    run_whole(ops, N_OPS + 1, 1, &ref);
    assert_true(ref.n > 0);
    for (size_t k = 0; k <= 1; k++) {
        run_split(ops, N_OPS + 1, k, 3, 1, &got);
        assert_string_equal(got.text, ref.text);
        out_free(&got);
    }
    out_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_anywhere_gives_the_alerts_of_one_engine),
        cmocka_unit_test(chained_checkpoints_give_the_alerts_of_one_engine),
        cmocka_unit_test(snapshot_bytes_do_not_depend_on_shards),
        cmocka_unit_test(load_then_save_gives_the_same_bytes),
        cmocka_unit_test(format_follows_the_documentation),
        cmocka_unit_test(truncated_snapshot_is_refused_at_every_length),
        cmocka_unit_test(any_flipped_bit_is_refused),
        cmocka_unit_test(bytes_after_the_checksum_are_refused),
        cmocka_unit_test(unknown_version_is_refused_with_its_number),
        cmocka_unit_test(forged_entity_order_is_refused),
        cmocka_unit_test(forged_time_past_the_watermark_is_refused),
        cmocka_unit_test(changed_decay_constant_is_unsupported_and_engine_stays_usable),
        cmocka_unit_test(other_decision_or_tick_is_unsupported),
        cmocka_unit_test(changed_weights_and_windows_keep_the_state),
        cmocka_unit_test(load_into_a_used_engine_is_refused),
        cmocka_unit_test(failed_load_poisons_the_engine),
        cmocka_unit_test(io_errors_are_passed_on),
        cmocka_unit_test(engine_before_its_first_event_round_trips),
        cmocka_unit_test(reads_of_any_size_load_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
