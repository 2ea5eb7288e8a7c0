/*
 * test_mock_host.c - the mock host plugin authors test against: a complete table, the
 * canonical map_json, scripted back-pressure, checkpoints per instance name, stop and threads,
 * deterministic alert JSON and templates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sf_mock_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    sf_mock_host *host;
    const sf_host *t;
    sf_instance *inst;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->host = sf_mock_host_new();
    f->t = sf_mock_host_table(f->host);
    f->inst = sf_mock_instance_new(f->host, "inst", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sf_mock_instance_free(f->inst);
    sf_mock_host_free(f->host);
    free(f);
    return 0;
}

static void table_is_complete_and_sized_for_sf_host_has(void **state)
{
    fixture *f = *state;
    const sf_host *t = f->t;
    assert_int_equal(t->size, sizeof(sf_host));
    assert_int_equal(t->abi_major, SF_ABI_MAJOR);
    assert_int_equal(t->abi_minor, SF_ABI_MINOR);
    /* Every member is a function pointer after the 8-byte head: none may be NULL. */
    const size_t head = offsetof(sf_host, log);
    void (*const *slots)(void) = (void (*const *)(void))((const char *)t + head);
    for (size_t i = 0; i < (sizeof(sf_host) - head) / sizeof(void (*)(void)); i++)
        assert_non_null(slots[i]);
    assert_true(SF_HOST_HAS(t, log));
    assert_true(SF_HOST_HAS(t, req_body));
    assert_true(SF_HOST_HAS(t, last_error));
}

static void a_shorter_table_hides_later_members(void **state)
{
    fixture *f = *state;
    sf_host *t = sf_mock_host_table(f->host);
    t->size = (uint32_t)offsetof(sf_host, last_error);
    assert_false(SF_HOST_HAS(t, last_error));
    assert_true(SF_HOST_HAS(t, req_body));
}

static void map_json_reads_the_canonical_shape(void **state)
{
    fixture *f = *state;
    const char *doc =
        "{\"type\":\"login\",\"entity\":\"c\\\"1\",\"time\":\"2023-11-14T22:13:20.250Z\","
        "\"value\":-2.5,\"plan\":{\"tier\":\"pro\",\"seats\":[1,2]},\"ok\":true}";
    sf_event *ev = NULL;
    assert_int_equal(f->t->map_json(f->inst, doc, strlen(doc), &ev), SF_OK);
    assert_int_equal(f->t->emit(f->inst, ev), SF_OK);
    const sf_mock_event *e = sf_mock_event_at(f->inst, 0);
    assert_string_equal(e->entity, "c\"1");
    assert_string_equal(e->type, "login");
    assert_int_equal(e->time_ms, 1700000000250LL);
    assert_true(e->has_value && e->value == -2.5);
    assert_string_equal(e->attrs_json, "{\"plan\":{\"tier\":\"pro\",\"seats\":[1,2]},\"ok\":true}");
}

static void map_json_failures_say_what(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *doc, *why;
    } cases[] = {
        {"{\"type\":\"t\",\"time\":1}", "missing entity"},
        {"{\"entity\":\"e\",\"time\":1}", "missing type"},
        {"{\"entity\":\"e\",\"type\":\"t\"}", "missing time"},
        {"{\"entity\":\"e\",\"type\":\"t\",\"time\":\"yesterday\"}", "time must be"},
        {"{\"entity\":1,\"type\":\"t\",\"time\":1}", "entity must be a string"},
        {"{\"entity\":\"e\",", "col"},
        {"[1]", "expected a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sf_event *ev = (sf_event *)1;
        assert_int_equal(f->t->map_json(f->inst, cases[i].doc, strlen(cases[i].doc), &ev),
                         SF_EINVAL);
        assert_null(ev);
        assert_non_null(strstr(f->t->last_error(f->inst), cases[i].why));
    }
    assert_int_equal(sf_mock_events_live(f->inst), 0);
}

