/* test_options.c - declared plugin options applied to INI keys (core/plugin/options.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/options.h"

static const char *const modes[] = {"fast", "safe", NULL};
static const sf_option decl[] = {
    {.name = "path", .type = SF_OPT_STRING, .flags = SF_OPT_REQUIRED, .help = "file to read"},
    {.name = "retries",
     .type = SF_OPT_INT,
     .default_value = "3",
     .flags = SF_OPT_HAS_RANGE,
     .min = 0,
     .max = 10,
     .help = "attempts"},
    {.name = "ratio",
     .type = SF_OPT_DOUBLE,
     .default_value = "0.5",
     .flags = SF_OPT_HAS_RANGE,
     .min = 0,
     .max = 1},
    {.name = "follow", .type = SF_OPT_BOOL, .default_value = "yes"},
    {.name = "interval",
     .type = SF_OPT_DURATION,
     .default_value = "1s",
     .flags = SF_OPT_HAS_RANGE,
     .min = 10,
     .max = 3600000,
     .help = "poll period"},
    {.name = "mode", .type = SF_OPT_ENUM, .default_value = "safe", .choices = modes},
    {.name = "token", .type = SF_OPT_SECRET, .help = "API token"},
    {.name = "password",
     .type = SF_OPT_STRING,
     .flags = SF_OPT_SENSITIVE,
     .default_value = "hunter2"},
    {.name = "pin", .type = SF_OPT_INT, .flags = SF_OPT_SENSITIVE},
    {0}};

/* [connector c] at line 10 (plugin demo), keys on lines 11, 12, ... */
static config_instance make_inst(config_kv *kv, size_t n, sf_plugin_kind kind)
{
    for (size_t i = 0; i < n; i++)
        kv[i].line = 11 + (int)i;
    return (config_instance){
        .name = "c", .plugin = "demo", .kind = kind, .line = 10, .kv = kv, .n_kv = n};
}

static bool diag_has(const diag *d, int line, const char *frag)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t.ini:%d: ", line);
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0 && strstr(d->msgs[i], frag))
            return true;
    return false;
}

static void applies_typed_values_and_defaults(void **state)
{
    (void)state;
    setenv("SF_TEST_TOK", "tok-xyz", 1);
    config_kv kv[] = {{"path", "/var/log/x"}, {"retries", "7"}, {"follow", "off"},
                      {"interval", "5m"},     {"mode", "fast"}, {"token", "env:SF_TEST_TOK"},
                      {"map.entity", "a.b"},  {"ratio", "-0"}};
    config_instance in = make_inst(kv, sizeof kv / sizeof kv[0], SF_KIND_CONNECTOR);
    diag d = {0};
    opt_values *v = options_apply(decl, &in, "t.ini", &d);
    diag_print(&d, stderr);
    assert_non_null(v);
    assert_int_equal(d.n, 0);
    assert_string_equal(options_string(v, "path"), "/var/log/x");
    assert_int_equal(options_int(v, "retries"), 7);
    assert_false(options_bool(v, "follow"));
    assert_int_equal(options_duration_ms(v, "interval"), 300000);
    assert_string_equal(options_string(v, "mode"), "fast");
    assert_string_equal(options_string(v, "token"), "tok-xyz");
    assert_true(options_double(v, "ratio") == 0.0);
    assert_string_equal(options_string(v, "password"), "hunter2"); /* default */
    assert_true(options_is_set(v, "retries"));
    assert_false(options_is_set(v, "password"));
    assert_false(options_is_set(v, "pin"));
    assert_int_equal(options_int(v, "pin"), 0);
    assert_null(options_string(v, "pin"));
    /* undeclared names */
    assert_null(options_string(v, "map.entity"));
    assert_int_equal(options_int(v, "nope"), 0);
    assert_false(options_bool(v, "nope"));
    options_free(v);
    unsetenv("SF_TEST_TOK");
}

