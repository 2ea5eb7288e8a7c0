/*
 * runtime_ready.c - what /readyz says about the daemon's own parts (docs/reliability.md,
 * Readiness): the journal's commits failing, the outbox writer retrying a failed write,
 * state_dir's file system full, the ingest listener not bound, the store's WAL out of its
 * bounds. Checked by the main loop every turn (at most 500 ms apart); a reason is set when
 * the trouble starts and cleared when it ends, and each change is logged once ("not ready:
 * ...", "ready again: ..."), so a full disk gives two lines here, not one per failed write.
 * Owns the previous journal counters (main thread only). Calls base/readiness,
 * journal_get_stats, outbox_writer_failing, store_wal_trouble, statvfs. Called by runtime.c
 * (main loop) and runtime_instances.c (ingest bind).
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/readiness.h"
#include "daemon/runtime_internal.h"
#include "store/outbox_writer.h"
#include "store/store_checkpoint.h"

/* Below this many free bytes state_dir's file system counts as full: SQLite needs room for
   a WAL frame and a journal page, and one request's batch is far more than a page. */
#define READY_DISK_FREE_MIN (1024 * 1024)

static void component(const char *name, const char *reason)
{
    if (readiness_set_component(name, reason) != 1)
        return;
    if (reason)
        log_error("component=runtime", "not ready: %s: %s", name, reason);
    else
        log_info("component=runtime", "ready again: %s", name);
}

void runtime__ready_ingest(const char *addr, const char *err)
{
    char why[SIGFLOW_MAX_ERROR_LEN + 200];
    if (err)
        snprintf(why, sizeof why,
                 "cannot listen on %s: %s (the request connectors wait; retried with backoff)",
                 addr, err);
    component("ingest", err ? why : NULL);
}

/* The journal: failing once an event's write failed and no commit has succeeded since. */
static void journal_check(runtime *rt)
{
    journal_stats js;
    journal_get_stats(rt->journal, &js);
    struct rt_ready_journal *r = &rt->ready_journal;
    if (js.failed > r->failed) {
        if (!r->failing)
            r->failed_before = r->failed;
        r->failing = true;
    } else if (js.commits > r->commits) {
        r->failing = false;
    }
    r->failed = js.failed;
    r->commits = js.commits;
    if (!r->failing) {
        component("journal", NULL);
        return;
    }
    char why[200];
    snprintf(why, sizeof why,
             "commits are failing: %" PRIu64 " events not stored since the last one that was; "
             "senders are answered 503 (the log has the error)",
             js.failed - r->failed_before);
    component("journal", why);
}

static void disk_check(runtime *rt)
{
    const char *dir = rt->site->cfg->state_dir;
    struct statvfs vs;
    if (statvfs(dir, &vs) != 0)
        return; /* not knowable: say nothing rather than guess */
    uint64_t free_bytes = (uint64_t)vs.f_bavail * vs.f_frsize;
    char why[SIGFLOW_MAX_ERROR_LEN + 100];
    snprintf(why, sizeof why, "the file system of %s is full (%" PRIu64 " bytes free)", dir,
             free_bytes);
    component("state_dir", free_bytes < READY_DISK_FREE_MIN ? why : NULL);
}

/* The ingest reason ends with a bound listener, or with no request connector left. */
static void ingest_check(runtime *rt)
{
    bool wants = false;
    for (size_t i = 0; i < rt->n_insts; i++) {
        const site_instance *si = rt->insts[i]->si;
        wants |= !rt->insts[i]->disabled && si->cfg->kind == SF_KIND_CONNECTOR && si->plugin &&
                 si->plugin->desc.request;
    }
    if (rt->http || !wants)
        component("ingest", NULL);
}

void runtime__ready_check(runtime *rt)
{
    journal_check(rt);
    ingest_check(rt);
    component("outbox", outbox_writer_failing(rt->writer)
                            ? "alerts cannot be stored: the write is retried and scoring waits "
                              "(the log has the error)"
                            : NULL);
    disk_check(rt);
    char why[400];
    component("wal", store_wal_trouble(rt->st, why, sizeof why) ? why : NULL);
}
