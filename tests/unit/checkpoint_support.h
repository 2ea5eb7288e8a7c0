/*
 * checkpoint_support.h - shared by test_score_image.c and fuzz_score_image.c: a
 * decision using every measure, a generator of event streams (late events, value-less and
 * negative values, absences, clock advances), an alert collector that keeps scores and
 * features bit-exact, and the checkpoint checksum written again from docs/scoring.md.
 */
#ifndef CHECKPOINT_SUPPORT_H
#define CHECKPOINT_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/score.h"
#include "score/score_image.h"

#define CK_H 3600000LL
#define CK_D (24 * CK_H)
#define CK_T0 1793491200000LL /* 2026-11-01T00:00:00Z */

static const config_decision ck_dec = {.name = "churn",
                                       .bias = -2.2,
                                       .threshold = 0.6,
                                       .rearm_below = 0.45,
                                       .cooldown_ms = 3 * CK_H,
                                       .tick_ms = CK_H};

static const config_signal ck_sig[] = {
    {.name = "logins_drop",
     .event = "login",
     .measure = MEASURE_DROP,
     .recent_ms = 6 * CK_H,
     .usual_ms = CK_D,
     .weight = 2,
     .explain = "{{pct}}% fewer logins"},
    {.name = "spend_rise",
     .event = "ticket",
     .measure = MEASURE_RISE,
     .of_value = true,
     .recent_ms = 3 * CK_H,
     .usual_ms = 12 * CK_H,
     .span = 0.5,
     .weight = 1},
    {.name = "tickets",
     .event = "ticket",
     .measure = MEASURE_COUNT,
     .window_ms = 5 * CK_H,
     .cap = 2.5,
     .weight = 1,
     .explain = "{{n}} in {{window}}"},
    {.name = "seen",
     .event = "level",
     .measure = MEASURE_RECENT,
     .window_ms = 4 * CK_H,
     .weight = -0.5},
    {.name = "gone",
     .event = "login",
     .measure = MEASURE_ABSENT,
     .window_ms = 8 * CK_H,
     .weight = 1.5,
     .explain = "{{since}}"},
    {.name = "low", .event = "level", .measure = MEASURE_VALUE_BELOW, .limit = 5, .weight = 0.7},
    {.name = "high", .event = "usage", .measure = MEASURE_VALUE_ABOVE, .limit = 20, .weight = 0.9},
};
#define CK_NSIG (sizeof ck_sig / sizeof *ck_sig)

static const char *const ck_types[] = {"login", "ticket", "level", "usage", "other"};
static const char *const ck_attrs[] = {NULL, "{\"owner\":\"ana@example.com\"}",
                                       "{\"owner\":\"bo@example.com\",\"plan\":\"pro\"}"};

/* Ids whose byte order differs from any locale's: case, UTF-8, prefixes, ids sharing their
 * first 8 bytes (the saver's sort key), and one of the longest length accepted. */
#define CK_X32 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define CK_LONG_ID CK_X32 CK_X32 CK_X32 CK_X32 CK_X32 CK_X32 CK_X32 CK_X32 /* 256 bytes */
static const char *const ck_ids[] = {
    "c01",        "c02",         "c10",        "C01",       "c1",           "z",
    "a",          "ab",          "b",          "c\xc3\xa9", "\xe2\x82\xac", "c03",
    "customer-2", "customer-10", "customer-1", "customer",  CK_LONG_ID};
#define CK_NIDS (sizeof ck_ids / sizeof *ck_ids)

typedef struct ck_op {
    int advance; /* 1: score_advance(time) */
    int id, type, attrs;
    int64_t time;
    double value;
    int has_value;
} ck_op;