static void event_new_enforces_the_hosts_limits(void **state)
{
    fixture *f = *state;
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_null(f->t->event_new(f->inst, long_id, "t", 1));
    assert_non_null(strstr(sf_mock_last_error(f->inst), "entity"));
    assert_null(f->t->event_new(f->inst, "e", "", 1));
    sf_event *ev = f->t->event_new(f->inst, "e", "t", 1);
    assert_non_null(ev);
    assert_int_equal(f->t->event_set_attrs_json(ev, "[1]", 3), SF_EINVAL);
    assert_int_equal(f->t->event_set_attrs_json(ev, "{\"a\":1}", 7), SF_OK);
    assert_int_equal(sf_mock_events_live(f->inst), 1);
    f->t->event_free(ev);
    assert_int_equal(sf_mock_events_live(f->inst), 0);
}

static void scripted_retry_consumes_the_event_and_records_nothing(void **state)
{
    fixture *f = *state;
    sf_mock_emit_retry(f->inst, 2);
    for (int i = 0; i < 3; i++) {
        sf_event *ev = f->t->event_new(f->inst, "e", "t", i);
        assert_int_equal(f->t->emit(f->inst, ev), i < 2 ? SF_ERETRY : SF_OK);
    }
    assert_int_equal(sf_mock_emit_calls(f->inst), 3);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_int_equal(sf_mock_event_at(f->inst, 0)->time_ms, 2);
    assert_int_equal(sf_mock_events_live(f->inst), 0);
}

static void checkpoints_are_kept_per_instance_name(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->t->checkpoint_set(f->inst, "k", "v1"), SF_OK);
    sf_instance *same = sf_mock_instance_new(f->host, "inst", NULL);
    sf_instance *other = sf_mock_instance_new(f->host, "other", NULL);
    char *v = NULL;
    assert_int_equal(f->t->checkpoint_get(same, "k", &v), SF_OK);
    assert_string_equal(v, "v1");
    f->t->free(v);
    assert_int_equal(f->t->checkpoint_get(other, "k", &v), SF_OK);
    assert_null(v);
    assert_int_equal(sf_mock_checkpoint_writes(f->host), 1);
    sf_mock_instance_free(same);
    sf_mock_instance_free(other);
}

static void wait_for_stop(sf_instance *inst, void *arg)
{
    const sf_host *t = arg;
    while (!t->sleep_ms(inst, 3600000))
        ;
}

static void threads_are_joined_and_sleep_wakes_on_stop(void **state)
{
    fixture *f = *state;
    assert_false(f->t->sleep_ms(f->inst, 1));
    assert_int_equal(f->t->thread_spawn(f->inst, wait_for_stop, (void *)f->t), SF_OK);
    assert_int_equal(sf_mock_thread_count(f->inst), 1);
    assert_int_equal(sf_mock_join_threads(f->inst, 20), SF_ETIMEOUT);
    assert_false(f->t->should_stop(f->inst));
    sf_mock_request_stop(f->inst);
    assert_true(f->t->should_stop(f->inst));
    assert_int_equal(sf_mock_join_threads(f->inst, 5000), SF_OK);
}

static void logs_errors_and_metrics_are_recorded(void **state)
{
    fixture *f = *state;
    f->t->log(f->inst, SF_LOG_WARN, "line %d: bad", 7);
    f->t->log(f->inst, SF_LOG_INFO, "fine");
    f->t->set_error(f->inst, "because %s", "reasons");
    f->t->metric_add(f->inst, "bad_lines", 1);
    f->t->metric_add(f->inst, "bad_lines", 2);
    assert_int_equal(sf_mock_log_count(f->inst), 2);
    sf_log_level lv = SF_LOG_DEBUG;
    assert_string_equal(sf_mock_log_at(f->inst, 0, &lv), "line 7: bad");
    assert_int_equal(lv, SF_LOG_WARN);
    assert_int_equal(sf_mock_log_find(f->inst, SF_LOG_INFO, "fine"), 1);
    assert_int_equal(sf_mock_log_find(f->inst, SF_LOG_ERROR, "fine"), -1);
    assert_string_equal(sf_mock_last_error(f->inst), "because reasons");
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 3);
    assert_true(sf_mock_metric(f->inst, "never") == 0);
}

