/*
 * score_image.c - saving the scoring engine's state, and the format's shared parts
 * (checksum, config descriptor and fingerprint). The stream is: header (magic, version), the
 * config descriptor and its fingerprint, the engine's clocks and counters, every entity in
 * ascending byte order of id, an end marker and a checksum over everything before it.
 * Format: docs/scoring.md "Checkpoints"; loading is score_image_load.c.
 */
#include "score/score_image.h"

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

/* ---- checksum: a 64-bit hash over 8-byte little-endian words (MurmurHash3-style) ------ */

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static void hash_word(img_hash *c, uint64_t w)
{
    w *= 0x87c37b91114253d5ull;
    w = rotl64(w, 31);
    w *= 0x4cf5ad432745937full;
    c->h ^= w;
    c->h = rotl64(c->h, 27) * 5 + 0x52dce729;
}

void img_hash_init(img_hash *c)
{
    memset(c, 0, sizeof *c);
    c->h = 0x5346434b50543031ull; /* "SFCKPT01" */
}

void img_hash_update(img_hash *c, const unsigned char *p, size_t n)
{
    c->len += n;
    while (c->np && n) {
        c->part[c->np++] = *p++;
        n--;
        if (c->np == 8) {
            hash_word(c, sb_get64(c->part));
            c->np = 0;
        }
    }
    if (c->np)
        return; /* all of it went into the partial word */
    for (; n >= 8; p += 8, n -= 8)
        hash_word(c, sb_get64(p));
    memcpy(c->part, p, n);
    c->np = (unsigned)n;
}

