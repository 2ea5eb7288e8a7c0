/*
 * test_delivery_csv.c - unit tests of the example `csv` delivery against sigflow's mock host
 * (sf_mock_host.h, installed with the SDK): no daemon needed. The plugin is reached through
 * its entry function, exactly as the host reaches it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sf_mock_host.h>
#include <sigflow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const sf_plugin *sigflow_plugin_v1(const sf_host_info *info);

typedef struct fixture {
    char path[64];
    sf_mock_host *host;
    sf_instance *inst;
    sf_alert *alert;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->path, sizeof f->path, "/tmp/sf_csv_XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    f->host = sf_mock_host_new();
    f->inst = sf_mock_instance_new(f->host, "sheet", sigflow_plugin_v1(NULL));
    sf_mock_set_option(f->inst, "path", f->path);
    f->alert = sf_mock_alert_new("c1", 0.8766);
    sf_mock_alert_add_reason(f->alert, "login_drop", "logins 60% below usual, again", 0.6, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sf_mock_instance_free(f->inst);
    sf_mock_alert_free(f->alert);
    sf_mock_host_free(f->host);
    unlink(f->path);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    buf[fread(buf, 1, 4095, fp)] = '\0';
    fclose(fp);
    return buf;
}

static void descriptor_declares_a_csv_delivery(void **state)
{
    (void)state;
    const sf_plugin *p = sigflow_plugin_v1(NULL);
    assert_int_equal(p->magic, SF_PLUGIN_MAGIC);
    assert_int_equal(p->abi_major, SF_ABI_MAJOR);
    assert_int_equal(p->struct_size, sizeof(sf_plugin));
    assert_string_equal(p->name, "csv");
    assert_int_equal(p->kind, SF_KIND_DELIVERY);
    assert_non_null(p->deliver);
}

static void first_row_comes_after_a_header(void **state)
{
    fixture *f = *state;
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    char *got = slurp(f->path);
    assert_string_equal(got, "time,alert_id,decision,entity,score,top_reason\n"
                             "2023-11-14T22:13:20.000Z,alert-c1,test_decision,c1,0.877,"
                             "\"logins 60% below usual, again\"\n");
    free(got);
}

static void later_rows_append_without_header_and_defuse_formulas(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "attr", "owner");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    sf_alert *evil = sf_mock_alert_new("=HYPERLINK(\"x\")", 0.9);
    sf_mock_alert_set_attr(evil, "owner", "bo@example.com");
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_OK);
    assert_int_equal(sf_mock_deliver(f->inst, evil, NULL), SF_DELIVER_OK);
    sf_mock_alert_free(evil);
    char *got = slurp(f->path);
    const char *second = strchr(strchr(got, '\n') + 1, '\n') + 1;
    assert_string_equal(second, "2023-11-14T22:13:20.000Z,\"alert-=HYPERLINK(\"\"x\"\")\","
                                "test_decision,\"'=HYPERLINK(\"\"x\"\")\",0.900,,"
                                "bo@example.com\n");
    free(got);
}

static void path_is_required(void **state)
{
    fixture *f = *state;
    char err[200];
    sf_mock_set_option(f->inst, "path", NULL);
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_EINVAL);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_EINVAL);
    assert_non_null(strstr(sf_mock_last_error(f->inst), "path"));
}

static void write_error_asks_for_a_retry(void **state)
{
    fixture *f = *state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    sf_mock_set_option(f->inst, "path", "/dev/full");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_deliver(f->inst, f->alert, NULL), SF_DELIVER_RETRY);
    assert_non_null(strstr(sf_mock_last_error(f->inst), "/dev/full"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptor_declares_a_csv_delivery),
        cmocka_unit_test_setup_teardown(first_row_comes_after_a_header, setup, teardown),
        cmocka_unit_test_setup_teardown(later_rows_append_without_header_and_defuse_formulas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(path_is_required, setup, teardown),
        cmocka_unit_test_setup_teardown(write_error_asks_for_a_retry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
