/*
 * driver.c - replays a corpus directory through a fuzz harness without libFuzzer, so that
 * `make test` runs every corpus with gcc (and under ASan/UBSan with SANITIZE=1).
 * Usage: fuzz_NAME CORPUS_DIR. Exits non-zero when the directory is unreadable or holds no
 * file, so a missing corpus cannot pass silently; a crash is the harness's failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DRIVER_MAX_INPUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int driver_run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "driver: cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = malloc(DRIVER_MAX_INPUT);
    size_t n = buf ? fread(buf, 1, DRIVER_MAX_INPUT, f) : 0;
    int rc = buf && !ferror(f) ? 0 : -1;
    fclose(f);
    if (rc == 0) {
        /* an exact-size copy, so ASan sees reads past the input */
        uint8_t *exact = malloc(n ? n : 1);
        if (exact) {
            memcpy(exact, buf, n);
            LLVMFuzzerTestOneInput(exact, n);
            free(exact);
        } else {
            rc = -1;
        }
    }
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "driver: cannot open corpus %s\n", argv[1]);
        return 1;
    }
    int files = 0, failed = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        files++;
        if (driver_run_file(path) != 0)
            failed++;
    }
    closedir(dir);
    printf("%s: %d inputs replayed from %s\n", argv[0], files, argv[1]);
    if (files == 0)
        fprintf(stderr, "driver: corpus %s is empty\n", argv[1]);
    return files == 0 || failed ? 1 : 0;
}
