/*
 * backtest.c - the backtest command: options, one engine per config fed from the same pass
 * over the input (file or journal), the truth (labels file or outcome events), the report.
 * See backtest.h.
 */
#include "replay/backtest.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/timefmt.h"
#include "config/config.h"
#include "config/diag.h"
#include "mapping/mapping.h"
#include "model/alert.h"
#include "replay/progress.h"
#include "replay/replay_input.h"
#include "score/score.h"
#include "store/journal_export.h"

#define BT_USAGE 64

typedef struct bt_opts {
    const char *config, *compare, *labels, *file, *connector;
    bool fit, history, journal, has_horizon, has_until, has_from;
    int64_t horizon, until, from;
    int shards;
    progress_mode progress;
} bt_opts;

/* One config's run. */
typedef struct bt_side {
    sigflow_config *cfg;
    score_engine *e;
    bt_result res;
    int oom;
} bt_side;

typedef struct bt_feed {
    bt_side *side[2];
    int n_sides;
    const char *outcome; /* truth from outcome events: this type (NULL: a labels file) */
    churn_table *truth;
    int64_t first, last;
    bool any;
    int err;
    progress prog;
} bt_feed;

static void usage(FILE *to)
{
    fputs("usage: sigflow backtest -c CONFIG [--labels FILE] [--horizon DURATION]\n"
          "                        [--compare OTHER.ini] [--fit] [--history] [--from TIME]\n"
          "                        [--until TIME] [--shards N] [--progress|--no-progress]\n"
          "                        [--connector NAME] [EVENTS|-|--journal]\n"
          "Replays history through CONFIG in event time with the engine `run` uses (learning\n"
          "included) and prints alerts per week, precision (alerts whose entity churned within\n"
          "the horizon after them, of those whose horizon closed), recall (churners with such\n"
          "an alert) and median lead time. The truth: --labels FILE (`entity,churn_time` a\n"
          "line, RFC 3339 or epoch ms), else the config's outcome events in the input.\n"
          "--horizon: default the config's `horizon`. --from TIME: judge only alerts and\n"
          "churns from TIME on (all of history is still replayed and learned from).\n"
          "--compare: the same events through a\n"
          "second config, and the difference. --fit: the model the run ended with, as INI.\n"
          "--history: every model change (time, threshold, weights, judged alerts).\n"
          "--journal: the events the daemon journaled in state_dir. --progress /\n"
          "--no-progress: a progress line on stderr (default: only on a terminal). Exit: 0 ok, 1 "
          "config or\n"
          "input error, 64 bad command line. docs/scoring.md \"Backtest\".\n",
          to);
}

static int opt_error(void)
{
    fputc('\n', stderr);
    usage(stderr);
    return BT_USAGE;
}

/* A bad command line: the message (a literal format), then the usage; evaluates to 64. */
#define OPT_ERROR(...) (fprintf(stderr, "backtest: " __VA_ARGS__), opt_error())

static int parse_opts(int argc, char **argv, bt_opts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"labels", required_argument, NULL, 'l'},
                                          {"horizon", required_argument, NULL, 'H'},
                                          {"compare", required_argument, NULL, 'C'},
                                          {"fit", no_argument, NULL, 'f'},
                                          {"history", no_argument, NULL, 'y'},
                                          {"journal", no_argument, NULL, 'J'},
                                          {"until", required_argument, NULL, 'u'},
                                          {"shards", required_argument, NULL, 's'},
                                          {"connector", required_argument, NULL, 'n'},
                                          {"from", required_argument, NULL, 'F'},
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
        case 'l':
            o->labels = optarg;
            break;
        case 'C':
            o->compare = optarg;
            break;
        case 'f':
            o->fit = true;
            break;
        case 'y':
            o->history = true;
            break;
        case 'J':
            o->journal = true;
            break;
        case 'n':
            o->connector = optarg;
            break;
        case 'H':
            if (duration_parse(optarg, &o->horizon) != 0 || o->horizon <= 0)
                return OPT_ERROR("--horizon: not a duration such as 45d: %s", optarg);
            o->has_horizon = true;
            break;
        case 'u':
            if (time_parse(optarg, strlen(optarg), &o->until) != 0 ||
                o->until < SCORE_TIME_MIN_MS || o->until > SCORE_TIME_MAX_MS)
                return OPT_ERROR("--until: not a time: %s", optarg);
            o->has_until = true;
            break;
        case 'F':
            if (time_parse(optarg, strlen(optarg), &o->from) != 0)
                return OPT_ERROR("--from: not a time: %s", optarg);
            o->has_from = true;
            break;
        case 's':
            o->shards = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || o->shards < 0 || o->shards > 256)
                return OPT_ERROR("--shards: expected 0 (cores) to 256, got %s", optarg);
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
            return OPT_ERROR("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        o->file = argv[optind++];
    if (optind < argc)
        return OPT_ERROR("one input at most (%s)", argv[optind]);
    if (!o->config)
        return OPT_ERROR("-c CONFIG is required");
    if (o->journal && o->file)
        return OPT_ERROR("--journal reads no input file (%s)", o->file);
    return 0;
}

