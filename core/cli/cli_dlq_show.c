/*
 * cli_dlq_show.c - `sigflow dlq show ID` (a dead delivery: its alert and every attempt made
 * for it) and the check that a `dlq list TARGET` names a configured [delivery]. Calls
 * outbox (dlq list, attempts), timefmt, suggest. Called by cli_dlq.c.
 */
#include "cli/cli_dlq_show.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/term_escape.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "config/suggest.h"

#define DLQ_SHOW_SCAN 100000 /* dead deliveries looked through for an id */

static void print_attempt(void *ctx, const char *target, int64_t time_ms, const char *result,
                          const char *error)
{
    char when[40];
    time_format_rfc3339(time_ms, when, sizeof when);
    printf("  %s  ", when);
    term_fputs(target, stdout); /* the receiver's error text is its bytes (term_escape.h) */
    printf(" %-6s ", result);
    term_fputs(error ? error : "", stdout);
    putchar('\n');
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
        /* Every field a sender's bytes reach is escaped (term_escape.h): one line each. */
        const char *label[] = {"target    ", "alert     ", "decision  ", "entity    "};
        const char *value[] = {d[i].target, d[i].alert_id, d[i].decision, d[i].entity};
        printf("delivery %lld (dead)\n", (long long)d[i].id);
        for (size_t k = 0; k < 4; k++) {
            printf("  %s", label[k]);
            term_fputs(value[k] ? value[k] : "", stdout);
            putchar('\n');
        }
        printf("  time      %s\n  attempts  %d\n  error     ", when, d[i].attempts);
        term_fputs(d[i].last_error ? d[i].last_error : "", stdout);
        printf("\n  alert JSON\n  ");
        term_fputs_json(d[i].json ? d[i].json : "", stdout);
        printf("\nattempts for alert ");
        term_fputs(d[i].alert_id, stdout);
        printf(" (every target):\n");
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
