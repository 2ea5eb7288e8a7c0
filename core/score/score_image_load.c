/*
 * score_image_load.c - loading a score image into a fresh engine. A parser of external
 * input: every length is checked against limits.h, every time against the saved
 * watermark, every state against what the engine could have built; entities are
 * re-partitioned by hash, so the shard counts on both sides are free.
 */
#include "score/score_image.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/score_bytes.h"
#include "score/learn_image.h"
#include "score/score_image_internal.h"
#include "score/score_guard.h"
#include "score/score_internal.h"
#include "base/limits.h"

typedef struct reader {
    score_read_fn fn;
    void *ctx;
    unsigned char *buf; /* RBUF bytes; [pos, len) not consumed yet */
    size_t pos, len, hpos;
    img_hash h;
    bool eof;
    sf_status st;
    char *err;
    size_t errlen;
    uint32_t version; /* of the stream: 1 has no learning part */
} reader;

static sf_status fail(reader *r, sf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sf_status fail(reader *r, sf_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return st;
}

/* Make up to `want` (<= RBUF) bytes available at buf + pos; returns how many are. */
static size_t r_fill(reader *r, size_t want)
{
    if (r->len - r->pos >= want)
        return want;
    img_hash_update(&r->h, r->buf + r->hpos, r->pos - r->hpos); /* consumed bytes, in order */
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = r->hpos = 0;
    while (r->len < want && !r->eof && r->st == SF_OK) {
        size_t got = 0;
        r->st = r->fn(r->ctx, r->buf + r->len, RBUF - r->len, &got);
        if (r->st == SF_OK && got > RBUF - r->len)
            r->st = SF_EINVAL; /* a callback that overran the buffer */
        else if (r->st == SF_OK)
            r->len += got;
        if (got == 0)
            r->eof = true;
    }
    return r->len < want ? r->len : want;
}

/* n bytes at the read position, consumed; NULL when the stream ends first. */
static const unsigned char *r_take(reader *r, size_t n)
{
    if (r_fill(r, n) < n)
        return NULL;
    r->pos += n;
    return r->buf + r->pos - n;
}

static sf_status truncated(reader *r, const char *where)
{
    if (r->st != SF_OK)
        return fail(r, r->st, "checkpoint: read failed in %s", where);
    return fail(r, SF_EINVAL, "checkpoint: truncated in %s", where);
}

/* Header and descriptor. SF_EUNSUPPORTED: another config's state. Nothing is changed. */
static sf_status read_header(reader *r, const score_engine *e)
{
    const unsigned char *p = r_take(r, 20);
    if (!p)
        return truncated(r, "the header");
    if (memcmp(p, HEAD_MAGIC, 8) != 0)
        return fail(r, SF_EINVAL, "checkpoint: not a sigflow scoring checkpoint (bad magic)");
    uint32_t version = sb_get32(p + 8), dn = sb_get32(p + 16);
    if (version != SCORE_IMAGE_VERSION && version != 1)
        return fail(r, SF_EINVAL, "checkpoint: format version %u, this build reads 1 and %d",
                    version, SCORE_IMAGE_VERSION);
    r->version = version;
    uint32_t flags = sb_get32(p + 12);
    if (flags > 1 || dn > DESC_MAX)
        return fail(r, SF_EINVAL, "checkpoint: corrupt header");
    unsigned char *own = malloc(DESC_MAX);
    if (!own)
        return fail(r, SF_ENOMEM, "checkpoint: out of memory");
    size_t on = img_describe(e, own);
    const unsigned char *d = r_take(r, dn + 8); /* descriptor, then its fingerprint */
    sf_status st = SF_OK;
    if (!d)
        st = truncated(r, "the config descriptor");
    else if (sb_get64(d + dn) != img_hash_bytes(d, dn))
        st = fail(r, SF_EINVAL, "checkpoint: corrupt config descriptor (fingerprint)");
    else if (on == 0 || on != dn || memcmp(own, d, dn) != 0) {
        char why[256] = "";
        if (!img_explain_mismatch(e, d, dn, why, sizeof why) && on == dn)
            st = fail(r, SF_EINVAL, "checkpoint: corrupt config descriptor");
        else
            st = fail(r, SF_EUNSUPPORTED,
                      "checkpoint: decision %s changed since the checkpoint (%s)", e->dec.name,
                      why[0] ? why : "config descriptor differs");
    } else if ((flags == 1) != (e->guards != NULL)) {
        st = fail(r, SF_EINVAL, "checkpoint: corrupt header (guard flag)");
    }
    free(own);
    return st;
}

typedef struct engine_part {
    bool started;
    int64_t watermark, clock, next_tick, advanced;
    uint64_t seq, events, applied, ticks, evaluations, alerts, n_entities;
} engine_part;

static bool time_in(int64_t t, int64_t lo, int64_t hi)
{
    return t >= lo && t <= hi;
}

/* The guard part (score_guard.h), read whole (bounded by the config) and installed. */
static sf_status read_guards(reader *r, score_engine *e, const engine_part *g)
{
    if (!e->guards)
        return SF_OK;
    const unsigned char *p = r_take(r, 4);
    if (!p)
        return truncated(r, "the guard state");
    size_t len = sb_get32(p), max = 16;
    for (size_t i = 0; i < e->n_sig; i++)
        max +=
            1 + 56 + 8 + 8 + 16 * (size_t)SIGFLOW_MAX_STALE_BUCKETS + 17 * SIGFLOW_MAX_STALE_SPELLS;
    if (len > max)
        return fail(r, SF_EINVAL, "checkpoint: corrupt guard state (length)");
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf)
        return fail(r, SF_ENOMEM, "checkpoint: out of memory");
    for (size_t got = 0; got < len;) {
        size_t k = len - got < RBUF ? len - got : RBUF;
        if (!(p = r_take(r, k))) {
            free(buf);
            return truncated(r, "the guard state");
        }
        memcpy(buf + got, p, k);
        got += k;
    }
    /* boundaries up to the clock (score_advance) may have been judged */
    sf_status st = score_guards_decode(e->guards, buf, len, g->clock, r->err, r->errlen);
    free(buf);
    if (st != SF_OK)
        return st;
    /* nothing was pushed: the shard threads are idle and touch no shard yet */
    const score_guard_snap *snap = score_guards_snap(e->guards);
    for (int i = 0; i < e->n_shards; i++) {
        score_guard_snap_ref(snap);
        score_shard_set_guard(e->shards[i], snap);
    }
    return SF_OK;
}

