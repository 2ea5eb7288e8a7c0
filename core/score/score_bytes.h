/*
 * score_bytes.h - little-endian fixed-width fields for the checkpoint format: put/get of
 * u16, u32, u64, i64 and bit-exact f64, and a bounded cursor for reading them back. Used by
 * score_state.c, score_image*.c and learn_image.c.
 */
#ifndef SIGFLOW_SCORE_BYTES_H
#define SIGFLOW_SCORE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void sb_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t sb_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void sb_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t sb_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sb_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline uint16_t sb_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline void sb_puti64(unsigned char *p, int64_t v)
{
    sb_put64(p, (uint64_t)v);
}

static inline int64_t sb_geti64(const unsigned char *p)
{
    return (int64_t)sb_get64(p);
}

/* Doubles travel as their IEEE-754 bits: a round trip is bit-exact (signed zero, all). */
static inline void sb_putf64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    sb_put64(p, v);
}

static inline double sb_getf64(const unsigned char *p)
{
    uint64_t v = sb_get64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* A bounded cursor over bytes in memory: a read past the end marks it bad, and it and every
   read after it give NULL. */
typedef struct sb_cursor {
    const unsigned char *p;
    size_t n, pos;
    bool bad;
} sb_cursor;

static inline const unsigned char *sb_take(sb_cursor *c, size_t n)
{
    if (c->bad || c->n - c->pos < n) {
        c->bad = true;
        return NULL;
    }
    c->pos += n;
    return c->p + c->pos - n;
}

#endif
