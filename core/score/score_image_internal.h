/*
 * score_image_internal.h - what the score image's saver (score_image.c) and loader
 * (score_image_load.c) share: layout constants, the checksum, the config descriptor.
 */
#ifndef SIGFLOW_SCORE_IMAGE_INTERNAL_H
#define SIGFLOW_SCORE_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "score/score.h"

#define HEAD_MAGIC "SFCHKPT\n"
#define END_MAGIC "SFCKEND\n"
#define CHUNK (64u << 10)    /* bytes per write callback */
#define RBUF (128u << 10)    /* read buffer: holds the largest single field (attrs) */
#define DESC_MAX (32u << 10) /* the descriptor of SIGFLOW_MAX_SIGNALS signals fits easily */
#define ENGINE_BYTES (8 + 8 * 11 + 8)

/* The checksum: a 64-bit hash over 8-byte little-endian words, fed in any pieces. */
typedef struct img_hash {
    uint64_t h, len;
    unsigned char part[8];
    unsigned np;
} img_hash;

void score_image__hash_init(img_hash *c);
void score_image__hash_update(img_hash *c, const unsigned char *p, size_t n);
uint64_t score_image__hash_final(const img_hash *c);
uint64_t score_image__hash_bytes(const unsigned char *p, size_t n);

/* e's config descriptor into out (DESC_MAX bytes): its length, 0 if a name is too long. */
size_t score_image__describe(const score_engine *e, unsigned char *out);
/* The guards' part of the descriptor (only when the engine has guards): its length. */
size_t score_image__describe_guards(const score_engine *e, unsigned char *out);
/* The first difference between a saved descriptor and e's config, as a sentence in err. */
bool score_image__explain_mismatch(const score_engine *e, const unsigned char *d, size_t dn,
                                   char *err, size_t errlen);
/* s[0..n) fit for a log line: anything but printable ASCII shows as '?'. */
const char *score_image__printable(const char *s, size_t n, char *out, size_t outlen);

#endif
