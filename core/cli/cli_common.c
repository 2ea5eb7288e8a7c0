/*
 * cli_common.c - what several subcommands do alike: read -c CONFIG, load the config with its
 * diagnostics on stderr, and open its store saying why not. Calls config, diag, store. Used by the
 * cli_* subcommands.
 */
#include <getopt.h>
#include <stdio.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "config/diag.h"

int cli_config_opts(int argc, char **argv, bool stop_at_verb, void (*usage)(FILE *),
                    const char **path)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    int c;
    *path = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, stop_at_verb ? "+c:h" : "c:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            *path = optarg;
            continue;
        }
        usage(c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    return -1;
}

sigflow_config *cli_config_load(const char *path)
{
    diag d = {0};
    sigflow_config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    diag_clear(&d);
    return cfg;
}

store *cli_store_open(const sigflow_config *cfg, const char *cmd, unsigned flags)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    store *st = NULL;
    if (store_open_ex(cfg->state_dir, (store_durability)cfg->durability, flags, &st, err,
                      sizeof err) != SF_OK) {
        fprintf(stderr, "sigflow %s: %s\n", cmd, err);
        return NULL;
    }
    return st;
}
