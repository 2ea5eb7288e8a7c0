/*
 * host_call.c - calls into plugins: which plugin callback each thread is in (for the crash
 * handler and host->log outside an instance) and calls with a deadline. See host_call.h.
 */
#include "plugin/host_call.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/monotime.h"

/* ---- crash containment: which plugin callback is this thread in ---------------------------- */

static __thread char tl_call[PATH_MAX + 200];
static __thread char tl_plugin[PATH_MAX];
static __thread char tl_log_ctx[SIGFLOW_MAX_NAME_LEN + 16];
static __thread const char *tl_callback; /* a literal */
static __thread char tl_alert[160];      /* the alert being delivered, for crash records */
/* An instance call (host_call_enter, once per request): only pointers are kept, to the
   instance's ctx and the plugin's name, which outlive the call; the text is put together only
   when someone asks (host_current_call), not on every call. */
static __thread const char *tl_enter_ctx, *tl_enter_plugin;

void host_call_enter(const char *ctx, const char *plugin, const char *callback)
{
    tl_callback = callback;
    tl_enter_ctx = ctx;
    tl_enter_plugin = plugin;
}

void host_call_leave(void)
{
    tl_callback = NULL;
    tl_enter_ctx = NULL;
    tl_enter_plugin = NULL;
    tl_call[0] = '\0';
    tl_plugin[0] = '\0';
}

/* s appended at *n into tl_call, cut to fit (async-signal-safe: no stdio). */
static void call_put(size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (len > sizeof tl_call - 1 - *n)
        len = sizeof tl_call - 1 - *n;
    memcpy(tl_call + *n, s, len);
    *n += len;
    tl_call[*n] = '\0';
}

void host_call_note(const char *plugin, const char *file, const char *what)
{
    snprintf(tl_plugin, sizeof tl_plugin, "%s", plugin);
    snprintf(tl_call, sizeof tl_call, "plugin=%s plugin_file=%s callback=%s", plugin, file, what);
    snprintf(tl_log_ctx, sizeof tl_log_ctx, "plugin=%s", plugin);
}

void host_call_clear(void)
{
    host_call_leave();
    tl_log_ctx[0] = '\0';
}

void host_block_signals(void)
{
    sigset_t set;
    sigfillset(&set);
    /* A fault blocked in a thread kills the process before the crash handler runs. */
    int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++)
        sigdelset(&set, faults[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

const char *host_current_call(void)
{
    if (tl_enter_ctx && tl_callback) { /* "plugin=P instance=I callback=C" */
        size_t n = 0;
        call_put(&n, tl_enter_ctx);
        call_put(&n, " callback=");
        call_put(&n, tl_callback);
    }
    return tl_call[0] ? tl_call : NULL;
}
const char *host_current_callback(void)
{
    return tl_callback;
}

const char *host_current_alert(void)
{
    return tl_callback && tl_alert[0] ? tl_alert : NULL;
}

void host_note_alert(const char *alert_id)
{
    snprintf(tl_alert, sizeof tl_alert, "%s", alert_id ? alert_id : "");
}
const char *host_current_plugin(void)
{
    if (tl_enter_plugin)
        return tl_enter_plugin;
    return tl_plugin[0] ? tl_plugin : NULL;
}

const char *host_call_log_ctx(void)
{
    return tl_log_ctx[0] ? tl_log_ctx : NULL;
}

/* ---- calls with a deadline ---------------------------------------------------------------- */

struct host_job {
    host_job_fn fn;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
    int refs; /* the caller and the thread: the last one out frees it */
    sf_status rc;
};
typedef struct host_job timed_job;

static void timed_job_unref(timed_job *j)
{
    pthread_mutex_lock(&j->lock);
    int left = --j->refs;
    pthread_mutex_unlock(&j->lock);
    if (left == 0) {
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->done_cv);
        free(j);
    }
}

static void *timed_main(void *arg)
{
    pthread_setname_np(pthread_self(), "sf-call"); /* top -H, perf: docs/operating.md */
    timed_job *j = arg;
    host_block_signals();
    sf_status rc = j->fn(j->arg);
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->done = true;
    pthread_cond_signal(&j->done_cv);
    pthread_mutex_unlock(&j->lock);
    timed_job_unref(j);
    return NULL;
}

host_job *host_job_start(host_job_fn fn, void *arg)
{
    timed_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->fn = fn;
    j->arg = arg;
    j->refs = 2;
    pthread_mutex_init(&j->lock, NULL);
    monotime_cond_init(&j->done_cv);
    pthread_t tid;
    if (pthread_create(&tid, NULL, timed_main, j) != 0) {
        j->refs = 1;
        timed_job_unref(j);
        return NULL;
    }
    pthread_detach(tid);
    return j;
}

bool host_job_wait(host_job *j, int64_t wait_ms, sf_status *rc)
{
    struct timespec dl = monotime_after(wait_ms > 0 ? wait_ms : 0);
    pthread_mutex_lock(&j->lock);
    while (!j->done && wait_ms > 0)
        if (pthread_cond_timedwait(&j->done_cv, &j->lock, &dl) == ETIMEDOUT)
            break;
    bool done = j->done;
    if (done && rc)
        *rc = j->rc;
    pthread_mutex_unlock(&j->lock);
    return done;
}

void host_job_release(host_job *j)
{
    if (j)
        timed_job_unref(j);
}

sf_status host_run_timed(host_job_fn fn, void *arg, int64_t timeout_ms)
{
    host_job *j = host_job_start(fn, arg);
    if (!j)
        return SF_EIO;
    sf_status rc = SF_ETIMEOUT;
    host_job_wait(j, timeout_ms > 0 ? timeout_ms : 1, &rc);
    host_job_release(j);
    return rc;
}
