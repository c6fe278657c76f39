/* IPv4 and ICMP on the paths test_ipv4.c and test_icmp.c do not take
 * (issue 17, coverage; every variant): echo requests beyond one buffer
 * that are not answered (not an echo, to the broadcast, from 0.0.0.0) or
 * whose answer cannot go (no route, link down, a tiny MTU, the driver
 * refusing); an error and an echo reply with no route back; dotted quads
 * with trailing text; a datagram in reassembly when the stack goes. */
#include <string.h>
#include "frames.h"
#include "tern/err.h"

static tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

static int setup(void **state)
{
    return net_fixture_setup(state, 91);
}

static int teardown(void **state)
{
    return net_fixture_teardown(state);
}

static void test_ip4_from_str_edges(void **state)
{
    (void)state;
    tern_ip4_t a = 0;
    assert_int_equal(tern_ip4_from_str(NULL, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_ip4_from_str("192.0.2.1x", &a), TERN_ERR_INVAL);
    assert_int_equal(tern_ip4_from_str("192.0.2.1 ", &a), TERN_ERR_INVAL);
    assert_int_equal(tern_ip4_from_str("192.0.2.1", NULL), TERN_OK);
    assert_int_equal(tern_ip4_from_str("192.0.2.1", &a), TERN_OK);
    assert_int_equal(a, TERN_IP4(192, 0, 2, 1));
}

/* No gateway: an echo request and a UDP datagram to a closed port from an
 * off-link host get nothing back (no route), counted. */
static void test_no_route_back(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, 0);
    capnet_clear(&f->cn);
    uint8_t fr[FRAME_MAX];
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    fx_rx(f, fr, frame_echo(fr, FR_REMOTE_IP, FR_OUR_IP, 8, 1, 1, data, sizeof data));
    assert_int_equal(C(f)->icmp_echo_rx, 1);
    assert_int_equal(C(f)->icmp_tx_err, 1);
    assert_int_equal(C(f)->ipv4_tx_noroute, 1);
    uint8_t u[64];
    size_t ul = frame_udp(u, FR_REMOTE_IP, FR_OUR_IP, 4000, 9, data, sizeof data);
    frame_ip_t ip = {.src = FR_REMOTE_IP, .dst = FR_OUR_IP, .proto = 17};
    fx_rx(f, fr, frame_ip_eth(fr, &ip, u, ul));
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    assert_int_equal(C(f)->icmp_tx_err, 2); /* the port unreachable */
    assert_int_equal(C(f)->ipv4_tx_noroute, 2);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

#if TERN_IP_REASSEMBLY
static uint8_t icmp_msg[3100];

/* A 3000-byte ICMP message (type, from src to dst) in fragments of 1480. */
static void send_large(net_fixture_t *f, uint8_t type, tern_ip4_t src, tern_ip4_t dst, uint16_t id, int break_csum)
{
    static uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 5u + 1u);
    size_t in = frame_icmp(icmp_msg, type, 0, 0x12340001u, data, sizeof data);
    if (break_csum)
        icmp_msg[100] ^= 1u;
    const uint8_t *dmac = dst == FR_SUBNET_BCAST ? FR_BCAST_MAC : FR_OUR_MAC;
    for (size_t off = 0; off < in; off += 1480) {
        size_t n = in - off < 1480 ? in - off : 1480;
        frame_ip_t ip = {.src = src, .dst = dst, .proto = 1, .id = id,
                         .frag = (uint16_t)((off + n < in ? 0x2000u : 0u) | (off / 8u))};
        uint8_t fr[FRAME_MAX];
        fx_rx(f, fr, frame_ip_eth2(fr, dmac, FR_PEER_MAC, &ip, icmp_msg + off, n));
    }
}

/* Reassembled messages beyond one buffer that are not answered. */
static void test_large_refused(void **state)
{
    net_fixture_t *f = *state;
    send_large(f, 8, FR_PEER_IP, FR_OUR_IP, 1, 1);
    assert_int_equal(C(f)->icmp_drop_checksum, 1);
    send_large(f, 13, FR_PEER_IP, FR_OUR_IP, 2, 0); /* a timestamp request */
    assert_int_equal(C(f)->icmp_drop_type, 1);
    send_large(f, 8, FR_PEER_IP, FR_SUBNET_BCAST, 3, 0);
    assert_int_equal(C(f)->icmp_drop_bcast_echo, 1);
    send_large(f, 8, 0, FR_OUR_IP, 4, 0); /* 0.0.0.0 is legal, but no host to answer */
    assert_int_equal(C(f)->icmp_drop_bad_src, 1);
    assert_int_equal(C(f)->ipv4_reass_ok, 4);
    assert_int_equal(C(f)->icmp_echo_reply_tx, 0);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A large echo whose fragmented answer cannot go: no route, the link
 * down, an MTU too small to carry 8 bytes, the driver refusing. */
static void test_large_reply_fails(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, 0);
    send_large(f, 8, FR_REMOTE_IP, FR_OUR_IP, 1, 0);
    assert_int_equal(C(f)->icmp_echo_rx, 1);
    assert_int_equal(C(f)->ipv4_tx_noroute, 1);
    assert_int_equal(C(f)->icmp_tx_err, 1);
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    net_fixture_learn_peer(f);
    /* The driver says no: the first fragment fails, the rest are not sent. */
    capnet_clear(&f->cn);
    f->cn.output_result = TERN_ERR_NOBUFS;
    send_large(f, 8, FR_PEER_IP, FR_OUR_IP, 2, 0);
    assert_int_equal(C(f)->icmp_tx_err, 2);
    assert_int_equal(C(f)->ipv4_frag_tx, 1);
    f->cn.output_result = TERN_OK;
    /* An MTU of 28: no room for 8 bytes of data after the header. */
    uint16_t mtu = f->cn.nif.mtu;
    f->cn.nif.mtu = 28;
    send_large(f, 8, FR_PEER_IP, FR_OUR_IP, 3, 0);
    assert_int_equal(C(f)->ipv4_tx_msgsize, 1);
    assert_int_equal(C(f)->icmp_tx_err, 3);
    f->cn.nif.mtu = mtu;
    /* Link down while the last fragment is processed (the driver's
     * receive ran ahead of its link event). */
    send_large(f, 8, FR_PEER_IP, FR_OUR_IP, 4, 0);
    assert_int_equal(C(f)->icmp_echo_reply_tx, 1);
    f->cn.nif.link_up = 0;
    send_large(f, 8, FR_PEER_IP, FR_OUR_IP, 5, 0);
    f->cn.nif.link_up = 1;
    assert_int_equal(C(f)->ipv4_tx_linkdown, 1);
    assert_int_equal(C(f)->icmp_tx_err, 4);
    capnet_tx_complete(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A datagram still in reassembly when the stack goes: freed with it. */
static void test_reassembly_at_deinit(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(92);
    static const uint8_t d[16] = {0};
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1, .id = 7, .frag = 0x2000};
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, frame_ip_eth(fr, &ip, d, sizeof d));
    assert_int_equal(f->stack.counters.ipv4_frag_rx, 1);
    assert_true(f->stack.ipv4.reass_bytes > 0);
    mem_snapshot(&f->stack, &f->base); /* the block stays to the end */
    net_fixture_free(f);               /* ledger empty after deinit */
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip4_from_str_edges),
        cmocka_unit_test_setup_teardown(test_no_route_back, setup, teardown),
#if TERN_IP_REASSEMBLY
        cmocka_unit_test_setup_teardown(test_large_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_reply_fails, setup, teardown),
        cmocka_unit_test(test_reassembly_at_deinit),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
