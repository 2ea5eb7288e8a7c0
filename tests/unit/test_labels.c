/* test_labels.c - the labels table (core/store/labels.c): person over outcome, 409-style
   conflicts and replace, missed entities, unknown alerts and entities, restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/event.h"
#include "store/journal.h"
#include "store/labels.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tmpdir.h"

static int64_t g_now = 1700000000000LL;
static int64_t test_clock(void)
{
    return g_now;
}

typedef struct fixture {
    char dir[64];
    store *s;
    outbox *o;
} fixture;

static void open_all(fixture *f)
{
    char err[256];
    assert_int_equal(store_open(f->dir, STORE_DURABILITY_BATCH, &f->s, err, sizeof err), SF_OK);
    store_set_clock(f->s, test_clock);
    assert_int_equal(outbox_open(f->s, &f->o), SF_OK);
}

static void close_all(fixture *f)
{
    outbox_close(f->o);
    store_close(f->s);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !tmpdir_make(f->dir, sizeof f->dir))
        return -1;
    open_all(f);
    static const char *const targets[] = {"hook"};
    bool created = false;
    if (outbox_put(f->o, "a1", "churn", "cust-1", 5000, "{}", targets, 1, &created) != SF_OK ||
        outbox_put(f->o, "a2", "churn", "cust-2", 6000, "{}", targets, 1, &created) != SF_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_all(f);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void person_label_then_conflict_then_replace(void **state)
{
    fixture *f = *state;
    label_rec l;
    labels_result r;
    assert_int_equal(labels_put_alert(f->s, "a1", LABEL_FALSE_POSITIVE, LABEL_SOURCE_PERSON, "link",
                                      false, &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_CREATED);
    assert_string_equal(l.alert_id, "a1");
    assert_string_equal(l.entity, "cust-1"); /* from the outbox */
    assert_int_equal(l.time_ms, 5000);
    assert_int_equal(l.kind, LABEL_FALSE_POSITIVE);
    assert_int_equal(l.source, LABEL_SOURCE_PERSON);
    assert_string_equal(l.via, "link");
    assert_int_equal(l.recorded_ms, g_now);
    /* the same label again: nothing changes */
    g_now += 1000;
    assert_int_equal(labels_put_alert(f->s, "a1", LABEL_FALSE_POSITIVE, LABEL_SOURCE_PERSON, "api",
                                      false, &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_UNCHANGED);
    assert_int_equal(l.recorded_ms, g_now - 1000);
    /* a different one: a conflict naming what is stored */
    assert_int_equal(
        labels_put_alert(f->s, "a1", LABEL_CONFIRMED, LABEL_SOURCE_PERSON, "api", false, &l, &r),
        SF_OK);
    assert_int_equal(r, LABELS_CONFLICT);
    assert_int_equal(l.kind, LABEL_FALSE_POSITIVE);
    bool found = false;
    assert_int_equal(labels_get_alert(f->s, "a1", &l, &found), SF_OK);
    assert_true(found);
    assert_int_equal(l.kind, LABEL_FALSE_POSITIVE);
    /* replace */
    assert_int_equal(
        labels_put_alert(f->s, "a1", LABEL_CONFIRMED, LABEL_SOURCE_PERSON, "api", true, &l, &r),
        SF_OK);
    assert_int_equal(r, LABELS_REPLACED);
    assert_int_equal(l.kind, LABEL_CONFIRMED);
    assert_string_equal(l.via, "api");
    assert_int_equal(l.recorded_ms, g_now);
    uint64_t n[2];
    assert_int_equal(labels_count(f->s, n), SF_OK);
    assert_int_equal(n[LABEL_SOURCE_PERSON], 1);
    assert_int_equal(n[LABEL_SOURCE_OUTCOME], 0);
}

