#include "file_rotated.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int file_rotated_find(const char *path, uint64_t ino, char *out, size_t outlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dl = slash ? (size_t)(slash - path) : 0;
    if (dl >= sizeof dir || !*base)
        return -1;
    snprintf(dir, sizeof dir, "%.*s", (int)(slash ? (dl ? dl : 1) : 1), slash ? path : ".");
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int rc = -1, seen = 0;
    size_t bl = strlen(base);
    struct dirent *e;
    while (rc != 0 && seen++ < FILE_ROTATED_MAX_SCAN && (e = readdir(d))) {
        struct stat st;
        if (strncmp(e->d_name, base, bl) != 0 || !e->d_name[bl] ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_ino != ino)
            continue;
        if (snprintf(out, outlen, "%s/%s", dir, e->d_name) < (int)outlen)
            rc = 0;
    }
    closedir(d);
    return rc;
}
