/*
 * cli_journal.c - `sigflow journal`: prints the journaled events (what sigflow actually
 * received) as canonical NDJSON, one {"entity","type","time","value",...attrs} object per
 * line in journal order, so the output replays as it was scored (`sigflow replay -c CONF`).
 * Reads through journal_export's read-only connection: works while the daemon runs.
 * Calls config (state_dir), journal_export, jsonw, timefmt. Dispatched by main.c.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/diag.h"
#include "ingest/jsonw.h"
#include "store/journal_export.h"

/* The longest line: entity, type, time, value and attrs, each escaped at worst 6x. */
#define JOURNAL_LINE_MAX                                                                           \
    (6 * (SIGFLOW_MAX_ENTITY_LEN + SIGFLOW_MAX_TYPE_LEN) + SIGFLOW_MAX_ATTRS_LEN + 256)

static void journal_usage(FILE *to)
{
    fputs("usage: sigflow journal -c FILE [--since TIME] [--connector NAME]\n"
          "Prints the events sigflow journaled (what it received, after mapping) as canonical\n"
          "NDJSON, one {\"entity\",\"type\",\"time\",\"value\",...attrs} object per line, in\n"
          "journal order: `sigflow replay -c FILE` scores the output as the daemon did.\n"
          "--since TIME: only events journaled (arrived) at or after TIME (RFC 3339 or epoch\n"
          "ms). --connector NAME: only events that came through [connector NAME].\n"
          "Reads the store in state_dir read-only: works while the daemon runs, and shows\n"
          "what was committed when it started. Events retired by journal_retention are gone.\n"
          "Exit 0, 1 when the store cannot be read, 64 on a bad command line.\n",
          to);
}

typedef struct journal_cli {
    const char *config;
    journal_filter filter;
    char *line;
    uint64_t printed;
    int io_error;
} journal_cli;

/* Shortest text that reads back as the same double. */
static void format_number(double v, char *buf, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* One canonical line; attrs (a JSON object text) are merged in at the top level. */
static size_t journal_line(char *buf, const sf_event *ev)
{
    jsonw w;
    char num[40], when[32];
    jsonw_init(&w, buf, JOURNAL_LINE_MAX);
    jsonw_raw(&w, "{", 1);
    jsonw_key(&w, "entity", 6);
    jsonw_string(&w, ev->entity, strlen(ev->entity));
    jsonw_raw(&w, ",", 1);
    jsonw_key(&w, "type", 4);
    jsonw_string(&w, ev->type, strlen(ev->type));
    jsonw_raw(&w, ",", 1);
    jsonw_key(&w, "time", 4);
    time_format_rfc3339(ev->time_ms, when, sizeof when);
    jsonw_string(&w, when, strlen(when));
    if (ev->has_value && isfinite(ev->value)) {
        jsonw_raw(&w, ",", 1);
        jsonw_key(&w, "value", 5);
        format_number(ev->value, num, sizeof num);
        jsonw_raw(&w, num, strlen(num));
    }
    /* "{...}" with at least one member: its inside after our fields. */
    if (ev->attrs && ev->attrs_len > 2 && ev->attrs[0] == '{') {
        jsonw_raw(&w, ",", 1);
        jsonw_raw(&w, ev->attrs + 1, ev->attrs_len - 2);
    }
    jsonw_raw(&w, "}\n", 2);
    return jsonw_end(&w) ? w.len : 0;
}

static sf_status print_event(void *ctx, uint64_t seq, const sf_event *ev, const char *connector)
{
    (void)connector;
    journal_cli *c = ctx;
    size_t n = journal_line(c->line, ev);
    if (n == 0) {
        fprintf(stderr, "sigflow journal: event %llu is longer than %d bytes: skipped\n",
                (unsigned long long)seq, JOURNAL_LINE_MAX);
        return SF_OK;
    }
    if (fwrite(c->line, 1, n, stdout) != n) {
        c->io_error = 1;
        return SF_EIO;
    }
    c->printed++;
    return SF_OK;
}

static int journal_opts(int argc, char **argv, journal_cli *c)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"since", required_argument, NULL, 's'},
                                          {"connector", required_argument, NULL, 'C'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
        if (ch == 'c') {
            c->config = optarg;
        } else if (ch == 's') {
            if (time_parse(optarg, strlen(optarg), &c->filter.since_ms) != 0) {
                fprintf(stderr, "sigflow journal: --since: not a time: %s\n", optarg);
                return EXIT_USAGE;
            }
            c->filter.has_since = true;
        } else if (ch == 'C') {
            c->filter.connector = optarg;
        } else if (ch == 'h') {
            journal_usage(stdout);
            return -1;
        } else {
            journal_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!c->config || optind != argc) {
        journal_usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_journal(int argc, char **argv)
{
    journal_cli c = {0};
    int rc = journal_opts(argc, argv, &c);
    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    diag d = {0};
    sigflow_config *cfg = config_load(c.config, &d);
    if (!cfg) {
        diag_print(&d, stderr);
        diag_clear(&d);
        return EXIT_INVALID;
    }
    if (c.filter.connector && !config_find_instance(cfg, c.filter.connector))
        fprintf(stderr,
                "sigflow journal: note: no [connector %s] in %s (showing what it journaled "
                "before)\n",
                c.filter.connector, c.config);
    char err[SIGFLOW_MAX_ERROR_LEN];
    rc = EXIT_INVALID;
    c.line = malloc(JOURNAL_LINE_MAX + 1);
    if (!c.line) {
        fprintf(stderr, "sigflow journal: out of memory\n");
        goto done;
    }
    sf_status st = journal_export(cfg->state_dir, &c.filter, print_event, &c, err, sizeof err);
    if (fflush(stdout) != 0 || c.io_error)
        fprintf(stderr, "sigflow journal: writing the events failed\n");
    else if (st != SF_OK)
        fprintf(stderr, "sigflow journal: %s\n", err);
    else
        rc = EXIT_OK;
    fprintf(stderr, "%llu event%s\n", (unsigned long long)c.printed, c.printed == 1 ? "" : "s");
done:
    free(c.line);
    config_free(cfg);
    diag_clear(&d);
    return rc;
}
