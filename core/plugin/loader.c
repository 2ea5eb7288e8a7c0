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
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "plugin/loader_internal.h"
#include "base/log.h"
#include "plugin/crash.h"
#include "plugin/host.h"

/* Deadline on a plugin's init (and on the child that tries a file for check/plugins). */
#define LOADER_CALL_TIMEOUT_MS 10000
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
    r->call_timeout_ms = LOADER_CALL_TIMEOUT_MS;
    return r;
}

void loader_set_call_timeout(plugin_registry *r, int64_t ms)
{
    if (r && ms > 0)
        r->call_timeout_ms = ms;
}

void loader_set_probe(plugin_registry *r, bool probe)
{
    if (r)
        r->probe = probe;
}

int loader_set_crash_dir(plugin_registry *r, const char *state_dir)
{
    if (!r || !state_dir)
        return SF_EINVAL;
    char *copy = strdup(state_dir);
    if (!copy)
        return SF_ENOMEM;
    free(r->crash_dir);
    r->crash_dir = copy;
    return SF_OK;
}

size_t loader_safe_mode_refusals(const plugin_registry *r)
{
    return r ? r->safe_mode_refusals : 0;
}

const char *loader_refusal_for(const plugin_registry *r, const char *name)
{
    if (!r || !name)
        return NULL;
    char want[3][SIGFLOW_MAX_NAME_LEN + 16];
    snprintf(want[0], sizeof want[0], "%s.so", name);
    snprintf(want[1], sizeof want[1], "connector_%s.so", name);
    snprintf(want[2], sizeof want[2], "delivery_%s.so", name);
    for (size_t i = 0; i < r->nrefused; i++) {
        const refusal *f = &r->refused[i];
        if (!f->why)
            continue;
        if (strcmp(f->name, name) == 0)
            return f->why;
        const char *slash = strrchr(f->real, '/');
        const char *base = slash ? slash + 1 : f->real;
        for (int k = 0; k < 3; k++)
            if (strcmp(base, want[k]) == 0)
                return f->why;
    }
    return NULL;
}

static void entry_free(plugin_entry *e)
{
    free(e->pub.path);
    free(e->real);
    loader__owned_free(&e->owned);
    free(e);
}

void loader_free(plugin_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->plugins[i]->pub.path);
        free(r->plugins[i]->real);
        loader__owned_free(&r->plugins[i]->owned);
        free(r->plugins[i]);
    }
    free(r->plugins);
    for (size_t i = 0; i < r->n_pending; i++) { /* init still running: its thread is left */
        loader__init_forget(r->pending[i]);
        entry_free(r->pending[i]);
    }
    free(r->pending);
    for (size_t i = 0; i < r->nrefused; i++) {
        free(r->refused[i].real);
        free(r->refused[i].why);
    }
    free(r->crash_dir);
    free(r->refused);
    if (r->watch_fd >= 0) /* the inotify watch loader_watch.c opened */
        close(r->watch_fd);
    free(r->watch_dir);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

plugin_entry *loader__find_loaded(const plugin_registry *r, const char *real)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->plugins[i]->real, real) == 0)
            return r->plugins[i];
    return NULL;
}

refusal *loader__find_refusal(const plugin_registry *r, const char *real)
{
    for (size_t i = 0; i < r->nrefused; i++)
        if (strcmp(r->refused[i].real, real) == 0)
            return &r->refused[i];
    return NULL;
}

/* Remember (or update) a refusal so that scans do not log it again for the same file. */
static void remember_refusal(plugin_registry *r, const char *real, const file_id *id, bool by_attr,
                             const load_ctx *c)
{
    refusal *f = loader__find_refusal(r, real);
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
        memset(f, 0, sizeof *f);
        f->real = copy;
    }
    f->id = *id;
    f->by_attr = by_attr;
    free(f->why);
    f->why = c && c->err[0] ? strdup(c->err) : NULL;
    snprintf(f->name, sizeof f->name, "%s", c ? c->name : "");
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

/* The name a crash while loading this file is recorded under: the descriptor's name once
   read, the file's name before (a constructor crashing inside dlopen). */
static const char *crash_identity(const load_ctx *c)
{
    if (c->name[0])
        return c->name;
    const char *slash = strrchr(c->path, '/');
    return slash ? slash + 1 : c->path;
}

/* Safe mode at load time: a plugin (or file) that crashed the daemon while it was loaded,
   CRASH_SAFE_MODE_AFTER times, is refused until the operator removes the records. */
