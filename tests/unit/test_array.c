/* Unit tests of core/base/array.c: growing by doubling keeps what was stored, refuses an
   overflowing size and leaves the array untouched then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "base/array.h"

static void grows_by_doubling_from_first_and_keeps_the_elements(void **state)
{
    (void)state;
    int *a = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100; i++) {
        assert_true(array_grow(&a, n, &cap, sizeof *a, 4));
        a[n++] = i;
    }
    assert_int_equal(cap, 128); /* 4, 8, 16, 32, 64, 128 */
    for (int i = 0; i < 100; i++)
        assert_int_equal(a[i], i);
    free(a);
}

static void room_left_changes_nothing(void **state)
{
    (void)state;
    int *a = malloc(8 * sizeof *a);
    assert_non_null(a);
    int *before = a;
    size_t cap = 8;
    assert_true(array_grow(&a, 7, &cap, sizeof *a, 4));
    assert_ptr_equal(a, before);
    assert_int_equal(cap, 8);
    free(a);
}

static void an_overflowing_size_is_refused_and_the_array_kept(void **state)
{
    (void)state;
    char *a = malloc(16);
    assert_non_null(a);
    char *before = a;
    size_t cap = SIZE_MAX / 2 + 1; /* doubling wraps */
    assert_false(array_grow(&a, cap, &cap, 1, 4));
    assert_ptr_equal(a, before);
    assert_int_equal(cap, SIZE_MAX / 2 + 1);
    size_t cap2 = 16;
    assert_false(array_grow(&a, 16, &cap2, SIZE_MAX / 16, 4)); /* 32 elements overflow */
    assert_int_equal(cap2, 16);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_by_doubling_from_first_and_keeps_the_elements),
        cmocka_unit_test(room_left_changes_nothing),
        cmocka_unit_test(an_overflowing_size_is_refused_and_the_array_kept),
    };
    return cmocka_run_group_tests_name("array", tests, NULL, NULL);
}
