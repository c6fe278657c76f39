/* UDP over IPv4 on the paths test_udp.c does not take (issue 17, coverage;
 * every variant): two interfaces with their own addresses, so pcbs bound
 * to different specific addresses share a port and a datagram passes over
 * the pcb bound to the other address; sends to a destination of no known
 * family or from a pcb that takes no IPv4. */
#include <string.h>
#include "frames.h"
#include "tern/err.h"
#include "tern/udp.h"

#define OTHER_NET_IP TERN_IP4(198, 51, 100, 2)

static unsigned rx_count;
static void count_rx(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                     const tern_udp_rx_info_t *info)
{
    (void)ctx;
    (void)pcb;
    (void)info;
    rx_count++;
    tern_netbuf_release(&stack->netbufs, nb);
}

static size_t udp4_frame(uint8_t *fr, tern_ip4_t dst, uint16_t dport)
{
    uint8_t u[64];
    static const uint8_t data[4] = {1, 2, 3, 4};
    size_t ul = frame_udp(u, FR_PEER_IP, dst, 4000, dport, data, sizeof data);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = dst, .proto = 17};
    return frame_ip_eth(fr, &ip, u, ul);
}

static int setup(void **state)
{
    return net_fixture_setup(state, 81);
}

static int teardown(void **state)
{
    return net_fixture_teardown(state);
}

static void test_two_addresses_one_port(void **state)
{
    net_fixture_t *f = *state;
    static capnet_t cn2;
    capnet_setup(&cn2, &f->stack, "eth1", FR_OTHER_MAC);
    capnet_up(&cn2, OTHER_NET_IP, FR_NETMASK, 0);
    static tern_udp_pcb_t a, b;
    rx_count = 0;
    tern_udp_pcb_init(&a, count_rx, NULL);
    tern_udp_pcb_init(&b, count_rx, NULL);
    tern_sockaddr_t sa = {.family = TERN_FAMILY_IP4, .addr = OTHER_NET_IP, .port = 7000};
    tern_sockaddr_t sb = {.family = TERN_FAMILY_IP4, .addr = FR_OUR_IP, .port = 7000};
    assert_int_equal(tern_udp_bind(&f->stack, &a, &sa), TERN_OK);
    assert_int_equal(tern_udp_bind(&f->stack, &b, &sb), TERN_OK); /* another address: no clash */
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, udp4_frame(fr, FR_OUR_IP, 7000));
    assert_int_equal(rx_count, 1);
    assert_int_equal(f->stack.counters.udp_delivered, 1);
    /* Without b, the datagram passes over a (bound to the other address). */
    tern_udp_unbind(&f->stack, &b);
    capnet_clear(&f->cn);
    fx_rx(f, fr, udp4_frame(fr, FR_OUR_IP, 7000));
    assert_int_equal(rx_count, 1);
    assert_int_equal(f->stack.counters.udp_drop_no_port, 1);
    assert_int_equal(f->cn.count, 1); /* port unreachable */
    tern_udp_unbind(&f->stack, &a);
    tern_netif_remove(&f->stack, &cn2.nif);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_send_family_refusals(void **state)
{
    net_fixture_t *f = *state;
    static tern_udp_pcb_t p;
    tern_udp_pcb_init(&p, count_rx, NULL);
    /* A destination of no family this stack speaks. */
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    assert_non_null(nb);
    tern_sockaddr_t bad = {.family = 77, .addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_udp_sendto(&f->stack, &p, nb, &bad), TERN_ERR_INVAL);
#if TERN_IPV6
    /* An IPv6-only pcb cannot send to IPv4. */
    p.flags |= TERN_UDP_F_V6ONLY;
    tern_sockaddr_t s6 = {.family = TERN_FAMILY_IP6, .port = 7001};
    assert_int_equal(tern_udp_bind(&f->stack, &p, &s6), TERN_OK);
    nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    tern_sockaddr_t to4 = {.family = TERN_FAMILY_IP4, .addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_udp_sendto(&f->stack, &p, nb, &to4), TERN_ERR_INVAL);
    tern_udp_unbind(&f->stack, &p);
    assert_int_equal(f->stack.counters.udp_tx_err, 2);
#else
    /* IPv4 only: an IPv6 binding is refused. */
    tern_sockaddr_t s6 = {.family = TERN_FAMILY_IP6, .port = 7001};
    assert_int_equal(tern_udp_bind(&f->stack, &p, &s6), TERN_ERR_INVAL);
    assert_int_equal(f->stack.counters.udp_tx_err, 1);
#endif
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A pcb tied to an interface sends from its address, or finds no route
 * through another; a connected pcb takes only its peer's port. */
static void test_tied_and_connected(void **state)
{
    net_fixture_t *f = *state;
    static capnet_t cn2;
    capnet_setup(&cn2, &f->stack, "eth1", FR_OTHER_MAC);
    capnet_up(&cn2, OTHER_NET_IP, FR_NETMASK, 0);
    static tern_udp_pcb_t p, q;
    tern_udp_pcb_init(&p, count_rx, NULL);
    p.nif = &f->cn.nif;
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    memset(nb->data, 0, 4);
    tern_sockaddr_t to = {.family = TERN_FAMILY_IP4, .addr = FR_PEER_IP, .port = 9};
    capnet_clear(&f->cn);
    assert_int_equal(tern_udp_sendto(&f->stack, &p, nb, &to), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    size_t len;
    const uint8_t *fr0 = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(be32_get(fr0 + 14 + 12), FR_OUR_IP);
    tern_udp_unbind(&f->stack, &p);
    tern_udp_pcb_init(&q, count_rx, NULL);
    q.nif = &cn2.nif; /* 198.51.100.0/24, no gateway: 192.0.2.1 unreachable */
    nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    assert_int_equal(tern_udp_sendto(&f->stack, &q, nb, &to), TERN_ERR_NOROUTE);
    /* Connected to the peer's port 53: a datagram from its port 54 is not
     * for it. */
    static tern_udp_pcb_t c;
    tern_udp_pcb_init(&c, count_rx, NULL);
    c.remote.family = TERN_FAMILY_IP4;
    c.remote.addr = FR_PEER_IP;
    c.remote.port = 53;
    tern_sockaddr_t at = {.family = TERN_FAMILY_IP4, .addr = 0, .port = 7100};
    assert_int_equal(tern_udp_bind(&f->stack, &c, &at), TERN_OK);
    rx_count = 0;
    uint8_t u[64], fr[FRAME_MAX];
    static const uint8_t data[4] = {1, 2, 3, 4};
    size_t ul = frame_udp(u, FR_PEER_IP, FR_OUR_IP, 54, 7100, data, sizeof data);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17};
    fx_rx(f, fr, frame_ip_eth(fr, &ip, u, ul));
    assert_int_equal(rx_count, 0);
    ul = frame_udp(u, FR_PEER_IP, FR_OUR_IP, 53, 7100, data, sizeof data);
    fx_rx(f, fr, frame_ip_eth(fr, &ip, u, ul));
    assert_int_equal(rx_count, 1);
    tern_udp_unbind(&f->stack, &c);
    tern_udp_unbind(&f->stack, &q);
    tern_netif_remove(&f->stack, &cn2.nif);
    capnet_tx_complete(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_addresses_one_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_family_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tied_and_connected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
