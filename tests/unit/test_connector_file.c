/*
 * test_connector_file.c - the `file` connector against the mock host: lines to events, bad
 * lines, back-pressure, checkpoints, following (growth, truncation, rotation), prompt stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../plugins/connector_file/connector_file.c"
#include "../../plugins/connector_file/file_csv.c" /* format = csv, its own file */
#include "../../plugins/connector_file/file_rotated.c"
#include "sf_mock_host.h"

#include <time.h>

#define JOIN_MS 60000 /* generous (ASan on a loaded machine): only a hang fails it */

typedef struct fixture {
    char dir[64];
    char path[128];
    sf_mock_host *host;
    sf_instance *inst;
} fixture;

static void write_file(const char *path, const char *mode, const char *text)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (bounded) until the instance has emitted n events; returns the count. */
static size_t wait_events(sf_instance *inst, size_t n)
{
    for (int i = 0; i < 1000 && sf_mock_event_count(inst) < n; i++)
        nap_ms(5);
    return sf_mock_event_count(inst);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sf_file_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/events.ndjson", f->dir);
    f->host = sf_mock_host_new();
    f->inst = sf_mock_instance_new(f->host, "src", &file_plugin);
    sf_mock_set_option(f->inst, "path", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sf_mock_instance_free(f->inst);
    sf_mock_host_free(f->host);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Runs a non-following instance to the end of its file. */
static void run_to_end(sf_instance *inst)
{
    assert_int_equal(sf_mock_instance_create(inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(inst), SF_OK);
    assert_int_equal(sf_mock_join_threads(inst, JOIN_MS), SF_OK);
}

static void reads_every_line_as_an_event_with_its_fields(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w",
               "{\"entity\":\"c1\",\"type\":\"login\",\"time\":1000}\n"
               "{\"entity\":\"c2\",\"type\":\"ticket.opened\",\"time\":2000,\"value\":3.5,"
               "\"owner\":\"ann@example.com\"}\n"
               "{\"entity\":\"c1\",\"type\":\"login\",\"time\":\"2023-11-14T22:13:20Z\"}\n");
    run_to_end(f->inst);

    assert_int_equal(sf_mock_event_count(f->inst), 3);
    const sf_mock_event *e0 = sf_mock_event_at(f->inst, 0);
    assert_string_equal(e0->entity, "c1");
    assert_string_equal(e0->type, "login");
    assert_int_equal(e0->time_ms, 1000);
    assert_false(e0->has_value);
    const sf_mock_event *e1 = sf_mock_event_at(f->inst, 1);
    assert_string_equal(e1->entity, "c2");
    assert_string_equal(e1->type, "ticket.opened");
    assert_int_equal(e1->time_ms, 2000);
    assert_true(e1->has_value);
    assert_true(e1->value == 3.5);
    assert_string_equal(e1->attrs_json, "{\"owner\":\"ann@example.com\"}");
    assert_int_equal(sf_mock_event_at(f->inst, 2)->time_ms, 1700000000000LL);
    assert_true(
        sf_mock_log_find(f->inst, SF_LOG_INFO, "reached end of file: 3 events, 0 bad lines") >= 0);
    assert_int_equal(sf_mock_events_live(f->inst), 0);
}

static void bad_line_is_counted_and_skipped_with_its_line_number(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w",
               "{\"entity\":\"c1\",\"type\":\"login\",\"time\":1}\n"
               "{\"entity\":\"c2\",\"time\":2}\n"
               "this is not json\n"
               "{\"entity\":\"c3\",\"type\":\"login\",\"time\":3}\n");
    run_to_end(f->inst);

    assert_int_equal(sf_mock_event_count(f->inst), 2);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "c1");
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "c3");
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 2);
    long l2 = sf_mock_log_find(f->inst, SF_LOG_WARN, "events.ndjson:2: ");
    assert_true(l2 >= 0);
    assert_non_null(strstr(sf_mock_log_at(f->inst, (size_t)l2, NULL), "missing type"));
    assert_true(sf_mock_log_find(f->inst, SF_LOG_WARN, "events.ndjson:3: ") >= 0);
    assert_true(sf_mock_log_find(f->inst, SF_LOG_INFO, "3 events") < 0);
    assert_true(sf_mock_log_find(f->inst, SF_LOG_INFO, "2 events, 2 bad lines") >= 0);
}