static void options_read_text_defaults_and_types(void **state)
{
    fixture *f = *state;
    static const sf_option opts[] = {{.name = "n", .type = SF_OPT_INT, .default_value = "42"},
                                     {.name = "d", .type = SF_OPT_DURATION, .default_value = "2m"},
                                     {.name = "b", .type = SF_OPT_BOOL, .default_value = "off"},
                                     {0}};
    static const sf_plugin p = {SF_PLUGIN_INIT, .name = "p", .options = opts};
    sf_instance *in = sf_mock_instance_new(f->host, "p1", &p);
    assert_int_equal(f->t->opt_int(in, "n"), 42);
    assert_int_equal(f->t->opt_duration_ms(in, "d"), 120000);
    assert_false(f->t->opt_bool(in, "b"));
    assert_false(f->t->opt_is_set(in, "b"));
    sf_mock_set_option(in, "b", "Yes");
    sf_mock_set_option(in, "d", "1500ms");
    assert_true(f->t->opt_bool(in, "b"));
    assert_true(f->t->opt_is_set(in, "b"));
    assert_int_equal(f->t->opt_duration_ms(in, "d"), 1500);
    assert_null(f->t->opt_string(in, "missing"));
    assert_int_equal(sf_mock_parse_duration_ms("7d"), 604800000LL);
    assert_int_equal(sf_mock_parse_duration_ms("10"), -1);
    assert_int_equal(sf_mock_parse_duration_ms("-1s"), -1);
    sf_mock_instance_free(in);
}

static int secret_inits; /* init calls of the secret plugin below */

static sf_status secret_init(const sf_host *host)
{
    (void)host;
    secret_inits++;
    return SF_OK;
}

static const sf_option secret_opts[] = {
    {.name = "token", .type = SF_OPT_SECRET},
    {.name = "key.", .type = SF_OPT_SECRET, .flags = SF_OPT_PREFIX},
    {.name = "note", .type = SF_OPT_STRING},
    {0}};
static const sf_plugin secret_plugin = {SF_PLUGIN_INIT, .name = "sec", .init = secret_init,
                                        .options = secret_opts};

/* Secrets as the daemon reads them (core/config/secret.c): env: and file: resolve to the
   value, a literal is refused before init with the daemon's reason. */
static void secrets_resolve_env_and_file_and_refuse_literals(void **state)
{
    fixture *f = *state;
    char path[] = "/tmp/sf-mock-secret-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from-file\n", 10), 10);
    close(fd);
    assert_int_equal(setenv("SF_MOCK_TEST_TOKEN", "from-env", 1), 0);
    char file_ref[64];
    snprintf(file_ref, sizeof file_ref, "file:%s", path);

    sf_instance *in = sf_mock_instance_new(f->host, "s1", &secret_plugin);
    sf_mock_set_option(in, "token", "env:SF_MOCK_TEST_TOKEN");
    sf_mock_set_option(in, "key.a", file_ref);
    sf_mock_set_option(in, "note", "env:NOT_A_SECRET");
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_OK);
    assert_int_equal(sf_mock_instance_create(in), SF_OK);
    assert_string_equal(f->t->opt_string(in, "token"), "from-env");
    const char *suffix = NULL;
    assert_string_equal(f->t->opt_prefixed(in, "key.", 0, &suffix), "from-file");
    assert_string_equal(suffix, "a");
    assert_string_equal(f->t->opt_string(in, "note"), "env:NOT_A_SECRET"); /* not a secret */
    sf_mock_instance_free(in);

    /* A literal: refused by validate_options and by create, which never calls init. */
    secret_inits = 0;
    in = sf_mock_instance_new(f->host, "s2", &secret_plugin);
    sf_mock_set_option(in, "token", "hunter2");
    assert_null(f->t->opt_string(in, "token"));
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "token: secrets are never written in INI"));
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    assert_int_equal(secret_inits, 0);
    assert_non_null(strstr(sf_mock_last_error(in), "use env:NAME or file:/path"));
    assert_null(strstr(sf_mock_last_error(in), "hunter2"));
    sf_mock_instance_free(in);

    /* An unset variable and a missing file are named, as the daemon names them. */
    in = sf_mock_instance_new(f->host, "s3", &secret_plugin);
    unsetenv("SF_MOCK_TEST_UNSET");
    sf_mock_set_option(in, "token", "env:SF_MOCK_TEST_UNSET");
    assert_int_equal(sf_mock_validate_options(in, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "environment variable SF_MOCK_TEST_UNSET is not set"));
    sf_mock_set_option(in, "token", "file:/nonexistent/secret");
    assert_int_equal(sf_mock_instance_create(in), SF_EINVAL);
    assert_non_null(strstr(sf_mock_last_error(in), "cannot read secret file /nonexistent/secret"));
    sf_mock_instance_free(in);
    unlink(path);
}

