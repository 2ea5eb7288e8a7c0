/*
 * fuzz_time.c - timefmt on arbitrary bytes: RFC 3339, epoch ms, durations. Besides not
 * crashing, anything parsed must survive a format/parse round trip unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    const char *s = (const char *)data;
    int64_t ms;
    char buf[64];
    /* The formatter writes four-digit years: offsets can push a parsed time past them. */
    const int64_t lo = -62167219200000LL, hi = 253402300799999LL; /* 0000-01-01, 9999-12-31 */
    if (time_parse_rfc3339(s, size, &ms) == 0 && ms >= lo && ms <= hi) {
        int64_t again;
        time_format_rfc3339(ms, buf, 25);
        if (time_parse_rfc3339(buf, strlen(buf), &again) != 0 || again != ms)
            abort();
    }
    (void)time_parse(s, size, &ms);
    char text[257];
    memcpy(text, data, size);
    text[size] = '\0';
    if (duration_parse(text, &ms) == 0) {
        int64_t again;
        duration_format(ms, buf, sizeof buf);
        if (duration_parse(buf, &again) != 0 || again != ms)
            abort();
    }
    return 0;
}