static void lines_across_read_chunks_arrive_whole_and_in_order(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    long size = 0;
    for (int i = 0; i < 5000; i++) /* about 250 KiB: several 64 KiB reads */
        size += fprintf(fp, "{\"entity\":\"e%d\",\"type\":\"t\",\"time\":%d}\n", i, i);
    assert_int_equal(fclose(fp), 0);
    run_to_end(f->inst);

    assert_int_equal(sf_mock_event_count(f->inst), 5000);
    for (size_t i = 0; i < 5000; i++) {
        const sf_mock_event *e = sf_mock_event_at(f->inst, i);
        char want[16];
        snprintf(want, sizeof want, "e%zu", i);
        assert_string_equal(e->entity, want);
        assert_int_equal(e->time_ms, (int64_t)i);
    }
    const char *pos = sf_mock_checkpoint_peek(f->host, "src", "position");
    assert_non_null(pos);
    char tail[32];
    snprintf(tail, sizeof tail, ":%ld", size);
    assert_non_null(strstr(pos, tail));
}

static sf_status failing_mapper(sf_instance *inst, const char *json, size_t len, sf_event **out,
                                void *ctx)
{
    (void)json;
    (void)len;
    (void)out;
    (void)ctx;
    sf_mock_host_table(ctx)->set_error(inst, "no path data.customer in the document");
    return SF_EINVAL;
}

static void mapping_error_from_the_host_is_in_the_warning(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{}\n");
    sf_mock_set_map_json(f->inst, failing_mapper, f->host);
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 0);
    assert_true(
        sf_mock_log_find(f->inst, SF_LOG_WARN, ":1: no path data.customer in the document") >= 0);
}

static void host_without_last_error_still_gets_a_warning(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "[1,2]\n");
    sf_mock_host_table(f->host)->size = (uint32_t)offsetof(sf_host, last_error);
    run_to_end(f->inst);
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 1);
    assert_true(sf_mock_log_find(f->inst, SF_LOG_WARN, ":1: cannot map the line") >= 0);
}

static void back_pressure_retries_lose_nothing(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w",
               "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n"
               "{\"entity\":\"b\",\"type\":\"t\",\"time\":2}\n"
               "{\"entity\":\"c\",\"type\":\"t\",\"time\":3}\n");
    sf_mock_set_option(f->inst, "poll_interval", "20ms");
    sf_mock_emit_retry(f->inst, 5);
    run_to_end(f->inst);

    assert_int_equal(sf_mock_event_count(f->inst), 3);
    assert_int_equal(sf_mock_emit_calls(f->inst), 8);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "a");
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "b");
    assert_string_equal(sf_mock_event_at(f->inst, 2)->entity, "c");
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 0);
    assert_int_equal(sf_mock_events_live(f->inst), 0);
}

static void checkpoint_resume_skips_lines_already_read(void **state)
{
    fixture *f = *state;
    const char *first = "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n"
                        "{\"entity\":\"b\",\"type\":\"t\",\"time\":2}\n";
    write_file(f->path, "w", first);
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 2);

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    char expect[64];
    snprintf(expect, sizeof expect, "%llu:%zu", (unsigned long long)st.st_ino, strlen(first));
    assert_string_equal(sf_mock_checkpoint_peek(f->host, "src", "position"), expect);

    /* A restart: a new instance of the same name, after the file grew. */
    write_file(f->path, "a", "{\"entity\":\"c\",\"type\":\"t\",\"time\":3}\n");
    sf_instance *again = sf_mock_instance_new(f->host, "src", &file_plugin);
    sf_mock_set_option(again, "path", f->path);
    run_to_end(again);
    assert_int_equal(sf_mock_event_count(again), 1);
    assert_string_equal(sf_mock_event_at(again, 0)->entity, "c");
    sf_mock_instance_free(again);
}