/* ---- engines ---------------------------------------------------------------------------- */

/* The value of "key":"…" in a health alert's JSON (names: no quotes or escapes), or "". */
static size_t json_name(const char *json, const char *key, const char **v)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p) {
        *v = "";
        return 0;
    }
    *v = p + strlen(pat);
    return strcspn(*v, "\"");
}

/* Room for one more line of r->h (false: out of memory, noted). */
static bool health_room(bt_side *s)
{
    bt_result *r = &s->res;
    if (r->n_h < r->cap_h)
        return true;
    size_t cap = r->cap_h ? r->cap_h * 2 : 16;
    bt_health *nh = realloc(r->h, cap * sizeof *nh);
    if (!nh) {
        s->oom = 1;
        return false;
    }
    r->h = nh;
    r->cap_h = cap;
    return true;
}

/* A health alert: "STATE SUBJECT" at its time, listed apart from the decision's figures. */
static void on_health(bt_side *s, const sf_alert *a)
{
    bt_result *r = &s->res;
    if (!health_room(s))
        return;
    const char *st, *sig, *conn, *field;
    size_t ns = json_name(a->health, "state", &st), nsig = json_name(a->health, "signal", &sig),
           nc = json_name(a->health, "connector", &conn),
           nf = json_name(a->health, "field", &field);
    size_t cap = ns + nsig + nc + nf + 3;
    char *what = malloc(cap);
    if (!what) {
        s->oom = 1;
        return;
    }
    if (nsig)
        snprintf(what, cap, "%.*s %.*s", (int)ns, st, (int)nsig, sig);
    else
        snprintf(what, cap, "%.*s %.*s %.*s", (int)ns, st, (int)nc, conn, (int)nf, field);
    r->h[r->n_h++] = (bt_health){a->time_ms, "health", what};
}

/* A suppressed alert: "ENTITY SCORE WHY" at its time, listed with the health alerts. */
static void on_suppressed(bt_side *s, const sf_alert *a)
{
    bt_result *r = &s->res;
    if (!health_room(s))
        return;
    const char *why = a->suppressed ? a->suppressed : "";
    size_t cap = strlen(a->entity) + strlen(why) + 32;
    char *what = malloc(cap);
    if (!what) {
        s->oom = 1;
        return;
    }
    snprintf(what, cap, "%s %.4f %s", a->entity, a->score, why);
    r->h[r->n_h++] = (bt_health){a->time_ms, "suppressed", what};
}

static void on_alert(void *ctx, sf_alert *a)
{
    bt_side *s = ctx;
    bt_result *r = &s->res;
    if (a->kind == ALERT_HEALTH) {
        on_health(s, a);
        return;
    }
    if (a->kind == ALERT_SUPPRESSED) {
        on_suppressed(s, a);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        bt_alert *na = realloc(r->a, cap * sizeof *na);
        if (!na) {
            s->oom = 1;
            return;
        }
        r->a = na;
        r->cap = cap;
    }
    char *ent = strdup(a->entity);
    if (!ent) {
        s->oom = 1;
        return;
    }
    r->a[r->n++] = (bt_alert){ent, a->time_ms, a->model_version};
}