static sf_status read_engine(reader *r, const score_engine *e, engine_part *g)
{
    const unsigned char *p = r_take(r, ENGINE_BYTES);
    if (!p)
        return truncated(r, "the engine state");
    g->started = p[0] == 1;
    g->watermark = sb_geti64(p + 8);
    g->clock = sb_geti64(p + 16);
    g->next_tick = sb_geti64(p + 24);
    g->advanced = sb_geti64(p + 32);
    uint64_t *c[7] = {&g->seq,         &g->events, &g->applied,   &g->ticks,
                      &g->evaluations, &g->alerts, &g->n_entities};
    for (int i = 0; i < 7; i++)
        *c[i] = sb_get64(p + 40 + 8 * i);
    bool ok = p[0] <= 1 && sb_get64(p) >> 8 == 0 && sb_get64(p + 96) == 0;
    int64_t tick = e->model.tick;
    if (!g->started) {
        ok = ok && g->watermark == 0 && g->clock == 0 && g->next_tick == 0 && g->n_entities == 0 &&
             (g->advanced == INT64_MIN ||
              time_in(g->advanced, SCORE_TIME_MIN_MS, SCORE_TIME_MAX_MS));
    } else {
        /* the engine's invariants: watermark <= clock <= next_tick <= clock + tick */
        ok = ok && time_in(g->watermark, SCORE_TIME_MIN_MS, SCORE_TIME_MAX_MS) &&
             time_in(g->clock, g->watermark, SCORE_TIME_MAX_MS) &&
             time_in(g->next_tick, g->clock, g->clock + tick) && g->next_tick % tick == 0 &&
             (g->advanced == INT64_MIN || time_in(g->advanced, SCORE_TIME_MIN_MS, g->clock));
    }
    return ok ? SF_OK : fail(r, SF_EINVAL, "checkpoint: corrupt engine state");
}

