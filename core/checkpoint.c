#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sf_limits.h"

#define CHECKPOINT_MAX_VALUE 4096

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_dir[PATH_MAX];

sf_status checkpoint_set_dir(const char *state_dir)
{
    pthread_mutex_lock(&g_lock);
    int n = snprintf(g_dir, sizeof g_dir, "%s/checkpoints", state_dir);
    pthread_mutex_unlock(&g_lock);
    return n > 0 && (size_t)n < sizeof g_dir ? SF_OK : SF_EINVAL;
}

/* Keys become file names: allow a safe alphabet only, so a key cannot escape the directory. */
static bool safe_name(const char *s)
{
    if (!s || !*s || strlen(s) > SF_MAX_NAME_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static sf_status file_path(const char *instance, const char *key, char *out, size_t len)
{
    if (!safe_name(instance) || !safe_name(key) || instance[0] == '.' || key[0] == '.')
        return SF_EINVAL;
    int n = snprintf(out, len, "%s/%s.%s", g_dir, instance, key);
    return n > 0 && (size_t)n < len ? SF_OK : SF_EINVAL;
}

sf_status checkpoint_read(const char *instance, const char *key, char **value)
{
    char path[PATH_MAX];
    *value = NULL;
    pthread_mutex_lock(&g_lock);
    sf_status st = g_dir[0] ? file_path(instance, key, path, sizeof path) : SF_EINVAL;
    pthread_mutex_unlock(&g_lock);
    if (st != SF_OK)
        return st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? SF_OK : SF_EIO;
    char *buf = malloc(CHECKPOINT_MAX_VALUE + 1);
    if (!buf) {
        fclose(f);
        return SF_ENOMEM;
    }
    size_t n = fread(buf, 1, CHECKPOINT_MAX_VALUE, f);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return SF_EIO;
    }
    buf[n] = '\0';
    *value = buf;
    return SF_OK;
}

static sf_status fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return SF_EIO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? SF_OK : SF_EIO;
}

sf_status checkpoint_write(const char *instance, const char *key, const char *value)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    size_t len = strlen(value);
    if (len > CHECKPOINT_MAX_VALUE)
        return SF_EINVAL;
    pthread_mutex_lock(&g_lock);
    sf_status st = g_dir[0] ? file_path(instance, key, path, sizeof path) : SF_EINVAL;
    if (st != SF_OK)
        goto out;
    /* state_dir itself must exist (the runtime creates it); make the subdirectory. */
    if (mkdir(g_dir, 0700) != 0 && errno != EEXIST) {
        st = SF_EIO;
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = SF_EIO;
        goto out;
    }
    bool ok = write(fd, value, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        st = SF_EIO;
        goto out;
    }
    st = fsync_dir(g_dir);
out:
    pthread_mutex_unlock(&g_lock);
    return st;
}
