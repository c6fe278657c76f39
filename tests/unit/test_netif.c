/* Interfaces as the driver contract sees them (netif.h): copy or zero-copy
 * per interface, two modes in one stack, and the bare-IP link type. Each
 * test names its interfaces' caps, so both variants run both modes. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/err.h"
#include "tern/stats.h"
#include "wire2.h"

#define CAPS_ZC (TERN_NETIF_CAP_ZERO_COPY_RX | TERN_NETIF_CAP_ZERO_COPY_TX)
#define FIFO_IP TERN_IP4(198, 51, 100, 2)
#define FIFO_PEER_IP TERN_IP4(198, 51, 100, 1)

typedef struct two_if {
    tern_test_port_t tp;
    tern_stack_t stack;
    capnet_t dma;  /* zero-copy both ways: a MAC with DMA rings */
    capnet_t fifo; /* copy both ways: a PIO/FIFO MAC */
    mem_snapshot_t base;
    uint32_t now;
} two_if_t;

static int setup(void **state)
{
    two_if_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    tern_test_port_init(&t->tp, 14);
    t->tp.quiet = 1;
    t->now = 1000;
    assert_int_equal(tern_stack_init(&t->stack, &t->tp.port), TERN_OK);
    t->stack.now = t->now;
    capnet_setup_caps(&t->dma, &t->stack, "dma0", FR_OUR_MAC, CAPS_ZC, TERN_LINK_ETHERNET);
    capnet_setup_caps(&t->fifo, &t->stack, "fifo0", FR_OUR_MAC, 0, TERN_LINK_ETHERNET);
    capnet_up(&t->dma, FR_OUR_IP, FR_NETMASK, 0);
    capnet_up(&t->fifo, FIFO_IP, FR_NETMASK, 0);
    capnet_clear(&t->dma);
    capnet_clear(&t->fifo);
    memset(&t->stack.counters, 0, sizeof t->stack.counters);
    mem_snapshot(&t->stack, &t->base);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    two_if_t *t = *state;
    capnet_tx_complete(&t->dma);
    capnet_tx_complete(&t->fifo);
    mem_assert_baseline(&t->stack, &t->base);
    assert_int_equal(t->dma.bad_ownership, 0);
    assert_int_equal(t->fifo.bad_ownership, 0);
    tern_stack_deinit(&t->stack);
    assert_int_equal(tern_ledger_verify(&t->stack.ledger), TERN_OK);
    free(t);
    return 0;
}

/* The peer at peer_ip asks who has our_ip on cn, and then pings it. */
static void ping_us(two_if_t *t, capnet_t *cn, tern_ip4_t peer_ip, tern_ip4_t our_ip)
{
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, peer_ip, FR_ZERO_MAC, our_ip);
    capnet_rx(cn, fr, n, t->now);
    n = frame_echo(fr, peer_ip, our_ip, 8, 7, 1, "mixed", 5);
    capnet_rx(cn, fr, n, t->now);
}

/* One stack, a DMA MAC and a FIFO MAC: each interface's frames follow its
 * own ownership rule. (Transmit ignoring caps fails here: the copy-mode
 * interface then gets flagged buffers, or the zero-copy one unflagged.) */