static int safe_mode_check(plugin_registry *r, const load_ctx *c, const char *step)
{
    if (!r->crash_dir)
        return SF_OK;
    const char *who = crash_identity(c);
    size_t n = crash_count(r->crash_dir, who);
    if (n < CRASH_SAFE_MODE_AFTER)
        return SF_OK;
    r->safe_mode_refusals++;
    return loader__refuse(c, SF_EFATAL, "safe_mode",
                          "SAFE MODE: %s crashed the daemon %zu times; its %s is not run again. "
                          "Fix or remove it, then delete %s/crashes and restart",
                          who, n, step, r->crash_dir);
}

/* Steps 3-6 on an open handle; fills e->pub.desc. */
static int check_plugin(plugin_registry *r, load_ctx *c, void *dl, plugin_entry *e)
{
    sf_entry_fn entry = NULL;
    int rc = loader__find_entry(c, dl, &entry);
    if (rc != SF_OK)
        return rc;
    host_call_note(crash_identity(c), c->path, "entry");
    const sf_plugin *d = entry(r->info);
    host_call_clear();
    if (!d)
        return loader__refuse(c, SF_EINVAL, "entry", "%s returned NULL, expected a descriptor",
                              SF_ENTRY_SYMBOL);
    rc = loader__check_prefix(c, d);
    if (rc != SF_OK)
        return rc;
    /* OBS style: copy what the plugin declared, the rest stays zero (calloc'd entry). */
    memcpy(&e->pub.desc, d, d->struct_size);
    rc = loader__check_fields(c, &e->pub.desc);
    if (rc != SF_OK)
        return rc;
    snprintf(c->name, sizeof c->name, "%s", e->pub.desc.name);
    rc = loader__own_descriptor(c, &e->pub.desc, &e->owned);
    if (rc != SF_OK)
        return rc;
    /* A connector and a delivery may share a name (`plugin = webhook` in either section). */
    const loaded_plugin *twin = loader_find(r, e->pub.desc.name, e->pub.desc.kind);
    if (twin)
        return loader__refuse(c, SF_EINVAL, "name",
                              "\"%s\" already loaded from %s, expected unique names per kind: "
                              "remove one",
                              e->pub.desc.name, twin->path);
    /* Probe mode ran init in a child already: here only once it survived there (check
       creates instances, and a plugin keeps the host pointer init gives it). */
    if (e->pub.desc.init) {
        if ((rc = safe_mode_check(r, c, "init")) != SF_OK)
            return rc;
        rc = r->async_init ? loader__init_async(r, c, e) : loader__run_init(r, c, &e->pub.desc);
    }
    return rc;
}

/* Room for one more pending load, taken before init can be left running. */
static int pending_reserve(plugin_registry *r)
{
    if (r->n_pending < r->cap_pending)
        return SF_OK;
    size_t cap = r->cap_pending ? r->cap_pending * 2 : 4;
    plugin_entry **grown = realloc(r->pending, cap * sizeof *grown);
    if (!grown)
        return SF_ENOMEM;
    r->pending = grown;
    r->cap_pending = cap;
    return SF_OK;
}

static const plugin_entry *find_pending(const plugin_registry *r, const char *real)
{
    for (size_t i = 0; i < r->n_pending; i++)
        if (strcmp(r->pending[i]->real, real) == 0)
            return r->pending[i];
    return NULL;
}

static void log_loaded(const plugin_entry *e)
{
    log_info("component=loader", "plugin %s %s loaded from %s (%s, ABI %u.%u)", e->pub.desc.name,
             e->pub.desc.version ? e->pub.desc.version : "-", e->pub.path,
             e->pub.desc.kind == SF_KIND_CONNECTOR ? "connector" : "delivery",
             (unsigned)e->pub.desc.abi_major, (unsigned)e->pub.desc.abi_minor);
}

/* The log context of a line about one plugin file: component=loader plugin_file="PATH". */
static void file_ctx(char *out, size_t outlen, const char *path)
{
    int n = snprintf(out, outlen, "component=loader ");
    log_format_kv(out + n, outlen - (size_t)n, "plugin_file", path);
}

