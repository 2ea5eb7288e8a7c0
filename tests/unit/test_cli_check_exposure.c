/* Unit tests of core/cli/cli_check_exposure.c: which listen addresses are loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli_check_exposure.h"

static void loopback_addresses_are_told_from_the_rest(void **state)
{
    (void)state;
    assert_true(exposure_is_loopback("127.0.0.1:8088"));
    assert_true(exposure_is_loopback("127.10.0.3:8088")); /* all of 127.0.0.0/8 */
    assert_true(exposure_is_loopback("[::1]:8088"));
    assert_true(exposure_is_loopback("localhost:8088"));
    assert_false(exposure_is_loopback("0.0.0.0:8088"));
    assert_false(exposure_is_loopback("[::]:8088"));
    assert_false(exposure_is_loopback("10.1.2.3:8088"));
    assert_false(exposure_is_loopback("[2001:db8::1]:8088"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_addresses_are_told_from_the_rest),
    };
    return cmocka_run_group_tests_name("cli_check_exposure", tests, NULL, NULL);
}