uint64_t img_hash_final(const img_hash *in)
{
    img_hash c = *in;
    if (c.np) {
        memset(c.part + c.np, 0, 8 - c.np);
        hash_word(&c, sb_get64(c.part));
    }
    uint64_t h = c.h ^ c.len;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t img_hash_bytes(const unsigned char *p, size_t n)
{
    img_hash c;
    img_hash_init(&c);
    img_hash_update(&c, p, n);
    return img_hash_final(&c);
}

/* s[0..n) fit for a log line: anything but printable ASCII shows as '?'. */
const char *img_printable(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    for (; k < n && k + 1 < outlen; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    out[k] = '\0';
    return out;
}

/* ---- the config descriptor: what the state means ---------------------------------------- */

/*
 * Per signal only the keys that shape its state: event type, measure, of, and recent/usual
 * (decay constants) or kcap (times kept). Weights, bias, threshold, rearm_below, cooldown,
 * window, span, limit and explain only read the state, so changing them keeps it.
 */
static size_t put_str(unsigned char *p, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    sb_put16(p, (uint16_t)n);
    if (n)
        memcpy(p + 2, s, n);
    return 2 + n;
}

/* Encode e's descriptor into out (DESC_MAX bytes); 0 if a name is over the limits. */
size_t img_describe(const score_engine *e, unsigned char *out)
{
    const score_layout *l = &e->model.layout;
    if (strlen(e->dec.name) > SIGFLOW_MAX_NAME_LEN)
        return 0;
    size_t n = put_str(out, e->dec.name);
    sb_puti64(out + n, e->model.tick);
    sb_put32(out + n + 8, (uint32_t)l->n);
    n += 12;
    for (size_t i = 0; i < l->n; i++) {
        const config_signal *s = &l->sig[i];
        bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
        if (strlen(s->name) > SIGFLOW_MAX_NAME_LEN || strlen(s->event) > SIGFLOW_MAX_TYPE_LEN)
            return 0;
        n += put_str(out + n, s->name);
        n += put_str(out + n, s->event);
        out[n++] = (unsigned char)s->measure;
        out[n++] = decay && s->of_value;
        sb_puti64(out + n, decay ? s->recent_ms : 0);
        sb_puti64(out + n + 8, decay ? s->usual_ms : 0);
        sb_put32(out + n + 16, l->kcap[i]);
        n += 20;
    }
    if (e->guards)
        n += img_describe_guards(e, out + n);
    return n;
}

size_t img_describe_guards(const score_engine *e, unsigned char *out)
{
    const score_layout *l = &e->model.layout;
    size_t n = 0;
    memcpy(out, "GUARDS", 6);
    n += 6;
    for (size_t i = 0; i < l->n; i++) {
        const config_signal *s = &l->sig[i];
        bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
        bool stale = s->stale_below > 0;
        bool clock = s->measure == MEASURE_ABSENT && s->cohort, counted = stale || clock;
        out[n++] =
            (unsigned char)((decay && s->cohort ? 1 : 0) | (stale ? 2 : 0) | (clock ? 4 : 0));
        sb_puti64(out + n, counted ? (s->stale_window_ms > 0 ? s->stale_window_ms : 86400000) : 0);
        n += 8;
    }
    return n;
}

uint64_t score_image_fingerprint(const score_engine *e)
{
    unsigned char buf[DESC_MAX];
    size_t n = img_describe(e, buf);
    return img_hash_bytes(buf, n);
}

/* A bounded cursor over a descriptor held in memory. */
typedef struct cursor {
    const unsigned char *p;
    size_t n, pos;
    bool bad;
} cursor;

static const unsigned char *take(cursor *c, size_t n)
{
    if (c->bad || c->n - c->pos < n) {
        c->bad = true;
        return NULL;
    }
    c->pos += n;
    return c->p + c->pos - n;
}

static int64_t take_i64(cursor *c)
{
    const unsigned char *p = take(c, 8);
    return p ? sb_geti64(p) : 0;
}

/* A string as "%.*s" arguments; len 0 when bad. */
static const char *take_str(cursor *c, int *len, size_t max)
{
    const unsigned char *p = take(c, 2);
    size_t n = p ? sb_get16(p) : 0;
    if (n > max)
        c->bad = true;
    const unsigned char *s = take(c, n);
    *len = s ? (int)n : 0;
    return s ? (const char *)s : "";
}

static const char *const measure_names[] = {"drop",   "rise",        "count",      "recent",
                                            "absent", "value_below", "value_above"};

static const char *measure_name(unsigned m)
{
    return m < sizeof measure_names / sizeof *measure_names ? measure_names[m] : "?";
}

/* The first difference between the saved descriptor and e's config, for the operator. */
bool img_explain_mismatch(const score_engine *e, const unsigned char *d, size_t dn, char *err,
                          size_t errlen)
{
    cursor c = {d, dn, 0, false};
    const score_layout *l = &e->model.layout;
    int len;
    const char *name = take_str(&c, &len, SIGFLOW_MAX_NAME_LEN);
    int64_t tick = take_i64(&c);
    const unsigned char *np = take(&c, 4);
    uint32_t n = np ? sb_get32(np) : 0;
    if (c.bad || n > SIGFLOW_MAX_SIGNALS)
        return false;
    char shown[SIGFLOW_MAX_TYPE_LEN + 1];
    if ((size_t)len != strlen(e->dec.name) || memcmp(name, e->dec.name, (size_t)len) != 0) {
        snprintf(err, errlen, "checkpoint is of decision %s, not %s",
                 img_printable(name, (size_t)len, shown, sizeof shown), e->dec.name);
        return true;
    }
    if (tick != e->model.tick) {
        snprintf(err, errlen, "tick was %lld ms, is %lld ms", (long long)tick,
                 (long long)e->model.tick);
        return true;
    }
    if (n != l->n) {
        snprintf(err, errlen, "%u signals then, %zu now", n, l->n);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        int nl, el;
        const char *sn = take_str(&c, &nl, SIGFLOW_MAX_NAME_LEN);
        const char *ev = take_str(&c, &el, SIGFLOW_MAX_TYPE_LEN);
        const unsigned char *f = take(&c, 22);
        if (c.bad)
            return false;
        const config_signal *s = &l->sig[i];
        bool decay = s->measure == MEASURE_DROP || s->measure == MEASURE_RISE;
        const char *what = NULL;
        if ((size_t)nl != strlen(s->name) || memcmp(sn, s->name, (size_t)nl) != 0)
            what = "name";
        else if ((size_t)el != strlen(s->event) || memcmp(ev, s->event, (size_t)el) != 0)
            what = "event";
        else if (f[0] != (unsigned)s->measure)
            what = "measure";
        else if (f[1] != (decay && s->of_value))
            what = "of";
        else if (sb_geti64(f + 2) != (decay ? s->recent_ms : 0))
            what = "recent";
        else if (sb_geti64(f + 10) != (decay ? s->usual_ms : 0))
            what = "usual";
        else if (sb_get32(f + 18) != l->kcap[i])
            what = "cap";
        if (what) {
            snprintf(err, errlen, "signal %zu (%s, %s) changed its %s", i + 1,
                     img_printable(sn, (size_t)nl, shown, sizeof shown), measure_name(f[0]), what);
            return true;
        }
    }
    unsigned char own[6 + 9 * SIGFLOW_MAX_SIGNALS];
    size_t on = e->guards ? img_describe_guards(e, own) : 0;
    if (c.n - c.pos != on || memcmp(c.p + c.pos, own, on) != 0) {
        snprintf(err, errlen, "the noise guards (relative, stale_below, stale_window) changed");
        return true;
    }
    return false;
}

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct writer {
    score_write_fn fn;
    void *ctx;
    unsigned char *buf; /* CHUNK bytes */
    size_t n;
    img_hash h;
    sf_status st;
} writer;

static void w_flush(writer *w)
{
    if (w->n && w->st == SF_OK) {
        img_hash_update(&w->h, w->buf, w->n);
        w->st = w->fn(w->ctx, w->buf, w->n);
    }
    w->n = 0;
}

/* Room for `need` (<= CHUNK) contiguous bytes; the caller then adds them to w->n. */
static unsigned char *w_space(writer *w, size_t need)
{
    if (w->n + need > CHUNK)
        w_flush(w);
    return w->buf + w->n;
}

static void w_bytes(writer *w, const void *p, size_t len)
{
    const unsigned char *s = p;
    while (len) {
        if (w->n == CHUNK)
            w_flush(w);
        size_t k = CHUNK - w->n < len ? CHUNK - w->n : len;
        memcpy(w->buf + w->n, s, k);
        w->n += k;
        s += k;
        len -= k;
    }
}

/* Sort key: the id's first 8 bytes, big-endian and zero-padded (ids hold no NUL), so most
 * comparisons are one integer compare and touch no entity. */
typedef struct sort_key {
    uint64_t prefix;
    const char *id;
    const score_shard_entity *ent;
} sort_key;

static int key_cmp(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* LSD radix sort on the prefix, 16 bits a pass (passes where all keys share the digit are
 * skipped); then runs of equal prefixes by the whole id. qsort alone took 3x as long. */
static int sort_keys(sort_key *a, size_t n)
{
    sort_key *tmp = malloc((n ? n : 1) * sizeof *tmp), *src = a, *dst = tmp;
    size_t *cnt = malloc(65536 * sizeof *cnt);
    if (!tmp || !cnt) {
        free(tmp);
        free(cnt);
        return -1;
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(src[i].prefix >> shift) & 0xffff]++;
        if (n && cnt[(src[0].prefix >> shift) & 0xffff] == n)
            continue;
        for (size_t d = 0, sum = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(src[i].prefix >> shift) & 0xffff]++] = src[i];
        sort_key *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && a[j].prefix == a[i].prefix;)
            j++;
        if (j - i > 1)
            qsort(a + i, j - i, sizeof *a, key_cmp);
    }
    free(tmp);
    free(cnt);
    return 0;
}

