/*
 * cli_init.c - `sigflow init -c FILE`: the explicit first start of a store. Creates
 * state_dir (0700) and sigflow.db (0600) with the current schema. An existing store is
 * checked (quick_check, the high-water mark) and left as it is. Why a first start must be
 * explicit: docs/reliability.md, Storage. Calls config, store. Called by main.c.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

static void init_usage(FILE *to)
{
    fputs("usage: sigflow init -c FILE\n"
          "Create the store of FILE's [sigflow] state_dir for a first start. `sigflow run`\n"
          "refuses a missing or empty store, so that a deleted or truncated database is\n"
          "never silently replaced by an empty one. An existing store is checked and kept.\n",
          to);
}

int cmd_init(int argc, char **argv)
{
    const char *path;
    int opts = cli_config_opts(argc, argv, false, init_usage, &path);
    if (opts >= 0)
        return opts;
    if (!path || optind != argc) {
        init_usage(stderr);
        return EXIT_USAGE;
    }
    sigflow_config *cfg = cli_config_load(path);
    if (!cfg)
        return EXIT_INVALID;
    char db[PATH_MAX], err[SIGFLOW_MAX_ERROR_LEN];
    snprintf(db, sizeof db, "%s/%s", cfg->state_dir, STORE_FILE_NAME);
    struct stat st;
    bool existed = stat(db, &st) == 0;
    store *s = NULL;
    int rc = EXIT_OK;
    if (store_open_ex(cfg->state_dir, (store_durability)cfg->durability,
                      STORE_OPEN_CREATE | STORE_OPEN_CHECK, &s, err, sizeof err) != SF_OK) {
        fprintf(stderr, "sigflow init: %s\n", err);
        rc = EXIT_INVALID;
    } else {
        printf("%s: %s\n", db, existed ? "already initialised, checked: ok" : "created");
    }
    store_close(s);
    config_free(cfg);
    return rc;
}
