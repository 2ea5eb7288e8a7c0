/*
 * cli_common.c - what several subcommands do alike: load the config with its diagnostics on
 * stderr, and open its store saying why not. Calls config, diag, store. Used by the cli_*
 * subcommands.
 */
#include <stdio.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "config/diag.h"

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
