/*
 * fuzz_csv.c - the file connector's CSV reader (plugins/connector_file/file_csv.c) on
 * arbitrary bytes: the first line is the header, the others rows. Besides not crashing or
 * overrunning its buffer, every row it accepts must be a JSON object json-c parses, with at
 * most one key per header column.
 */
#include <json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/connector_file/file_csv.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *s = (const char *)data, *end = s + size;
    file_csv *c = file_csv_new(4096);
    if (!c)
        return 0;
    char why[256];
    bool first = true;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = (size_t)((nl ? nl : end) - s);
        if (len <= 4096) {
            const char *json;
            size_t jlen;
            if (first) {
                (void)file_csv_header(c, s, len, why, sizeof why);
            } else if (file_csv_row(c, s, len, &json, &jlen, why, sizeof why)) {
                if (strlen(json) != jlen)
                    abort();
                json_object *o = json_tokener_parse(json);
                /* bytes >= 0x80 pass through: json-c may refuse invalid UTF-8 */
                if (o && (!json_object_is_type(o, json_type_object) ||
                          (size_t)json_object_object_length(o) > c->n_names))
                    abort();
                json_object_put(o);
            }
        }
        first = false;
        s += len + 1;
    }
    file_csv_free(c);
    return 0;
}