/* Every entity of every shard, sorted by id: the order (and so the bytes) is shard-free. */
static sort_key *sorted_entities(score_engine *e, size_t *count)
{
    size_t total = 0;
    for (int i = 0; i < e->n_shards; i++)
        total += score_shard_entity_count(e->shards[i]);
    const score_shard_entity **all = malloc((total ? total : 1) * sizeof *all);
    sort_key *keys = malloc((total ? total : 1) * sizeof *keys);
    if (!all || !keys) {
        free(all);
        free(keys);
        return NULL;
    }
    size_t n = 0;
    for (int i = 0; i < e->n_shards; i++)
        n += score_shard_list_entities(e->shards[i], all + n);
    for (size_t k = 0; k < n; k++) {
        const char *id = score_shard_entity_id(&e->model, all[k]);
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            unsigned char c = (unsigned char)id[j];
            v = v << 8 | c;
            if (c == 0) { /* pad: a shorter id sorts first, as in strcmp */
                v <<= 8 * (7 - j);
                break;
            }
        }
        keys[k] = (sort_key){v, id, all[k]};
    }
    free(all);
    if (sort_keys(keys, n) != 0) {
        free(keys);
        return NULL;
    }
    *count = n;
    return keys;
}

static void write_engine(writer *w, score_engine *e, size_t n_entities)
{
    score_stats st;
    score_get_stats(e, &st);
    unsigned char *p = w_space(w, ENGINE_BYTES);
    memset(p, 0, 8);
    p[0] = e->started ? 1 : 0;
    const int64_t t[4] = {e->watermark, e->clock, e->next_tick, e->advanced};
    for (int i = 0; i < 4; i++)
        sb_puti64(p + 8 + 8 * i, t[i]);
    const uint64_t c[7] = {e->seq,         e->events, st.applied,          e->ticks,
                           st.evaluations, st.alerts, (uint64_t)n_entities};
    for (int i = 0; i < 7; i++)
        sb_put64(p + 40 + 8 * i, c[i]);
    sb_put64(p + 96, 0); /* reserved */
    w->n += ENGINE_BYTES;
}