static void test_two_modes_in_one_stack(void **state)
{
    two_if_t *t = *state;
    uint16_t free0 = tern_netbuf_free_count(&t->stack.netbufs);
    t->dma.hold = 1;
    t->fifo.hold = 1;

    ping_us(t, &t->dma, FR_PEER_IP, FR_OUR_IP);
    /* ARP reply and echo reply, both held by the zero-copy driver, flagged. */
    assert_int_equal(t->dma.count, 2);
    assert_int_equal(t->dma.held_count, 2);
    for (unsigned i = 0; i < t->dma.held_count; i++)
        assert_true(t->dma.held[i]->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND);
    assert_int_equal(tern_netbuf_free_count(&t->stack.netbufs), free0 - 2);

    ping_us(t, &t->fifo, FIFO_PEER_IP, FIFO_IP);
    /* The copy driver keeps nothing: the stack released after output. */
    assert_int_equal(t->fifo.count, 2);
    assert_int_equal(t->fifo.held_count, 0);
    assert_int_equal(tern_netbuf_free_count(&t->stack.netbufs), free0 - 2);
    size_t len;
    const uint8_t *p = capnet_frame(&t->fifo, 1, &len);
    assert_int_equal(len, 14u + 20u + 8u + 5u);
    assert_int_equal(be32_get(p + 14 + 16), FIFO_PEER_IP);
    assert_int_equal(p[14 + 20], 0); /* echo reply */
    p = capnet_frame(&t->dma, 1, &len);
    assert_int_equal(be32_get(p + 14 + 16), FR_PEER_IP);

    assert_int_equal(t->dma.bad_ownership, 0);
    assert_int_equal(t->fifo.bad_ownership, 0);
    assert_int_equal(t->stack.counters.icmp_echo_reply_tx, 2);
    capnet_tx_complete(&t->dma);
    assert_int_equal(tern_netbuf_free_count(&t->stack.netbufs), free0);
    t->dma.hold = 0;
    t->fifo.hold = 0;
    /* tx_done from the copy driver is refused: the stack released it. */
    tern_netbuf_t *nb = tern_netbuf_get(&t->stack.netbufs, 60, 0);
    tern_netif_tx_done(&t->fifo.nif, nb);
    assert_true(nb->flags & TERN_NETBUF_F_IN_USE);
    tern_netbuf_release(&t->stack.netbufs, nb);
}

/* Receive: the zero-copy interface takes buffers ahead of time, the copy
 * interface hands in its own storage; both meet the same empty pool. */
static void test_two_modes_receive_exhaustion(void **state)
{
    two_if_t *t = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned k = 0;
    while (k < TERN_NETBUF_COUNT && (held[k] = tern_netbuf_get(&t->stack.netbufs, 100, 0)) != NULL)
        k++;
    uint8_t fr[FRAME_MAX];
    size_t n = frame_echo(fr, FIFO_PEER_IP, FIFO_IP, 8, 7, 1, "x", 1);
    assert_null(tern_netif_rx_buffer_get(&t->dma.nif));
    assert_int_equal(tern_input_copy(&t->stack, &t->fifo.nif, fr, n, t->now), TERN_ERR_NOBUFS);
    assert_int_equal(t->stack.counters.eth_rx_nobufs, 2);
    for (unsigned i = 0; i < k; i++)
        tern_netbuf_release(&t->stack.netbufs, held[i]);
}

/* The dashboard reports each interface's mode and link. */
static void test_stats_per_interface(void **state)
{
    two_if_t *t = *state;
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_stats_json(&t->stack, tern_test_sink_write, &sink);
    sink.text[sink.len] = '\0';
    const char *dma = strstr(sink.text, "\"name\":\"dma0\"");
    const char *fifo = strstr(sink.text, "\"name\":\"fifo0\"");
    assert_non_null(dma);
    assert_non_null(fifo);
    assert_true(dma < fifo);
    const char *z = strstr(dma, "\"zero_copy_rx\":1,\"zero_copy_tx\":1");
    assert_non_null(z);
    assert_true(z < fifo);
    assert_non_null(strstr(fifo, "\"link\":\"ethernet\",\"zero_copy_rx\":0,\"zero_copy_tx\":0"));
}

/* Two stacks on the virtual wire, A a DMA MAC (zero-copy both ways) and B
 * a FIFO MAC (copy both ways): pings cross both ways, and each sender's
 * buffer is held in flight only where its interface is zero-copy. */
