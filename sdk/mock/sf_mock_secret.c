/* SPDX-License-Identifier: MIT */
/*
 * sf_mock_secret.c - SF_OPT_SECRET values as the real host reads them (docs/plugin-sdk.md,
 * "Options"): `env:NAME` from the environment, `file:/path` from a file (one trailing newline
 * removed, at most SF_MOCK_MAX_SECRET bytes), anything else refused with the host's message,
 * because secrets are never written in the INI. Owns nothing but the strings it returns.
 * Calls libc only. Used by sf_mock_options.c (set_option, create, validate_options).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sf_mock_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static char *mock_secret_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read secret file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *out = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "secret file %s is not a regular file", path);
        goto done;
    }
    out = sf_mock_xmalloc(SF_MOCK_MAX_SECRET + 2);
    size_t n = fread(out, 1, SF_MOCK_MAX_SECRET + 2, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read secret file %s", path);
        goto fail;
    }
    if (n > 0 && out[n - 1] == '\n')
        n--;
    if (n > 0 && out[n - 1] == '\r')
        n--;
    if (n > SF_MOCK_MAX_SECRET) {
        snprintf(err, errlen, "secret file %s is longer than %d bytes", path, SF_MOCK_MAX_SECRET);
        goto fail;
    }
    if (n == 0 || memchr(out, '\0', n)) {
        snprintf(err, errlen, "secret file %s is empty or binary", path);
        goto fail;
    }
    out[n] = '\0';
    goto done;
fail:
    free(out);
    out = NULL;
done:
    fclose(f);
    return out;
}

static char *mock_secret_env(const char *name, char *err, size_t errlen)
{
    if (!*name) {
        snprintf(err, errlen, "env: needs a variable name (env:NAME)");
        return NULL;
    }
    const char *v = getenv(name);
    if (!v || !*v) { /* the variable's name, never its value */
        snprintf(err, errlen, "environment variable %s is %s", name, v ? "empty" : "not set");
        return NULL;
    }
    if (strlen(v) > SF_MOCK_MAX_SECRET) {
        snprintf(err, errlen, "environment variable %s is longer than %d bytes", name,
                 SF_MOCK_MAX_SECRET);
        return NULL;
    }
    return sf_mock_xstrdup(v);
}

char *sf_mock_secret_resolve(const char *spec, char *err, size_t errlen)
{
    if (!spec)
        spec = "";
    if (strncmp(spec, "env:", 4) == 0)
        return mock_secret_env(spec + 4, err, errlen);
    if (strncmp(spec, "file:", 5) == 0) {
        if (!spec[5]) {
            snprintf(err, errlen, "file: needs a path (file:/path)");
            return NULL;
        }
        return mock_secret_file(spec + 5, err, errlen);
    }
    snprintf(err, errlen, "secrets are never written in INI: use env:NAME or file:/path");
    return NULL;
}