static inline uint64_t ck_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n operations from seed: mostly forward, some late, some long silences and advances. */
static inline void ck_gen(uint64_t seed, ck_op *ops, size_t n, size_t n_ids)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    int64_t t = CK_T0 + (int64_t)(ck_rand(&s) % CK_H);
    for (size_t i = 0; i < n; i++) {
        ck_op *o = &ops[i];
        uint64_t r = ck_rand(&s) % 100;
        memset(o, 0, sizeof *o);
        if (r < 3)
            t += 20 * CK_H + (int64_t)(ck_rand(&s) % (30 * CK_H)); /* silence: absences */
        else
            t += (int64_t)(ck_rand(&s) % (40 * 60000));
        o->time = t;
        if (r >= 3 && r < 12)
            o->time = t - (int64_t)(ck_rand(&s) % (7 * CK_H)); /* late */
        if (r >= 12 && r < 15) {
            o->advance = 1;
            o->time = t + (int64_t)(ck_rand(&s) % (5 * CK_H)); /* wall clock ahead */
            continue;
        }
        o->id = (int)(ck_rand(&s) % n_ids);
        o->type = (int)(ck_rand(&s) % 5);
        o->attrs = (int)(ck_rand(&s) % 3);
        o->has_value = ck_rand(&s) % 5 != 0;
        o->value = (double)(ck_rand(&s) % 300) / 10.0;
        if (ck_rand(&s) % 30 == 0)
            o->value = -o->value; /* a refund: the decayed sum is no longer monotone */
    }
}

static inline sf_status ck_apply(score_engine *e, const ck_op *o)
{
    if (o->advance)
        return score_advance(e, o->time);
    sf_event ev = {.entity = (char *)ck_ids[o->id],
                   .type = (char *)ck_types[o->type],
                   .time_ms = o->time,
                   .value = o->value,
                   .has_value = o->has_value,
                   .attrs = (char *)ck_attrs[o->attrs]};
    ev.attrs_len = ev.attrs ? strlen(ev.attrs) : 0;
    return score_push(e, &ev);
}

/* Alerts as text: the JSON, then the score's and every feature's bits (bit-exact). */
typedef struct ck_out {
    char *text;
    size_t len, cap;
    size_t n;
} ck_out;

static inline void ck_append(ck_out *c, const char *s)
{
    size_t n = strlen(s);
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *t = realloc(c->text, cap);
        if (!t)
            abort();
        c->text = t;
        c->cap = cap;
    }
    memcpy(c->text + c->len, s, n + 1);
    c->len += n;
}

static inline void ck_collect(void *ctx, sf_alert *a)
{
    ck_out *c = ctx;
    char bits[40];
    uint64_t u;
    ck_append(c, a->json);
    memcpy(&u, &a->score, sizeof u);
    snprintf(bits, sizeof bits, " %016llx", (unsigned long long)u);
    ck_append(c, bits);
    for (size_t i = 0; i < a->n_reasons; i++) {
        memcpy(&u, &a->features[i], sizeof u);
        snprintf(bits, sizeof bits, ":%016llx", (unsigned long long)u);
        ck_append(c, bits);
    }
    ck_append(c, "\n");
    c->n++;
}

static inline score_engine *ck_engine(int shards, ck_out *out)
{
    char err[256];
    return score_new(&ck_dec, ck_sig, CK_NSIG, shards, ck_collect, out, err, sizeof err);
}

/* The checksum as docs/scoring.md "Checkpoints" specifies it, one word at a time. */
static inline uint64_t ck_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t ck_ref_checksum(const unsigned char *p, size_t n)
{
    uint64_t h = 0x5346434b50543031ull;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (size_t b = 0; b < 8 && i + b < n; b++)
            w |= (uint64_t)p[i + b] << (8 * b);
        w *= 0x87c37b91114253d5ull;
        w = ck_rotl(w, 31);
        w *= 0x4cf5ad432745937full;
        h ^= w;
        h = ck_rotl(h, 27) * 5 + 0x52dce729;
    }
    h ^= (uint64_t)n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Rewrite the trailing checksum of a checkpoint of n >= 8 bytes (for forged inputs). */
static inline void ck_reseal(unsigned char *p, size_t n)
{
    uint64_t h = ck_ref_checksum(p, n - 8);
    for (int b = 0; b < 8; b++)
        p[n - 8 + b] = (unsigned char)(h >> (8 * b));
}

static inline sf_status ck_load(score_engine *e, const unsigned char *p, size_t n, char *err,
                                size_t errlen)
{
    score_membuf m = {.data = (unsigned char *)p, .len = n, .cap = n};
    return score_image_load(e, score_membuf_read, &m, err, errlen);
}

#endif
