/*
 * loader_init.c - calling into a plugin at load time without letting it hold or kill the
 * caller (docs/reliability.md, Plugins):
 *  - loader__run_init: `init` runs on a thread of its own with the crash context recorded,
 *    and the caller waits at most the registry's call timeout; a plugin whose init misses
 *    it is refused and its thread abandoned (the code stays mapped: nothing is dlclose'd);
 *  - loader__probe: for `sigflow check` and `sigflow plugins`, a child process dlopens the
 *    private copy, reads the descriptor and runs init; a crash or a hang there refuses the
 *    file with what happened, and the parent reads the descriptor without running init.
 * Calls pthread, fork, dlfcn, host (crash context). Called by loader.c only.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/monotime.h"
#include "plugin/host.h"
#include "plugin/loader_internal.h"

/* ---- init on a thread with a deadline --------------------------------------------------- */

typedef struct init_call {
    sf_status (*init)(const sf_host *host);
    const sf_host *host;
    char name[64], file[PATH_MAX];
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
    int refs; /* the caller and the thread: the last one out frees it */
    sf_status rc;
} init_call;

static void init_call_unref(init_call *ic)
{
    pthread_mutex_lock(&ic->lock);
    int left = --ic->refs;
    pthread_mutex_unlock(&ic->lock);
    if (left == 0) {
        pthread_mutex_destroy(&ic->lock);
        pthread_cond_destroy(&ic->done_cv);
        free(ic);
    }
}

static void *init_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-init"); /* top -H, perf: docs/operating.md */
    init_call *ic = arg;
    host_block_signals();
    host_call_note(ic->name, ic->file, "init");
    sf_status rc = ic->init(ic->host);
    host_call_clear();
    pthread_mutex_lock(&ic->lock);
    ic->rc = rc;
    ic->done = true;
    pthread_cond_signal(&ic->done_cv);
    pthread_mutex_unlock(&ic->lock);
    init_call_unref(ic);
    return NULL;
}

/* init started on its own thread; NULL (refusal written) when it could not start. */
static init_call *init_begin(plugin_registry *r, const load_ctx *c, const sf_plugin *d)
{
    init_call *ic = calloc(1, sizeof *ic);
    if (!ic) {
        loader__refuse(c, SF_ENOMEM, "memory", "cannot call init");
        return NULL;
    }
    ic->init = d->init;
    ic->host = r->host;
    snprintf(ic->name, sizeof ic->name, "%s", d->name);
    snprintf(ic->file, sizeof ic->file, "%s", c->path);
    ic->refs = 2;
    pthread_mutex_init(&ic->lock, NULL);
    monotime_cond_init(&ic->done_cv);
    pthread_t tid;
    if (pthread_create(&tid, NULL, init_main, ic) != 0) {
        ic->refs = 1;
        init_call_unref(ic);
        loader__refuse(c, SF_EIO, "init", "cannot start a thread for init");
        return NULL;
    }
    pthread_detach(tid);
    return ic;
}

/* Waits until init returned or `wait_ms` passed (0: only looks). True when it returned. */
static bool init_wait(init_call *ic, int64_t wait_ms, sf_status *rc)
{
    struct timespec dl = monotime_after(wait_ms > 0 ? wait_ms : 0);
    pthread_mutex_lock(&ic->lock);
    while (!ic->done && wait_ms > 0)
        if (pthread_cond_timedwait(&ic->done_cv, &ic->lock, &dl) == ETIMEDOUT)
            break;
    bool done = ic->done;
    *rc = ic->rc;
    pthread_mutex_unlock(&ic->lock);
    return done;
}

/* What init's outcome means for the load: SF_OK, or a refusal naming the plugin. */
static int init_verdict(plugin_registry *r, const load_ctx *c, bool done, sf_status rc)
{
    if (!done)
        return loader__refuse(c, SF_ETIMEOUT, "init",
                              "did not return within %lld ms, expected it to: plugin %s refused, "
                              "its thread is abandoned (fix the plugin, then restart sigflow)",
                              (long long)r->call_timeout_ms, c->name[0] ? c->name : "?");
    if (rc != SF_OK)
        return loader__refuse(c, rc < 0 ? rc : SF_EFATAL, "init",
                              "returned %d (%s), expected 0 (ok)", rc, loader__status_text(rc));
    return SF_OK;
}

int loader__run_init(plugin_registry *r, const load_ctx *c, const sf_plugin *d)
{
    init_call *ic = init_begin(r, c, d);
    if (!ic)
        return SF_EIO;
    sf_status rc;
    bool done = init_wait(ic, r->call_timeout_ms, &rc);
    init_call_unref(ic);
    return init_verdict(r, c, done, rc);
}

int loader__init_async(plugin_registry *r, const load_ctx *c, plugin_entry *e)
{
    int64_t started = monotime_ms();
    init_call *ic = init_begin(r, c, &e->pub.desc);
    if (!ic)
        return SF_EIO;
    sf_status rc;
    int64_t grace =
        r->call_timeout_ms < LOADER_INIT_GRACE_MS ? r->call_timeout_ms : LOADER_INIT_GRACE_MS;
    if (init_wait(ic, grace, &rc) || grace >= r->call_timeout_ms) {
        bool done = init_wait(ic, 0, &rc);
        init_call_unref(ic);
        return init_verdict(r, c, done, rc);
    }
    e->init = ic;
    e->init_deadline_ms = started + r->call_timeout_ms;
    return LOADER_PENDING;
}

