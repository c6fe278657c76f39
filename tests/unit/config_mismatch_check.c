/* An application compiled with another configuration than its library
 * (tests/CMakeLists.txt builds this file with TERN_SOCKET_MAX=9 against
 * tern_core's 16, so its tern_stack_t is smaller): tern_stack_init must
 * refuse with TERN_ERR_CONFIG before writing anything, and the log line and
 * tern_config_diff must name the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tern/stack.h"

#if TERN_SOCKET_MAX != 9
#error "built with TERN_SOCKET_MAX=9 (tests/CMakeLists.txt)"
#endif

static char logged[512];

static void log_line(void *ctx, int level, const char *msg)
{
    (void)ctx;
    assert_int_equal(level, TERN_LOG_ERROR);
    strncpy(logged, msg, sizeof logged - 1u);
}

static uint32_t rnd(void *ctx)
{
    (void)ctx;
    return 4u;
}

static void test_mismatch_refused(void **state)
{
    (void)state;
    static tern_stack_t stack;
    memset(&stack, 0xA5, sizeof stack);
    tern_port_t port = {.random32 = rnd, .log = log_line};
    assert_int_equal(tern_stack_init(&stack, &port), TERN_ERR_CONFIG);
    /* Nothing written: the library's tern_stack_t is larger than this one. */
    for (size_t i = 0; i < sizeof stack; i++)
        assert_int_equal(((const uint8_t *)&stack)[i], 0xA5);
    assert_non_null(strstr(logged, "TERN_SOCKET_MAX is 9 in the application, 16 in the library"));
    assert_string_equal(tern_config_diff(&TERN_CONFIG_VIEW), "TERN_SOCKET_MAX");
    assert_int_equal(tern_config_value("TERN_SOCKET_MAX"), 16);
    assert_string_equal(tern_strerror(TERN_ERR_CONFIG),
                        "application and library built with different configurations");
}

static void test_other_version_refused(void **state)
{
    (void)state;
    static const uint32_t values[3] = {0, 0, 0};
    const tern_config_view_t view = {3, values};
    assert_string_equal(tern_config_diff(&view), "count");
    assert_string_equal(tern_config_diff(NULL), "count");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mismatch_refused),
        cmocka_unit_test(test_other_version_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
