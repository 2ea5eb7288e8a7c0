/*
 * loader.c - loading one plugin file (dlopen, entry, zero-filled descriptor copy, init),
 * the registry of loaded plugins, the memory of refusals, and the directory scan. The
 * checks themselves are in loader_check.c, the inotify pickup in loader_watch.c.
 * Calls log, dlfcn. Called by the runtime, the CLI and loader_watch.c.
 */
#include "plugin/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sf_limits.h"
#include "plugin/loader_internal.h"
#include "base/log.h"

/* Directory entries one scan considers; a plugin_dir holding more is misconfigured. */
#define LOADER_MAX_DIR_ENTRIES 4096

/* ---- small helpers ------------------------------------------------------------------- */

static bool timespec_equal(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Same content: what "replaced" means for a loaded plugin (a chmod does not count). */
static bool file_same_content(const file_id *a, const file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && timespec_equal(&a->mtime, &b->mtime);
}

/* Same content and metadata: a refused file whose mode or owner was fixed is tried again. */
static bool file_id_equal(const file_id *a, const file_id *b)
{
    return file_same_content(a, b) && timespec_equal(&a->ctime, &b->ctime);
}

static file_id file_id_of(const struct stat *st)
{
    file_id id = {.dev = st->st_dev, .ino = st->st_ino, .mtime = st->st_mtim, .ctime = st->st_ctim};
    return id;
}

/* ---- registry bookkeeping (the loading thread only, except where locked) ------------- */

plugin_registry *loader_new(const sf_host *host, const sf_host_info *info)
{
    if (!host || !info)
        return NULL; /* every plugin's entry and init dereference them */
    plugin_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->host = host;
    r->info = info;
    r->watch_fd = -1;
    return r;
}

void loader_free(plugin_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->plugins[i]->pub.path);
        free(r->plugins[i]->real);
        free(r->plugins[i]);
    }
    free(r->plugins);
    for (size_t i = 0; i < r->nrefused; i++)
        free(r->refused[i].real);
    free(r->refused);
    loader_watch_close(r);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

plugin_entry *loader_find_loaded(const plugin_registry *r, const char *real)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->plugins[i]->real, real) == 0)
            return r->plugins[i];
    return NULL;
}

refusal *loader_find_refusal(const plugin_registry *r, const char *real)
{
    for (size_t i = 0; i < r->nrefused; i++)
        if (strcmp(r->refused[i].real, real) == 0)
            return &r->refused[i];
    return NULL;
}

/* Remember (or update) a refusal so that scans do not log it again for the same file. */
static void remember_refusal(plugin_registry *r, const char *real, const file_id *id,
                             unsigned dlopens, bool by_attr)
{
    refusal *f = loader_find_refusal(r, real);
    if (!f) {
        if (r->nrefused == r->refused_cap) {
            size_t cap = r->refused_cap ? r->refused_cap * 2 : 8;
            refusal *grown = realloc(r->refused, cap * sizeof *grown);
            if (!grown)
                return; /* forgetting only means the refusal is logged again */
            r->refused = grown;
            r->refused_cap = cap;
        }
        char *copy = strdup(real);
        if (!copy)
            return;
        f = &r->refused[r->nrefused++];
        f->real = copy;
    }
    f->id = *id;
    f->dlopens = dlopens;
    f->by_attr = by_attr;
}