static void test_mixed_modes_on_a_wire(void **state)
{
    (void)state;
    tern_test_port_t pa, pb;
    tern_test_port_init(&pa, 21);
    tern_test_port_init(&pb, 22);
    pa.quiet = pb.quiet = 1;
    tern_vwire_params_t params = {.delay_ms = 50};
    tern_vwire_t wire;
    tern_vwire_init(&wire, 23, &params);
    tern_netif_t nif_a, nif_b;
    memset(&nif_a, 0, sizeof nif_a);
    memset(&nif_b, 0, sizeof nif_b);
    memcpy(nif_a.mac, W2_MAC_A, 6);
    memcpy(nif_b.mac, W2_MAC_B, 6);
    tern_stack_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tern_stack_init(a, &pa.port), TERN_OK);
    assert_int_equal(tern_stack_init(b, &pb.port), TERN_OK);
    assert_int_equal(tern_vwire_attach_caps(&wire, 0, a, &nif_a, CAPS_ZC), TERN_OK);
    assert_int_equal(tern_vwire_attach_caps(&wire, 1, b, &nif_b, 0), TERN_OK);
    assert_int_equal(nif_a.caps, CAPS_ZC);
    assert_int_equal(nif_b.caps, 0);
    tern_netif_set_addr(&nif_a, W2_IP_A, W2_MASK, 0);
    tern_netif_set_addr(&nif_b, W2_IP_B, W2_MASK, 0);
    tern_vwire_run(&wire, 1000);
    /* Resolve both ways first, so each ping below is one frame. */
    assert_int_equal(tern_ping_send(a, W2_IP_B, 1, 1, "ab", 2), TERN_OK);
    assert_int_equal(tern_ping_send(b, W2_IP_A, 1, 1, "ba", 2), TERN_OK);
    tern_vwire_run(&wire, tern_vwire_now(&wire) + 1000u);
    assert_int_equal(a->counters.icmp_echo_reply_rx, 1);
    assert_int_equal(b->counters.icmp_echo_reply_rx, 1);

    /* A -> B: A's buffer rides the wire (zero-copy TX)... */
    assert_int_equal(tern_ping_send(a, W2_IP_B, 1, 2, "ab", 2), TERN_OK);
    assert_int_equal(tern_vwire_pending(&wire), 1);
    assert_int_equal(tern_netbuf_free_count(&a->netbufs), TERN_NETBUF_COUNT - 1);
    /* ...until delivery; B's reply is a copy on the wire (copy TX). */
    tern_vwire_advance(&wire, tern_vwire_now(&wire) + 50u);
    assert_int_equal(tern_netbuf_free_count(&a->netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_vwire_pending(&wire), 1);
    assert_int_equal(tern_netbuf_free_count(&b->netbufs), TERN_NETBUF_COUNT);
    tern_vwire_advance(&wire, tern_vwire_now(&wire) + 50u);
    assert_int_equal(a->counters.icmp_echo_reply_rx, 2);

    /* B -> A: nothing of B's held in flight; A's reply is. */
    assert_int_equal(tern_ping_send(b, W2_IP_A, 1, 2, "ba", 2), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&b->netbufs), TERN_NETBUF_COUNT);
    tern_vwire_advance(&wire, tern_vwire_now(&wire) + 50u);
    assert_int_equal(tern_vwire_pending(&wire), 1);
    assert_int_equal(tern_netbuf_free_count(&a->netbufs), TERN_NETBUF_COUNT - 1);
    tern_vwire_advance(&wire, tern_vwire_now(&wire) + 50u);
    assert_int_equal(b->counters.icmp_echo_reply_rx, 2);
    assert_int_equal(tern_netbuf_free_count(&a->netbufs), TERN_NETBUF_COUNT);

    tern_vwire_destroy(&wire);
    wire_stack_free(a);
    wire_stack_free(b);
}

/* ---- the bare-IP link type --------------------------------------------- */

static size_t ip_echo(uint8_t *out, tern_ip4_t src, tern_ip4_t dst, const char *data, size_t len)
{
    uint8_t icmp[64];
    size_t m = frame_icmp(icmp, 8, 0, (7u << 16) | 1u, data, len);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 1};
    return frame_ipv4(out, &ip, icmp, m);
}

/* A TUN-like interface: packets are IPv4 from the first byte, nothing is
 * resolved, nothing announced; both modes. */
