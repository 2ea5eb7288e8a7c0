/*
 * test_ingest_answer.c - the counts of the ingest listener's answers
 * (core/ingest/ingest_answer.c, sigflow_ingest_requests_total{connector,code}): on a loop's
 * thread a pass's answers reach /metrics at the pass's end and every one of them does, pass
 * after pass, with and without a connector; more (connector, code) pairs than a loop keeps
 * at hand are counted at once; a thread that is not a loop counts at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"
#include "ingest/ingest_answer.h"
#include "metrics_text.h"

static void a_pass_is_counted_at_its_end_and_every_pass_adds(void **state)
{
    (void)state;
    static ingest_answer_counts counts;
    ingest_answer_counts_bind(&counts);
    const char *ok = "sigflow_ingest_requests_total{connector=\"pass\",code=\"202\"}";
    const char *bad = "sigflow_ingest_requests_total{connector=\"pass\",code=\"400\"}";
    const char *none = "sigflow_ingest_requests_total{code=\"404\"}";
    for (int i = 0; i < 3; i++)
        ingest_answer_count("pass", 202);
    ingest_answer_count("pass", 400);
    ingest_answer_count(NULL, 404);
    ingest_answer_count("", 404);
    assert_true(metrics_text_value(ok) <= 0); /* not before the pass ends */
    ingest_answer_counts_flush(&counts);
    assert_true(metrics_text_value(ok) == 3);
    assert_true(metrics_text_value(bad) == 1);
    assert_true(metrics_text_value(none) == 2);
    ingest_answer_counts_flush(&counts); /* an empty pass adds nothing */
    assert_true(metrics_text_value(ok) == 3);
    ingest_answer_count("pass", 202);
    ingest_answer_count("pass", 202);
    ingest_answer_counts_flush(&counts);
    assert_true(metrics_text_value(ok) == 5);
    assert_true(metrics_text_value(bad) == 1);
    ingest_answer_counts_bind(NULL);
}

static void more_pairs_than_a_loop_keeps_are_all_counted(void **state)
{
    (void)state;
    static ingest_answer_counts counts;
    ingest_answer_counts_bind(&counts);
    enum { PAIRS = INGEST_ANSWER_COUNTS + 3 };
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < PAIRS; i++)
            ingest_answer_count("many", 200 + i);
        ingest_answer_counts_flush(&counts);
    }
    for (unsigned i = 0; i < PAIRS; i++) {
        char series[128];
        snprintf(series, sizeof series,
                 "sigflow_ingest_requests_total{connector=\"many\",code=\"%u\"}", 200 + i);
        if (metrics_text_value(series) != 2)
            fail_msg("%s: %g, expected 2", series, metrics_text_value(series));
    }
    ingest_answer_counts_bind(NULL);
}

static void a_thread_that_is_not_a_loop_counts_at_once(void **state)
{
    (void)state;
    ingest_answer_counts_bind(NULL);
    ingest_answer_count("other", 503);
    assert_true(
        metrics_text_value("sigflow_ingest_requests_total{connector=\"other\",code=\"503\"}") == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pass_is_counted_at_its_end_and_every_pass_adds),
        cmocka_unit_test(more_pairs_than_a_loop_keeps_are_all_counted),
        cmocka_unit_test(a_thread_that_is_not_a_loop_counts_at_once),
    };
    return cmocka_run_group_tests_name("ingest_answer", tests, NULL, NULL);
}