static void checkpoint_of_another_inode_reads_from_the_start(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n");
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    char other[64];
    snprintf(other, sizeof other, "%llu:30", (unsigned long long)st.st_ino + 1);
    sf_mock_checkpoint_put(f->host, "src", "position", other);
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
}

static void checkpoint_off_ignores_stored_position(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n");
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    char pos[64];
    snprintf(pos, sizeof pos, "%llu:35", (unsigned long long)st.st_ino);
    sf_mock_checkpoint_put(f->host, "src", "position", pos);
    sf_mock_set_option(f->inst, "checkpoint", "false");
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_int_equal(sf_mock_checkpoint_writes(f->host), 0);
}

static void long_line_is_skipped_and_counted(void **state)
{
    fixture *f = *state;
    char text[400];
    snprintf(text, sizeof text,
             "{\"entity\":\"%0100d\",\"type\":\"t\",\"time\":1}\n"
             "{\"entity\":\"ok\",\"type\":\"t\",\"time\":2}\n",
             7);
    write_file(f->path, "w", text);
    sf_mock_set_option(f->inst, "max_line", "64");
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "ok");
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 1);
    assert_true(sf_mock_log_find(f->inst, SF_LOG_WARN, ":1: line longer than max_line (64") >= 0);
}

static void blank_lines_and_a_last_line_without_newline_are_handled(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w",
               "\n  \r\n{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\r\n"
               "{\"entity\":\"b\",\"type\":\"t\",\"time\":2}");
    run_to_end(f->inst);
    assert_int_equal(sf_mock_event_count(f->inst), 2);
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "b");
    assert_true(sf_mock_metric(f->inst, "bad_lines") == 0);
}

static void missing_file_fails_start_with_the_reason(void **state)
{
    fixture *f = *state;
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_EIO);
    assert_non_null(strstr(sf_mock_last_error(f->inst), f->path));
    assert_non_null(strstr(sf_mock_last_error(f->inst), strerror(ENOENT)));
    assert_int_equal(sf_mock_thread_count(f->inst), 0);
}

static void missing_path_option_fails_create(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "path", NULL);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_EINVAL);
    assert_non_null(strstr(sf_mock_last_error(f->inst), "path"));
}

static void declared_options_validate_as_documented(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_OK);
    sf_mock_set_option(f->inst, "poll_interval", "5ms");
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "poll_interval"));
    sf_mock_set_option(f->inst, "poll_interval", "1h");
    sf_mock_set_option(f->inst, "from", "middle");
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "from"));
    sf_mock_set_option(f->inst, "from", "end");
    assert_int_equal(sf_mock_validate_options(f->inst, err, sizeof err), SF_OK);
}

static void follow_picks_up_appended_lines_and_survives_truncation(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w",
               "{\"entity\":\"a\",\"type\":\"t\",\"time\":1,\"pad\":\"xxxxxxxxxxxxxxxx\"}\n"
               "{\"entity\":\"b\",\"type\":\"t\",\"time\":2,\"pad\":\"xxxxxxxxxxxxxxxx\"}\n");
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "poll_interval", "10ms");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    assert_int_equal(wait_events(f->inst, 2), 2);

    write_file(f->path, "a", "{\"entity\":\"c\",\"type\":\"t\",\"time\":3}\n");
    assert_int_equal(wait_events(f->inst, 3), 3);
    assert_string_equal(sf_mock_event_at(f->inst, 2)->entity, "c");

    write_file(f->path, "w", "{\"entity\":\"d\",\"type\":\"t\",\"time\":4}\n");
    assert_int_equal(wait_events(f->inst, 4), 4);
    assert_string_equal(sf_mock_event_at(f->inst, 3)->entity, "d");
    assert_true(sf_mock_log_find(f->inst, SF_LOG_WARN, "truncated") >= 0);

    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
    assert_int_equal(sf_mock_event_count(f->inst), 4);
}