/* Steps 2-6 for a file that passed check_file (fd is the file checked). */
static int load_checked(plugin_registry *r, load_ctx *c, const char *real, int fd,
                        const struct stat *st)
{
    file_id id = file_id_of(st);
    plugin_entry *e = calloc(1, sizeof *e);
    if (!e || loader_reserve(r) != SF_OK) {
        free(e);
        return loader__refuse(c, SF_ENOMEM, "memory", "cannot allocate the registry entry");
    }
    int rc, copy = -1;
    if ((rc = safe_mode_check(r, c, "dlopen")) != SF_OK ||
        (rc = loader__private_copy(c, fd, st, &copy)) != SF_OK)
        goto refused;
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", copy);
    if (r->probe && (rc = loader__probe(r, c, name)) != SF_OK)
        goto refused;
    /* Never dlclose'd, refused or not: constructors may have registered handlers. */
    host_call_note(crash_identity(c), c->path, "dlopen");
    void *dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    host_call_clear();
    if (!dl) {
        const char *why = dlerror();
        rc = loader__refuse(c, SF_EIO, "dlopen", "%s", why ? why : "unknown error");
        close(copy); /* nothing maps it */
        goto refused;
    }
    /* The copy stays open for good: glibc knows the object by "/proc/self/fd/N", and a
       later copy given the same number would be answered with this object. */
    e->pub.path = strdup(c->path);
    e->real = strdup(real);
    if (!e->pub.path || !e->real) {
        rc = loader__refuse(c, SF_ENOMEM, "memory", "cannot copy the path");
        goto refused;
    }
    if (r->async_init && pending_reserve(r) != SF_OK) {
        rc = loader__refuse(c, SF_ENOMEM, "memory", "cannot allocate the pending load");
        goto refused;
    }
    rc = check_plugin(r, c, dl, e);
    e->pub.dl = dl;
    e->id = id;
    if (rc == LOADER_PENDING) {
        /* init still runs: the caller (the runtime's loop) goes on; loader_pending_poll ends
           the load when init returns or its deadline passes. */
        r->pending[r->n_pending++] = e;
        char file_kv[PATH_MAX + 64];
        file_ctx(file_kv, sizeof file_kv, c->path);
        log_warn(file_kv,
                 "plugin %s: init has not returned after %d ms; sigflow goes on and loads it "
                 "when it does (deadline %lld ms, plugin_timeout)",
                 e->pub.desc.name, LOADER_INIT_GRACE_MS, (long long)r->call_timeout_ms);
        return LOADER_PENDING;
    }
    if (rc != SF_OK)
        goto refused;
    loader_insert(r, e);
    log_loaded(e);
    return SF_OK;
refused:
    remember_refusal(r, real, &id, false, c);
    free(e->pub.path);
    free(e->real);
    loader__owned_free(&e->owned);
    free(e);
    return rc;
}

void loader_set_async_init(plugin_registry *r, bool on)
{
    if (r)
        r->async_init = on;
}

/* One pending load whose init is over: into the registry, or refused and remembered. */
static int pending_finish(plugin_registry *r, plugin_entry *e, int verdict, load_ctx *c)
{
    const loaded_plugin *twin = loader_find(r, e->pub.desc.name, e->pub.desc.kind);
    if (verdict == SF_OK && twin)
        verdict = loader__refuse(c, SF_EINVAL, "name",
                                 "\"%s\" was loaded from %s while this file's init ran: remove one",
                                 e->pub.desc.name, twin->path);
    if (verdict == SF_OK && loader_reserve(r) != SF_OK)
        verdict = loader__refuse(c, SF_ENOMEM, "memory", "cannot allocate the registry entry");
    if (verdict == SF_OK) {
        loader_insert(r, e);
        log_loaded(e);
        return 1;
    }
    remember_refusal(r, e->real, &e->id, false, c);
    entry_free(e); /* the init thread, if abandoned, holds nothing of the entry */
    return 0;
}

int loader_pending_poll(plugin_registry *r)
{
    int loaded = 0;
    for (size_t i = 0; r && i < r->n_pending;) {
        plugin_entry *e = r->pending[i];
        char err[SIGFLOW_MAX_ERROR_LEN];
        load_ctx c = {.path = e->pub.path, .err = err, .errlen = sizeof err};
        snprintf(c.name, sizeof c.name, "%s", e->pub.desc.name);
        int v = loader__init_check(r, &c, e);
        if (v == LOADER_PENDING) {
            i++;
            continue;
        }
        r->pending[i] = r->pending[--r->n_pending];
        loaded += pending_finish(r, e, v, &c);
    }
    return loaded;
}

int loader_load_file(plugin_registry *r, const char *path, char *err, size_t errlen)
{
    char scratch[SIGFLOW_MAX_ERROR_LEN];
    load_ctx c = {.path = path ? path : "(null)", .err = err, .errlen = errlen};
    if (!err || errlen == 0) {
        c.err = scratch;
        c.errlen = sizeof scratch;
    }
    c.err[0] = '\0';
    if (!r || !path)
        return loader__refuse(&c, SF_EINVAL, "path", "missing");
    /* Opened once, checked with fstat and copied from this descriptor: what was checked is
       what runs, whatever happens to the path meanwhile. O_NONBLOCK: a FIFO must not hang. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return loader__refuse(&c, SF_EIO, "file", "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = loader__check_file(&c, fd, &st);
    char *real = NULL;
    if (rc != SF_OK) {
        /* Remembered too, so that a scan does not log a loose mode on every pass. */
        real = realpath(path, NULL);
        if (real && rc != SF_EIO) {
            file_id id = file_id_of(&st);
            remember_refusal(r, real, &id, true, &c);
        }
        goto out;
    }
    real = realpath(path, NULL);
    if (!real) {
        rc = loader__refuse(&c, SF_EIO, "file", "cannot resolve path: %s", strerror(errno));
        goto out;
    }
    const plugin_entry *loaded = loader__find_loaded(r, real);
    if (loaded) {
        rc = loader__refuse(&c, SF_EINVAL, "file", "already loaded as plugin \"%s\" from %s",
                            loaded->pub.desc.name, loaded->pub.path);
        goto out;
    }
    if (r->n >= SIGFLOW_MAX_PLUGINS) {
        rc = loader__refuse(&c, SF_EINVAL, "count", "%zu plugins loaded, limit is %d", r->n,
                            SIGFLOW_MAX_PLUGINS);
        goto out;
    }
    rc = load_checked(r, &c, real, fd, &st);
