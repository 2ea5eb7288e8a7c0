/*
 * replay.c - the replay command: options, config and mapping, the engine fed from
 * replay_input in file order, alerts to stdout, a summary and the first bad lines to stderr.
 */
#include "replay/replay.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "config/diag.h"
#include "base/limits.h"
#include "mapping/mapping.h"
#include "replay/progress.h"
#include "replay/replay_input.h"
#include "score/score.h"
#include "replay/replay_state.h"
#include "store/journal_export.h"
#include "base/timefmt.h"

typedef struct replay_opts {
    const char *config, *connector, *file;
    bool strict, has_until, state, journal;
    int64_t until;
    int shards; /* -1: from the config; 0: online cores */
    progress_mode progress;
} replay_opts;

typedef struct replay_run {
    uint64_t bad;
    uint64_t dropped; /* lines the connector's types/on_unmapped leave out */
    char bad_lines[SIGFLOW_MAX_BAD_LINES_REPORTED][SIGFLOW_MAX_ERROR_LEN + 32];
    int io_error;
    score_engine *e;
    progress prog;
} replay_run;

static void usage(FILE *to)
{
    fputs("usage: sigflow replay -c CONFIG [--until TIME] [--shards N] [--strict]\n"
          "                      [--connector NAME] [--state] [--progress|--no-progress]\n"
          "                      [FILE|-|--journal]\n"
          "Replays NDJSON events (canonical {\"entity\",\"type\",\"time\",\"value\",...}, or\n"
          "the map.* mapping of connector NAME) through the [decision] in event time and\n"
          "prints each alert as one JSON line. TIME: RFC 3339 or epoch ms; evaluates the\n"
          "tick boundaries up to TIME after the last event. --strict: the first bad line\n"
          "is fatal (exit 2). --state: save the scoring state the replay built into the\n"
          "config's state_dir (a new instance's), so `run` starts knowing every entity's\n"
          "history. --progress / --no-progress: a progress line on stderr (events, events/s,\n"
          "event time reached); default: only when stderr is a terminal. --journal: score the "
          "events the daemon journaled in state_dir (read-only,\n"
          "works while it runs; with --connector NAME only that connector's) instead of a\n"
          "file. Exit: 0 ok, 1 config/usage error, 2 bad input (--strict, or every line bad).\n",
          to);
}

static int parse_opts(int argc, char **argv, replay_opts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"until", required_argument, NULL, 'u'},
                                          {"shards", required_argument, NULL, 's'},
                                          {"strict", no_argument, NULL, 'S'},
                                          {"connector", required_argument, NULL, 'C'},
                                          {"state", no_argument, NULL, 'T'},
                                          {"journal", no_argument, NULL, 'J'},
                                          {"progress", no_argument, NULL, 'P'},
                                          {"no-progress", no_argument, NULL, 'Q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->shards = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'u':
            if (time_parse(optarg, strlen(optarg), &o->until) != 0 ||
                o->until < SCORE_TIME_MIN_MS || o->until > SCORE_TIME_MAX_MS) {
                fprintf(stderr, "replay: --until: not a time: %s\n", optarg);
                return 1;
            }
            o->has_until = true;
            break;
        case 's':
            o->shards = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || o->shards < 0 || o->shards > 256) {
                fprintf(stderr, "replay: --shards: expected 0 (cores) to 256, got %s\n", optarg);
                return 1;
            }
            break;
        case 'S':
            o->strict = true;
            break;
        case 'C':
            o->connector = optarg;
            break;
        case 'T':
            o->state = true;
            break;
        case 'J':
            o->journal = true;
            break;
        case 'P':
            o->progress = PROGRESS_ON;
            break;
        case 'Q':
            o->progress = PROGRESS_OFF;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            fprintf(stderr, "replay: unknown option %s\n", argv[optind - 1]);
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc)
        o->file = argv[optind++];
    if (optind < argc || !o->config) {
        fprintf(stderr, optind < argc ? "replay: one input file at most\n"
                                      : "replay: -c CONFIG is required\n");
        usage(stderr);
        return 1;
    }
    if (o->journal && (o->file || o->state)) {
        fprintf(stderr, o->file ? "replay: --journal reads no input file\n"
                                : "replay: --journal and --state: the journal is the state's\n");
        usage(stderr);
        return 1;
    }
    return 0;
}

