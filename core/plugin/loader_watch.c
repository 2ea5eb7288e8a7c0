/*
 * loader_watch.c - live pickup of new plugin files with inotify (loader_watch*).
 * Loads through loader__consider() in loader.c, so the same checks and refusal memory apply.
 * Called by the runtime's event loop when loader_watch_fd() is readable.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/loader.h"
#include "plugin/loader_internal.h"
#include "base/log.h"

/*
 * IN_CLOSE_WRITE: a file written in place (cp) is complete. IN_MOVED_TO: a file renamed in
 * (install to a temporary name, mv). IN_CREATE: only acted on for links (ln, ln -s), which
 * appear complete; a regular file being created is still empty then. IN_ATTRIB: only for a
 * file refused for its mode or owner, so that the `chmod go-w` or `chown` its refusal asked
 * for takes effect live (a file being written is never in the refusal list, and a chmod by
 * install(1) after it wrote a refused file does not log the same refusal twice).
 */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR)

int loader_watch(plugin_registry *r, const char *dir)
{
    if (!r || !dir || r->watch_fd >= 0)
        return SF_EINVAL;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log_error("component=loader", "inotify_init1: %s", strerror(errno));
        return SF_EIO;
    }
    if (inotify_add_watch(fd, dir, WATCH_MASK) < 0) {
        log_error("component=loader", "cannot watch plugin directory %s: %s", dir, strerror(errno));
        close(fd);
        return SF_EIO;
    }
    r->watch_dir = strdup(dir);
    if (!r->watch_dir) {
        close(fd);
        return SF_ENOMEM;
    }
    r->watch_fd = fd;
    return SF_OK;
}

int loader_watch_fd(const plugin_registry *r)
{
    return r ? r->watch_fd : -1;
}

/* A created entry worth loading now: a link to a file that already exists whole. */
static bool created_complete(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof path || lstat(path, &st) != 0)
        return false;
    return S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink > 1);
}

/* A file whose mode or owner changed is worth a look if that is what it was refused for. */
static bool refused_before(const plugin_registry *r, const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return false;
    char *real = realpath(path, NULL);
    const refusal *f = real ? loader__find_refusal(r, real) : NULL;
    free(real);
    return f && f->by_attr;
}

/* Acts on the events in buf[0..len); sets *overflow when the kernel dropped some. */
static int handle_events(plugin_registry *r, const char *buf, size_t len, bool *overflow)
{
    int loaded = 0;
    size_t off = 0;
    while (off + sizeof(struct inotify_event) <= len) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
        off += sizeof *ev + ev->len;
        if (ev->mask & IN_Q_OVERFLOW)
            *overflow = true;
        if (ev->len == 0 || (ev->mask & IN_ISDIR))
            continue;
        if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) ||
            ((ev->mask & IN_CREATE) && created_complete(r->watch_dir, ev->name)) ||
            ((ev->mask & IN_ATTRIB) && refused_before(r, r->watch_dir, ev->name)))
            loaded += loader__consider(r, r->watch_dir, ev->name);
    }
    return loaded;
}

int loader_watch_handle(plugin_registry *r)
{
    if (!r || r->watch_fd < 0)
        return SF_EINVAL;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int loaded = 0;
    bool overflow = false;
    for (;;) {
        ssize_t n = read(r->watch_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            log_error("component=loader", "reading plugin directory events: %s",
                      n < 0 ? strerror(errno) : "end of file");
            return SF_EIO;
        }
        loaded += handle_events(r, buf, (size_t)n, &overflow);
    }
    if (overflow) {
        /* Events were lost: a full scan finds whatever they named. */
        int scanned = loader_scan(r, r->watch_dir);
        if (scanned > 0)
            loaded += scanned;
    }
    return loaded;
}
