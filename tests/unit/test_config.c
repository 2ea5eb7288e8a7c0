/* test_config.c - INI parsing, validation messages, secrets, suggestions (core/config/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "base/limits.h"

static char tmpdir[64];
static char cfgpath[128];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sf_test_config_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(cfgpath, sizeof cfgpath, "%s/sigflow.ini", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    const char *files[] = {"sigflow.ini"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static sigflow_config *load_text(const char *text, diag *d)
{
    write_file(cfgpath, text);
    return config_load(cfgpath, d);
}

/* True if some message starts with "cfgpath:line: " and contains `frag`. */
static int diag_has(const diag *d, int line, const char *frag)
{
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", cfgpath, line);
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0 && strstr(d->msgs[i], frag))
            return 1;
    return 0;
}

#define DESIGN_EXAMPLE                                                                             \
    "[sigflow]\n"                                                                                  \
    "state_dir  = var\n"                                                                           \
    "plugin_dir = plugins\n"                                                                       \
    "admin      = 127.0.0.1:9464\n"                                                                \
    "admin_token = env:SF_TEST_ADMIN_TOKEN\n"                                                      \
    "\n"                                                                                           \
    "[decision]\n"                                                                                 \
    "name        = churn_risk\n"                                                                   \
    "question    = Is this customer about to churn?\n"                                             \
    "bias        = -3\n"                                                                           \
    "threshold   = 0.8\n"                                                                          \
    "rearm_below = 0.6\n"                                                                          \
    "cooldown    = 3d\n"                                                                           \
    "tick        = 1h\n"                                                                           \
    "deliver     = cs_slack, owner_email\n"                                                        \
    "\n"                                                                                           \
    "[signal login_drop]\n"                                                                        \
    "event   = login\n"                                                                            \
    "measure = drop\n"                                                                             \
    "recent  = 7d\n"                                                                               \
    "usual   = 28d\n"                                                                              \
    "weight  = 2\n"                                                                                \
    "explain = logins {{pct}}% below usual\n"                                                      \
    "\n"                                                                                           \
    "[signal tickets]\n"                                                                           \
    "event   = ticket.opened\n"                                                                    \
    "measure = count\n"                                                                            \
    "window  = 14d\n"                                                                              \
    "cap     = 4\n"                                                                                \
    "weight  = 2\n"                                                                                \
    "\n"                                                                                           \
    "[connector billing]\n"                                                                        \
    "plugin      = webhook\n"                                                                      \
    "listen      = 127.0.0.1:8080\n"                                                               \
    "secret      = env:BILLING_WEBHOOK_SECRET\n"                                                   \
    "map.entity  = data.object.customer\n"                                                         \
    "\n"                                                                                           \
    "[delivery cs_slack]\n"                                                                        \
    "plugin = slack\n"                                                                             \
    "hours  = Mon-Fri 09:00-18:00\n"                                                               \
    "[delivery owner_email]\n"                                                                     \
    "plugin = email\n"

static void loads_the_design_example(void **state)
{
    (void)state;
    diag d = {0};
    setenv("SF_TEST_ADMIN_TOKEN", "tok-123", 1);
    sigflow_config *cfg = load_text(DESIGN_EXAMPLE, &d);
    diag_print(&d, stderr);
    assert_non_null(cfg);
    assert_int_equal(d.n, 0);
    assert_string_equal(cfg->admin, "127.0.0.1:9464");
    assert_string_equal(cfg->admin_token, "tok-123");
    assert_true(cfg->has_decision);
    assert_string_equal(cfg->decision.name, "churn_risk");
    assert_string_equal(cfg->decision.question, "Is this customer about to churn?");
    assert_true(cfg->decision.bias == -3.0);
    assert_true(cfg->decision.threshold == 0.8);
    assert_true(cfg->decision.rearm_below == 0.6);
    assert_int_equal(cfg->decision.cooldown_ms, 3 * 86400000LL);
    assert_int_equal(cfg->decision.tick_ms, 3600000);
    assert_int_equal(cfg->decision.n_deliver, 2);
    assert_string_equal(cfg->decision.deliver[0], "cs_slack");
    assert_string_equal(cfg->decision.deliver[1], "owner_email");
    assert_int_equal(cfg->n_signals, 2);
    const config_signal *s = &cfg->signals[0];
    assert_string_equal(s->name, "login_drop");
    assert_string_equal(s->event, "login");
    assert_int_equal(s->measure, MEASURE_DROP);
    assert_int_equal(s->recent_ms, 7 * 86400000LL);
    assert_int_equal(s->usual_ms, 28 * 86400000LL);
    assert_true(s->weight == 2.0);
    assert_false(s->of_value);
    assert_string_equal(s->explain, "logins {{pct}}% below usual");
    assert_int_equal(s->line, 17);
    s = &cfg->signals[1];
    assert_int_equal(s->measure, MEASURE_COUNT);
    assert_int_equal(s->window_ms, 14 * 86400000LL);
    assert_true(s->cap == 4.0);
    assert_int_equal(cfg->n_connectors, 1);
    const config_instance *c = &cfg->connectors[0];
    assert_string_equal(c->plugin, "webhook");
    assert_int_equal(c->kind, SF_KIND_CONNECTOR);
    assert_int_equal(c->line, 32);
    assert_int_equal(c->plugin_line, 33);
    assert_int_equal(c->n_kv, 3);
    assert_string_equal(c->kv[0].key, "listen");
    assert_string_equal(c->kv[0].value, "127.0.0.1:8080");
    assert_int_equal(c->kv[0].line, 34);
    assert_string_equal(c->kv[1].value, "env:BILLING_WEBHOOK_SECRET"); /* kept unresolved */
    assert_string_equal(c->kv[2].key, "map.entity");
    assert_int_equal(cfg->n_deliveries, 2);
    assert_string_equal(cfg->deliveries[0].kv[0].value, "Mon-Fri 09:00-18:00");
    assert_ptr_equal(config_find_instance(cfg, "owner_email"), &cfg->deliveries[1]);
    assert_ptr_equal(config_find_instance(cfg, "billing"), &cfg->connectors[0]);
    assert_null(config_find_instance(cfg, "nope"));
    config_free(cfg);
    unsetenv("SF_TEST_ADMIN_TOKEN");
}