static void defaults_are_typed(void **state)
{
    (void)state;
    config_kv kv[] = {{"path", "p"}};
    config_instance in = make_inst(kv, 1, SF_KIND_DELIVERY);
    diag d = {0};
    opt_values *v = options_apply(decl, &in, "t.ini", &d);
    assert_non_null(v);
    assert_int_equal(options_int(v, "retries"), 3);
    assert_true(options_double(v, "ratio") == 0.5);
    assert_true(options_bool(v, "follow"));
    assert_int_equal(options_duration_ms(v, "interval"), 1000);
    assert_string_equal(options_string(v, "mode"), "safe");
    assert_null(options_string(v, "token"));
    options_free(v);
}

static const struct {
    const char *key, *value;
    const char *frag;
} bad_values[] = {
    {"retries", "2x", "`retries` must be an integer, got `2x`"},
    {"retries", "99999999999999999999", "`retries` must be an integer"},
    {"retries", "11", "`retries` is out of range: 11 is not in 0..10"},
    {"retries", "-1", "`retries` is out of range: -1 is not in 0..10"},
    {"ratio", "nan", "`ratio` must be a number, got `nan`"},
    {"ratio", "1e999", "`ratio` must be a number"},
    {"ratio", "1.5", "`ratio` is out of range: 1.5 is not in 0..1"},
    {"follow", "maybe", "`follow` must be true or false (yes/no, on/off, 1/0), got `maybe`"},
    {"interval", "5", "`interval` must be a duration"},
    {"interval", "2h", "`interval` is out of range: 2h is not in 10ms..1h"},
    {"interval", "5ms", "`interval` is out of range: 5ms is not in 10ms..1h"},
    {"mode", "fats", "`mode` must be one of fast, safe, got `fats` (did you mean `fast`?)"},
    {"token", "literal-value", "secrets are never written in INI: use env:NAME or file:/path"},
    {"token", "env:SF_TEST_UNSET_VAR", "environment variable SF_TEST_UNSET_VAR is not set"},
    {"pin", "12x", "`pin` must be an integer, got `<secret>`"},
    {"retires", "3", "unknown key `retires` for plugin demo (did you mean `retries`?)"},
    {"zzz", "3", "unknown key `zzz` for plugin demo"},
};

static void reports_bad_values_at_their_line(void **state)
{
    (void)state;
    unsetenv("SF_TEST_UNSET_VAR");
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        config_kv kv[] = {{"path", "p"}, {(char *)bad_values[i].key, (char *)bad_values[i].value}};
        config_instance in = make_inst(kv, 2, SF_KIND_CONNECTOR);
        diag d = {0};
        opt_values *v = options_apply(decl, &in, "t.ini", &d);
        if (v || d.n != 1 || !diag_has(&d, 12, bad_values[i].frag)) {
            diag_print(&d, stderr);
            options_free(v);
            diag_clear(&d);
            fail_msg("case %zu: want t.ini:12: %s", i, bad_values[i].frag);
        }
        diag_clear(&d);
    }
}

static void secret_and_sensitive_values_never_appear_in_errors(void **state)
{
    (void)state;
    config_kv kv[] = {{"path", "p"}, {"token", "s3cr3t-literal"}, {"pin", "s3cr3t-pin"}};
    config_instance in = make_inst(kv, 3, SF_KIND_CONNECTOR);
    diag d = {0};
    assert_null(options_apply(decl, &in, "t.ini", &d));
    assert_int_equal(d.n, 2);
    for (size_t i = 0; i < d.n; i++)
        assert_null(strstr(d.msgs[i], "s3cr3t"));
    diag_clear(&d);
}

static void missing_required_is_reported_at_the_section(void **state)
{
    (void)state;
    config_kv kv[] = {{"retries", "1"}};
    config_instance in = make_inst(kv, 1, SF_KIND_DELIVERY);
    diag d = {0};
    assert_null(options_apply(decl, &in, "t.ini", &d));
    assert_int_equal(d.n, 1);
    assert_true(diag_has(&d, 10, "[delivery c] needs `path =` (string: file to read)"));
    diag_clear(&d);
}

