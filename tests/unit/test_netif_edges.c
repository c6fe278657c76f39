/* The interface calls at their edges (issue 17, measured coverage): an MTU
 * larger than a network buffer clamped to what a frame can carry, removing
 * an interface that was never added (the list unchanged), addresses and
 * link state set on an interface not attached yet (kept for when it is),
 * the buffer calls on a detached interface, tx_done on a buffer the driver
 * does not own (refused), and the NULL forms. One stack
 * on a capture interface (frames.h). */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/err.h"
#include "tern/netif.h"
#include "tern_test.h"

static int null_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    (void)nif;
    (void)nb;
    return TERN_OK;
}

static int setup(void **state)
{
    return net_fixture_setup(state, 41);
}

static const tern_netif_ops_t ops = {NULL, null_output, NULL};

static void test_mtu_clamped(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_t big;
    memset(&big, 0, sizeof big);
    big.ops = &ops;
    big.link = TERN_LINK_IP;
    big.mtu = 65000;
    assert_int_equal(tern_netif_add(&f->stack, &big), TERN_OK);
    assert_int_equal(big.mtu, TERN_NETBUF_FRAME_SIZE - 14); /* a frame and an Ethernet header fit one buffer */
    tern_netif_remove(&f->stack, &big);
    assert_null(f->stack.netifs->next); /* only the fixture's interface left */
}

static void test_detached(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_t d;
    memset(&d, 0, sizeof d);
    d.ops = &ops;
    /* removing what was never added: the list as it was */
    tern_netif_remove(&f->stack, &d);
    assert_ptr_equal(f->stack.netifs, &f->cn.nif);
    assert_null(f->cn.nif.next);
    tern_netif_remove(NULL, &d);
    tern_netif_remove(&f->stack, NULL);
    assert_ptr_equal(f->stack.netifs, &f->cn.nif);

    /* set before attaching: kept */
    tern_netif_set_addr(&d, TERN_IP4(198, 51, 100, 7), TERN_IP4(255, 255, 255, 0), TERN_IP4(198, 51, 100, 1));
    assert_int_equal(d.addr, TERN_IP4(198, 51, 100, 7));
    assert_int_equal(d.netmask, TERN_IP4(255, 255, 255, 0));
    assert_int_equal(d.gateway, TERN_IP4(198, 51, 100, 1));
    tern_netif_set_link(&d, 1);
    assert_int_equal(d.link_up, 1);
    tern_netif_set_link(&d, 0);
    assert_int_equal(d.link_up, 0);
    tern_netif_set_addr(NULL, 1, 2, 3);
    tern_netif_set_link(NULL, 1);

    /* no stack behind it: no buffer to give, none to take back */
    assert_null(tern_netif_rx_buffer_get(&d));
    assert_null(tern_netif_rx_buffer_get(NULL));
    uint16_t free0 = tern_netbuf_free_count(&f->stack.netbufs);
    tern_netbuf_t *nb = tern_netif_rx_buffer_get(&f->cn.nif);
    assert_non_null(nb);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0 - 1);
    tern_netif_tx_done(&d, nb); /* detached: ignored, the buffer still ours */
    tern_netif_tx_done(&f->cn.nif, NULL);
    tern_input(NULL, &f->cn.nif, nb, f->now); /* no stack: ignored */
    tern_input(&f->stack, &f->cn.nif, NULL, f->now);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0 - 1);
    /* an RX buffer is not the driver's to hand back as sent: refused, logged */
    tern_netif_tx_done(&f->cn.nif, nb);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0 - 1);
    tern_netbuf_release(&f->stack.netbufs, nb);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mtu_clamped, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_detached, setup, net_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
