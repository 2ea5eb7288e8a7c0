/*
 * fuzz_log_json.c - log_json_line on an arbitrary context (the logfmt pairs it reads back):
 * the line is always exactly one line that json-c parses as an object with time, level and
 * msg, whatever quotes, escapes, `=` and spaces the context holds.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ctx = malloc(size + 1);
    if (!ctx)
        return 0;
    memcpy(ctx, data, size);
    ctx[size] = '\0'; /* a C string, as every log context is */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        free(ctx);
        return 0;
    }
    log_json_line(f, "2026-12-01T10:00:00.000Z", "info", ctx, "m");
    if (fclose(f) != 0)
        abort();
    if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1))
        abort(); /* not exactly one line */
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len - 1) : NULL;
    if (tok && (!o || !json_object_is_type(o, json_type_object) ||
                !json_object_object_get_ex(o, "time", NULL) ||
                !json_object_object_get_ex(o, "level", NULL) ||
                !json_object_object_get_ex(o, "msg", NULL)))
        abort();
    json_object_put(o);
    json_tokener_free(tok);
    free(buf);
    free(ctx);
    return 0;
}
