/*
 * test_delivery_console.c - the `console` delivery against the mock host: JSON lines equal
 * alert_json, text templates on one line, appending to a file, stdout, write errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../plugins/delivery_console/delivery_console.c"
#include "sf_mock_host.h"

#include <stdio.h>
#include <sys/stat.h>

typedef struct fixture {
    char dir[64];
    char path[128];
    sf_mock_host *host;
    sf_instance *inst;
    sf_alert *alert;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sf_console_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/alerts.log", f->dir);
    f->host = sf_mock_host_new();
    f->inst = sf_mock_instance_new(f->host, "out", &console_plugin);
    f->alert = sf_mock_alert_new("c1", 0.87);
    sf_mock_alert_add_reason(f->alert, "login_drop", "logins 60% below usual", 0.6, 2);
    sf_mock_alert_add_reason(f->alert, "tickets", "3 tickets in 14 days", 0.75, 1);
    sf_mock_alert_add_reason(f->alert, "unused", "unused signal", 0, 3);
    sf_mock_alert_set_attr(f->alert, "plan", "pro");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sf_mock_instance_free(f->inst);
    sf_mock_alert_free(f->alert);
    sf_mock_host_free(f->host);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The whole file as a string (caller frees). */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 8192);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 8191, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void start(fixture *f)
{
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
}

static void json_line_equals_alert_json(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "path", f->path);
    start(f);
    int64_t retry = 0;
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, &retry), SF_DELIVER_OK);

    char expect[2048];
    snprintf(expect, sizeof expect, "%s\n", sf_mock_alert_json(f->alert));
    char *got = slurp(f->path);
    assert_string_equal(got, expect);
    free(got);
}

static void text_format_renders_the_default_template_on_one_line(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "path", f->path);
    sf_mock_set_option(f->inst, "format", "text");
    start(f);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    char *got = slurp(f->path);
    /* the message model: the question as title, attrs, only reasons that raised the score */
    assert_string_equal(got, "2023-11-14T22:13:20.000Z Is it a test? entity=c1 score=0.87 "
                             "plan=pro reasons: logins 60% below usual; 3 tickets in 14 days\n");
    free(got);
}

static void message_format_writes_the_message_model_json(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "path", f->path);
    sf_mock_set_option(f->inst, "format", "message");
    start(f);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    char *got = slurp(f->path);
    assert_non_null(strstr(got, "\"title\":\"Is it a test?\""));
    assert_non_null(strstr(got, "\"score\":0.87,\"score_pct\":87"));
    assert_non_null(strstr(got, "\"attrs\":{\"plan\":\"pro\"}"));
    assert_null(strstr(got, "unused")); /* a reason that contributed nothing is left out */
    free(got);
}

static void text_format_uses_the_template_option(void **state)
{
    fixture *f = *state;
    sf_mock_alert_set_attr(f->alert, "owner_email", "ann@example.com");
    sf_mock_set_option(f->inst, "path", f->path);
    sf_mock_set_option(f->inst, "format", "text");
    sf_mock_set_option(f->inst, "template", "{{entity}} at {{score_pct}}% -> {{attr.owner_email}}");
    start(f);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    char *got = slurp(f->path);
    assert_string_equal(got, "c1 at 87% -> ann@example.com\n");
    free(got);
}

static void path_appends_and_keeps_what_was_there(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("earlier line\n", fp);
    fclose(fp);
    sf_mock_set_option(f->inst, "path", f->path);
    sf_mock_set_option(f->inst, "format", "text");
    sf_mock_set_option(f->inst, "template", "{{entity}}");
    start(f);
    sf_alert *second = sf_mock_alert_new("c2", 0.9);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    assert_int_equal(sf_mock_deliver(f->inst, second, NULL), SF_DELIVER_OK);
    sf_mock_alert_free(second);
    char *got = slurp(f->path);
    assert_string_equal(got, "earlier line\nc1\nc2\n");
    free(got);
}

static void without_path_writes_to_stdout(void **state)
{
    fixture *f = *state;
    start(f);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_true(dup2(fd, STDOUT_FILENO) >= 0);
    sf_deliver_result r = sf_mock_deliver(f->inst, f->alert, NULL);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    close(fd);
    assert_int_equal(r, SF_DELIVER_OK);
    char expect[2048];
    snprintf(expect, sizeof expect, "%s\n", sf_mock_alert_json(f->alert));
    char *got = slurp(f->path);
    assert_string_equal(got, expect);
    free(got);
}

static void write_error_asks_for_a_retry_and_says_why(void **state)
{
    fixture *f = *state;
    struct stat st;
    if (stat("/dev/full", &st) != 0) {
        skip();
    }
    sf_mock_set_option(f->inst, "path", "/dev/full");
    start(f);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_RETRY);
    assert_non_null(strstr(sf_mock_last_error(f->inst), "/dev/full"));
    assert_non_null(strstr(sf_mock_last_error(f->inst), strerror(ENOSPC)));
}

static void unusable_path_fails_start(void **state)
{
    fixture *f = *state;
    char bad[200];
    snprintf(bad, sizeof bad, "%s/no/such/dir/alerts.log", f->dir);
    sf_mock_set_option(f->inst, "path", bad);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_EIO);
    assert_non_null(strstr(sf_mock_last_error(f->inst), bad));
}

static void unknown_template_field_fails_the_delivery(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "path", f->path);
    sf_mock_set_option(f->inst, "format", "text");
    sf_mock_set_option(f->inst, "template", "{{no_such_field}}");
    start(f);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_FAIL);
    assert_non_null(strstr(sf_mock_last_error(f->inst), "template"));
}

static void declared_options_validate(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_OK);
    sf_mock_set_option(f->inst, "format", "xml");
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "format"));
}

static void descriptor_declares_the_documented_options(void **state)
{
    (void)state;
    const sf_plugin *p = sigflow_plugin_v1(NULL);
    assert_string_equal(p->name, "console");
    assert_int_equal(p->kind, SF_KIND_DELIVERY);
    assert_non_null(p->deliver);
    const sf_option *o = p->options;
    assert_string_equal(o[0].name, "path");
    assert_false(o[0].flags & SF_OPT_REQUIRED);
    assert_string_equal(o[1].name, "format");
    assert_int_equal(o[1].type, SF_OPT_ENUM);
    assert_string_equal(o[1].default_value, "json");
    assert_string_equal(o[2].name, "template");
    assert_int_equal(o[2].type, SF_OPT_TEMPLATE);
    assert_string_equal(o[2].default_value,
                        "{{time}} {{title}} entity={{entity}} score={{score}}{{#attrs}} "
                        "{{name}}={{value}}{{/attrs}} reasons: {{reasons}}");
    assert_null(o[3].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptor_declares_the_documented_options),
        cmocka_unit_test_setup_teardown(json_line_equals_alert_json, setup, teardown),
        cmocka_unit_test_setup_teardown(text_format_renders_the_default_template_on_one_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(text_format_uses_the_template_option, setup, teardown),
        cmocka_unit_test_setup_teardown(message_format_writes_the_message_model_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(path_appends_and_keeps_what_was_there, setup, teardown),
        cmocka_unit_test_setup_teardown(without_path_writes_to_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(write_error_asks_for_a_retry_and_says_why, setup, teardown),
        cmocka_unit_test_setup_teardown(unusable_path_fails_start, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_template_field_fails_the_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(declared_options_validate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
