/* TERN_TEST_STATIC_VARIANT */
/* The raw TCP API's corners that the other tests leave out
 * (src/net/tcp_api.c; issue 17, measured coverage):
 *  - the ephemeral port search skips a port in use and wraps from 65535
 *    to 49152 (RFC 6335 6: the dynamic range), and skips a port that only
 *    a TIME-WAIT entry holds;
 *  - a connect whose shared pools cannot be allocated fails with
 *    TERN_ERR_NOMEM and leaves nothing behind;
 *  - a write of more than INT_MAX bytes takes what fits and says so in an
 *    int.
 * Broken on purpose once: the port search without its in-use test made
 * test_ephemeral_ports fail (the SYN left from the listener's port). */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define LPORT 50000u

static int setup(void **state)
{
    *state = tcp_fixture_new(191, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

static uint16_t syn_port(tcp_fixture_t *t, tern_tcp_pcb_t *pcb)
{
    assert_non_null(pcb);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN);
    capnet_clear(&t->f->cn);
    return (uint16_t)be16_get(h);
}

static void test_ephemeral_ports(void **state)
{
    tcp_fixture_t *t = *state;
    int err = 0;
    capnet_clear(&t->f->cn);
    t->f->stack.tcp.next_port = LPORT; /* the listener's port: skipped */
    tern_tcp_pcb_t *a = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9000, NULL, NULL, &err);
    assert_int_equal(syn_port(t, a), LPORT + 1u);
    t->f->stack.tcp.next_port = 65535;
    tern_tcp_pcb_t *b = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9000, NULL, NULL, &err);
    assert_int_equal(syn_port(t, b), 65535);
    tern_tcp_pcb_t *c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9000, NULL, NULL, &err);
    assert_int_equal(syn_port(t, c), 49152);
    tern_tcp_abort(a);
    tern_tcp_abort(b);
    tern_tcp_abort(c);
}

/* A port held only by a TIME-WAIT entry is in use too (RFC 9293 3.6.1:
 * the old connection's duplicates must not meet a new one). */
static void test_ephemeral_skips_timewait(void **state)
{
    tcp_fixture_t *t = *state;
    int err = 0;
    capnet_clear(&t->f->cn);
    t->f->stack.tcp.next_port = 60000;
    tern_tcp_pcb_t *a = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9000, NULL, NULL, &err);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    uint32_t iss = be32_get(h + 4);
    assert_int_equal(syn_port(t, a), 60000);
    tcp_fixture_rx(t, 9000, 60000, 1000, iss + 1u, TCP_SYN | TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(tern_tcp_state(a), TERN_TCP_ESTABLISHED);
    assert_int_equal(tern_tcp_close(a), TERN_OK);
    tcp_fixture_rx(t, 9000, 60000, 1001, iss + 2u, TCP_FIN | TCP_ACK, 65535, NULL, 0, NULL, 0);
    unsigned tw = 0;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++)
        tw += t->f->stack.tcp.tw[i].local_port == 60000 && t->f->stack.tcp.tw[i].remote_port == 9000;
    assert_int_equal(tw, 1);
    capnet_clear(&t->f->cn);
    t->f->stack.tcp.next_port = 60000;
    tern_tcp_pcb_t *b = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9001, NULL, NULL, &err);
    assert_int_equal(syn_port(t, b), 60001);
    tern_tcp_abort(b);
}

static void test_connect_pools_fail(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(192);
    net_fixture_learn_peer(f);
    mem_snapshot(&f->stack, &f->base);
    int err = 0;
    tern_ledger_fail_nth(&f->stack.ledger, 1, 0);
    assert_null(tern_tcp_connect(&f->stack, FR_PEER_IP, 9000, NULL, NULL, &err));
    tern_ledger_fail_nth(&f->stack.ledger, 0, 0);
    assert_int_equal(err, TERN_ERR_NOMEM);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
    net_fixture_free(f);
}

static void test_write_past_int_max(void **state)
{
    tcp_fixture_t *t = *state;
    int err = 0;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *a = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 9000, NULL, NULL, &err);
    assert_non_null(a);
    size_t space = tern_tcp_send_space(a);
    assert_true(space > 0u);
    uint8_t *data = calloc(1, space);
    assert_non_null(data);
    /* Only what fits is read (the ring's free space), never len bytes. */
    assert_int_equal(tern_tcp_write(a, data, (size_t)0x80000000u), (int)space);
    assert_int_equal(tern_tcp_send_space(a), 0);
    free(data);
    tern_tcp_abort(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ephemeral_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_skips_timewait, setup, teardown),
        cmocka_unit_test(test_connect_pools_fail),
        cmocka_unit_test_setup_teardown(test_write_past_int_max, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
