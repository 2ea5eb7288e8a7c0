/*
 * runtime_refusal.c - an instance whose plugin is loaded but whose section it refuses
 * (an option value, a mapping) is bound again at every supervise tick (500 ms), so that a
 * SIGHUP or a new plugin file can fix it: its refusal is logged when it first appears and
 * when it changes, never at every tick, and the count of ticks that met it is said when it
 * changes or the instance binds (docs/reliability.md, Plugins). Owns the two refusal fields
 * of rt_inst. Calls log. Called by runtime__supervise (runtime_instances.c).
 */
#include <inttypes.h>
#include <string.h>

#include "base/log.h"
#include "config/diag.h"
#include "daemon/runtime_internal.h"

/* FNV-1a over every message, each ended by a newline: equal refusals, equal hashes. */
static uint64_t refusal_hash(const diag *d)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < d->n; i++) {
        for (const char *p = d->msgs[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        h = (h ^ '\n') * 0x100000001b3ull;
    }
    return h ? h : 1; /* 0 means "none logged" */
}

void runtime__refusal_report(rt_inst *ri, const diag *d)
{
    if (!d || d->n == 0)
        return;
    uint64_t h = refusal_hash(d);
    if (h == ri->refusal_hash) {
        ri->refusal_seen++;
        return;
    }
    if (ri->refusal_hash)
        log_info("component=runtime",
                 "instance=%s: its section was refused %" PRIu64 " times as logged before; "
                 "now refused for another reason",
                 ri->si->cfg->name, ri->refusal_seen);
    diag_log(d);
    log_warn("component=runtime",
             "instance=%s is not started until its section is fixed (SIGHUP reloads it); "
             "this refusal is logged again only if it changes",
             ri->si->cfg->name);
    ri->refusal_hash = h;
    ri->refusal_seen = 1;
}

void runtime__refusal_clear(rt_inst *ri)
{
    if (!ri->refusal_hash)
        return;
    log_info("component=runtime",
             "instance=%s: its section is accepted now (refused %" PRIu64 " times before)",
             ri->si->cfg->name, ri->refusal_seen);
    ri->refusal_hash = 0;
    ri->refusal_seen = 0;
}