static void map_keys_are_skipped_only_on_connectors(void **state)
{
    (void)state;
    config_kv kv[] = {{"path", "p"}, {"map.entity", "x"}};
    config_instance in = make_inst(kv, 2, SF_KIND_DELIVERY);
    diag d = {0};
    assert_null(options_apply(decl, &in, "t.ini", &d));
    assert_true(diag_has(&d, 12, "unknown key `map.entity` for plugin demo"));
    diag_clear(&d);
}

static void every_error_is_collected(void **state)
{
    (void)state;
    config_kv kv[] = {{"retries", "x"}, {"mode", "slow"}, {"bogus", "1"}};
    config_instance in = make_inst(kv, 3, SF_KIND_CONNECTOR);
    diag d = {0};
    assert_null(options_apply(decl, &in, "t.ini", &d));
    assert_int_equal(d.n, 4); /* three bad keys and the missing `path` */
    diag_clear(&d);
}

static void a_bad_default_is_blamed_on_the_plugin(void **state)
{
    (void)state;
    static const sf_option broken[] = {
        {.name = "every", .type = SF_OPT_DURATION, .default_value = "10"}, {0}};
    config_instance in = make_inst(NULL, 0, SF_KIND_CONNECTOR);
    diag d = {0};
    assert_null(options_apply(broken, &in, "t.ini", &d));
    assert_int_equal(d.n, 1);
    assert_true(diag_has(&d, 10, "plugin demo declares a bad default (a plugin bug)"));
    diag_clear(&d);
}

static void no_declared_options_accepts_only_an_empty_section(void **state)
{
    (void)state;
    config_instance in = make_inst(NULL, 0, SF_KIND_CONNECTOR);
    diag d = {0};
    opt_values *v = options_apply(NULL, &in, "t.ini", &d);
    assert_non_null(v);
    assert_null(options_string(v, "x"));
    options_free(v);
    config_kv kv[] = {{"x", "1"}};
    in = make_inst(kv, 1, SF_KIND_CONNECTOR);
    assert_null(options_apply(NULL, &in, "t.ini", &d));
    assert_true(diag_has(&d, 11, "unknown key `x` for plugin demo"));
    diag_clear(&d);
}

static void print_shows_a_reference_with_secrets_redacted(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    options_print(f, decl);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, "NAME"));
    assert_non_null(strstr(buf, "DEFAULT"));
    assert_non_null(strstr(buf, "REQUIRED"));
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(strstr(buf, "<secret>"));
    assert_non_null(strstr(buf, "10ms..1h"));
    assert_non_null(strstr(buf, "0..10"));
    assert_non_null(strstr(buf, "one of: fast, safe"));
    assert_non_null(strstr(buf, "poll period"));
    assert_non_null(strstr(buf, "duration"));
    /* the path line says it is required */
    char *line = strstr(buf, "\npath ");
    assert_non_null(line);
    char *eol = strchr(line + 1, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strstr(line, " yes "));
    free(buf);
}