#define MINIMAL                                                                                    \
    "[decision]\nname = d\nthreshold = 0.5\n"                                                      \
    "[signal s]\nevent = login\nmeasure = recent\nwindow = 1d\n"
/* MINIMAL is 7 lines: whatever is appended starts at line 8. */

static void applies_defaults_and_resolves_dirs_against_the_file(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg = load_text(MINIMAL, &d);
    assert_non_null(cfg);
    char want[200];
    snprintf(want, sizeof want, "%s/var", tmpdir);
    assert_string_equal(cfg->state_dir, want);
    assert_string_equal(cfg->plugin_dir, SIGFLOW_PREFIX "/lib/sigflow/plugins"); /* installed */
    assert_string_equal(cfg->admin, "127.0.0.1:9464");
    assert_null(cfg->admin_token);
    assert_true(cfg->shards >= 1);
    assert_int_equal(cfg->queue_size, 65536);
    assert_int_equal(cfg->clock, CONFIG_CLOCK_WALL);
    assert_string_equal(cfg->log_level, "info");
    assert_true(cfg->decision.bias == 0.0);
    assert_true(cfg->decision.rearm_below == 0.5); /* = threshold */
    assert_int_equal(cfg->decision.cooldown_ms, 0);
    assert_int_equal(cfg->decision.tick_ms, 3600000);
    assert_int_equal(cfg->decision.n_deliver, 0);
    assert_true(cfg->signals[0].weight == 1.0);
    assert_true(cfg->signals[0].span == 1.0);
    assert_null(cfg->signals[0].explain);
    config_free(cfg);
}

static void keeps_absolute_dirs_and_reads_sigflow_keys(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg = load_text("[sigflow]\nstate_dir = /srv/sf\nplugin_dir = /opt/p\n"
                                    "shards = 3\nqueue_size = 16\nclock = event\n"
                                    "log_level = debug ; inline comment\n" MINIMAL,
                                    &d);
    diag_print(&d, stderr);
    assert_non_null(cfg);
    assert_string_equal(cfg->state_dir, "/srv/sf");
    assert_string_equal(cfg->plugin_dir, "/opt/p");
    assert_int_equal(cfg->shards, 3);
    assert_int_equal(cfg->queue_size, 16);
    assert_int_equal(cfg->clock, CONFIG_CLOCK_EVENT);
    assert_string_equal(cfg->log_level, "debug");
    config_free(cfg);
}

