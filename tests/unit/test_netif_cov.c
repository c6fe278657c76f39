/* The argument checks of the driver-facing calls in netif.c that
 * test_netif.c and test_netif_edges.c do not make (issue 17, coverage;
 * every variant): input for an interface of no stack or of another one,
 * a NULL frame, oversize frames seen by the capture hook, interfaces
 * without an output operation, a netmask change alone, tx_done without
 * an interface or a buffer. */
#include <string.h>
#include "frames.h"
#include "tern/err.h"
#include "tern/arp.h"

static int setup(void **state)
{
    return net_fixture_setup(state, 95);
}

static int teardown(void **state)
{
    return net_fixture_teardown(state);
}

static unsigned captured;
static size_t captured_len;
static void capture(void *ctx, const uint8_t *frame, size_t len, int tx, uint32_t now)
{
    (void)ctx;
    (void)frame;
    (void)tx;
    (void)now;
    captured++;
    captured_len = len;
}

static void test_input_arguments(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    /* tern_input: no interface, or one that is not this stack's: the
     * buffer is given back. */
    static tern_netif_t loose;
    memset(&loose, 0, sizeof loose);
    tern_netbuf_t *nb = tern_netbuf_get(&s->netbufs, 60, 0);
    assert_non_null(nb);
    tern_input(s, NULL, nb, f->now);
    nb = tern_netbuf_get(&s->netbufs, 60, 0);
    assert_non_null(nb);
    tern_input(s, &loose, nb, f->now);
    mem_assert_baseline(s, &f->base);
    /* tern_input_copy: no interface, another stack's, a NULL frame with a
     * length; a NULL frame of length 0 is an empty (runt) frame. */
    static const uint8_t frame[64] = {0};
    assert_int_equal(tern_input_copy(s, NULL, frame, sizeof frame, f->now), TERN_ERR_INVAL);
    assert_int_equal(tern_input_copy(s, &loose, frame, sizeof frame, f->now), TERN_ERR_INVAL);
    assert_int_equal(tern_input_copy(s, &f->cn.nif, NULL, 10, f->now), TERN_ERR_INVAL);
    uint32_t rx = s->counters.eth_rx;
    (void)tern_input_copy(s, &f->cn.nif, NULL, 0, f->now);
    assert_int_equal(s->counters.eth_rx, rx + 1);
    /* An oversize frame is shown to the capture hook before it is dropped. */
    static uint8_t big[TERN_NETBUF_FRAME_SIZE + 1];
    captured = 0;
    f->cn.nif.capture = capture;
    assert_int_equal(tern_input_copy(s, &f->cn.nif, big, sizeof big, f->now), TERN_ERR_MSGSIZE);
    f->cn.nif.capture = NULL;
    assert_int_equal(captured, 1);
    assert_int_equal(captured_len, sizeof big);
    assert_int_equal(s->counters.eth_drop_oversize, 1);
    mem_assert_baseline(s, &f->base);
}

static void test_netif_arguments(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    static tern_netif_t n1;
    static tern_netif_ops_t ops;
    memset(&n1, 0, sizeof n1);
    memset(&ops, 0, sizeof ops);
    assert_int_equal(tern_netif_add(s, &n1), TERN_ERR_INVAL); /* no ops */
    n1.ops = &ops;
    assert_int_equal(tern_netif_add(s, &n1), TERN_ERR_INVAL); /* no output */
    /* The netmask alone changes: a change all the same. */
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, TERN_IP4(255, 255, 0, 0), FR_PEER_IP);
    assert_int_equal(f->cn.nif.netmask, TERN_IP4(255, 255, 0, 0));
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    /* tx_done without an interface, a stack or a buffer: nothing. */
    tern_netbuf_t *nb = tern_netbuf_get(&s->netbufs, 60, 0);
    assert_non_null(nb);
    tern_netif_tx_done(NULL, nb);
    tern_netif_tx_done(&n1, nb); /* n1 has no stack */
    tern_netif_tx_done(&f->cn.nif, NULL);
    tern_netbuf_release(&s->netbufs, nb);
    /* The ARP readers: no stack; out NULL only asks whether entry n exists
     * (the peer is known again: the address change flushed the cache). */
    net_fixture_learn_peer(f);
    tern_arp_flush(NULL, NULL);
    assert_int_equal(tern_arp_entry_info(NULL, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_arp_entry_info(s, 0, NULL), TERN_OK);
    mem_assert_baseline(s, &f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_input_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netif_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
