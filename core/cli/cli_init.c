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
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else {
            init_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        init_usage(stderr);
        return EXIT_USAGE;
    }
    diag d = {0};
    sigflow_config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    diag_clear(&d);
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
