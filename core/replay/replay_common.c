/*
 * replay_common.c - the options, config, engine, mapping and input `replay` and `backtest`
 * share. See replay_common.h.
 */
#include "replay/replay_common.h"

#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"

void replay_common_init(replay_common *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->shards = -1;
    optind = 1;
    opterr = 0;
}

int replay_common_opt(replay_common *c, int ch, const char *arg)
{
    char *end;
    switch (ch) {
    case 'c':
        c->config = arg;
        return 1;
    case REPLAY_OPT_UNTIL:
        if (time_parse(arg, strlen(arg), &c->until) != 0 || c->until < SCORE_TIME_MIN_MS ||
            c->until > SCORE_TIME_MAX_MS) {
            fprintf(stderr, "%s: --until: not a time: %s", c->cmd, arg);
            return -1;
        }
        c->has_until = true;
        return 1;
    case REPLAY_OPT_SHARDS:
        c->shards = (int)strtol(arg, &end, 10);
        if (*end || end == arg || c->shards < 0 || c->shards > 256) {
            fprintf(stderr, "%s: --shards: expected 0 (cores) to 256, got %s", c->cmd, arg);
            return -1;
        }
        return 1;
    case REPLAY_OPT_CONNECTOR:
        c->connector = arg;
        return 1;
    case REPLAY_OPT_JOURNAL:
        c->journal = true;
        return 1;
    case REPLAY_OPT_PROGRESS:
        c->progress = PROGRESS_ON;
        return 1;
    case REPLAY_OPT_NO_PROGRESS:
        c->progress = PROGRESS_OFF;
        return 1;
    default:
        return 0;
    }
}

sigflow_config *replay_common_config(const replay_common *c)
{
    diag d = {0};
    sigflow_config *cfg = config_load(c->config, &d);
    if (cfg && !cfg->has_decision)
        diag_add(&d, c->config, 0, "no [decision] section: nothing to score");
    if (!cfg || !cfg->has_decision) {
        diag_print(&d, stderr);
        config_free(cfg);
        cfg = NULL;
    }
    diag_clear(&d);
    return cfg;
}

score_engine *replay_common_engine(const replay_common *c, const sigflow_config *cfg,
                                   void (*on_alert)(void *ctx, sf_alert *a), void *ctx)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    score_engine *e =
        score_new(&cfg->decision, cfg->signals, cfg->n_signals,
                  c->shards >= 0 ? c->shards : cfg->shards, on_alert, ctx, err, sizeof err);
    if (!e)
        fprintf(stderr, "%s: %s: %s\n", c->cmd, cfg->path, err);
    return e;
}

mapping *replay_common_mapping(const replay_common *c, const sigflow_config *cfg, diag *d)
{
    const config_instance *inst = NULL;
    if (c->connector) {
        inst = config_find_instance(cfg, c->connector);
        if (!inst || inst->kind != SF_KIND_CONNECTOR) {
            diag_add(d, cfg->path, 0, "no [connector %s] in the config", c->connector);
            return NULL;
        }
    }
    return mapping_new(inst, cfg->path, d);
}

FILE *replay_common_open_input(const replay_common *c)
{
    if (!c->file || strcmp(c->file, "-") == 0)
        return stdin;
    FILE *f = fopen(c->file, "r");
    if (!f)
        fprintf(stderr, "%s: cannot open %s: %m\n", c->cmd, c->file);
    return f;
}

void replay_common_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}