static const struct bad_case {
    const char *text;
    int line;
    const char *frag;
} bad_cases[] = {
    {MINIMAL "[sigflow]\nshards = 0\n", 9, "`shards` must be between 1 and"},
    {MINIMAL "[sigflow]\nqueue_size = 2x\n", 9, "`queue_size` must be an integer, got `2x`"},
    {MINIMAL "[sigflow]\nqueue_size = 8\n", 9, "between 16 and 16777216"},
    {MINIMAL "[sigflow]\nqueue_size = 16777217\n", 9, "between 16 and 16777216"},
    {MINIMAL "[sigflow]\nclock = walll\n", 9,
     "must be one of wall, event, got `walll` (did "
     "you mean `wall`?)"},
    {MINIMAL "[sigflow]\nlog_level = verbose\n", 9, "one of error, warn, info, debug"},
    {MINIMAL "[sigflow]\nadmin_token = hunter2\n", 9,
     "secrets are never written in INI: use env:NAME or file:/path"},
    {MINIMAL "[sigflow]\nadmin = localhost\n", 9, "`admin` must be host:port"},
    {MINIMAL "[sigflow]\nstate_dri = x\n", 9,
     "unknown key `state_dri` in [sigflow] (did you mean `state_dir`?)"},
    {MINIMAL "[sigflow]\n[sigflow]\n", 9, "a second [sigflow] section (the first is at line 8)"},
    {MINIMAL "[sigflow]\nshards = 2\nshards = 3\n", 10, "`shards` is set twice (first at line 9)"},
    {MINIMAL "[decision]\nname = e\nthreshold = 0.5\n", 8,
     "a second decision is a second sigflow instance"},
    {MINIMAL "[signals x]\n", 8, "unknown section kind `signals` (did you mean `signal`?)"},
    {MINIMAL "[decison]\n", 8, "(did you mean `decision`?)"},
    {MINIMAL "[signal Bad!]\n", 8, "bad name `Bad!`"},
    {MINIMAL "[signal]\n", 8, "[signal] needs a name"},
    {MINIMAL "[signal s]\nevent = a\nmeasure = recent\nwindow = 1d\n", 8,
     "[signal s] has the same name as [signal s] at line 4"},
    {MINIMAL "[connector c]\nplugin = x\n[delivery c]\nplugin = y\n", 10,
     "[delivery c] has the same name as [connector c] at line 8"},
    {MINIMAL "[connector c]\nlisten = 1\n", 8, "[connector c] needs `plugin =`"},
    {MINIMAL "[delivery c]\n", 8, "[delivery c] needs `plugin =`"},
    {MINIMAL "[connector c]\nplugin = Web\n", 9, "bad plugin name `Web`"},
    {MINIMAL "[connector c]\nplugin = w\nx = 1\nx = 2\n", 11, "`x` is set twice"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = drop\nrecent = 7d\nusual = 28d\ncap = 4\n", 13,
     "`cap` is not used by measure drop"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = count\nwindow = 1d\ncap = 1\nof = value\n", 13,
     "`of` is not used by measure count"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = drop\nrecent = 7d\n", 8,
     "measure drop needs `usual =`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = count\nwindow = 1d\n", 8,
     "measure count needs `cap =`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = value_below\n", 8,
     "measure value_below needs `limit =`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = drop\nrecent = 28d\nusual = 7d\n", 12,
     "`usual` (7d) must be longer than `recent` (28d)"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = count\nwindow = 1d\ncap = 0\n", 12,
     "`cap` must be greater than 0"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = count\nwindow = 7\ncap = 1\n", 11,
     "`window` must be a duration"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = absent\nwindow = 0s\n", 11,
     "`window` must be longer than 0"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = dorp\n", 10, "(did you mean `drop`?)"},
    {MINIMAL "[signal t]\nmeasure = recent\nwindow = 1d\n", 8, "[signal t] needs `event =`"},
    {MINIMAL "[signal t]\nevent = e\nwindow = 1d\n", 8, "[signal t] needs `measure =`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = recent\nwindow = 1d\nwieght = 2\n", 12,
     "unknown key `wieght` in [signal t] (did you mean `weight`?)"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = value_above\nlimit = inf\n", 11,
     "`limit` must be a number, got `inf`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = recent\nwindow = 1d\nweight = 2x\n", 12,
     "`weight` must be a number, got `2x`"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = value_above\nlimit = 1e999\n", 11,
     "`limit` must be a number"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = rise\nrecent = 1d\nusual = 7d\nspan = 0\n", 13,
     "`span` must be greater than 0"},
    {MINIMAL "[signal t]\nevent = e\nmeasure = recent\nwindow = 1d\nof = values\n", 12,
     "`of` is not used by measure recent"},
    {MINIMAL "[decision x]\n", 8, "[decision] takes no name"},
    {"key = v\n" MINIMAL, 1, "`key` is outside any section"},
    {MINIMAL "[sigflow\n", 8, "section header without a closing `]`"},
    {MINIMAL "[sigflow] junk\n", 8, "unexpected text after the section header"},
    {MINIMAL "just words\n", 8, "expected `key = value` or a [section] header"},
    {MINIMAL "[sigflow]\n= 3\n", 9, "a value without a key"},
    {"[signal s]\nevent = a\nmeasure = recent\nwindow = 1d\n", 1,
     "[signal s] has no [decision] to belong to"},
    {"[decision]\nname = d\nthreshold = 0.5\n", 1, "[decision] has no [signal NAME] sections"},
    {"[decision]\nname = d\n[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n", 1,
     "[decision] needs `threshold =`"},
    {"[decision]\nthreshold = 0.5\n[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n", 1,
     "[decision] needs `name =`"},
    {"[decision]\nname = d\nthreshold = 1\n[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n", 3,
     "`threshold` must be between 0 and 1"},
    {"[decision]\nname = d\nthreshold = 0.5\nrearm_below = 0.7\n"
     "[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n",
     4, "`rearm_below` must be between 0 and threshold (0.5)"},
    {"[decision]\nname = d\nthreshold = 0.5\ntick = 0s\n"
     "[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n",
     4, "`tick` must be longer than 0"},
    {"[decision]\nname = d\nthreshold = 0.5\ncooldown = 3\n"
     "[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n",
     4, "`cooldown` must be a duration"},
    {"[decision]\nname = d\nthreshold = 0.5\ndeliver = slak\n"
     "[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n[delivery slack]\nplugin = slack\n",
     4, "`deliver` names `slak`, which is not a [delivery] section (did you mean `slack`?)"},
    {"[decision]\nname = D D\nthreshold = 0.5\n[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n", 2,
     "decision name `D D` may only use"},
    {"[decision]\nname = d\nthreshold = 0.5\nquestoin = ?\n"
     "[signal s]\nevent=a\nmeasure=recent\nwindow=1d\n",
     4, "unknown key `questoin` in [decision] (did you mean `question`?)"},
};

static void reports_each_error_with_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        diag d = {0};
        sigflow_config *cfg = load_text(bad_cases[i].text, &d);
        if (cfg || !diag_has(&d, bad_cases[i].line, bad_cases[i].frag)) {
            diag_print(&d, stderr);
            config_free(cfg);
            diag_clear(&d);
            fail_msg("case %zu: expected line %d: %s", i, bad_cases[i].line, bad_cases[i].frag);
        }
        diag_clear(&d);
    }
}

