/* TERN_TEST_STATIC_VARIANT */
/* tern_stack_t's edges that test_stack.c leaves out (src/core/stack.c;
 * issue 17, measured coverage):
 *  - a configuration mismatch on a port without a log hook still fails
 *    with TERN_ERR_CONFIG (nothing to print it with), as does a view from
 *    another version (wrong count, no values);
 *  - tern_core_lock_missing with no assert hook is silent; without a
 *    function name it reports "?";
 *  - a service without a stop hook is removed by tern_stack_deinit itself;
 *  - the memory report lists static memory an application noted for its
 *    own category, under that category's name.
 * Broken on purpose once: tern_stack_deinit without its removal of a
 * service that did not remove itself looped forever (the program hung and
 * was killed by a timeout), and the report without the noted rows failed
 * test_report_noted_static. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/ledger.h"
#include "tern/stack.h"
#include "tern_test.h"

static tern_stack_t *stack_new(tern_test_port_t *tp, uint64_t seed)
{
    tern_test_port_init(tp, seed);
    tp->quiet = 1;
    tern_stack_t *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(tern_stack_init(s, &tp->port), TERN_OK);
    return s;
}

static void test_config_mismatch_without_log(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 3);
    tp.quiet = 1;
    tp.port.log = NULL;
    tern_stack_t *s = malloc(sizeof *s);
    assert_non_null(s);
    uint32_t one = 1;
    const tern_config_view_t other = {1, &one};
    assert_int_equal(tern_stack_init_checked(s, &tp.port, &other), TERN_ERR_CONFIG);
    const tern_config_view_t none = {TERN_CONFIG_VIEW.count, NULL};
    assert_int_equal(tern_stack_init_checked(s, &tp.port, &none), TERN_ERR_CONFIG);
    assert_int_equal(tp.logs, 0);
    /* With the log hook: one line naming the mismatch. */
    tern_test_port_init(&tp, 3);
    tp.quiet = 1;
    assert_int_equal(tern_stack_init_checked(s, &tp.port, &other), TERN_ERR_CONFIG);
    assert_int_equal(tp.logs, 1);
    assert_int_equal(tern_stack_init_checked(s, &tp.port, NULL), TERN_ERR_CONFIG);
    assert_int_equal(tp.logs, 2);
    free(s);
}

static void test_lock_missing_hooks(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 4);
    tern_test_expect_asserts(&tp, 1);
    tern_core_lock_missing(s, NULL);
    assert_int_equal(tp.asserts, 1);
    tern_port_t silent = tp.port;
    silent.assert_failed = NULL;
    const tern_port_t *saved = s->port;
    s->port = &silent;
    tern_core_lock_missing(s, "tern_poll");
    s->port = saved;
    assert_int_equal(tp.asserts, 1);
    tern_stack_deinit(s);
    free(s);
}

static unsigned g_polls;

static uint32_t svc_poll(tern_stack_t *stack, void *ctx, uint32_t now)
{
    (void)stack;
    (void)ctx;
    (void)now;
    g_polls++;
    return 1000;
}

static void test_service_without_stop(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 5);
    tern_service_t svc = {.name = "nostop", .poll = svc_poll};
    tern_stack_add_service(s, &svc);
    assert_ptr_equal(tern_stack_find_service(s, "nostop"), &svc);
    g_polls = 0;
    tern_poll(s, 10);
    assert_true(g_polls >= 1u);
    tern_stack_deinit(s);
    assert_null(s->services);
    free(s);
}

static void test_report_noted_static(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 6);
    int cat = tern_ledger_register_category(&s->ledger, "frame-store");
    assert_true(cat >= 0);
    tern_ledger_note_static(&s->ledger, (tern_mem_category_t)cat, 4096);
    tern_ledger_note_static(&s->ledger, TERN_MEM_CATEGORY_COUNT, 1); /* ignored */
    tern_test_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    tern_stack_report_memory(s, tern_test_sink_write, sink);
    const char *row = strstr(sink->text, "frame-store");
    assert_non_null(row);
    assert_non_null(strstr(row, "outside tern_stack_t (noted)"));
    assert_non_null(strstr(row, "4096"));
    free(sink);
    tern_stack_deinit(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_mismatch_without_log),
        cmocka_unit_test(test_lock_missing_hooks),
        cmocka_unit_test(test_service_without_stop),
        cmocka_unit_test(test_report_noted_static),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
