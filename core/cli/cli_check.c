#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "config/config.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "base/log.h"
#include "plugin/site.h"

static void check_usage(FILE *to)
{
    fputs("usage: sigflow check -c FILE\n"
          "Validate a configuration the way `run` would: every section and key, and every\n"
          "[connector]/[delivery] against its plugin's declared options (the plugins in\n"
          "plugin_dir are loaded for that). Prints each problem as FILE:LINE: message.\n"
          "Exit 0 when valid, 1 when not, 64 on a bad command line.\n",
          to);
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *path = NULL;
    int c;
    optind = 1;
    log_set_level(SF_LOG_WARN); /* refusals still show; "loaded" lines would be noise */
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'h') {
            check_usage(stdout);
            return EXIT_OK;
        } else {
            check_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        check_usage(stderr);
        return EXIT_USAGE;
    }

    diag d = {0};
    int rc = EXIT_INVALID;
    plugin_registry *reg = loader_new(host_table(), host_info());
    loader_set_probe(reg, true); /* a plugin's init runs in a child: its crash is reported */
    sf_config *cfg = reg ? config_load(path, &d) : NULL;
    site *s = NULL;
    if (cfg) {
        loader_scan(reg, cfg->plugin_dir);
        s = site_bind(cfg, reg, false, &d);
    }
    diag_print(&d, stderr);
    if (s) {
        const sf_config *k = s->cfg;
        printf("%s: ok (decision %s, %zu signals, %zu connectors, %zu deliveries)\n", path,
               k->has_decision ? k->decision.name : "none", k->n_signals, k->n_connectors,
               k->n_deliveries);
        rc = EXIT_OK;
    } else {
        fprintf(stderr, "%s: invalid (%zu problem%s)\n", path, d.n, d.n == 1 ? "" : "s");
    }
    site_free(s);
    diag_clear(&d);
    loader_free(reg);
    return rc;
}
