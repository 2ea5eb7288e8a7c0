/*
 * fuzz_score_image.c - score_image_load is a parser of external input (a blob in
 * the state store). The first byte picks how the rest becomes a checkpoint:
 *   0  the bytes as they are
 *   1  a valid checkpoint (built here from a fixed stream) with (u16 pos, u8 xor) edits
 *   2  the bytes with their last 8 replaced by the right checksum (reaches the parser's
 *      deeper checks, which a random checksum would stop)
 *   3  the valid checkpoint cut at a u16 position, then edits as in 1, then resealed
 * Bit 7 of the first byte loads into 3 shards instead of 1. Never crash or leak; a refusal
 * has a message; an accepted checkpoint must run on, and saving the result must give a
 * checkpoint that loads again and saves to the same bytes (nothing half-valid got in).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/checkpoint_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_OPS 300
#define TAIL_OPS 40

static ck_op ops[BASE_OPS + TAIL_OPS];
static score_membuf base;

static void build_base(void)
{
    ck_out o = {0};
    ck_gen(5, ops, BASE_OPS + TAIL_OPS, CK_NIDS);
    score_engine *e = ck_engine(1, &o);
    if (!e)
        abort();
    for (size_t i = 0; i < BASE_OPS; i++)
        ck_apply(e, &ops[i]);
    if (score_image_save(e, score_membuf_write, &base) != SF_OK)
        abort();
    score_free(e);
    free(o.text);
}

/* The input turned into a checkpoint (malloc'd, *n bytes). */
static unsigned char *make_input(unsigned mode, const uint8_t *d, size_t size, size_t *n)
{
    unsigned char *p;
    if (mode == 0 || mode == 2) {
        p = malloc(size ? size : 1);
        if (!p)
            abort();
        if (size)
            memcpy(p, d, size);
        *n = size;
        if (mode == 2 && size >= 8)
            ck_reseal(p, size);
        return p;
    }
    size_t len = base.len;
    if (mode == 3 && size >= 2) {
        len = ((size_t)d[0] | (size_t)d[1] << 8) % (base.len + 1);
        d += 2;
        size -= 2;
    }
    p = malloc(len ? len : 1);
    if (!p)
        abort();
    memcpy(p, base.data, len);
    for (size_t i = 0; len && i + 3 <= size; i += 3)
        p[((size_t)d[i] | (size_t)d[i + 1] << 8) % len] ^= d[i + 2];
    if (len >= 8)
        ck_reseal(p, len);
    *n = len;
    return p;
}

/* An accepted checkpoint: run on, save, load again, save again: same bytes. */
static void check_accepted(score_engine *e, ck_out *o)
{
    char err[256];
    for (size_t i = BASE_OPS; i < BASE_OPS + TAIL_OPS; i++)
        ck_apply(e, &ops[i]); /* may be refused (a forged time): only must not crash */
    score_flush(e);
    score_membuf m1 = {0}, m2 = {0};
    if (score_image_save(e, score_membuf_write, &m1) != SF_OK) {
        free(m1.data);
        return; /* an engine that refused an event stays refused */
    }
    score_engine *b = ck_engine(1, o);
    if (!b || ck_load(b, m1.data, m1.len, err, sizeof err) != SF_OK) {
        fprintf(stderr, "a saved checkpoint does not load: %s\n", err);
        abort();
    }
    if (score_image_save(b, score_membuf_write, &m2) != SF_OK || m1.len != m2.len ||
        memcmp(m1.data, m2.data, m1.len) != 0) {
        fprintf(stderr, "load + save is not the identity\n");
        abort();
    }
    score_free(b);
    free(m1.data);
    free(m2.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base.data)
        build_base();
    if (size < 1)
        return 0;
    size_t n = 0;
    unsigned char *p = make_input(data[0] & 3, data + 1, size - 1, &n);
    ck_out o = {0};
    score_engine *e = ck_engine(data[0] & 0x80 ? 3 : 1, &o);
    if (!e)
        abort();
    char err[256] = "";
    sf_status st = ck_load(e, p, n, err, sizeof err);
    if (st == SF_OK)
        check_accepted(e, &o);
    else if (err[0] == '\0')
        abort(); /* every refusal says why */
    score_free(e);
    free(p);
    free(o.text);
    return 0;
}