static void alert_json_and_render_are_deterministic(void **state)
{
    fixture *f = *state;
    sf_alert *a = sf_mock_alert_new("c1", 0.5);
    sf_mock_alert_add_reason(a, "tickets", "", 0.5, 2);
    sf_mock_alert_set_attr(a, "owner", "bo");
    assert_string_equal(f->t->alert_json(a),
                        "{\"alert_id\":\"alert-c1\",\"decision\":\"test_decision\","
                        "\"entity\":\"c1\",\"time\":\"2023-11-14T22:13:20.000Z\",\"score\":0.5,"
                        "\"reasons\":[{\"signal\":\"tickets\",\"x\":0.5,\"weight\":2,"
                        "\"contribution\":1,\"text\":\"\"}]}");
    char *s = f->t->render(a, "{{alert_id}}|{{question}}|{{score}}|{{score_pct}}|{{reasons}}|"
                              "{{attr.owner}}|{{attr.none}}");
    assert_non_null(s);
    assert_string_equal(s, "alert-c1|Is it a test?|0.50|50|tickets|bo|");
    f->t->free(s);
    assert_null(f->t->render(a, "{{bogus}}"));
    assert_null(f->t->render(a, "{{entity"));
    assert_string_equal(f->t->alert_attr(a, "owner"), "bo");
    assert_int_equal(f->t->alert_reason_count(a), 1);
    assert_true(f->t->alert_reason_weight(a, 0) == 2);
    sf_mock_alert_free(a);
}

static void requests_expose_method_path_headers_and_body(void **state)
{
    fixture *f = *state;
    sf_http_request *r = sf_mock_request_new("POST", "/hooks/x", "{}", 2);
    sf_mock_request_add_header(r, "X-Signature", "abc");
    size_t len = 0;
    assert_string_equal(f->t->req_method(r), "POST");
    assert_string_equal(f->t->req_path(r), "/hooks/x");
    assert_string_equal(f->t->req_header(r, "x-signature"), "abc");
    assert_null(f->t->req_header(r, "missing"));
    assert_memory_equal(f->t->req_body(r, &len), "{}", 2);
    assert_int_equal(len, 2);
    sf_mock_request_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(table_is_complete_and_sized_for_sf_host_has, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_shorter_table_hides_later_members, setup, teardown),
        cmocka_unit_test_setup_teardown(map_json_reads_the_canonical_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(map_json_failures_say_what, setup, teardown),
        cmocka_unit_test_setup_teardown(event_new_enforces_the_hosts_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(scripted_retry_consumes_the_event_and_records_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoints_are_kept_per_instance_name, setup, teardown),
        cmocka_unit_test_setup_teardown(threads_are_joined_and_sleep_wakes_on_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(logs_errors_and_metrics_are_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(options_read_text_defaults_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_resolve_env_and_file_and_refuse_literals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(alert_json_and_render_are_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_expose_method_path_headers_and_body, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
