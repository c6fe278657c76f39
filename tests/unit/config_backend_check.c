/* The configuration fingerprint names the memory backend: a caller built
 * static-only (TERN_STATIC_ONLY=1; tests/CMakeLists.txt) against the heap
 * library tern_core disagrees with it on TERN_STATIC_ONLY first (the
 * ledger's layout differs), so tern_stack_init would refuse it with
 * TERN_ERR_CONFIG naming the option. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "tern/stack.h"

#if !TERN_STATIC_ONLY
#error "built with TERN_STATIC_ONLY=1 (tests/CMakeLists.txt)"
#endif

static void test_backend_in_fingerprint(void **state)
{
    (void)state;
    assert_string_equal(tern_config_diff(&TERN_CONFIG_VIEW), "TERN_STATIC_ONLY");
    assert_int_equal(tern_config_value("TERN_STATIC_ONLY"), 0);
    assert_int_equal(tern_config_value("TERN_STATIC_POOLS_MAX"), TERN_STATIC_POOLS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_in_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
