/* test_cpus.c - the CPUs a process may run on (core/base/cpus.c): its affinity mask counts,
   not the machine's online CPUs, and the result stays within 1..max. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cpus.h"

static void counts_the_affinity_mask(void **state)
{
    (void)state;
    cpu_set_t before;
    assert_int_equal(sched_getaffinity(0, sizeof before, &before), 0);
    assert_int_equal(cpus_usable(1024), (unsigned)CPU_COUNT(&before));

    int first = 0;
    while (!CPU_ISSET(first, &before))
        first++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    unsigned pinned = cpus_usable(1024);
    assert_int_equal(sched_setaffinity(0, sizeof before, &before), 0); /* before asserting */
    assert_int_equal(pinned, 1);
}

static void never_more_than_online_nor_outside_one_to_max(void **state)
{
    (void)state;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    assert_true(online >= 1);
    assert_true(cpus_usable(1024) <= (unsigned)online);
    assert_int_equal(cpus_usable(1), 1);
    assert_int_equal(cpus_usable(0), 1); /* a pool of zero threads is never what was meant */
    /* the online count ignores the mask, and is clamped the same way */
    assert_int_equal(cpus_online(1024), online > 1024 ? 1024 : (unsigned)online);
    assert_int_equal(cpus_online(1), 1);
    assert_int_equal(cpus_online(0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_the_affinity_mask),
        cmocka_unit_test(never_more_than_online_nor_outside_one_to_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