/* Entity i: read, check, hand to its shard. blob: layout.size bytes of scratch, 8-aligned. */
static sf_status read_entity(reader *r, score_engine *e, const engine_part *g, uint64_t i,
                             unsigned char *blob, char *prev, size_t *prev_len)
{
    const score_layout *l = &e->model.layout;
    const unsigned char *p = r_take(r, 2);
    size_t n = p ? sb_get16(p) : 0;
    if (!p || (p = r_take(r, n + 1)) == NULL)
        return truncated(r, "an entity");
    if (n == 0 || n > SIGFLOW_MAX_ENTITY_LEN || memchr(p, '\0', n))
        return fail(r, SF_EINVAL, "checkpoint: corrupt entity %llu (id)", (unsigned long long)i);
    char id[SIGFLOW_MAX_ENTITY_LEN + 1];
    memcpy(id, p, n);
    id[n] = '\0';
    unsigned flags = p[n];
    /* strictly ascending: no duplicates, and the order the saver promises */
    int c = memcmp(prev, id, *prev_len < n ? *prev_len : n);
    if ((i > 0 && (c > 0 || (c == 0 && *prev_len >= n))) || flags > (r->version > 1 ? 31u : 7u))
        return fail(r, SF_EINVAL, "checkpoint: corrupt entity %llu (order or flags)",
                    (unsigned long long)i);
    memcpy(prev, id, n + 1);
    *prev_len = n;
    char shown[SIGFLOW_MAX_ENTITY_LEN + 1]; /* the id as error messages show it */
    img_printable(id, n, shown, sizeof shown);
    score_shard_entity_view v = {.id = id,
                                 .id_len = n,
                                 .blob = blob,
                                 .armed = flags & 1,
                                 .last_alert = SHARD_NO_TIME,
                                 .retired = (flags & 8) != 0,
                                 .recorded = (flags & 16) != 0};
    if (flags & 2) {
        if (!(p = r_take(r, 8)))
            return truncated(r, "an entity");
        v.last_alert = sb_geti64(p);
        if (!time_in(v.last_alert, SCORE_TIME_MIN_MS, g->clock))
            return fail(r, SF_EINVAL, "checkpoint: corrupt entity %s (last alert)", shown);
    }
    char *attrs = NULL;
    if (flags & 4) {
        size_t an = (p = r_take(r, 4)) ? sb_get32(p) : 0;
        if (!p || an > SIGFLOW_MAX_EVENT_LINE || !(p = r_take(r, an)))
            return p ? fail(r, SF_EINVAL, "checkpoint: corrupt entity %s (attrs)", shown)
                     : truncated(r, "an entity");
        if (memchr(p, '\0', an))
            return fail(r, SF_EINVAL, "checkpoint: corrupt entity %s (attrs)", shown);
        if (!(attrs = malloc(an + 1)))
            return fail(r, SF_ENOMEM, "checkpoint: out of memory");
        memcpy(attrs, p, an);
        attrs[an] = '\0';
        v.attrs = attrs;
    }
    score_state_init(l, blob);
    sf_status st = SF_OK;
    for (size_t k = 0; k < l->n && st == SF_OK; k++) {
        size_t avail = r_fill(r, score_state_encoded_max(l, k));
        size_t used = score_state_decode(l, blob, k, r->buf + r->pos, avail, g->watermark);
        if (used == 0)
            st = fail(r, SF_EINVAL, "checkpoint: corrupt or truncated entity %s (signal %s)", shown,
                      l->sig[k].name);
        r->pos += used;
    }
    if (st == SF_OK) {
        uint64_t h = score_hash_id(id, n);
        st = score_shard_restore(e->shards[score_shard_of(e, h)], &v, h, g->clock, g->next_tick);
        if (st != SF_OK)
            fail(r, st, "checkpoint: cannot restore entity %s", shown);
    }
    free(attrs);
    return st;
}

/* Version 2: the learning part (u64 length, bytes), read in pieces into a buffer that grows
   only as bytes actually arrive (a lying length ends as "truncated", not as a huge malloc). */
