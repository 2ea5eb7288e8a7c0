#include "base/json_quote.h"

/* 0: copied as is; else the letter after the backslash, or 'u' for \u00XX. */
static const char json_escape[256] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f',  ['\r'] = 'r', [0x00] = 'u',
    [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',  [0x05] = 'u', [0x06] = 'u',
    [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',  [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',  [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

void json_quote(json_quote_put_fn put, void *sink, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(sink, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = json_escape[c];
        if (!e)
            continue;
        put(sink, s + start, i - start);
        start = i + 1;
        if (e == 'u') {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            put(sink, u, sizeof u);
        } else {
            char b[2] = {'\\', e};
            put(sink, b, sizeof b);
        }
    }
    put(sink, s + start, n - start);
    put(sink, "\"", 1);
}