static void follow_finishes_a_rotated_file_then_reads_the_new_one(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n");
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "poll_interval", "10ms");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    assert_int_equal(wait_events(f->inst, 1), 1);

    /* The writer adds one last line, rotates, and starts a new file. */
    char old[160];
    snprintf(old, sizeof old, "%s.1", f->path);
    write_file(f->path, "a", "{\"entity\":\"b\",\"type\":\"t\",\"time\":2}\n");
    assert_int_equal(rename(f->path, old), 0);
    write_file(f->path, "w", "{\"entity\":\"c\",\"type\":\"t\",\"time\":3}\n");

    assert_int_equal(wait_events(f->inst, 3), 3);
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "b");
    assert_string_equal(sf_mock_event_at(f->inst, 2)->entity, "c");
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
}

/* The file of the checkpoint was rotated to a sibling while stopped: its unread end first,
   then the new file from its start. */
static void follow_finishes_a_file_rotated_while_stopped(void **state)
{
    fixture *f = *state;
    const char *first = "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n";
    write_file(f->path, "w", first);
    write_file(f->path, "a", "{\"entity\":\"b\",\"type\":\"t\",\"time\":2}\n");
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    char pos[64], old[160];
    snprintf(pos, sizeof pos, "%llu:%zu", (unsigned long long)st.st_ino, strlen(first));
    sf_mock_checkpoint_put(f->host, "src", "position", pos); /* "a" was read before the stop */
    snprintf(old, sizeof old, "%s-20261201", f->path);
    assert_int_equal(rename(f->path, old), 0);
    write_file(f->path, "w", "{\"entity\":\"c\",\"type\":\"t\",\"time\":3}\n");
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "poll_interval", "10ms");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    assert_int_equal(wait_events(f->inst, 2), 2);
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
    assert_int_equal(sf_mock_event_count(f->inst), 2);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "b");
    assert_string_equal(sf_mock_event_at(f->inst, 1)->entity, "c");
    assert_true(sf_mock_log_find(f->inst, SF_LOG_INFO, "while stopped") >= 0);
}

static void follow_waits_for_a_file_that_does_not_exist_yet(void **state)
{
    fixture *f = *state;
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "poll_interval", "10ms");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    write_file(f->path, "w", "{\"entity\":\"late\",\"type\":\"t\",\"time\":1}\n");
    assert_int_equal(wait_events(f->inst, 1), 1);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "late");
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
}

static void from_end_skips_what_the_file_already_holds(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{\"entity\":\"old\",\"type\":\"t\",\"time\":1}\n");
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "from", "end");
    sf_mock_set_option(f->inst, "poll_interval", "10ms");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    write_file(f->path, "a", "{\"entity\":\"new\",\"type\":\"t\",\"time\":2}\n");
    assert_int_equal(wait_events(f->inst, 1), 1);
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
    assert_int_equal(sf_mock_event_count(f->inst), 1);
    assert_string_equal(sf_mock_event_at(f->inst, 0)->entity, "new");
}

static void stop_is_prompt_while_waiting_for_data(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "");
    sf_mock_set_option(f->inst, "follow", "true");
    sf_mock_set_option(f->inst, "poll_interval", "1h");
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    nap_ms(20);
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
}