static void print_alert(void *ctx, sf_alert *a)
{
    replay_run *run = ctx;
    progress_clear(&run->prog); /* stdout may be the same terminal */
    if (fputs(a->json, stdout) == EOF || fputc('\n', stdout) == EOF)
        run->io_error = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mapping *open_mapping(const sigflow_config *cfg, const replay_opts *o, diag *d)
{
    const config_instance *inst = NULL;
    if (o->connector) {
        inst = config_find_instance(cfg, o->connector);
        if (!inst || inst->kind != SF_KIND_CONNECTOR) {
            diag_add(d, cfg->path, 0, "no [connector %s] in the config", o->connector);
            return NULL;
        }
    }
    return mapping_new(inst, cfg->path, d);
}

/* Events ahead whose entity's table slot, then the entity, the engine fetches early: a hash
   table of many entities misses the cache on nearly every lookup otherwise. */
#define PREFETCH_SLOT_AHEAD 16
#define PREFETCH_ENTITY_AHEAD 8
#define PREFETCH_ATTRS_AHEAD 3

static void prefetch(replay_input *in, score_engine *e)
{
    const replay_item *a = replay_input_ahead(in, PREFETCH_SLOT_AHEAD);
    if (a && a->ok)
        score_prefetch(e, a->hash, 0);
    a = replay_input_ahead(in, PREFETCH_ENTITY_AHEAD);
    if (a && a->ok)
        score_prefetch(e, a->hash, 1);
    a = replay_input_ahead(in, PREFETCH_ATTRS_AHEAD);
    if (a && a->ok)
        score_prefetch(e, a->hash, 2);
}

/* Feed every line to the engine. Returns the exit code. */
static int feed(replay_input *in, score_engine *e, const replay_opts *o, replay_run *run)
{
    replay_item it;
    char err[SIGFLOW_MAX_ERROR_LEN];
    int rc;
    while ((rc = replay_input_next(in, &it, err, sizeof err)) == 1) {
        if (it.ok && it.ev.dropped) {
            run->dropped++; /* acknowledged by the connector, never journaled: not scored */
            continue;
        }
        if (it.ok) {
            progress_event(&run->prog, it.ev.time_ms);
            prefetch(in, e);
            sf_status st = score_push_hashed(e, &it.ev, it.hash);
            if (st != SF_OK) {
                progress_clear(&run->prog);
                fprintf(stderr, "replay: scoring failed at line %llu (status %d)\n",
                        (unsigned long long)it.line, (int)st);
                return 1;
            }
            continue;
        }
        if (run->bad < SIGFLOW_MAX_BAD_LINES_REPORTED)
            snprintf(run->bad_lines[run->bad], sizeof run->bad_lines[0], "line %llu: %s",
                     (unsigned long long)it.line, it.error ? it.error : "bad line");
        run->bad++;
        if (o->strict) {
            progress_clear(&run->prog);
            fprintf(stderr, "replay: bad input at line %llu: %s\n", (unsigned long long)it.line,
                    it.error ? it.error : "bad line");
            return 2;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "replay: %s: %s\n", o->file ? o->file : "stdin", err);
        return 1;
    }
    return 0;
}

static sf_status push_journaled(void *ctx, uint64_t seq, const sf_event *ev, const char *connector)
{
    (void)connector;
    replay_run *run = ctx;
    progress_event(&run->prog, ev->time_ms);
    sf_status st = score_push(run->e, ev);
    if (st != SF_OK)
        fprintf(stderr, "replay: scoring failed at journal event %llu (status %d)\n",
                (unsigned long long)seq, (int)st);
    return st;
}

/* --journal: the events the daemon journaled, in journal order. Returns the exit code. */
static int feed_journal(const sigflow_config *cfg, replay_run *run, const replay_opts *o)
{
    char err[SIGFLOW_MAX_ERROR_LEN] = "";
    journal_filter f = {.connector = o->connector};
    sf_status st = journal_export(cfg->state_dir, &f, push_journaled, run, err, sizeof err);
    if (st != SF_OK && *err)
        fprintf(stderr, "replay: %s\n", err);
    return st == SF_OK ? 0 : 1;
}

/* The bad lines first, then the summary as the last line (what a reader sees first). */
static void summary(score_engine *e, const replay_run *run, double elapsed)
{
    uint64_t shown =
        run->bad < SIGFLOW_MAX_BAD_LINES_REPORTED ? run->bad : SIGFLOW_MAX_BAD_LINES_REPORTED;
    for (uint64_t i = 0; i < shown; i++)
        fprintf(stderr, "replay: bad %s\n", run->bad_lines[i]);
    if (run->bad > shown)
        fprintf(stderr, "replay: ... and %llu more bad lines\n",
                (unsigned long long)(run->bad - shown));
    score_stats st;
    score_get_stats(e, &st);
    fprintf(stderr,
            "replay: events=%llu entities=%llu ticks=%llu alerts=%llu bad_lines=%llu "
            "dropped_lines=%llu evaluations=%llu state_bytes=%zu elapsed=%.3fs "
            "events_per_s=%.0f\n",
            (unsigned long long)st.events, (unsigned long long)st.entities,
            (unsigned long long)st.ticks, (unsigned long long)st.alerts,
            (unsigned long long)run->bad, (unsigned long long)run->dropped,
            (unsigned long long)st.evaluations, st.state_bytes, elapsed,
            elapsed > 0 ? (double)st.events / elapsed : 0.0);
    if (run->bad > 0 && st.events == 0 && run->dropped == 0)
        fprintf(stderr, "replay: every line was bad: nothing was scored (is the mapping right? "
                        "--connector NAME maps lines as that connector does)\n");
}

int replay_main(int argc, char **argv)
{
    replay_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    diag d = {0};
    sigflow_config *cfg = NULL;
    mapping *m = NULL;
    score_engine *e = NULL;
    replay_input *in = NULL;
    FILE *f = NULL;
    replay_run *run = calloc(1, sizeof *run);
    char err[SIGFLOW_MAX_ERROR_LEN];
    rc = 1;
    if (!run)
        goto done;
    cfg = config_load(o.config, &d);
    if (cfg && !cfg->has_decision)
        diag_add(&d, o.config, 0, "no [decision] section: nothing to score");
    if (cfg && cfg->has_decision && !o.journal)
        m = open_mapping(cfg, &o, &d);
    if (!cfg || (!m && !o.journal) || !cfg->has_decision) {
        diag_print(&d, stderr);
        goto done;
    }
    e = score_new(&cfg->decision, cfg->signals, cfg->n_signals,
                  o.shards >= 0 ? o.shards : cfg->shards, print_alert, run, err, sizeof err);
    if (!e) {
        fprintf(stderr, "replay: %s: %s\n", o.config, err);
        goto done;
    }
    double t0 = now_s();
    run->e = e;
    progress_start(&run->prog, "replay", o.progress, stderr);
    if (o.journal) {
        rc = feed_journal(cfg, run, &o);
        goto scored;
    }
    f = (!o.file || strcmp(o.file, "-") == 0) ? stdin : fopen(o.file, "r");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %m\n", o.file);
        goto done;
    }
    in = replay_input_start(f, m, 0);
    if (!in) {
        fprintf(stderr, "replay: cannot start the input threads\n");
        goto done;
    }
    rc = feed(in, e, &o, run);
    replay_input_stop(in);
    in = NULL;
scored:
    if (rc == 0 && o.has_until && score_advance(e, o.until) != SF_OK)
        rc = 1;
    score_flush(e);
    if (fflush(stdout) != 0 || run->io_error) {
        fprintf(stderr, "replay: writing alerts failed\n");
        rc = 1;
    }
    progress_end(&run->prog);
    summary(e, run, now_s() - t0);
    score_stats sst;
    score_get_stats(e, &sst);
    if (rc == 0 && run->bad > 0 && sst.events == 0 && run->dropped == 0)
        rc = 2; /* bad input: not one line could be scored */
    if (rc == 0 && o.state)
        rc = replay_state_save(cfg, e);
done:
    replay_input_stop(in);
    if (f && f != stdin)
        fclose(f);
    score_free(e);
    mapping_free(m);
    config_free(cfg);
    diag_clear(&d);
    free(run);
    return rc;
}