static int open_side(bt_side *s, const char *path, const bt_opts *o)
{
    diag d = {0};
    char err[SIGFLOW_MAX_ERROR_LEN];
    s->res.config = path;
    s->cfg = config_load(path, &d);
    if (s->cfg && !s->cfg->has_decision)
        diag_add(&d, path, 0, "no [decision] section: nothing to score");
    if (!s->cfg || !s->cfg->has_decision) {
        diag_print(&d, stderr);
        diag_clear(&d);
        return 1;
    }
    diag_clear(&d);
    s->e = score_new(&s->cfg->decision, s->cfg->signals, s->cfg->n_signals,
                     o->shards >= 0 ? o->shards : s->cfg->shards, on_alert, s, err, sizeof err);
    if (!s->e) {
        fprintf(stderr, "backtest: %s: %s\n", path, err);
        return 1;
    }
    return 0;
}

static void close_side(bt_side *s)
{
    score_free(s->e);
    config_free(s->cfg);
    for (size_t i = 0; i < s->res.n; i++)
        free(s->res.a[i].entity);
    free(s->res.a);
    for (size_t i = 0; i < s->res.n_h; i++)
        free(s->res.h[i].what);
    free(s->res.h);
    score_model_view_free(s->res.model);
}

/* ---- input ------------------------------------------------------------------------------ */

static sf_status push_event(bt_feed *f, const sf_event *ev)
{
    progress_event(&f->prog, ev->time_ms);
    for (int i = 0; i < f->n_sides; i++) {
        sf_status st = score_push(f->side[i]->e, ev);
        if (st != SF_OK && st != SF_EINVAL)
            return st;
    }
    if (!f->any || ev->time_ms < f->first)
        f->first = ev->time_ms;
    if (!f->any || ev->time_ms > f->last)
        f->last = ev->time_ms;
    f->any = true;
    if (f->outcome && strcmp(ev->type, f->outcome) == 0 &&
        churn_table_add(f->truth, ev->entity, ev->time_ms) != SF_OK)
        return SF_ENOMEM;
    return SF_OK;
}

static sf_status push_journaled(void *ctx, uint64_t seq, const sf_event *ev, const char *conn)
{
    (void)seq;
    (void)conn;
    return push_event(ctx, ev);
}

static int feed_file(bt_feed *f, const bt_opts *o)
{
    diag d = {0};
    const config_instance *inst = NULL;
    const sigflow_config *cfg = f->side[0]->cfg;
    if (o->connector && !(inst = config_find_instance(cfg, o->connector))) {
        fprintf(stderr, "backtest: no [connector %s] in %s\n", o->connector, cfg->path);
        return 1;
    }
    mapping *m = mapping_new(inst, cfg->path, &d);
    if (!m) {
        diag_print(&d, stderr);
        diag_clear(&d);
        return 1;
    }
    FILE *in = (!o->file || strcmp(o->file, "-") == 0) ? stdin : fopen(o->file, "r");
    if (!in) {
        fprintf(stderr, "backtest: cannot open %s: %m\n", o->file);
        mapping_free(m);
        return 1;
    }
    replay_input *ri = replay_input_start(in, m, 0);
    replay_item it;
    char err[SIGFLOW_MAX_ERROR_LEN];
    int rc = ri ? 0 : 1, r;
    uint64_t bad = 0;
    while (rc == 0 && (r = replay_input_next(ri, &it, err, sizeof err)) == 1) {
        if (!it.ok) {
            if (bad < SIGFLOW_MAX_BAD_LINES_REPORTED)
                progress_clear(&f->prog);
            if (bad++ < SIGFLOW_MAX_BAD_LINES_REPORTED)
                fprintf(stderr, "backtest: bad line %llu: %s\n", (unsigned long long)it.line,
                        it.error ? it.error : "bad line");
            continue;
        }
        if (push_event(f, &it.ev) != SF_OK) {
            progress_clear(&f->prog);
            fprintf(stderr, "backtest: scoring failed at line %llu\n", (unsigned long long)it.line);
            rc = 1;
        }
    }
    if (rc == 0 && r < 0) {
        fprintf(stderr, "backtest: %s: %s\n", o->file ? o->file : "stdin", err);
        rc = 1;
    }
    if (bad)
        fprintf(stderr, "backtest: %llu bad lines skipped\n", (unsigned long long)bad);
    replay_input_stop(ri);
    if (in != stdin)
        fclose(in);
    mapping_free(m);
    return rc;
}

