/*
 * cli_dlq_show.c - `sigflow dlq show ID` (a dead delivery: its alert and every attempt made
 * for it) and the check that a `dlq list TARGET` names a configured [delivery]. Calls
 * outbox (dlq list, attempts), timefmt, suggest. Called by cli_dlq.c.
 */
#include "cli/cli_dlq_show.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/timefmt.h"
#include "cli/cli.h"
#include "config/suggest.h"

#define DLQ_SHOW_SCAN 100000 /* dead deliveries looked through for an id */

static void print_attempt(void *ctx, const char *target, int64_t time_ms, const char *result,
                          const char *error)
{
    char when[40];
    time_format_rfc3339(time_ms, when, sizeof when);
    printf("  %s  %-10s %-6s %s\n", when, target, result, error ? error : "");
    (*(int *)ctx)++;
}

int dlq_show(outbox *ob, int64_t id)
{
    outbox_delivery *d = calloc(DLQ_SHOW_SCAN, sizeof *d);
    size_t n = 0;
    if (!d || outbox_dlq_list(ob, NULL, DLQ_SHOW_SCAN, d, &n) != SF_OK) {
        free(d);
        fprintf(stderr, "sigflow dlq: cannot read the dead-letter queue\n");
        return EXIT_INVALID;
    }
    int rc = EXIT_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (d[i].id != id)
            continue;
        char when[40];
        time_format_rfc3339(d[i].time_ms, when, sizeof when);
        printf("delivery %lld (dead)\n  target    %s\n  alert     %s\n  decision  %s\n"
               "  entity    %s\n  time      %s\n  attempts  %d\n  error     %s\n  alert JSON\n"
               "  %s\nattempts for alert %s (every target):\n",
               (long long)d[i].id, d[i].target, d[i].alert_id, d[i].decision, d[i].entity, when,
               d[i].attempts, d[i].last_error ? d[i].last_error : "", d[i].json ? d[i].json : "",
               d[i].alert_id);
        int shown = 0;
        rc = outbox_attempts(ob, d[i].alert_id, print_attempt, &shown) == SF_OK ? EXIT_OK
                                                                                : EXIT_INVALID;
        if (shown == 0)
            printf("  (none recorded)\n");
        break;
    }
    if (rc != EXIT_OK && n <= DLQ_SHOW_SCAN)
        fprintf(stderr, "sigflow dlq: no dead delivery %lld (`sigflow dlq -c FILE list`)\n",
                (long long)id);
    outbox_delivery_clear(d, n);
    free(d);
    return rc;
}

bool dlq_target_known(const sigflow_config *cfg, const char *target)
{
    const char *names[SIGFLOW_MAX_DLQ_TARGETS];
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_deliveries && n < SIGFLOW_MAX_DLQ_TARGETS; i++) {
        if (strcmp(cfg->deliveries[i].name, target) == 0)
            return true;
        names[n++] = cfg->deliveries[i].name;
    }
    char hint[96];
    fprintf(stderr, "sigflow dlq: no [delivery %s] in %s%s\n", target, cfg->path,
            suggest_hint(hint, sizeof hint, target, names, n));
    return false;
}
