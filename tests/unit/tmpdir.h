/* tmpdir.h - a scratch state_dir per test, removed afterwards (header-only test support). */
#ifndef SF_TEST_TMPDIR_H
#define SF_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int tmpdir_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Fills buf (>= 64 bytes) with a new empty directory's path; NULL on failure. */
static inline char *tmpdir_make(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/sigflow-test-XXXXXX");
    return mkdtemp(buf);
}

static inline void tmpdir_remove(const char *path)
{
    nftw(path, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
