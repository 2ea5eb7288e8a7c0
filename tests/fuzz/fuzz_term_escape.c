/*
 * fuzz_term_escape.c - term_escape on arbitrary bytes: whatever comes in, what goes out is
 * valid UTF-8 with no C0 control, no DEL, no C1 control and no bidirectional override
 * (core/base/term_escape.h), so nothing a sender wrote can act on the operator's terminal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/term_escape.h"
#include "mapping/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0'; /* the escaper reads C strings: what follows a NUL is not seen */
    strbuf b = {0};
    strbuf_add(&b, "", 0);
    term_escape(&b, in);
    char *out = strbuf_take(&b);
    free(in);
    if (!out)
        return 0;
    size_t n = strlen(out);
    if (utf8_invalid_at(out, n) != n)
        abort();
    const unsigned char *p = (const unsigned char *)out;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            abort();
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            abort(); /* U+0080..U+009F */
        if (p[i] == 0xe2 && i + 2 < n &&
            ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa && p[i + 2] <= 0xae) ||
             (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)))
            abort(); /* U+202A..U+202E, U+2066..U+2069 */
    }
    free(out);
    return 0;
}