static void run_ip_link(uint8_t caps)
{
    tern_test_port_t tp;
    tern_test_port_init(&tp, 15);
    tp.quiet = 1;
    tern_stack_t *stack = calloc(1, sizeof *stack);
    assert_non_null(stack);
    assert_int_equal(tern_stack_init(stack, &tp.port), TERN_OK);
    static capnet_t tun;
    capnet_setup_caps(&tun, stack, "tun0", FR_ZERO_MAC, caps, TERN_LINK_IP);
    assert_int_equal(tun.nif.mtu, 1500);
    capnet_up(&tun, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    assert_int_equal(tun.count, 0); /* no gratuitous ARP */
    mem_snapshot_t base;
    mem_snapshot(stack, &base);

    uint8_t pkt[FRAME_MAX];
    size_t n = ip_echo(pkt, FR_PEER_IP, FR_OUR_IP, "tun", 3);
    capnet_rx(&tun, pkt, n, 1000);
    assert_int_equal(stack->counters.eth_rx, 0);
    assert_int_equal(stack->counters.icmp_echo_rx, 1);
    /* The reply goes out at once as a bare IPv4 packet: no ARP first. */
    assert_int_equal(tun.count, 1);
    size_t len;
    const uint8_t *p = capnet_frame(&tun, 0, &len);
    assert_int_equal(len, 20u + 8u + 3u);
    assert_int_equal(p[0], 0x45);
    assert_int_equal(p[9], 1);
    assert_int_equal(be32_get(p + 12), FR_OUR_IP);
    assert_int_equal(be32_get(p + 16), FR_PEER_IP);
    assert_int_equal(p[20], 0); /* echo reply */
    assert_memory_equal(p + 28, "tun", 3);

    /* Off-link through the gateway: still straight out, to its address. */
    capnet_clear(&tun);
    assert_int_equal(tern_ping_send(stack, FR_REMOTE_IP, 1, 1, "x", 1), TERN_OK);
    assert_int_equal(tun.count, 1);
    p = capnet_frame(&tun, 0, &len);
    assert_int_equal(p[0], 0x45);
    assert_int_equal(be32_get(p + 16), FR_REMOTE_IP);
    assert_int_equal(stack->counters.arp_tx_request, 0);
    assert_int_equal(stack->counters.arp_queued, 0);

    /* An Ethernet frame on this link is not IPv4: dropped by IPv4. */
    n = frame_echo(pkt, FR_PEER_IP, FR_OUR_IP, 8, 7, 2, "e", 1);
    capnet_rx(&tun, pkt, n, 1001);
    assert_int_equal(stack->counters.ipv4_drop_version, 1);
    assert_int_equal(stack->counters.icmp_echo_rx, 1);

    capnet_tx_complete(&tun);
    mem_assert_baseline(stack, &base);
    assert_int_equal(tun.bad_ownership, 0);
    tern_stack_deinit(stack);
    assert_int_equal(tern_ledger_verify(&stack->ledger), TERN_OK);
    free(stack);
}

static void test_ip_link_copy(void **state)
{
    (void)state;
    run_ip_link(0);
}

static void test_ip_link_zero_copy(void **state)
{
    (void)state;
    run_ip_link(CAPS_ZC);
}

static int null_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    (void)nif;
    (void)nb;
    return TERN_OK;
}

static void test_unknown_link_refused(void **state)
{
    two_if_t *t = *state;
    static const tern_netif_ops_t ops = {NULL, null_output, NULL};
    tern_netif_t other;
    memset(&other, 0, sizeof other);
    other.ops = &ops;
    other.link = 7;
    assert_int_equal(tern_netif_add(&t->stack, &other), TERN_ERR_INVAL);
    assert_null(other.stack);
    other.link = TERN_LINK_IP;
    assert_int_equal(tern_netif_add(&t->stack, &other), TERN_OK);
    assert_int_equal(other.index, 2);
    tern_netif_remove(&t->stack, &other);
}

/* Large segments (TX_TSO, RX_LARGE) with heap network buffers: refused at
 * registration (netif.h), the other offloads taken; with the static pool
 * they are taken. */
static void test_large_segments_by_scheme(void **state)
{
    two_if_t *t = *state;
    static const tern_netif_ops_t ops = {NULL, null_output, NULL};
    static const uint8_t large[] = {TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_TX_L4_CSUM, TERN_OFFLOAD_RX_LARGE};
    for (size_t i = 0; i < sizeof large; i++) {
        tern_netif_t other;
        memset(&other, 0, sizeof other);
        other.ops = &ops;
        other.offload = large[i];
        other.tso_max = 65535u;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
        assert_int_equal(tern_netif_add(&t->stack, &other), TERN_ERR_NOTSUP);
        assert_null(other.stack);
        other.offload &= (uint8_t)~(TERN_OFFLOAD_TX_TSO | TERN_OFFLOAD_RX_LARGE);
#endif
        assert_int_equal(tern_netif_add(&t->stack, &other), TERN_OK);
        tern_netif_remove(&t->stack, &other);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_modes_in_one_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_modes_receive_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_per_interface, setup, teardown),
        cmocka_unit_test(test_mixed_modes_on_a_wire),
        cmocka_unit_test(test_ip_link_copy),
        cmocka_unit_test(test_ip_link_zero_copy),
        cmocka_unit_test_setup_teardown(test_unknown_link_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_segments_by_scheme, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
