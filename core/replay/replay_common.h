/*
 * replay_common.h - the set-up `replay` and `backtest` share: their common options (-c, --until,
 * --shards, --connector, --journal, --progress, --no-progress and the input), the config with
 * its [decision], an engine, the mapping and the input file. Each command keeps only its own
 * options, its feed and its output. Owns: nothing past the call. Calls config, diag, mapping,
 * score, timefmt. Called by replay.c and backtest.c.
 */
#ifndef SIGFLOW_REPLAY_COMMON_H
#define SIGFLOW_REPLAY_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "config/diag.h"
#include "mapping/mapping.h"
#include "replay/progress.h"
#include "score/score.h"

/* The options both commands take. */
typedef struct replay_common {
    const char *cmd; /* "replay" | "backtest": the prefix of every message */
    const char *config, *connector, *file;
    bool journal, has_until;
    int64_t until;
    int shards; /* -1: from the config; 0: online cores */
    progress_mode progress;
} replay_common;

/* getopt_long codes of the common options (above any short option's). */
enum {
    REPLAY_OPT_UNTIL = 0x100,
    REPLAY_OPT_SHARDS,
    REPLAY_OPT_CONNECTOR,
    REPLAY_OPT_JOURNAL,
    REPLAY_OPT_PROGRESS,
    REPLAY_OPT_NO_PROGRESS
};

/* The common long options, for the head of each command's table (then its own, then
   {NULL, 0, NULL, 0}); with "c:h" as the short options. */
#define REPLAY_COMMON_LONGS                                                                        \
    {"config", required_argument, NULL, 'c'},                                                      \
        {"until", required_argument, NULL, REPLAY_OPT_UNTIL},                                      \
        {"shards", required_argument, NULL, REPLAY_OPT_SHARDS},                                    \
        {"connector", required_argument, NULL, REPLAY_OPT_CONNECTOR},                              \
        {"journal", no_argument, NULL, REPLAY_OPT_JOURNAL},                                        \
        {"progress", no_argument, NULL, REPLAY_OPT_PROGRESS},                                      \
        {"no-progress", no_argument, NULL, REPLAY_OPT_NO_PROGRESS},                                \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

/* Start: defaults, getopt reset (optind 1, no getopt messages). */
void replay_common_init(replay_common *c, const char *cmd);
/*
 * Take option `ch` (optarg its value) when it is a common one: 1 taken, 0 not a common option
 * (the command's own, or unknown), -1 a bad value: "CMD: --until: not a time: X" written to
 * stderr without the line's end (the command ends the line and says the rest).
 */
int replay_common_opt(replay_common *c, int ch, const char *arg);

/*
 * The config at c->config, refused (diagnostics printed, NULL) when it cannot be loaded or
 * has no [decision].
 */
sigflow_config *replay_common_config(const replay_common *c);
/* An engine for cfg with c->shards (or the config's), alerts to on_alert(ctx); NULL (said
   why) when it cannot be built. */
score_engine *replay_common_engine(const replay_common *c, const sigflow_config *cfg,
                                   void (*on_alert)(void *ctx, sf_alert *a), void *ctx);
/* The mapping of c->connector (NULL: canonical lines); NULL with a diagnostic in d. */
mapping *replay_common_mapping(const replay_common *c, const sigflow_config *cfg, diag *d);
/* The input: stdin for none or "-", else the file opened (NULL, said why). */
FILE *replay_common_open_input(const replay_common *c);
void replay_common_close_input(FILE *f);

#endif