out:
    close(fd);
    free(real);
    return rc;
}

/* ---- scan --------------------------------------------------------------------------- */

static bool has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

int loader__consider(plugin_registry *r, const char *dir, const char *name)
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
    if (!loader__inside_dir(r, dir, real)) {
        /* A link out of plugin_dir would load whatever the other directory's owner puts
           there. Logged once per version, like any refusal. */
        const refusal *f = loader__find_refusal(r, real);
        if (!(f && f->by_attr && file_id_equal(&f->id, &id))) {
            char scratch[SIGFLOW_MAX_ERROR_LEN];
            load_ctx c = {.path = path, .err = scratch, .errlen = sizeof scratch};
            loader__refuse(&c, SF_EINVAL, "file",
                           "a link to %s, outside plugin_dir: copy the plugin into the directory",
                           real);
            remember_refusal(r, real, &id, true, &c);
        }
        goto out;
    }
    plugin_entry *e = loader__find_loaded(r, real);
    if (e) {
        /* Swapping code under running instances is what crashes other hosts: restart. */
        if (!file_same_content(&e->id, &id) &&
            !(e->replace_warned && file_same_content(&e->warned, &id))) {
            char file_kv[PATH_MAX + 64];
            file_ctx(file_kv, sizeof file_kv, path);
            log_warn(file_kv,
                     "plugin %s was replaced on disk; the loaded copy keeps running "
                     "until sigflow is restarted",
                     e->pub.desc.name);
            e->replace_warned = true;
            e->warned = id;
        }
        goto out;
    }
    const refusal *f = loader__find_refusal(r, real);
    if (f && (f->by_attr ? file_id_equal(&f->id, &id) : file_same_content(&f->id, &id)))
        goto out; /* refused before in this very version: logged then */
    if (find_pending(r, real))
        goto out; /* its init is still running: loader_pending_poll decides */
    loaded = loader_load_file(r, path, NULL, 0) == SF_OK;
out:
    free(real);
    return loaded;
}

/* True when `real` (a resolved path) lies inside `dir`, resolved as well. */
bool loader__inside_dir(const plugin_registry *r, const char *dir, const char *real)
{
    (void)r;
    char *rdir = realpath(dir, NULL);
    if (!rdir)
        return false;
    size_t n = strlen(rdir);
    bool inside = strncmp(real, rdir, n) == 0 && (real[n] == '/' || (n == 1 && rdir[0] == '/'));
    free(rdir);
    return inside;
}

/* A plugin_dir others can write to lets them plant code in the daemon: refuse to scan it. */
static int check_dir(DIR *d, const char *dir)
{
    struct stat st;
    char file_kv[PATH_MAX + 32];
    log_format_kv(file_kv, sizeof file_kv, "plugin_dir", dir);
    if (fstat(dirfd(d), &st) != 0) {
        log_error(file_kv, "cannot stat plugin directory: %s", strerror(errno));
        return SF_EIO;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        log_error(file_kv,
                  "plugin directory refused: mode 0%03o is writable by group or others, so "
                  "anyone could plant a plugin in the daemon; expected no group/other write: "
                  "chmod go-w %s",
                  (unsigned)(st.st_mode & 07777), dir);
        return SF_EINVAL;
    }
    uid_t me = geteuid();
    if (st.st_uid != 0 && st.st_uid != me) {
        log_error(file_kv, "plugin directory refused: owned by uid %u, expected root or %u",
                  (unsigned)st.st_uid, (unsigned)me);
        return SF_EINVAL;
    }
    return SF_OK;
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
    int rc = check_dir(d, dir);
    if (rc != SF_OK)
        goto out;
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
    if (n > 1) /* qsort(NULL, 0, ...) is undefined: an empty directory has no array */
        qsort(names, n, sizeof *names, compare_names);
    int loaded = 0;
    for (size_t i = 0; i < n; i++)
        loaded += loader__consider(r, dir, names[i]);
    rc = loaded;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}
