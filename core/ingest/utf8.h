/*
 * utf8.h - UTF-8 validation of untrusted text (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), so that a sender's bytes never reach an alert's JSON or a log
 * line as invalid text (RFC 8259 §8.1). Owns nothing. Used by mapping.c.
 */
#ifndef SIGFLOW_UTF8_H
#define SIGFLOW_UTF8_H

#include <stddef.h>

/* The offset of the first byte that is not valid UTF-8, or len when all of s[0..len) is. */
size_t utf8_invalid_at(const char *s, size_t len);

#endif