static void person_wins_over_outcome(void **state)
{
    fixture *f = *state;
    label_rec l;
    labels_result r;
    bool found = false;
    assert_int_equal(labels_put_alert(f->s, "a2", LABEL_FALSE_POSITIVE, LABEL_SOURCE_OUTCOME,
                                      "outcome", false, &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_CREATED);
    assert_int_equal(labels_get_alert(f->s, "a2", &l, &found), SF_OK);
    assert_true(found);
    assert_int_equal(l.source, LABEL_SOURCE_OUTCOME);
    assert_int_equal(
        labels_put_alert(f->s, "a2", LABEL_CONFIRMED, LABEL_SOURCE_PERSON, "api", false, &l, &r),
        SF_OK);
    assert_int_equal(r, LABELS_CREATED); /* not a conflict: another source */
    /* a later outcome label changes the outcome's row, not what counts */
    assert_int_equal(labels_put_alert(f->s, "a2", LABEL_CONFIRMED, LABEL_SOURCE_OUTCOME, "outcome",
                                      false, &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_REPLACED);
    assert_int_equal(labels_put_alert(f->s, "a2", LABEL_FALSE_POSITIVE, LABEL_SOURCE_OUTCOME,
                                      "outcome", false, &l, &r),
                     SF_OK);
    assert_int_equal(labels_get_alert(f->s, "a2", &l, &found), SF_OK);
    assert_int_equal(l.source, LABEL_SOURCE_PERSON);
    assert_int_equal(l.kind, LABEL_CONFIRMED);
    uint64_t n[2];
    assert_int_equal(labels_count(f->s, n), SF_OK);
    assert_int_equal(n[LABEL_SOURCE_PERSON], 1);
    assert_int_equal(n[LABEL_SOURCE_OUTCOME], 1);
}

static void unknown_alerts_and_bad_kinds(void **state)
{
    fixture *f = *state;
    label_rec l;
    labels_result r;
    assert_int_equal(
        labels_put_alert(f->s, "nope", LABEL_CONFIRMED, LABEL_SOURCE_PERSON, "api", false, &l, &r),
        SF_OK);
    assert_int_equal(r, LABELS_NOT_FOUND);
    assert_int_equal(
        labels_put_alert(f->s, "a1", LABEL_MISSED, LABEL_SOURCE_PERSON, "api", false, &l, &r),
        SF_EINVAL);
    bool found = true;
    assert_int_equal(labels_get_alert(f->s, "a1", &l, &found), SF_OK);
    assert_false(found);
    assert_int_equal(label_kind_parse("false_positive"), LABEL_FALSE_POSITIVE);
    assert_int_equal(label_kind_parse("wrong"), -1);
    assert_int_equal(label_kind_parse(NULL), -1);
}

static void collect(void *ctx, const label_rec *l)
{
    label_rec *out = ctx;
    size_t i = 0;
    while (out[i].id)
        i++;
    out[i] = *l;
}

static void missed_entities(void **state)
{
    fixture *f = *state;
    label_rec l;
    labels_result r;
    /* unknown entity */
    assert_int_equal(labels_put_missed(f->s, "ghost", 7000, LABEL_SOURCE_PERSON, "api", &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_NOT_FOUND);
    /* known through the journal only */
    journal *j = NULL;
    assert_int_equal(journal_open(f->s, NULL, &j), SF_OK);
    sf_event *ev = event_new("cust-9", "login", 1000, NULL, 0);
    assert_non_null(ev);
    assert_int_equal(journal_append_handoff(j, "in", &ev, 1, NULL, NULL), SF_OK); /* freed */
    journal_close(j);
    assert_int_equal(labels_put_missed(f->s, "cust-9", 7000, LABEL_SOURCE_PERSON, "api", &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_CREATED);
    assert_int_equal(l.kind, LABEL_MISSED);
    assert_string_equal(l.alert_id, "");
    assert_int_equal(l.time_ms, 7000);
    assert_int_equal(labels_put_missed(f->s, "cust-9", 7000, LABEL_SOURCE_PERSON, "api", &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_UNCHANGED);
    /* known through an alert */
    assert_int_equal(labels_put_missed(f->s, "cust-1", 8000, LABEL_SOURCE_PERSON, "api", &l, &r),
                     SF_OK);
    assert_int_equal(r, LABELS_CREATED);
    label_rec all[8];
    memset(all, 0, sizeof all);
    assert_int_equal(labels_each(f->s, NULL, 0, collect, all), SF_OK);
    assert_string_equal(all[0].entity, "cust-9");
    assert_string_equal(all[1].entity, "cust-1");
    assert_int_equal(all[2].id, 0);
    memset(all, 0, sizeof all);
    assert_int_equal(labels_each(f->s, "cust-1", 7500, collect, all), SF_OK);
    assert_int_equal(all[0].time_ms, 8000);
    assert_int_equal(all[1].id, 0);
    memset(all, 0, sizeof all);
    assert_int_equal(labels_each(f->s, "cust-1", 8001, collect, all), SF_OK);
    assert_int_equal(all[0].id, 0);
}

static void labels_survive_reopen(void **state)
{
    fixture *f = *state;
    labels_result r;
    assert_int_equal(
        labels_put_alert(f->s, "a1", LABEL_CONFIRMED, LABEL_SOURCE_PERSON, "link", false, NULL, &r),
        SF_OK);
    close_all(f);
    open_all(f);
    label_rec l;
    bool found = false;
    assert_int_equal(labels_get_alert(f->s, "a1", &l, &found), SF_OK);
    assert_true(found);
    assert_int_equal(l.kind, LABEL_CONFIRMED);
    assert_string_equal(l.via, "link");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(person_label_then_conflict_then_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(person_wins_over_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_alerts_and_bad_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(missed_entities, setup, teardown),
        cmocka_unit_test_setup_teardown(labels_survive_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
