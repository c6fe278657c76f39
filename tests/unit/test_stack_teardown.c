/* Taking a stack down with applications still running (src/core/stack.c;
 * issue 17, measured coverage): tern_stack_deinit stops every service first
 * (DHCP and DNS here: each stop unbinds its UDP pcb, frees its state and
 * removes itself from the list), then the sockets, the interfaces and TCP,
 * and the heap is empty afterwards. Also the lookups' NULL and unknown
 * arguments. Runs on both buffer schemes. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/dhcp.h"
#include "tern/dns.h"
#include "tern/fingerprint.h"
#include "tern/stack.h"
#include "tern_test.h"

static void test_deinit_stops_running_services(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 41);
    tp.quiet = 1;
    tern_stack_t *stack = calloc(1, sizeof *stack);
    assert_non_null(stack);
    assert_int_equal(tern_stack_init(stack, &tp.port), TERN_OK);
    capnet_t *cn = calloc(1, sizeof *cn);
    assert_non_null(cn);
    capnet_setup(cn, stack, "eth0", FR_OUR_MAC);
    capnet_up(cn, 0, 0, 0);
    assert_int_equal(tern_dhcp_start(stack, &cn->nif), TERN_OK);
    assert_int_equal(tern_dns_start(stack), TERN_OK);
    assert_non_null(tern_stack_find_service(stack, "dhcp"));
    assert_non_null(tern_stack_find_service(stack, "dns"));
    assert_null(tern_stack_find_service(stack, "nonesuch"));
    assert_null(tern_stack_find_service(stack, NULL));
    assert_null(tern_stack_find_service(NULL, "dhcp"));
    int s = tern_socket(stack, TERN_SOCK_DGRAM);
    assert_true(s > 0);
    assert_true(tern_ledger_total_bytes(&stack->ledger) > 0u);

    tern_stack_deinit(stack);
    assert_null(stack->services);
    assert_null(stack->netifs);
    tern_heap_stats_t hs;
    tern_heap_get_stats(&stack->heap, &hs);
    assert_int_equal(hs.used, 0);
    assert_int_equal(tern_heap_check(&stack->heap), TERN_OK);
    tern_stack_deinit(NULL); /* nothing to do, no crash */
    free(cn);
    free(stack);
}

/* tern_config_value: the library's value of a named option; 0 for a name
 * it does not know or NULL. */
static void test_config_value_lookup(void **state)
{
    (void)state;
    assert_int_equal(tern_config_value("TERN_SOCKET_MAX"), TERN_SOCKET_MAX);
    assert_int_equal(tern_config_value("TERN_NO_SUCH_OPTION"), 0);
    assert_int_equal(tern_config_value(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deinit_stops_running_services),
        cmocka_unit_test(test_config_value_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
