/*
 * cli_check.c - `sigflow check`: the gate before a deploy. Reports every problem of a config
 * in one run: the core's sections and keys, then (on what parsed, even with core errors)
 * every [connector]/[delivery] against its plugin's declared options and mapping. A plugin
 * not in plugin_dir is a warning (run waits for it). --no-secrets checks how secrets are
 * written without reading them. Calls config, loader, site, secret. Called by main.c.
 */
#include <getopt.h>
#include <stdio.h>

#include "base/log.h"
#include "base/term_escape.h"
#include "cli/cli.h"
#include "cli/cli_check_exposure.h"
#include "config/config.h"
#include "config/secret.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/site.h"

static void check_usage(FILE *to)
{
    fputs("usage: sigflow check -c FILE [--no-secrets]\n"
          "Validate a configuration the way `run` would, reporting every problem in one run:\n"
          "every section and key, and every [connector]/[delivery] against its plugin's\n"
          "declared options and mapping (the plugins in plugin_dir are loaded for that).\n"
          "Prints each problem as FILE:LINE: message. A plugin missing from plugin_dir is a\n"
          "warning (run waits for it to be dropped in). --no-secrets: check how each secret\n"
          "is written (env:NAME, file:PATH) without reading the variable or file (for CI).\n"
          "Exit 0 when valid, 1 when not, 64 on a bad command line.\n",
          to);
}

/* A warning line on stderr, escaped as every check message is (base/term_escape.h). */
static void check_warn(const char *msg)
{
    if (term_fputs(msg, stderr) != EOF)
        fputc('\n', stderr);
}

static void check_warn_cb(void *ctx, const char *msg)
{
    (void)ctx;
    check_warn(msg);
}

/* Instances whose plugin is not in plugin_dir: a warning each (run would wait for it). */
static size_t warn_missing(const sigflow_config *cfg, plugin_registry *reg, diag *d)
{
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        const config_instance *arr = k ? cfg->deliveries : cfg->connectors;
        size_t count = k ? cfg->n_deliveries : cfg->n_connectors;
        for (size_t i = 0; i < count; i++) {
            if (!arr[i].plugin || loader_find(reg, arr[i].plugin, 0))
                continue;
            /* The file is there but was refused: an error, with the refusal's reason. */
            const char *why = loader_refusal_for(reg, arr[i].plugin);
            if (why) {
                diag_add(d, cfg->path, arr[i].plugin_line, "plugin `%s` refused: %s", arr[i].plugin,
                         why);
                continue;
            }
            char msg[1024];
            snprintf(msg, sizeof msg,
                     "%s:%d: warning: no plugin named `%s` in %s: run waits for it to be "
                     "dropped in (sigflow plugins --dir %s lists what is there)",
                     cfg->path, arr[i].plugin_line, arr[i].plugin, cfg->plugin_dir,
                     cfg->plugin_dir);
            check_warn(msg);
            n++;
        }
    }
    return n;
}

/*
 * What the plugin itself refuses (a URL, a path, a template): create each bound instance
 * (options parsed, state allocated: no threads, no I/O that can hang, per the SDK) and
 * destroy it again. A refusal is an error at the section's line: run would not start it.
 */
static void check_create(const site *s, diag *d)
{
    for (size_t i = 0; i < s->n_inst; i++) {
        const site_instance *si = &s->inst[i];
        if (!si->plugin || !si->opts)
            continue;
        instance_io io = {0}; /* nothing is emitted or stored by a create */
        sf_instance *in = instance_new(si->cfg, si->plugin, si->opts, si->map, &io);
        if (!in) {
            diag_add(d, s->cfg->path, si->cfg->line, "out of memory");
            continue;
        }
        if (instance_create(in) != SF_OK)
            diag_add(d, s->cfg->path, si->cfg->line, "[%s %s] plugin %s refuses it: %s",
                     si->cfg->kind == SF_KIND_DELIVERY ? "delivery" : "connector", si->cfg->name,
                     si->plugin->desc.name, instance_last_error(in));
        instance_free(in);
    }
}

static int check_file(const char *path)
{
    diag d = {0};
    int rc = EXIT_INVALID;
    plugin_registry *reg = loader_new(host_table(), host_info());
    loader_set_probe(reg, true); /* a plugin's init runs in a child: its crash is reported */
    sigflow_config *cfg = reg ? config_load_partial(path, &d) : NULL;
    site *s = NULL;
    size_t warnings = 0;
    char summary[256] = "";
    if (cfg) {
        snprintf(summary, sizeof summary,
                 "decision %s, %zu signals, %zu connectors, %zu deliveries",
                 cfg->has_decision ? cfg->decision.name : "none", cfg->n_signals, cfg->n_connectors,
                 cfg->n_deliveries);
        loader_scan(reg, cfg->plugin_dir);
        warnings = warn_missing(cfg, reg, &d);
        s = site_bind_partial(cfg, reg, &d); /* takes cfg */
        if (s)
            check_create(s, &d);
        if (s) /* listeners beyond loopback with no authentication */
            warnings += check_exposure(s, check_warn_cb, NULL);
    }
    diag_print(&d, stderr);
    if (s && d.n == 0) {
        printf("%s: ok (%s)%s\n", path, summary, warnings ? " with warnings" : "");
        rc = EXIT_OK;
    } else {
        fprintf(stderr, "%s: invalid (%zu problem%s)\n", path, d.n, d.n == 1 ? "" : "s");
    }
    site_free(s);
    diag_clear(&d);
    loader_free(reg);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"no-secrets", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    const char *path = NULL;
    int c;
    optind = 1;
    log_set_level(SF_LOG_WARN); /* refusals still show; "loaded" lines would be noise */
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'n') {
            secret_set_check_only(true);
        } else if (c == 'h') {
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
    return check_file(path);
}
