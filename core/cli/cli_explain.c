/*
 * cli_explain.c - `sigflow explain -c FILE ENTITY`: why an entity alerted, who got it, and
 * whether it was right. The features, contributions and score are the latest stored alert's
 * (live scoring state stays inside the daemon's shards); the audit trail is every stored
 * alert of the entity with its deliveries (where, when, attempts, last error) and labels,
 * and the entity's missed labels. Reads the store in state_dir directly, whether the daemon
 * runs or not. Calls config, store, audit, labels, alert_codec. Dispatched by main.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/limits.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "config/config.h"
#include "model/alert_codec.h"
#include "store/audit.h"
#include "store/labels.h"
#include "store/store.h"

#define EXPLAIN_ALERTS 50

static void explain_usage(FILE *to)
{
    fputs("usage: sigflow explain -c FILE ENTITY\n"
          "Why ENTITY alerted, who got it, and whether it was right: each signal's x, weight,\n"
          "contribution and sentence with the score (from the latest alert), then the audit\n"
          "trail, newest first: alerts fired, their deliveries (target, state, when,\n"
          "attempts, last error) and labels (confirmed, false_positive; person or outcome),\n"
          "and missed labels. Reads the store in state_dir, whether the daemon runs or not.\n"
          "Exit 0, 1 when the entity is unknown or the store unreadable, 64 on a bad command\n"
          "line.\n",
          to);
}

static const char *ts(int64_t ms, char buf[32])
{
    time_format_rfc3339(ms, buf, 32);
    return buf;
}

static void print_explanation(const audit_alert *latest)
{
    char t[32];
    sf_alert *a = latest ? alert_decode(latest->json) : NULL;
    if (!a) {
        printf("score: no alert stored (the live score stays inside the running daemon)\n");
        return;
    }
    printf("score %.4f at %s (latest alert %s)\n", a->score, ts(a->time_ms, t), a->id);
    printf("  %-24s %6s %8s %12s  %s\n", "signal", "x", "weight", "contribution", "sentence");
    for (size_t i = 0; i < a->n_reasons; i++) {
        const alert_reason *r = &a->reasons[i];
        printf("  %-24s %6.3f %8.3f %12.3f  %s\n", r->signal, r->x, r->weight, r->contribution,
               r->text ? r->text : "");
    }
    alert_free(a);
}

static void print_label(const label_rec *l)
{
    char t[32];
    printf("    label %s by %s via %s at %s\n", label_kind_name(l->kind),
           label_source_name(l->source), l->via, ts(l->recorded_ms, t));
}

static void print_alert(const audit_alert *al)
{
    char t[32];
    sf_alert *a = alert_decode(al->json);
    if (a && a->kind == ALERT_SUPPRESSED) /* recorded, never sent: docs/scoring.md */
        printf("  %s suppressed alert %s score %.4f (%s)\n", ts(al->time_ms, t), al->alert_id,
               a->score, a->suppressed);
    else
        printf("  %s alert %s score %.4f\n", ts(al->time_ms, t), al->alert_id, a ? a->score : 0.0);
    alert_free(a);
    for (size_t i = 0; i < al->n_deliveries; i++) {
        const audit_delivery *d = &al->deliveries[i];
        printf("    delivery %s: %s %s %s, %d attempt%s%s%s\n", d->target,
               audit_state_name(d->state), d->state == OUTBOX_OK ? "at" : "since",
               ts(d->updated_ms, t), d->attempts, d->attempts == 1 ? "" : "s",
               d->last_error ? ", last error: " : "", d->last_error ? d->last_error : "");
    }
    if (al->has_label)
        print_label(&al->label);
    else
        printf("    no label yet\n");
}

static void print_missed(void *ctx, const label_rec *l)
{
    char t[32], r[32];
    if (l->kind != LABEL_MISSED)
        return;
    (*(int *)ctx)++;
    printf("  %s label missed by %s via %s at %s\n", ts(l->time_ms, t),
           label_source_name(l->source), l->via, ts(l->recorded_ms, r));
}

static int explain_entity(store *st, const char *entity)
{
    bool known = false;
    if (labels_entity_known(st, entity, &known) != SF_OK) {
        fprintf(stderr, "sigflow explain: cannot read the store\n");
        return EXIT_INVALID;
    }
    if (!known) {
        fprintf(stderr, "sigflow explain: no entity `%s` in the store (no event, alert or label)\n",
                entity);
        return EXIT_INVALID;
    }
    audit_filter f = {.entity = entity,
                      .since_ms = INT64_MIN,
                      .label = AUDIT_LABEL_ANY,
                      .limit = EXPLAIN_ALERTS,
                      .newest_first = true};
    audit_alert *al = NULL;
    size_t n = 0;
    bool more = false;
    if (audit_alerts(st, &f, &al, &n, &more) != SF_OK) {
        fprintf(stderr, "sigflow explain: cannot read the store\n");
        return EXIT_INVALID;
    }
    printf("entity %s\n", entity);
    print_explanation(n ? &al[0] : NULL);
    printf("audit trail (newest first): %zu alert%s%s\n", n, n == 1 ? "" : "s",
           more ? " shown, older ones left out" : "");
    for (size_t i = 0; i < n; i++)
        print_alert(&al[i]);
    audit_alerts_free(al, n);
    int missed = 0;
    if (labels_each(st, entity, INT64_MIN, print_missed, &missed) != SF_OK) {
        fprintf(stderr, "sigflow explain: cannot read the labels\n");
        return EXIT_INVALID;
    }
    return EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *path = NULL;
    int c;
    optind = 1;
    log_set_level(SF_LOG_WARN);
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'h') {
            explain_usage(stdout);
            return EXIT_OK;
        } else {
            explain_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind != argc - 1) {
        explain_usage(stderr);
        return EXIT_USAGE;
    }
    sigflow_config *cfg = cli_config_load(path);
    if (!cfg)
        return EXIT_INVALID;
    int rc = EXIT_INVALID;
    store *st = cli_store_open(cfg, "explain", STORE_OPEN_CREATE);
    if (st)
        rc = explain_entity(st, argv[optind]);
    store_close(st);
    config_free(cfg);
    return rc;
}