static sf_status write_entity(writer *w, const score_engine *e, const score_shard_entity *ent)
{
    const score_layout *l = &e->model.layout;
    score_shard_entity_view v;
    score_shard_entity_get(&e->model, ent, &v);
    size_t alen = v.attrs ? strlen(v.attrs) : 0;
    if (alen > SIGFLOW_MAX_EVENT_LINE)
        return SF_EINVAL;
    unsigned char *p = w_space(w, 2 + SIGFLOW_MAX_ENTITY_LEN + 1 + 8 + 4);
    size_t k = 0;
    sb_put16(p, (uint16_t)v.id_len);
    memcpy(p + 2, v.id, v.id_len);
    k = 2 + v.id_len;
    p[k++] = (unsigned char)((v.armed ? 1 : 0) | (v.last_alert != SHARD_NO_TIME ? 2 : 0) |
                             (v.attrs ? 4 : 0) | (v.retired ? 8 : 0) | (v.recorded ? 16 : 0));
    if (v.last_alert != SHARD_NO_TIME) {
        sb_puti64(p + k, v.last_alert);
        k += 8;
    }
    if (v.attrs) {
        sb_put32(p + k, (uint32_t)alen);
        k += 4;
    }
    w->n += k;
    if (v.attrs)
        w_bytes(w, v.attrs, alen);
    for (size_t i = 0; i < l->n; i++) {
        p = w_space(w, score_state_encoded_max(l, i));
        w->n += score_state_encode(l, v.blob, i, p);
    }
    return SF_OK;
}

static sf_status save_all(score_engine *e, writer *w, const sort_key *keys, size_t n)
{
    unsigned char *p = w_space(w, 16 + 4);
    memcpy(p, HEAD_MAGIC, 8);
    sb_put32(p + 8, SCORE_IMAGE_VERSION);
    sb_put32(p + 12, e->guards ? 1 : 0); /* flags: 1 = a guard part follows the engine */
    unsigned char *desc = malloc(DESC_MAX);
    size_t dn = desc ? img_describe(e, desc) : 0;
    if (dn == 0) {
        free(desc);
        return desc ? SF_EINVAL : SF_ENOMEM;
    }
    sb_put32(p + 16, (uint32_t)dn);
    w->n += 20;
    w_bytes(w, desc, dn);
    sb_put64(w_space(w, 8), img_hash_bytes(desc, dn));
    w->n += 8;
    free(desc);
    write_engine(w, e, n);
    if (e->guards) {
        size_t gn = 0;
        unsigned char *gb = score_guards_encode(e->guards, &gn);
        if (!gb)
            return SF_ENOMEM;
        sb_put32(w_space(w, 4), (uint32_t)gn);
        w->n += 4;
        w_bytes(w, gb, gn);
        free(gb);
    }
    for (size_t i = 0; i < n && w->st == SF_OK; i++) {
        sf_status st = write_entity(w, e, keys[i].ent);
        if (st != SF_OK)
            return st;
    }
    unsigned char *learn = NULL; /* version 2: the learning part, length-prefixed */
    size_t ln = 0;
    sf_status lst = learn_image_encode(e, &learn, &ln);
    if (lst != SF_OK)
        return lst;
    sb_put64(w_space(w, 8), (uint64_t)ln);
    w->n += 8;
    w_bytes(w, learn, ln);
    free(learn);
    w_bytes(w, END_MAGIC, 8);
    w_flush(w);
    if (w->st != SF_OK)
        return w->st;
    unsigned char sum[8];
    sb_put64(sum, img_hash_final(&w->h));
    return w->fn(w->ctx, sum, sizeof sum);
}

sf_status score_image_save(score_engine *e, score_write_fn write, void *ctx)
{
    if (e->err != SF_OK)
        return e->err;
    score_flush(e);
    if (e->err != SF_OK)
        return e->err;
    writer w = {.fn = write, .ctx = ctx, .buf = malloc(CHUNK), .st = SF_OK};
    img_hash_init(&w.h);
    size_t n = 0;
    sort_key *keys = w.buf ? sorted_entities(e, &n) : NULL;
    sf_status st = keys ? save_all(e, &w, keys, n) : SF_ENOMEM;
    free(keys);
    free(w.buf);
    return st;
}

/* ---- memory buffers --------------------------------------------------------------------- */

sf_status score_membuf_write(void *ctx, const void *buf, size_t len)
{
    score_membuf *m = ctx;
    if (len > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap - m->len < len) {
            if (cap > SIZE_MAX / 2)
                return SF_ENOMEM;
            cap *= 2;
        }
        unsigned char *d = realloc(m->data, cap);
        if (!d)
            return SF_ENOMEM;
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    return SF_OK;
}

sf_status score_membuf_read(void *ctx, void *buf, size_t len, size_t *got)
{
    score_membuf *m = ctx;
    size_t k = m->len - m->pos < len ? m->len - m->pos : len;
    if (k)
        memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    *got = k;
    return SF_OK;
}