/* Makes room for one more entry, so that nothing can fail after a plugin's init ran. */
static int loader_reserve(plugin_registry *r)
{
    int rc = SF_OK;
    pthread_mutex_lock(&r->lock);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        plugin_entry **grown = realloc(r->plugins, cap * sizeof *grown);
        if (grown) {
            r->plugins = grown;
            r->cap = cap;
        } else {
            rc = SF_ENOMEM;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* After loader_reserve: cannot fail. */
static void loader_insert(plugin_registry *r, plugin_entry *e)
{
    pthread_mutex_lock(&r->lock);
    r->plugins[r->n++] = e;
    pthread_mutex_unlock(&r->lock);
}

const loaded_plugin *loader_find(const plugin_registry *r, const char *name, sf_plugin_kind kind)
{
    if (!r || !name)
        return NULL;
    const loaded_plugin *found = NULL;
    /* The lock is logically mutable: readers on other threads serialise with insert. */
    pthread_mutex_t *lock = (pthread_mutex_t *)&r->lock;
    pthread_mutex_lock(lock);
    for (size_t i = 0; i < r->n && !found; i++)
        if (strcmp(r->plugins[i]->pub.desc.name, name) == 0 &&
            (!kind || r->plugins[i]->pub.desc.kind == kind))
            found = &r->plugins[i]->pub;
    pthread_mutex_unlock(lock);
    return found;
}

size_t loader_count(const plugin_registry *r)
{
    if (!r)
        return 0;
    pthread_mutex_t *lock = (pthread_mutex_t *)&r->lock;
    pthread_mutex_lock(lock);
    size_t n = r->n;
    pthread_mutex_unlock(lock);
    return n;
}

const loaded_plugin *loader_at(const plugin_registry *r, size_t i)
{
    if (!r)
        return NULL;
    pthread_mutex_t *lock = (pthread_mutex_t *)&r->lock;
    pthread_mutex_lock(lock);
    const loaded_plugin *p = i < r->n ? &r->plugins[i]->pub : NULL;
    pthread_mutex_unlock(lock);
    return p;
}

/*
 * glibc hands back the already mapped object when dlopen is given a name it opened before,
 * and nothing is ever dlclose'd. A refused file replaced by a new one (new inode) must be
 * opened under a name not used yet: the same path with "./" inserted `n` times.
 */
static int dlopen_name(char *out, size_t outlen, const char *real, unsigned n)
{
    const char *slash = strrchr(real, '/');
    size_t dirlen = slash ? (size_t)(slash - real) : 0;
    int o = snprintf(out, outlen, "%.*s/", (int)dirlen, real);
    for (unsigned i = 0; i < n && o >= 0 && (size_t)o < outlen; i++)
        o += snprintf(out + o, outlen - (size_t)o, "./");
    if (o >= 0 && (size_t)o < outlen)
        o += snprintf(out + o, outlen - (size_t)o, "%s", slash ? slash + 1 : real);
    return (o < 0 || (size_t)o >= outlen) ? SF_EINVAL : SF_OK;
}

/* Steps 3-6 on an open handle; fills e->pub.desc. */
static int check_plugin(plugin_registry *r, const load_ctx *c, void *dl, plugin_entry *e)
{
    sf_entry_fn entry = NULL;
    int rc = loader_find_entry(c, dl, &entry);
    if (rc != SF_OK)
        return rc;
    const sf_plugin *d = entry(r->info);
    if (!d)
        return loader_refuse(c, SF_EINVAL, "entry", "%s returned NULL, expected a descriptor",
                             SF_ENTRY_SYMBOL);
    rc = loader_check_prefix(c, d);
    if (rc != SF_OK)
        return rc;
    /* OBS style: copy what the plugin declared, the rest stays zero (calloc'd entry). */
    memcpy(&e->pub.desc, d, d->struct_size);
    rc = loader_check_fields(c, &e->pub.desc);
    if (rc != SF_OK)
        return rc;
    /* A connector and a delivery may share a name (`plugin = webhook` in either section). */
    const loaded_plugin *twin = loader_find(r, e->pub.desc.name, e->pub.desc.kind);
    if (twin)
        return loader_refuse(c, SF_EINVAL, "name",
                             "\"%s\" already loaded from %s, expected unique names per kind: "
                             "remove one",
                             e->pub.desc.name, twin->path);
    if (e->pub.desc.init) {
        rc = e->pub.desc.init(r->host);
        if (rc != SF_OK)
            return loader_refuse(c, rc < 0 ? rc : SF_EFATAL, "init",
                                 "returned %d (%s), expected 0 (ok)", rc, loader_status_text(rc));
    }
    return SF_OK;
}

/* Steps 2-6 for a file that passed check_file. */
static int load_checked(plugin_registry *r, const load_ctx *c, const char *real,
                        const struct stat *st)
{
    file_id id = file_id_of(st);
    refusal *before = loader_find_refusal(r, real);
    unsigned dlopens = before ? before->dlopens : 0;
    unsigned alias = dlopens;
    if (before && dlopens > 0 && before->id.dev == id.dev && before->id.ino == id.ino) {
        if (!file_same_content(&before->id, &id)) {
            remember_refusal(r, real, &id, dlopens, false);
            return loader_refuse(
                c, SF_EINVAL, "file",
                "rewritten in place (same inode %lu) after a refused load, expected "
                "a new file: install it with install(1) or mv, or restart",
                (unsigned long)id.ino);
        }
        alias = dlopens - 1; /* unchanged: the mapped object answers again */
    }
    char name[PATH_MAX];
    if (dlopen_name(name, sizeof name, real, alias) != SF_OK) {
        remember_refusal(r, real, &id, dlopens, false);
        return loader_refuse(c, SF_EINVAL, "file", "replaced too many times, expected a restart");
    }
    plugin_entry *e = calloc(1, sizeof *e);
    if (!e || loader_reserve(r) != SF_OK) {
        free(e);
        return loader_refuse(c, SF_ENOMEM, "memory", "cannot allocate the registry entry");
    }
    int rc;
    /* Never dlclose'd, refused or not: constructors may have registered handlers. */
    void *dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *why = dlerror();
        rc = loader_refuse(c, SF_EIO, "dlopen", "%s", why ? why : "unknown error");
        goto refused;
    }
    if (alias == dlopens)
        dlopens++;
    e->pub.path = strdup(c->path);
    e->real = strdup(real);
    if (!e->pub.path || !e->real) {
        rc = loader_refuse(c, SF_ENOMEM, "memory", "cannot copy the path");
        goto refused;
    }
    rc = check_plugin(r, c, dl, e);
    if (rc != SF_OK)
        goto refused;
    e->pub.dl = dl;
    e->id = id;
    loader_insert(r, e);
    log_info("component=loader", "plugin %s %s loaded from %s (%s, ABI %u.%u)", e->pub.desc.name,
             e->pub.desc.version ? e->pub.desc.version : "-", c->path,
             e->pub.desc.kind == SF_KIND_CONNECTOR ? "connector" : "delivery",
             (unsigned)e->pub.desc.abi_major, (unsigned)e->pub.desc.abi_minor);
    return SF_OK;
refused:
    remember_refusal(r, real, &id, dlopens, false);
    free(e->pub.path);
    free(e->real);
    free(e);
    return rc;
}

int loader_load_file(plugin_registry *r, const char *path, char *err, size_t errlen)
{
    char scratch[SF_MAX_ERROR_LEN];
    load_ctx c = {.path = path ? path : "(null)", .err = err, .errlen = errlen};
    if (!err || errlen == 0) {
        c.err = scratch;
        c.errlen = sizeof scratch;
    }
    if (!r || !path)
        return loader_refuse(&c, SF_EINVAL, "path", "missing");
    struct stat st;
    int rc = loader_check_file(&c, &st);
    char *real = NULL;
    if (rc != SF_OK) {
        /* Remembered too, so that a scan does not log a loose mode on every pass. */
        real = realpath(path, NULL);
        if (real && rc != SF_EIO) {
            file_id id = file_id_of(&st);
            refusal *before = loader_find_refusal(r, real);
            remember_refusal(r, real, &id, before ? before->dlopens : 0, true);
        }
        goto out;
    }
    real = realpath(path, NULL);
    if (!real) {
        rc = loader_refuse(&c, SF_EIO, "file", "cannot resolve path: %s", strerror(errno));
        goto out;
    }
    const plugin_entry *loaded = loader_find_loaded(r, real);
    if (loaded) {
        rc = loader_refuse(&c, SF_EINVAL, "file", "already loaded as plugin \"%s\" from %s",
                           loaded->pub.desc.name, loaded->pub.path);
        goto out;
    }
    if (r->n >= SF_MAX_PLUGINS) {
        rc = loader_refuse(&c, SF_EINVAL, "count", "%zu plugins loaded, limit is %d", r->n,
                           SF_MAX_PLUGINS);
        goto out;
    }
    rc = load_checked(r, &c, real, &st);
out:
    free(real);
    return rc;
}

/* ---- scan --------------------------------------------------------------------------- */

static bool has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

int loader_consider(plugin_registry *r, const char *dir, const char *name)
{
    if (!has_so_suffix(name) || name[0] == '.')
        return 0;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    char *real = realpath(path, NULL);
    if (!real)
        return 0;
    int loaded = 0;
    file_id id = file_id_of(&st);
    plugin_entry *e = loader_find_loaded(r, real);
    if (e) {
        /* Swapping code under running instances is what crashes other hosts: restart. */
        if (!file_same_content(&e->id, &id) &&
            !(e->replace_warned && file_same_content(&e->warned, &id))) {
            char file_kv[PATH_MAX + 32];
            log_format_kv(file_kv, sizeof file_kv, "plugin_file", path);
            log_warn(file_kv,
                     "plugin %s was replaced on disk; the loaded copy keeps running "
                     "until sigflow is restarted",
                     e->pub.desc.name);
            e->replace_warned = true;
            e->warned = id;
        }
        goto out;
    }
    const refusal *f = loader_find_refusal(r, real);
    if (f && (f->by_attr ? file_id_equal(&f->id, &id) : file_same_content(&f->id, &id)))
        goto out; /* refused before in this very version: logged then */
    loaded = loader_load_file(r, path, NULL, 0) == SF_OK;
out:
    free(real);
    return loaded;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int loader_scan(plugin_registry *r, const char *dir)
{
    if (!r || !dir)
        return SF_EINVAL;
    DIR *d = opendir(dir);
    if (!d) {
        char file_kv[PATH_MAX + 32];
        log_format_kv(file_kv, sizeof file_kv, "plugin_dir", dir);
        log_error(file_kv, "cannot read plugin directory: %s", strerror(errno));
        return SF_EIO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = SF_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!has_so_suffix(de->d_name) || de->d_name[0] == '.')
            continue;
        if (n == LOADER_MAX_DIR_ENTRIES) {
            log_warn("component=loader", "more than %d .so files in %s; the rest are ignored",
                     LOADER_MAX_DIR_ENTRIES, dir);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                rc = SF_ENOMEM;
                goto out;
            }
            names = grown;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            rc = SF_ENOMEM;
            goto out;
        }
        n++;
    }
    /* readdir order depends on the file system; name order makes startup reproducible. */
    qsort(names, n, sizeof *names, compare_names);
    int loaded = 0;
    for (size_t i = 0; i < n; i++)
        loaded += loader_consider(r, dir, names[i]);
    rc = loaded;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}
