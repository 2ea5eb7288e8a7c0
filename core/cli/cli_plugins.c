#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "base/log.h"
#include "plugin/options.h"

static void plugins_usage(FILE *to)
{
    fputs("usage: sigflow plugins [--dir DIR | -c FILE] [NAME]\n"
          "List the plugins in a plugin directory (name, kind, version, ABI, description), or\n"
          "with NAME print that plugin's declared options: type, default, range, help.\n"
          "DIR defaults to plugin_dir of -c FILE, else $SIGFLOW_PLUGIN_DIR, else\n" SIGFLOW_PREFIX
          "/lib/sigflow/plugins. Files that are refused are named on stderr with the reason.\n"
          "Exit 0, or 1 when NAME is not found, 64 on a bad command line.\n",
          to);
}

static const char *kind_name(sf_plugin_kind k)
{
    return k == SF_KIND_CONNECTOR ? "connector" : k == SF_KIND_DELIVERY ? "delivery" : "?";
}

static void print_one(const loaded_plugin *p)
{
    printf("%s (%s plugin, version %s, abi %u.%u)\n", p->desc.name, kind_name(p->desc.kind),
           p->desc.version ? p->desc.version : "?", p->desc.abi_major, p->desc.abi_minor);
    if (p->desc.description)
        printf("  %s\n", p->desc.description);
    printf("  file: %s\n\noptions:\n", p->path);
    options_print(stdout, p->desc.options);
}

/* The directory to list: --dir, else the config's plugin_dir, else env, else installed. */
static char *resolve_dir(const char *dir, const char *config)
{
    if (dir)
        return strdup(dir);
    if (config) {
        diag d = {0};
        sigflow_config *cfg = config_load(config, &d);
        diag_print(&d, stderr);
        diag_clear(&d);
        char *out = cfg ? strdup(cfg->plugin_dir) : NULL;
        config_free(cfg);
        return out;
    }
    const char *env = getenv("SIGFLOW_PLUGIN_DIR");
    return strdup(env && *env ? env : SIGFLOW_PREFIX "/lib/sigflow/plugins");
}

int cmd_plugins(int argc, char **argv)
{
    static const struct option longopts[] = {{"dir", required_argument, NULL, 'd'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    const char *dir_arg = NULL, *config = NULL;
    int c;
    optind = 1;
    log_set_level(SF_LOG_WARN); /* refusals still show; "loaded" lines would be noise */
    while ((c = getopt_long(argc, argv, "d:c:h", longopts, NULL)) != -1) {
        if (c == 'd')
            dir_arg = optarg;
        else if (c == 'c')
            config = optarg;
        else if (c == 'h') {
            plugins_usage(stdout);
            return EXIT_OK;
        } else {
            plugins_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        plugins_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = optind < argc ? argv[optind] : NULL;
    char *dir = resolve_dir(dir_arg, config);
    plugin_registry *reg = dir ? loader_new(host_table(), host_info()) : NULL;
    if (!reg) {
        free(dir);
        return EXIT_INVALID;
    }
    loader_set_probe(reg, true);     /* a plugin's init runs in a child: its crash is reported */
    if (loader_scan(reg, dir) < 0) { /* the reason is logged, naming the directory */
        fprintf(stderr, "sigflow: cannot list plugins in %s (give --dir DIR or -c FILE)\n", dir);
        loader_free(reg);
        free(dir);
        return EXIT_INVALID;
    }
    int rc = EXIT_OK;
    if (name) {
        const loaded_plugin *conn = loader_find(reg, name, SF_KIND_CONNECTOR);
        const loaded_plugin *deliv = loader_find(reg, name, SF_KIND_DELIVERY);
        if (conn)
            print_one(conn);
        if (conn && deliv)
            puts("");
        if (deliv)
            print_one(deliv);
        const char *why = loader_refusal_for(reg, name);
        if (!conn && !deliv && why) {
            fprintf(stderr, "sigflow: plugin `%s` refused: %s\n", name, why);
            rc = EXIT_INVALID;
        } else if (!conn && !deliv) {
            fprintf(stderr, "sigflow: no plugin named `%s` in %s\n", name, dir);
            rc = EXIT_INVALID;
        }
    } else {
        printf("%-16s %-10s %-10s %-5s %s\n", "NAME", "KIND", "VERSION", "ABI", "DESCRIPTION");
        for (size_t i = 0; i < loader_count(reg); i++) {
            const loaded_plugin *p = loader_at(reg, i);
            printf("%-16s %-10s %-10s %u.%-3u %s\n", p->desc.name, kind_name(p->desc.kind),
                   p->desc.version ? p->desc.version : "?", p->desc.abi_major, p->desc.abi_minor,
                   p->desc.description ? p->desc.description : "");
        }
    }
    loader_free(reg);
    free(dir);
    return rc;
}