static sf_status read_learning(reader *r, score_engine *e, const engine_part *g)
{
    const unsigned char *p = r_take(r, 8);
    if (!p)
        return truncated(r, "the learning state");
    uint64_t len = sb_get64(p), have = 0;
    unsigned char *buf = NULL;
    size_t cap = 0;
    while (have < len) {
        size_t want = len - have < RBUF ? (size_t)(len - have) : RBUF;
        size_t got = r_fill(r, want);
        if (got == 0) {
            free(buf);
            return truncated(r, "the learning state");
        }
        if (have + got > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < have + got)
                nc *= 2;
            unsigned char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                return fail(r, SF_ENOMEM, "checkpoint: out of memory");
            }
            buf = nb;
            cap = nc;
        }
        memcpy(buf + have, r->buf + r->pos, got);
        r->pos += got;
        have += got;
    }
    sf_status st = learn_image_decode(e, buf, (size_t)len, g->watermark, r->err, r->errlen);
    free(buf);
    return st;
}

static sf_status read_entities(reader *r, score_engine *e, const engine_part *g)
{
    unsigned char *blob = aligned_alloc(8, (e->model.layout.size + 7) & ~(size_t)7);
    char prev[SIGFLOW_MAX_ENTITY_LEN + 1] = "";
    size_t prev_len = 0;
    if (!blob)
        return fail(r, SF_ENOMEM, "checkpoint: out of memory");
    sf_status st = SF_OK;
    for (uint64_t i = 0; i < g->n_entities && st == SF_OK; i++)
        st = read_entity(r, e, g, i, blob, prev, &prev_len);
    free(blob);
    if (st == SF_OK && r->version > 1)
        st = read_learning(r, e, g);
    if (st != SF_OK)
        return st;
    const unsigned char *p = r_take(r, 8);
    if (!p)
        return truncated(r, "the end marker");
    if (memcmp(p, END_MAGIC, 8) != 0)
        return fail(r, SF_EINVAL, "checkpoint: corrupt (no end marker after %llu entities)",
                    (unsigned long long)g->n_entities);
    r_fill(r, RBUF); /* hash everything up to here, and see what follows */
    uint64_t want = img_hash_final(&r->h);
    if (r->len - r->pos < 8)
        return truncated(r, "the checksum");
    if (sb_get64(r->buf + r->pos) != want)
        return fail(r, SF_EINVAL, "checkpoint: checksum mismatch (corrupt)");
    if (r->len - r->pos > 8)
        return fail(r, SF_EINVAL, "checkpoint: bytes after the checksum");
    return SF_OK;
}

static bool engine_fresh(const score_engine *e)
{
    if (e->started || e->seq || e->events || e->advanced != INT64_MIN || e->err != SF_OK)
        return false;
    for (int i = 0; i < e->n_shards; i++) {
        if (score_shard_entity_count(e->shards[i]))
            return false;
    }
    return true;
}

static void install(score_engine *e, const engine_part *g)
{
    e->started = g->started;
    e->watermark = g->watermark;
    e->clock = g->clock;
    e->next_tick = g->next_tick;
    e->advanced = g->advanced;
    e->seq = g->seq;
    e->events = g->events;
    e->ticks = g->ticks;
    score_shard_stats add = {
        .applied = g->applied, .evaluations = g->evaluations, .alerts = g->alerts};
    score_shard_add_stats(e->shards[0], &add);
}

sf_status score_image_load(score_engine *e, score_read_fn read, void *ctx, char *err, size_t errlen)
{
    reader r = {.fn = read, .ctx = ctx, .buf = malloc(RBUF), .err = err, .errlen = errlen};
    engine_part g;
    img_hash_init(&r.h);
    if (errlen)
        err[0] = '\0';
    if (!r.buf)
        return fail(&r, SF_ENOMEM, "checkpoint: out of memory");
    sf_status st = SF_OK;
    if (!engine_fresh(e))
        st = fail(&r, SF_EINVAL, "checkpoint: load needs a fresh engine (nothing pushed)");
    if (st == SF_OK)
        st = read_header(&r, e);
    if (st == SF_OK)
        st = read_engine(&r, e, &g);
    if (st == SF_OK && (st = read_guards(&r, e, &g)) != SF_OK)
        e->err = st; /* the guard state may be half restored: refuse further work */
    if (st == SF_OK) {
        /* from here a failure leaves entities behind: the engine refuses further work */
        st = read_entities(&r, e, &g);
        if (st == SF_OK)
            install(e, &g);
        else
            e->err = st;
    }
    free(r.buf);
    return st;
}
