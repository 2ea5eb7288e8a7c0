/*
 * fuzz_config.c - arbitrary bytes as a config file through config_load. config_load reads a
 * path, so the input is written to one temporary file per process. A result must be NULL
 * exactly when errors were reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[64];

static void fuzz_cleanup(void)
{
    unlink(fuzz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_path[0]) {
        snprintf(fuzz_path, sizeof fuzz_path, "/tmp/sf_fuzz_config_XXXXXX");
        int fd = mkstemp(fuzz_path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(fuzz_cleanup);
    }
    if (size > 256 * 1024)
        return 0;
    FILE *f = fopen(fuzz_path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    diag d = {0};
    sigflow_config *cfg = config_load(fuzz_path, &d);
    if ((cfg != NULL) == (d.n > 0))
        abort();
    config_free(cfg);
    diag_clear(&d);
    return 0;
}
