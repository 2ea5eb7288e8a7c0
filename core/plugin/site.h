/*
 * site.h - a configuration bound to its plugins: every [connector]/[delivery] section matched
 * with a loaded plugin of the right kind, its options validated and typed, its mapping
 * compiled. `check`, `run` and reload all go through here, so they agree on what is valid.
 * Owns: the sigflow_config, the options and mappings. Calls config, loader, options, mapping.
 */
#ifndef SIGFLOW_SITE_H
#define SIGFLOW_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/diag.h"
#include "deliver/rules.h"
#include "plugin/loader.h"
#include "ingest/mapping.h"
#include "plugin/options.h"

typedef struct site_instance {
    const config_instance *cfg;
    const loaded_plugin *plugin; /* NULL while its .so is not loaded */
    opt_values *opts;            /* NULL until bound */
    mapping *map;                /* connectors only */
    delivery_rules *rules;       /* deliveries only: when, hours, digest, links */
} site_instance;

typedef struct site {
    sigflow_config *cfg;
    site_instance *inst; /* connectors first, then deliveries, in file order */
    size_t n_inst;
} site;

/*
 * Bind `cfg` (ownership taken, freed on failure too) to the plugins in `reg`. An instance
 * whose plugin is not loaded is an error unless allow_missing (the daemon waits for the .so
 * to be dropped in). Every problem goes to `d`; NULL if any.
 */
site *site_bind(sigflow_config *cfg, plugin_registry *reg, bool allow_missing, diag *d);
/*
 * For `sigflow check`: the same with missing plugins allowed, but the site is kept even when
 * `d` got errors (instances that failed are left unbound), so each bound one can be checked
 * further. NULL only when out of memory. Never run a daemon on it.
 */
site *site_bind_partial(sigflow_config *cfg, plugin_registry *reg, diag *d);
/* Bind instance i, still unbound, now that its plugin may have arrived. 1 bound, 0 not yet,
   -1 invalid (errors to d). */
int site_bind_instance(site *s, size_t i, plugin_registry *reg, diag *d);
void site_free(site *s);

/* True when two instance sections configure the same thing (plugin and every key/value). */
bool site_instance_same(const config_instance *a, const config_instance *b);

#endif