static void collects_every_error_not_only_the_first(void **state)
{
    (void)state;
    diag d = {0};
    sigflow_config *cfg = load_text(MINIMAL "[sigflow]\nshards = x\nclock = now\n[bogus]\n", &d);
    assert_null(cfg);
    assert_int_equal(d.n, 3);
    assert_true(diag_has(&d, 9, "shards"));
    assert_true(diag_has(&d, 10, "clock"));
    assert_true(diag_has(&d, 11, "bogus"));
    diag_clear(&d);
}

static void rejects_lines_longer_than_the_limit(void **state)
{
    (void)state;
    size_t n = SIGFLOW_MAX_CONFIG_LINE + 100;
    char *text = malloc(strlen(MINIMAL) + n + 128);
    assert_non_null(text);
    strcpy(text, MINIMAL "[connector c]\nplugin = p\nk = ");
    size_t l = strlen(text);
    memset(text + l, 'x', n);
    strcpy(text + l + n, "\nj = 1\n");
    diag d = {0};
    sigflow_config *cfg = load_text(text, &d);
    free(text);
    assert_null(cfg);
    assert_int_equal(d.n, 1);
    assert_true(diag_has(&d, 10, "line longer than 4096 bytes"));
    diag_clear(&d);
}

static void accepts_long_lines_within_the_limit(void **state)
{
    (void)state;
    char *text = malloc(strlen(MINIMAL) + SIGFLOW_MAX_TEMPLATE_LEN + 64);
    assert_non_null(text);
    strcpy(text, MINIMAL "explain = ");
    size_t l = strlen(text);
    memset(text + l, 'e', SIGFLOW_MAX_TEMPLATE_LEN);
    strcpy(text + l + SIGFLOW_MAX_TEMPLATE_LEN, "\n");
    diag d = {0};
    sigflow_config *cfg = load_text(text, &d);
    assert_non_null(cfg);
    assert_int_equal(strlen(cfg->signals[0].explain), SIGFLOW_MAX_TEMPLATE_LEN);
    config_free(cfg);
    /* one byte more is over the template limit */
    strcpy(text + l + SIGFLOW_MAX_TEMPLATE_LEN, "e\n");
    cfg = load_text(text, &d);
    free(text);
    assert_null(cfg);
    assert_true(diag_has(&d, 8, "`explain` is longer than 1024 bytes"));
    diag_clear(&d);
}

static void reports_a_missing_file(void **state)
{
    (void)state;
    diag d = {0};
    assert_null(config_load("/nonexistent/sigflow.ini", &d));
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.msgs[0], "/nonexistent/sigflow.ini: cannot open"));
    diag_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_the_design_example),
        cmocka_unit_test(applies_defaults_and_resolves_dirs_against_the_file),
        cmocka_unit_test(keeps_absolute_dirs_and_reads_sigflow_keys),
        cmocka_unit_test(reports_each_error_with_file_and_line),
        cmocka_unit_test(collects_every_error_not_only_the_first),
        cmocka_unit_test(rejects_lines_longer_than_the_limit),
        cmocka_unit_test(accepts_long_lines_within_the_limit),
        cmocka_unit_test(reports_a_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
