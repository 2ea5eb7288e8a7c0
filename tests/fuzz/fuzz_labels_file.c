/*
 * fuzz_labels_file.c - the backtest labels file (core/replay/labels_file.c) on arbitrary
 * bytes: a line parses or is refused with a reason, a parsed entity is 1..256 bytes, and
 * the table read from the whole input is sorted by (entity, time).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/labels_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char entity[SIGFLOW_MAX_ENTITY_LEN + 1], err[256];
    int64_t t;
    int r = labels_file_line((const char *)data, size, entity, &t, err, sizeof err);
    if (r > 0 && (strlen(entity) == 0 || strlen(entity) > SIGFLOW_MAX_ENTITY_LEN))
        abort();
    if (r < 0 && err[0] == '\0')
        abort();
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f)
        return 0;
    churn_table tab = {0};
    if (size)
        (void)labels_file_read(f, "fuzz", &tab, err, sizeof err);
    fclose(f);
    for (size_t i = 1; i < tab.n; i++) {
        int c = strcmp(tab.c[i - 1].entity, tab.c[i].entity);
        if (c > 0 || (c == 0 && tab.c[i - 1].t > tab.c[i].t))
            abort();
    }
    churn_table_free(&tab);
    return 0;
}
