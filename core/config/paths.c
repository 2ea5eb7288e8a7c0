/*
 * paths.c - relative paths in a config resolved against its directory (see paths.h).
 */
#include "config/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

char *path_resolve(const char *base, const char *p)
{
    if (p[0] == '/' || !base || strcmp(base, ".") == 0)
        return strdup(p);
    size_t n = strlen(base) + strlen(p) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", base, p);
    return out;
}
