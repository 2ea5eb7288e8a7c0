/*
 * main.c - the sigflow command line: dispatches subcommands. The only place that exits.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "config/suggest.h"
#include "replay/backtest.h"
#include "replay/replay.h"
#include "daemon/runtime.h"
#include "sigflow.h"

static void usage(FILE *to)
{
    fputs("usage: sigflow COMMAND [OPTIONS]\n"
          "\n"
          "  init -c FILE       create the store (state_dir) for a first start\n"
          "  run -c FILE        run the daemon (SIGHUP reloads, SIGTERM drains and stops)\n"
          "  check -c FILE      validate a configuration and the plugin options it sets\n"
          "  plugins [NAME]     list plugins, or show one plugin's options\n"
          "  replay -c FILE     run events through the decision in event time, print alerts\n"
          "  dlq -c FILE VERB   list, retry or drop dead-lettered deliveries\n"
          "  journal -c FILE    print the journaled events as NDJSON (works while it runs)\n"
          "  feedback -c FILE   label an alert right or wrong, or an entity missed\n"
          "  explain -c FILE ENTITY   why an entity alerted, who got it, was it right\n"
          "  backtest -c FILE   replay history through a config: precision, recall, lead time\n"
          "  model -c FILE      the model now: weights vs configured, threshold, history, lift\n"
          "  version            print sigflow's version and the plugin ABI it speaks\n"
          "\n"
          "`sigflow COMMAND --help` explains each. Exit codes: 0 ok, 1 invalid configuration\n"
          "or failure, 2 bad input (replay --strict, or every line bad), 64 bad command line.\n",
          to);
}

static void run_usage(FILE *to)
{
    fputs("usage: sigflow run -c FILE [--init] [--log-format logfmt|json]\n"
          "Run the daemon on FILE until SIGTERM or SIGINT (which drain queued events and\n"
          "deliveries, then stop). SIGHUP reloads FILE: it is validated whole first and only\n"
          "changed instances restart. Plugins dropped into plugin_dir are loaded live.\n"
          "Logs go to stderr as key=value lines (logfmt), or one JSON object a line with\n"
          "--log-format json or `log_format = json` (the option wins, and covers the\n"
          "config's own errors). Exit 0 after a clean stop, 1 on failure.\n"
          "A missing or empty store is refused (it was deleted, or this is a first start):\n"
          "--init creates it when missing, as `sigflow init` does.\n",
          to);
}

static int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"init", no_argument, NULL, 'i'},
                                             {"log-format", required_argument, NULL, 'L'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    const char *path = NULL;
    bool init = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'i')
            init = true;
        else if (c == 'L' && log_style_parse(optarg) >= 0)
            log_set_style((log_style)log_style_parse(optarg), 1);
        else if (c == 'L') {
            fprintf(stderr, "run: --log-format: expected logfmt or json, got %s\n", optarg);
            return EXIT_USAGE;
        } else if (c == 'h') {
            run_usage(stdout);
            return EXIT_OK;
        } else {
            run_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        run_usage(stderr);
        return EXIT_USAGE;
    }
    return runtime_run(path, init);
}

/*
 * " (did you mean `check`?)" for a slip such as `chek`, or "". The candidates are the
 * commands usage() lists (lines "  NAME ..."), so a command added there is offered too.
 */
static const char *command_hint(const char *cmd, char *buf, size_t len)
{
    char *text = NULL, *names[32];
    size_t size = 0, n = 0;
    FILE *f = open_memstream(&text, &size);
    buf[0] = '\0';
    if (!f)
        return buf;
    usage(f);
    if (fclose(f) != 0 || !text)
        return buf;
    for (char *line = strtok(text, "\n"); line && n < 32; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  ", 2) != 0 || line[2] < 'a' || line[2] > 'z')
            continue;
        line[2 + strcspn(line + 2, " ")] = '\0';
        names[n++] = line + 2;
    }
    suggest_hint(buf, len, cmd, (const char *const *)names, n);
    free(text);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("sigflow %s\nplugin-abi %d.%d\n", SIGFLOW_VERSION, SF_ABI_MAJOR, SF_ABI_MINOR);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "plugins") == 0)
        return cmd_plugins(argc - 1, argv + 1);
    if (strcmp(cmd, "dlq") == 0)
        return cmd_dlq(argc - 1, argv + 1);
    if (strcmp(cmd, "journal") == 0)
        return cmd_journal(argc - 1, argv + 1);
    if (strcmp(cmd, "feedback") == 0)
        return cmd_feedback(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    if (strcmp(cmd, "backtest") == 0)
        return backtest_main(argc - 1, argv + 1);
    if (strcmp(cmd, "model") == 0)
        return cmd_model(argc - 1, argv + 1);
    char hint[96];
    fprintf(stderr, "sigflow: unknown command `%s`%s\n\n", cmd,
            command_hint(cmd, hint, sizeof hint));
    usage(stderr);
    return EXIT_USAGE;
}