static void parses_booleans_and_names_types(void **state)
{
    (void)state;
    const char *yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
    const char *no[] = {"false", "no", "off", "0", "Off"};
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        assert_int_equal(options_parse_bool(yes[i], &b), 0);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = true;
        assert_int_equal(options_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    assert_int_equal(options_parse_bool("2", &b), -1);
    assert_int_equal(options_parse_bool("", &b), -1);
    assert_int_equal(options_parse_bool(NULL, &b), -1);
    assert_string_equal(options_type_name(SF_OPT_DURATION), "duration");
    assert_string_equal(options_type_name(SF_OPT_SECRET), "secret");
    assert_string_equal(options_type_name((sf_opt_type)99), "?");
}

/* SF_OPT_PREFIX: "headers." accepts every headers.NAME key, in INI order; the bare prefix, a
   key outside it and a bad secret under a secret prefix are errors naming the line. */
static void prefix_option_takes_every_key_under_it(void **state)
{
    (void)state;
    static const sf_option pdecl[] = {
        {.name = "url", .type = SF_OPT_STRING},
        {.name = "headers.", .type = SF_OPT_STRING, .flags = SF_OPT_PREFIX},
        {.name = "secret.", .type = SF_OPT_SECRET, .flags = SF_OPT_PREFIX},
        {0}};
    setenv("SF_TEST_PFX", "s3cret", 1);
    config_kv kv[] = {{"headers.Accept", "application/json"},
                      {"url", "http://x"},
                      {"headers.X-Api-Version", "2"},
                      {"secret.Token", "env:SF_TEST_PFX"}};
    config_instance in = make_inst(kv, 4, SF_KIND_CONNECTOR);
    diag d = {0};
    opt_values *v = options_apply(pdecl, &in, "t.ini", &d);
    assert_non_null(v);
    const char *suffix = NULL;
    assert_string_equal(options_prefixed(v, "headers.", 0, &suffix), "application/json");
    assert_string_equal(suffix, "Accept");
    assert_string_equal(options_prefixed(v, "headers.", 1, &suffix), "2");
    assert_string_equal(suffix, "X-Api-Version");
    assert_null(options_prefixed(v, "headers.", 2, &suffix));
    assert_string_equal(options_prefixed(v, "secret.", 0, NULL), "s3cret");
    assert_false(options_is_set(v, "headers."));
    options_free(v);

    config_kv bad[] = {{"headers.", "x"}, {"header.Accept", "y"}, {"secret.T", "literal"}};
    in = make_inst(bad, 3, SF_KIND_CONNECTOR);
    assert_null(options_apply(pdecl, &in, "t.ini", &d));
    assert_true(diag_has(&d, 11, "unknown key `headers.`"));
    assert_true(diag_has(&d, 12, "unknown key `header.Accept`"));
    assert_true(diag_has(&d, 13, "secret.T"));
    diag_clear(&d);
}

static const sf_option path_decl[] = {
    {.name = "in", .type = SF_OPT_STRING, .flags = SF_OPT_PATH},
    {.name = "out", .type = SF_OPT_STRING, .flags = SF_OPT_PATH, .default_value = "out.ndjson"},
    {.name = "abs", .type = SF_OPT_STRING, .flags = SF_OPT_PATH},
    {.name = "plain", .type = SF_OPT_STRING},
    {0}};

/* Paths are resolved against the config file's directory, never the working directory. */
static void path_options_are_relative_to_the_config(void **state)
{
    (void)state;
    config_kv kv[] = {{"in", "events.ndjson"}, {"abs", "/data/x"}, {"plain", "a/b"}};
    config_instance in = make_inst(kv, sizeof kv / sizeof kv[0], SF_KIND_CONNECTOR);
    diag d = {0};
    opt_values *v = options_apply(path_decl, &in, "/etc/sigflow/sigflow.ini", &d);
    assert_non_null(v);
    assert_string_equal(options_string(v, "in"), "/etc/sigflow/events.ndjson");
    assert_string_equal(options_string(v, "out"), "/etc/sigflow/out.ndjson"); /* a default too */
    assert_string_equal(options_string(v, "abs"), "/data/x");
    assert_string_equal(options_string(v, "plain"), "a/b"); /* not a path: as written */
    options_free(v);
    v = options_apply(path_decl, &in, "sigflow.ini", &d); /* in the working directory */
    assert_non_null(v);
    assert_string_equal(options_string(v, "in"), "events.ndjson");
    options_free(v);
    diag_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(applies_typed_values_and_defaults),
        cmocka_unit_test(defaults_are_typed),
        cmocka_unit_test(reports_bad_values_at_their_line),
        cmocka_unit_test(secret_and_sensitive_values_never_appear_in_errors),
        cmocka_unit_test(missing_required_is_reported_at_the_section),
        cmocka_unit_test(map_keys_are_skipped_only_on_connectors),
        cmocka_unit_test(every_error_is_collected),
        cmocka_unit_test(a_bad_default_is_blamed_on_the_plugin),
        cmocka_unit_test(no_declared_options_accepts_only_an_empty_section),
        cmocka_unit_test(print_shows_a_reference_with_secrets_redacted),
        cmocka_unit_test(parses_booleans_and_names_types),
        cmocka_unit_test(prefix_option_takes_every_key_under_it),
        cmocka_unit_test(path_options_are_relative_to_the_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
