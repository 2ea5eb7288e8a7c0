/*
 * secret.c - secrets from the environment or a file, never from the INI text itself.
 * Owns nothing but the strings it returns. Calls libc and log. Used by config and options.
 */
#include "config/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/limits.h"
#include "base/log.h"
#include "config/paths.h"

static char *secret_from_file(const char *path, char *err, size_t errlen)
{
    char *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read secret file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "secret file %s is not a regular file", path);
        goto done;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH))
        log_warn("component=config", "secret file %s is readable by group or others: chmod 600 it",
                 path);
    out = malloc(SIGFLOW_MAX_SECRET_LEN + 2);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t n = fread(out, 1, SIGFLOW_MAX_SECRET_LEN + 2, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read secret file %s", path);
        goto fail;
    }
    if (n > 0 && out[n - 1] == '\n')
        n--; /* one trailing newline, as `echo secret > file` leaves */
    if (n > 0 && out[n - 1] == '\r')
        n--;
    if (n > SIGFLOW_MAX_SECRET_LEN) {
        snprintf(err, errlen, "secret file %s is longer than %d bytes", path,
                 SIGFLOW_MAX_SECRET_LEN);
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

static bool secret_check_only; /* `sigflow check --no-secrets`: syntax only */

void secret_set_check_only(bool on)
{
    secret_check_only = on;
}

/* "ENV:X", "Env:X", "file:X" miscased, "env=X", "env X": what the operator meant. */
static void secret_refuse(const char *spec, char *err, size_t errlen)
{
    static const char *const prefixes[] = {"env", "file"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncasecmp(spec, prefixes[i], n) == 0 && spec[n] && strchr(":= ", spec[n]) &&
            spec[n + 1]) {
            snprintf(err, errlen,
                     "secrets are written env:NAME or file:/path (did you mean `%s:%.64s`?)",
                     prefixes[i], spec + n + 1);
            return;
        }
    }
    snprintf(err, errlen, "secrets are never written in INI: use env:NAME or file:/path");
}

char *secret_resolve(const char *spec, char *err, size_t errlen)
{
    return secret_resolve_at(spec, NULL, err, errlen);
}

char *secret_resolve_at(const char *spec, const char *base_dir, char *err, size_t errlen)
{
    if (!spec)
        spec = "";
    if (strncmp(spec, "env:", 4) == 0) {
        const char *name = spec + 4;
        if (!*name) {
            snprintf(err, errlen, "env: needs a variable name (env:NAME)");
            return NULL;
        }
        if (secret_check_only)
            return strdup("<unchecked>");
        const char *v = getenv(name);
        if (!v || !*v) {
            /* Name the variable, never its value. */
            snprintf(err, errlen, "environment variable %s is %s", name, v ? "empty" : "not set");
            return NULL;
        }
        if (strlen(v) > SIGFLOW_MAX_SECRET_LEN) {
            snprintf(err, errlen, "environment variable %s is longer than %d bytes", name,
                     SIGFLOW_MAX_SECRET_LEN);
            return NULL;
        }
        char *out = strdup(v);
        if (!out)
            snprintf(err, errlen, "out of memory");
        return out;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        if (!spec[5]) {
            snprintf(err, errlen, "file: needs a path (file:/path)");
            return NULL;
        }
        if (secret_check_only)
            return strdup("<unchecked>");
        char *path = path_resolve(base_dir, spec + 5); /* relative: the config's directory */
        if (!path) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        char *out = secret_from_file(path, err, errlen);
        free(path);
        return out;
    }
    secret_refuse(spec, err, errlen);
    return NULL;
}
