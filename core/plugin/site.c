#include "plugin/site.h"

#include <stdlib.h>
#include <string.h>

static const char *kind_word(sf_plugin_kind k)
{
    return k == SF_KIND_CONNECTOR ? "connector" : "delivery";
}

/* The `line` of key `key` in an instance section, or the section's line. */
static int key_line(const config_instance *ci, const char *key)
{
    for (size_t i = 0; i < ci->n_kv; i++)
        if (strcmp(ci->kv[i].key, key) == 0)
            return ci->kv[i].line;
    return ci->line;
}

int site_bind_instance(site *s, size_t i, plugin_registry *reg, diag *d)
{
    site_instance *si = &s->inst[i];
    const config_instance *ci = si->cfg;
    const char *file = s->cfg->path;
    if (!ci->plugin)
        return -1; /* a config checked partially: the missing `plugin =` is reported */
    const loaded_plugin *p = loader_find(reg, ci->plugin, ci->kind);
    if (!p)
        p = loader_find(reg, ci->plugin, 0); /* to say it is of the other kind */
    if (!p)
        return 0;
    if (p->desc.kind != ci->kind) {
        diag_add(d, file, ci->plugin_line, "plugin `%s` is a %s plugin, used in a [%s] section",
                 ci->plugin, kind_word(p->desc.kind), kind_word(ci->kind));
        return -1;
    }
    if (ci->kind == SF_KIND_DELIVERY && si->rules && rules_is_digest(si->rules) &&
        !(p->desc.flags & SF_PLUGIN_DIGEST)) {
        diag_add(d, file, key_line(ci, "mode"), "plugin `%s` cannot send digests (mode = digest)",
                 ci->plugin);
        return -1;
    }
    /* Options and mapping both, so one run reports the problems of each. */
    opt_values *opts = options_apply(p->desc.options, ci, file, d);
    mapping *map = ci->kind == SF_KIND_CONNECTOR ? mapping_new(ci, file, d) : NULL;
    if (!opts || (ci->kind == SF_KIND_CONNECTOR && !map)) {
        options_free(opts);
        mapping_free(map);
        return -1;
    }
    si->plugin = p;
    si->opts = opts;
    si->map = map;
    return 1;
}

/* Two request connectors cannot share one path on the ingest listener. */
static void site_check_routes(const site *s, diag *d)
{
    for (size_t i = 0; i < s->n_inst; i++) {
        const site_instance *a = &s->inst[i];
        if (!a->plugin || !a->plugin->desc.request || !a->opts)
            continue;
        const char *pa = options_string(a->opts, "path");
        for (size_t k = 0; pa && k < i; k++) {
            const site_instance *b = &s->inst[k];
            const char *pb = b->plugin && b->plugin->desc.request && b->opts
                                 ? options_string(b->opts, "path")
                                 : NULL;
            if (pb && strcmp(pa, pb) == 0)
                diag_add(d, s->cfg->path, key_line(a->cfg, "path"),
                         "path %s is already routed to [connector %s] (line %d)", pa, b->cfg->name,
                         key_line(b->cfg, "path"));
        }
    }
}

static site *site_bind_mode(sigflow_config *cfg, plugin_registry *reg, bool allow_missing,
                            bool keep, diag *d)
{
    site *s = calloc(1, sizeof *s);
    size_t n = cfg->n_connectors + cfg->n_deliveries;
    if (!s || !(s->inst = calloc(n ? n : 1, sizeof *s->inst))) {
        diag_add(d, cfg->path, 0, "out of memory");
        free(s);
        config_free(cfg);
        return NULL;
    }
    s->cfg = cfg;
    s->n_inst = n;
    size_t before = d->n;
    for (size_t i = 0; i < n; i++) {
        s->inst[i].cfg =
            i < cfg->n_connectors ? &cfg->connectors[i] : &cfg->deliveries[i - cfg->n_connectors];
        if (s->inst[i].cfg->kind == SF_KIND_DELIVERY &&
            !(s->inst[i].rules = rules_parse(s->inst[i].cfg, cfg, d)))
            continue;
        if (site_bind_instance(s, i, reg, d) != 0 || allow_missing)
            continue;
        const char *why = loader_refusal_for(reg, s->inst[i].cfg->plugin);
        if (why) /* the file is there: say why it did not load */
            diag_add(d, cfg->path, s->inst[i].cfg->plugin_line, "plugin `%s` refused: %s",
                     s->inst[i].cfg->plugin, why);
        else
            diag_add(d, cfg->path, s->inst[i].cfg->plugin_line,
                     "no plugin named `%s` in %s (sigflow plugins --dir %s lists them)",
                     s->inst[i].cfg->plugin, cfg->plugin_dir, cfg->plugin_dir);
    }
    site_check_routes(s, d);
    if (d->n > before && !keep) {
        site_free(s);
        return NULL;
    }
    return s;
}

site *site_bind(sigflow_config *cfg, plugin_registry *reg, bool allow_missing, diag *d)
{
    return site_bind_mode(cfg, reg, allow_missing, false, d);
}

site *site_bind_partial(sigflow_config *cfg, plugin_registry *reg, diag *d)
{
    return site_bind_mode(cfg, reg, true, true, d);
}

void site_free(site *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_inst; i++) {
        options_free(s->inst[i].opts);
        mapping_free(s->inst[i].map);
        rules_free(s->inst[i].rules);
    }
    free(s->inst);
    config_free(s->cfg);
    free(s);
}

bool site_instance_same(const config_instance *a, const config_instance *b)
{
    if (a->kind != b->kind || strcmp(a->plugin, b->plugin) != 0 || a->n_kv != b->n_kv)
        return false;
    for (size_t i = 0; i < a->n_kv; i++)
        if (strcmp(a->kv[i].key, b->kv[i].key) != 0 || strcmp(a->kv[i].value, b->kv[i].value) != 0)
            return false;
    return true;
}