static void stop_during_back_pressure_keeps_the_line_for_later(void **state)
{
    fixture *f = *state;
    write_file(f->path, "w", "{\"entity\":\"a\",\"type\":\"t\",\"time\":1}\n");
    sf_mock_set_option(f->inst, "poll_interval", "1h");
    sf_mock_emit_retry(f->inst, (size_t)1 << 30);
    assert_int_equal(sf_mock_instance_create(f->inst), SF_OK);
    assert_int_equal(sf_mock_instance_start(f->inst), SF_OK);
    for (int i = 0; i < 1000 && sf_mock_emit_calls(f->inst) < 2; i++)
        nap_ms(5);
    assert_int_equal(sf_mock_instance_stop(f->inst, JOIN_MS), SF_OK);
    assert_int_equal(sf_mock_event_count(f->inst), 0);
    const char *pos = sf_mock_checkpoint_peek(f->host, "src", "position");
    assert_true(pos == NULL || strstr(pos, ":0") != NULL);

    /* After the restart the line comes through. */
    sf_instance *again = sf_mock_instance_new(f->host, "src", &file_plugin);
    sf_mock_set_option(again, "path", f->path);
    run_to_end(again);
    assert_int_equal(sf_mock_event_count(again), 1);
    sf_mock_instance_free(again);
}

static const sf_option *find_option(const sf_plugin *p, const char *name)
{
    for (const sf_option *o = p->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static void descriptor_declares_the_documented_options(void **state)
{
    (void)state;
    const sf_plugin *p = sigflow_plugin_v1(NULL);
    assert_int_equal(p->magic, SF_PLUGIN_MAGIC);
    assert_int_equal(p->struct_size, sizeof(sf_plugin));
    assert_string_equal(p->name, "file");
    assert_int_equal(p->kind, SF_KIND_CONNECTOR);
    const sf_option *o = find_option(p, "path");
    assert_true(o && o->type == SF_OPT_STRING && (o->flags & SF_OPT_REQUIRED));
    o = find_option(p, "follow");
    assert_true(o && o->type == SF_OPT_BOOL && strcmp(o->default_value, "false") == 0);
    o = find_option(p, "poll_interval");
    assert_true(o && o->type == SF_OPT_DURATION && strcmp(o->default_value, "200ms") == 0);
    assert_true((o->flags & SF_OPT_HAS_RANGE) && o->min == 10 && o->max == 3600000);
    o = find_option(p, "from");
    assert_true(o && o->type == SF_OPT_ENUM && strcmp(o->default_value, "beginning") == 0);
    assert_string_equal(o->choices[0], "beginning");
    assert_string_equal(o->choices[1], "end");
    assert_null(o->choices[2]);
    o = find_option(p, "checkpoint");
    assert_true(o && o->type == SF_OPT_BOOL && strcmp(o->default_value, "true") == 0);
    o = find_option(p, "max_line");
    assert_true(o && o->type == SF_OPT_INT && strcmp(o->default_value, "65536") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptor_declares_the_documented_options),
        cmocka_unit_test_setup_teardown(reads_every_line_as_an_event_with_its_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lines_across_read_chunks_arrive_whole_and_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_line_is_counted_and_skipped_with_its_line_number, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mapping_error_from_the_host_is_in_the_warning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(host_without_last_error_still_gets_a_warning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(back_pressure_retries_lose_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_resume_skips_lines_already_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkpoint_of_another_inode_reads_from_the_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkpoint_off_ignores_stored_position, setup, teardown),
        cmocka_unit_test_setup_teardown(long_line_is_skipped_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(blank_lines_and_a_last_line_without_newline_are_handled,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file_fails_start_with_the_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_path_option_fails_create, setup, teardown),
        cmocka_unit_test_setup_teardown(declared_options_validate_as_documented, setup, teardown),
        cmocka_unit_test_setup_teardown(follow_picks_up_appended_lines_and_survives_truncation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(follow_finishes_a_rotated_file_then_reads_the_new_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(follow_finishes_a_file_rotated_while_stopped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(follow_waits_for_a_file_that_does_not_exist_yet, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(from_end_skips_what_the_file_already_holds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stop_is_prompt_while_waiting_for_data, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_during_back_pressure_keeps_the_line_for_later, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
