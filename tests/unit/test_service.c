/* Services polled by tern_poll: deadlines, removal while polled.
 * TERN_TEST_ONE_VARIANT */
#include "tern_test.h"

#include <stdint.h>
#include <stdlib.h>
#include "tern/stack.h"

typedef struct counter_svc {
    tern_service_t svc;
    unsigned calls;
    uint32_t last_now;
    uint32_t next;
    int remove_self;
} counter_svc_t;

static uint32_t counter_poll(tern_stack_t *stack, void *ctx, uint32_t now)
{
    counter_svc_t *c = ctx;
    c->calls++;
    c->last_now = now;
    if (c->remove_self)
        tern_stack_remove_service(stack, &c->svc);
    return c->next;
}

static void test_services_polled_and_removed(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 3);
    tern_stack_t *stack = calloc(1, sizeof *stack);
    assert_int_equal(tern_stack_init(stack, &tp.port), TERN_OK);
    counter_svc_t a = {.svc = {.poll = counter_poll}, .next = 40};
    counter_svc_t b = {.svc = {.poll = counter_poll}, .next = UINT32_MAX, .remove_self = 1};
    a.svc.ctx = &a;
    b.svc.ctx = &b;
    tern_stack_add_service(stack, &a.svc);
    tern_stack_add_service(stack, &a.svc); /* twice: still once */
    tern_stack_add_service(stack, &b.svc);
    uint32_t next = tern_poll(stack, 1234);
    assert_int_equal(next, 40); /* the earliest deadline wins */
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.last_now, 1234);
    assert_int_equal(b.calls, 1);
    tern_poll(stack, 1300);
    assert_int_equal(a.calls, 2);
    assert_int_equal(b.calls, 1); /* removed itself during the first poll */
    a.next = 5000;
    assert_true(tern_poll(stack, 1400) <= 1000); /* never more than 1 s */
    tern_stack_remove_service(stack, &a.svc);
    tern_poll(stack, 1500);
    assert_int_equal(a.calls, 3);
    tern_stack_deinit(stack);
    free(stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_services_polled_and_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
