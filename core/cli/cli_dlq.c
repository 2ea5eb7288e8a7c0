#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_dlq_show.h"
#include "config/config.h"
#include "base/log.h"
#include "store/outbox.h"
#include "store/store_counter.h"
#include "base/limits.h"
#include "store/store.h"
#include "base/term_escape.h"
#include "base/timefmt.h"

#define DLQ_LIST_MAX 1000

static void dlq_usage(FILE *to)
{
    fputs("usage: sigflow dlq -c FILE list [TARGET]\n"
          "       sigflow dlq -c FILE show ID\n"
          "       sigflow dlq -c FILE retry ID|--all\n"
          "       sigflow dlq -c FILE drop ID\n"
          "The dead-letter queue: deliveries that failed permanently or ran out of attempts.\n"
          "`list` prints one per line (id, target, alert, entity, attempts, last error),\n"
          "then the deliveries held for delivery hours or a digest (id, target, alert,\n"
          "entity, held, until when and why);\n"
          "`show` prints one dead delivery: its alert (JSON) and every attempt made for it;\n"
          "`retry` makes them pending again with fresh attempts (a running daemon picks them\n"
          "up within a second); `drop` removes one (its history stays for the audit trail).\n"
          "Works on the store in state_dir, whether the daemon runs or not.\n"
          "Exit 0, 1 on an error or an unknown ID, 64 on a bad command line.\n",
          to);
}

/*
 * One row of `dlq list`: the id, then each field tab-separated and escaped (term_escape.h):
 * an entity, an alert id or a receiver's error text are a sender's bytes, and a tab or a
 * newline in them must not shift the columns or forge a row.
 */
static void dlq_print_row(int64_t id, const char *const *f, size_t n)
{
    printf("%lld", (long long)id);
    for (size_t k = 0; k < n; k++) {
        putchar('\t');
        term_fputs(f[k] ? f[k] : "", stdout);
    }
    putchar('\n');
}

static int dlq_list(outbox *ob, const char *target)
{
    outbox_delivery *d = calloc(DLQ_LIST_MAX, sizeof *d);
    size_t n = 0;
    if (!d || outbox_dlq_list(ob, target, DLQ_LIST_MAX, d, &n) != SF_OK) {
        free(d);
        fprintf(stderr, "sigflow dlq: cannot read the dead-letter queue\n");
        return EXIT_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        char when[32], attempts[32];
        time_format_rfc3339(d[i].time_ms, when, sizeof when);
        snprintf(attempts, sizeof attempts, "attempts=%d", d[i].attempts);
        const char *f[] = {d[i].target, d[i].alert_id, d[i].entity,
                           when,        attempts,      d[i].last_error};
        dlq_print_row(d[i].id, f, sizeof f / sizeof *f);
    }
    size_t dead = n;
    outbox_delivery_clear(d, n);
    if (outbox_held_list(ob, target, DLQ_LIST_MAX, d, &n) != SF_OK) {
        free(d);
        fprintf(stderr, "sigflow dlq: cannot read the held deliveries\n");
        return EXIT_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        char when[32], until[40];
        time_format_rfc3339(d[i].time_ms, when, sizeof when);
        snprintf(until, sizeof until, "until=");
        time_format_rfc3339(d[i].next_attempt_ms, until + 6, sizeof until - 6);
        const char *f[] = {d[i].target, d[i].alert_id, d[i].entity,    when,
                           "held",      until,         d[i].last_error};
        dlq_print_row(d[i].id, f, sizeof f / sizeof *f);
    }
    fprintf(stderr, "%zu dead deliver%s, %zu held\n", dead, dead == 1 ? "y" : "ies", n);
    outbox_delivery_clear(d, n);
    free(d);
    return EXIT_OK;
}

static bool parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    *id = v;
    return *s && !*end && v > 0;
}

/* sigflow_manual_interventions_total (docs/admin-api.md): durable, read by the daemon. */
static void count_intervention(store *st, int64_t n)
{
    if (n > 0 && store_counter_add(st, "interventions", "dead_letters", n) != SF_OK)
        fprintf(stderr, "sigflow dlq: done, but not counted as a manual intervention\n");
}

static int dlq_run(const sigflow_config *cfg, store *st, outbox *ob, int argc, char **argv)
{
    const char *verb = argv[0];
    int64_t id = 0;
    if (strcmp(verb, "list") == 0 && argc <= 2) {
        if (argc == 2 && !dlq_target_known(cfg, argv[1]))
            return EXIT_INVALID;
        return dlq_list(ob, argc == 2 ? argv[1] : NULL);
    }
    if (strcmp(verb, "show") == 0 && argc == 2 && parse_id(argv[1], &id))
        return dlq_show(ob, id);
    if (strcmp(verb, "retry") == 0 && argc == 2) {
        if (strcmp(argv[1], "--all") != 0 && !parse_id(argv[1], &id)) {
            dlq_usage(stderr);
            return EXIT_USAGE;
        }
        size_t n = 0;
        if (outbox_dlq_retry(ob, id, &n) != SF_OK || (id && n == 0)) {
            fprintf(stderr, "sigflow dlq: no dead delivery %s\n", argv[1]);
            return EXIT_INVALID;
        }
        printf("%zu deliver%s pending again\n", n, n == 1 ? "y" : "ies");
        count_intervention(st, (int64_t)n);
        return EXIT_OK;
    }
    if (strcmp(verb, "drop") == 0 && argc == 2 && parse_id(argv[1], &id)) {
        if (outbox_dlq_drop(ob, id) != SF_OK) {
            fprintf(stderr, "sigflow dlq: no dead delivery %s\n", argv[1]);
            return EXIT_INVALID;
        }
        printf("dropped %lld\n", (long long)id);
        count_intervention(st, 1);
        return EXIT_OK;
    }
    dlq_usage(stderr);
    return EXIT_USAGE;
}

int cmd_dlq(int argc, char **argv)
{
    const char *path;
    log_set_level(SF_LOG_WARN);
    /* stop at the verb, so `retry --all` is the verb's argument, not ours */
    int opts = cli_config_opts(argc, argv, true, dlq_usage, &path);
    if (opts >= 0)
        return opts;
    if (!path || optind >= argc) {
        dlq_usage(stderr);
        return EXIT_USAGE;
    }
    sigflow_config *cfg = cli_config_load(path);
    if (!cfg)
        return EXIT_INVALID;
    outbox *ob = NULL;
    int rc = EXIT_INVALID;
    /* An existing store only: a dlq command must not create an empty one. */
    store *st = cli_store_open(cfg, "dlq", 0);
    if (st && outbox_open_ex(st, false, &ob) == SF_OK)
        rc = dlq_run(cfg, st, ob, argc - optind, argv + optind);
    outbox_close(ob);
    store_close(st);
    config_free(cfg);
    return rc;
}