static int feed_journal(bt_feed *f, const bt_opts *o)
{
    char err[SIGFLOW_MAX_ERROR_LEN];
    journal_filter jf = {.connector = o->connector};
    if (journal_export(f->side[0]->cfg->state_dir, &jf, push_journaled, f, err, sizeof err) !=
        SF_OK) {
        fprintf(stderr, "backtest: %s\n", err);
        return 1;
    }
    return 0;
}

/* ---- the command ------------------------------------------------------------------------- */

static int load_truth(const bt_opts *o, churn_table *truth)
{
    if (!o->labels)
        return 0;
    FILE *lf = fopen(o->labels, "r");
    char err[SIGFLOW_MAX_ERROR_LEN];
    if (!lf) {
        fprintf(stderr, "backtest: cannot open %s: %m\n", o->labels);
        return 1;
    }
    sf_status st = labels_file_read(lf, o->labels, truth, err, sizeof err);
    fclose(lf);
    if (st != SF_OK) {
        fprintf(stderr, "backtest: %s\n", err);
        return 1;
    }
    return 0;
}

static int finish(bt_side *s, const bt_opts *o)
{
    if (o->has_until && score_advance(s->e, o->until) != SF_OK)
        return 1;
    score_flush(s->e);
    s->res.model = score_model_get(s->e);
    if (s->oom || !s->res.model) {
        fprintf(stderr, "backtest: out of memory\n");
        return 1;
    }
    return 0;
}

static int report(bt_side *sides[2], int n, const churn_table *truth, const bt_feed *f,
                  const bt_opts *o)
{
    int64_t horizon = o->has_horizon ? o->horizon : sides[0]->cfg->decision.horizon_ms;
    int64_t end = o->has_until && o->until > f->last ? o->until : f->last;
    int64_t start = o->has_from && o->from > f->first ? o->from : f->first;
    bt_stats st[2];
    char hz[32];
    duration_format(horizon, hz, sizeof hz);
    printf("backtest: horizon %s, truth %s (%zu churns), events %s", hz,
           o->labels ? o->labels : "the outcome events", truth->n, f->any ? "" : "none\n");
    if (f->any) {
        char a[32], b[32];
        time_format_rfc3339(start, a, sizeof a);
        time_format_rfc3339(end, b, sizeof b);
        printf("%s .. %s\n", a, b);
    }
    for (int i = 0; i < n; i++) {
        bt_compute(&sides[i]->res, truth, horizon, start, end, &st[i]);
        bt_print(stdout, &sides[i]->res, truth, horizon, start, end, &st[i]);
    }
    if (n == 2)
        bt_print_difference(stdout, &st[0], &st[1]);
    for (int i = 0; o->history && i < n; i++)
        bt_print_history(stdout, sides[i]->res.config, sides[i]->res.model);
    for (int i = 0; o->fit && i < n; i++)
        bt_print_fit(stdout, sides[i]->res.model);
    return fflush(stdout) == 0 ? 0 : 1;
}

int backtest_main(int argc, char **argv)
{
    bt_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    bt_side a = {0}, b = {0};
    bt_side *sides[2] = {&a, &b};
    int n = o.compare ? 2 : 1;
    churn_table truth = {0};
    rc = open_side(&a, o.config, &o);
    if (rc == 0 && o.compare)
        rc = open_side(&b, o.compare, &o);
    if (rc == 0)
        rc = load_truth(&o, &truth);
    if (rc == 0 && !o.labels && !a.cfg->decision.outcome) {
        fprintf(stderr,
                "backtest: %s has no `outcome =` and no --labels FILE was given: "
                "nothing to judge the alerts against\n",
                o.config);
        rc = 1;
    }
    bt_feed f = {.side = {&a, &b}, .n_sides = n, .truth = &truth};
    if (!o.labels && rc == 0)
        f.outcome = a.cfg->decision.outcome;
    if (rc == 0) {
        progress_start(&f.prog, "backtest", o.progress, stderr);
        rc = o.journal ? feed_journal(&f, &o) : feed_file(&f, &o);
        progress_end(&f.prog);
    }
    for (int i = 0; rc == 0 && i < n; i++)
        rc = finish(sides[i], &o);
    if (rc == 0) {
        churn_table_sort(&truth);
        rc = report(sides, n, &truth, &f, &o);
    }
    close_side(&a);
    close_side(&b);
    churn_table_free(&truth);
    return rc;
}
