/*
 * store_guard.c - what store_open checks so that damaged or missing storage is never
 * silently replaced by an empty store (docs/reliability.md, Storage):
 *  - state_dir must not be writable by group or others; it and a new database are 0700/0600;
 *  - a missing database is refused unless the caller asked to create one (`sigflow init`,
 *    `run --init`); an empty (0-byte) one is refused always (it was truncated);
 *  - the journal high-water mark: <state_dir>/sigflow.hwm, written atomically and fsync'd
 *    after each durable scoring checkpoint, holds the highest journal position the database
 *    is known to have reached; a database behind it (restored from an older copy, a lost WAL)
 *    is refused with both positions.
 * Calls POSIX file I/O, sqlite3. Called by store.c only.
 */
#include "store/store_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int store_guard_dir(const char *dir, bool create, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || !create) {
            snprintf(err, errlen,
                     errno == ENOENT
                         ? "state_dir %s does not exist: a new store needs an explicit first "
                           "start (`sigflow init -c CONFIG` or `sigflow run --init`); if it "
                           "existed, it was deleted or moved: restore it"
                         : "cannot stat state_dir %s: %s",
                     dir, strerror(errno));
            return SF_EFATAL;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create state_dir %s: %s", dir, strerror(errno));
            return SF_EIO;
        }
        if (stat(dir, &st) != 0) {
            snprintf(err, errlen, "cannot stat state_dir %s: %s", dir, strerror(errno));
            return SF_EIO;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "state_dir %s is not a directory", dir);
        return SF_EINVAL;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen,
                 "state_dir %s has mode 0%03o: writable by group or others, who could replace "
                 "the journal or the crash records; expected no group/other write: chmod go-w %s",
                 dir, (unsigned)(st.st_mode & 07777), dir);
        return SF_EINVAL;
    }
    return SF_OK;
}

int store_guard_file(const char *path, bool create, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
            return SF_EIO;
        }
        if (!create) {
            snprintf(err, errlen,
                     "%s does not exist: a new store needs an explicit first start (`sigflow "
                     "init -c CONFIG` or `sigflow run --init`); if it existed, it was deleted: "
                     "restore it from a backup",
                     path);
            return SF_EFATAL;
        }
        /* A marker first: a kill before the schema is committed leaves a 0-byte database
           that the next --init may finish (store_guard_created removes the marker). */
        char marker[PATH_MAX + 16];
        snprintf(marker, sizeof marker, "%s.creating", path);
        int mfd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (mfd < 0 || fsync(mfd) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", marker, strerror(errno));
            if (mfd >= 0)
                close(mfd);
            return SF_EIO;
        }
        close(mfd);
        /* Created here so it is 0600 whatever the umask; SQLite gives its -wal and -shm
           files the database's mode. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return SF_EIO;
        }
        if (fd >= 0)
            close(fd);
        return SF_OK;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return SF_EINVAL;
    }
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s.creating", path);
    bool interrupted = create && access(marker, F_OK) == 0; /* a first start killed early */
    if (st.st_size == 0 && !interrupted) { /* an empty file is a damaged store, not a new one */
        snprintf(err, errlen,
                 "%s is empty (0 bytes): truncated or never initialised; restore it from a "
                 "backup, or move it away and start a new store with `sigflow init`",
                 path);
        return SF_EFATAL;
    }
    if ((st.st_mode & 077) && chmod(path, 0600) != 0) {
        snprintf(err, errlen, "cannot make %s private (chmod 0600): %s", path, strerror(errno));
        return SF_EIO;
    }
    return SF_OK;
}

static int hwm_path(char *out, size_t len, const char *dir)
{
    int n = snprintf(out, len, "%s/%s", dir, STORE_HWM_FILE);
    return n < 0 || (size_t)n >= len ? SF_EINVAL : SF_OK;
}

int store_guard_hwm_read(const char *dir, uint64_t *seq, bool *present)
{
    char path[PATH_MAX], buf[64];
    *seq = 0;
    *present = false;
    if (hwm_path(path, sizeof path, dir) != SF_OK)
        return SF_EINVAL;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? SF_OK : SF_EIO;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != '\0'))
        return SF_EINVAL;
    *seq = (uint64_t)v;
    *present = true;
    return SF_OK;
}

int store_guard_hwm_write(const char *dir, uint64_t seq)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], line[32];
    if (hwm_path(path, sizeof path, dir) != SF_OK ||
        snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return SF_EINVAL;
    int len = snprintf(line, sizeof line, "%" PRIu64 "\n", seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return SF_EIO;
    bool ok = write(fd, line, (size_t)len) == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return SF_EIO;
    }
    /* The rename itself is durable only once the directory is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return SF_EIO;
    ok = fsync(dfd) == 0;
    close(dfd);
    return ok ? SF_OK : SF_EIO;
}

void store_guard_created(const char *path)
{
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s.creating", path);
    unlink(marker); /* the schema is committed: an empty file from now on is damage */
}