int loader__init_check(plugin_registry *r, const load_ctx *c, plugin_entry *e)
{
    sf_status rc;
    bool done = init_wait(e->init, 0, &rc);
    if (!done && monotime_ms() < e->init_deadline_ms)
        return LOADER_PENDING;
    loader__init_forget(e);
    return init_verdict(r, c, done, rc);
}

void loader__init_forget(plugin_entry *e)
{
    if (e->init)
        init_call_unref(e->init);
    e->init = NULL;
}

/* ---- the whole load in a child process -------------------------------------------------- */

/* A child whose init returned status -N reports the verdict PROBE_EXIT_INIT + N. */
#define PROBE_EXIT_INIT 16

/* The child's steps, written to the pipe one byte each before the step runs. */
static const char *const probe_steps[] = {"dlopen", "entry", "init", "done"};

static void probe_child(plugin_registry *r, const load_ctx *c, const char *dlname, int out)
{
    /* A fault must end the child, whatever handler the parent had: that is the verdict. */
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        signal(fatal[i], SIG_DFL);
    char step = 0;
    (void)!write(out, &step, 1);
    void *dl = dlopen(dlname, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        _exit(0); /* the parent's dlopen says why */
    step = 1;
    (void)!write(out, &step, 1);
    void *sym = dlsym(dl, SF_ENTRY_SYMBOL);
    sf_entry_fn entry;
    memcpy(&entry, &sym, sizeof sym);
    const sf_plugin *d = sym ? entry(r->info) : NULL;
    if (!d || d->magic != SF_PLUGIN_MAGIC || d->struct_size < offsetof(sf_plugin, options))
        _exit(0); /* the parent's checks say why */
    step = 2;
    (void)!write(out, &step, 1);
    char verdict = 0;
    if (d->init) {
        char name[64];
        snprintf(name, sizeof name, "%.40s", d->name ? d->name : "?");
        host_call_note(name, c->path, "init");
        sf_status rc = d->init(r->host);
        if (rc != SF_OK)
            verdict =
                (char)(PROBE_EXIT_INIT + (rc < 0 && rc > -PROBE_EXIT_INIT ? -rc : -SF_EFATAL));
    }
    /* The verdict travels through the pipe: a memory checker may change the exit status. */
    char last[2] = {3, verdict};
    (void)!write(out, last, sizeof last);
    _exit(0);
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    case SIGKILL:
        return "SIGKILL";
    default:
        return "a signal";
    }
}

/* Reads step bytes (and, after step 3, the verdict) until the child closes the pipe or the
   deadline passes. */
static int probe_wait(int in, int64_t deadline_ms, int *step, int *verdict)
{
    for (;;) {
        int64_t left = deadline_ms - monotime_ms();
        if (left <= 0)
            return SF_ETIMEOUT;
        struct pollfd p = {.fd = in, .events = POLLIN};
        int n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return SF_EIO;
        if (n == 0)
            continue;
        char b;
        ssize_t k = read(in, &b, 1);
        if (k == 0)
            return SF_OK;
        if (k < 0 && errno != EINTR)
            return SF_EIO;
        if (k == 1 && *step == 3 && *verdict < 0)
            *verdict = b;
        else if (k == 1 && b >= 0 && b < 4)
            *step = b;
    }
}

int loader__probe(plugin_registry *r, const load_ctx *c, const char *dlname)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return loader__refuse(c, SF_EIO, "probe", "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return loader__refuse(c, SF_EIO, "probe", "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        probe_child(r, c, dlname, p[1]);
        _exit(0);
    }
    close(p[1]);
    int step = 0, verdict = -1;
    int rc = probe_wait(p[0], monotime_ms() + r->call_timeout_ms, &step, &verdict);
    close(p[0]);
    if (rc == SF_ETIMEOUT)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == SF_ETIMEOUT)
        return loader__refuse(c, SF_ETIMEOUT, probe_steps[step],
                              "did not return within %lld ms (tried in a child process): refused",
                              (long long)r->call_timeout_ms);
    if (step == 3 && verdict >= 0) { /* the child got through: its verdict, not its status */
        if (verdict == 0)
            return SF_OK;
        int st = -(verdict - PROBE_EXIT_INIT);
        return loader__refuse(c, st, "init", "returned %d (%s), expected 0 (ok)", st,
                              loader__status_text(st));
    }
    if (WIFSIGNALED(status))
        return loader__refuse(c, SF_EFATAL, probe_steps[step],
                              "crashed with %s (tried in a child process): refused",
                              signal_name(WTERMSIG(status)));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0) /* a sanitizer's report ends the child with a plain exit status */
        return loader__refuse(c, SF_EFATAL, probe_steps[step],
                              "ended with exit status %d (tried in a child process; a "
                              "sanitizer's report ends it so): refused",
                              code);
    return SF_OK;
}
