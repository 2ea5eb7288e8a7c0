/*
 * fuzz_utf8.c - utf8_invalid_at on arbitrary bytes, against a reference decoder written from
 * RFC 3629 (code points decoded and range-checked, rather than byte ranges): both must agree
 * on where the first invalid byte is.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mapping/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes one sequence; 0 when invalid (overlong, surrogate, > U+10FFFF, truncated). */
static size_t ref_len(const uint8_t *s, size_t left)
{
    uint8_t c = s[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (n == 0 || n > left)
        return 0;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1fu : n == 3 ? c & 0x0fu : c & 0x07u;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_of[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size) {
        size_t n = ref_len(data + i, size - i);
        if (n == 0)
            break;
        i += n;
    }
    if (utf8_invalid_at((const char *)data, size) != i)
        abort();
    return 0;
}
