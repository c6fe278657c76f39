/* Ethernet framing and the netif contract, on hand-built frames (both
 * variants: zero-copy STATIC buffers and copy-mode HEAP buffers). */
#include <string.h>
#include "frames.h"
#include "tern/err.h"

static int setup(void **state)
{
    *state = net_fixture_new(11);
    return 0;
}

static int teardown(void **state)
{
    net_fixture_free(*state);
    return 0;
}

static size_t arp_request_for_us(uint8_t *fr)
{
    return frame_arp_eth(fr, FR_BCAST_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
}

static void test_runts_every_length(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = arp_request_for_us(fr);
    assert_int_equal(n, 42);
    for (size_t len = 0; len < 14; len++)
        fx_expect_drop(f, fr, len, &f->stack.counters.eth_drop_runt);
    assert_int_equal(f->stack.counters.eth_drop_runt, 14);
    /* Header only: ARP truncated, not an Ethernet runt. */
    fx_expect_drop(f, fr, 14, &f->stack.counters.arp_drop_truncated);
}

static void test_unicast_to_another_mac(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = frame_arp_eth(fr, FR_OTHER_MAC, 1, FR_PEER_MAC, FR_PEER_IP, FR_ZERO_MAC, FR_OUR_IP);
    fx_expect_drop(f, fr, n, &f->stack.counters.eth_drop_not_for_us);
    assert_int_equal(f->stack.counters.arp_rx, 0);
}

static void test_unknown_ethertypes(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    static const uint16_t types[] = {0x86DD, 0x8100, 0x88CC, 0x0050, 0x05FF, 0x0000, 0xFFFF, 0x0801, 0x0805};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = arp_request_for_us(fr);
        fr[12] = (uint8_t)(types[i] >> 8);
        fr[13] = (uint8_t)types[i];
#if TERN_IPV6
        /* The dual-stack build speaks IPv6, but not on an interface it was
         * not enabled on (tern_ipv6_enable). */
        if (types[i] == 0x86DD) {
            fx_expect_drop(f, fr, n, &f->stack.counters.ipv6_drop_disabled);
            continue;
        }
#endif
        fx_expect_drop(f, fr, n, &f->stack.counters.eth_drop_ethertype);
    }
    assert_int_equal(f->stack.counters.eth_rx, 9);
}

static void test_group_source_mac(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    size_t n = arp_request_for_us(fr);
    fr[6] = 0x01; /* multicast bit in the source */
    fx_expect_drop(f, fr, n, &f->stack.counters.eth_drop_bad_src);
    memset(fr + 6, 0xFF, 6);
    fx_expect_drop(f, fr, n, &f->stack.counters.eth_drop_bad_src);
}

static void test_broadcast_accepted_and_flagged(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    /* Broadcast ARP for us: accepted, answered to the sender's MAC. */
    size_t n = arp_request_for_us(fr);
    fx_rx(f, fr, n);
    assert_int_equal(f->cn.count, 1);
    size_t len;
    const uint8_t *out = capnet_frame(&f->cn, 0, &len);
    assert_memory_equal(out, FR_PEER_MAC, 6);
    assert_memory_equal(out + 6, FR_OUR_MAC, 6);
    assert_int_equal(out[12], 0x08);
    assert_int_equal(out[13], 0x06);
    capnet_clear(&f->cn);
    /* The link-broadcast flag reaches IPv4: a unicast IP packet in a
     * broadcast (or multicast) frame is refused (RFC 1122 3.3.6). */
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 253};
    uint8_t payload[8] = {0};
    n = frame_ip_eth2(fr, FR_BCAST_MAC, FR_PEER_MAC, &ip, payload, sizeof payload);
    fx_expect_drop(f, fr, n, &f->stack.counters.ipv4_drop_bcast_mismatch);
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    n = frame_ip_eth2(fr, mcast, FR_PEER_MAC, &ip, payload, sizeof payload);
    fx_expect_drop(f, fr, n, &f->stack.counters.ipv4_drop_bcast_mismatch);
    /* The same packet unicast to our MAC goes through (protocol unknown). */
    n = frame_ip_eth(fr, &ip, payload, sizeof payload);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.ipv4_drop_proto, 1);
}

static void test_capture_sees_every_frame(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    unsigned rx0 = f->cn.captured_rx, tx0 = f->cn.captured_tx;
    size_t bytes0 = f->cn.captured_tx_bytes;
    size_t n = arp_request_for_us(fr);
    fx_rx(f, fr, n);                                     /* answered */
    fx_rx(f, fr, 5);                                     /* runt */
    fr[0] = 0x02;                                        /* unicast elsewhere */
    fx_rx(f, fr, n);
    assert_int_equal(f->cn.captured_rx - rx0, 3);
    assert_int_equal(f->cn.captured_tx - tx0, 1);
    assert_int_equal(f->cn.captured_tx - tx0, f->cn.count);
    assert_int_equal(f->stack.counters.eth_rx, 3);
    assert_int_equal(f->stack.counters.eth_tx, 1);
    assert_int_equal(f->cn.captured_tx_bytes - bytes0, 42);
}

static void test_driver_error_counted_no_leak(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    f->cn.output_result = TERN_ERR_NOBUFS;
    size_t n = arp_request_for_us(fr);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.eth_tx_err, 1);
    assert_int_equal(f->stack.counters.eth_tx, 0);
    assert_int_equal(f->stack.counters.arp_tx_reply, 0);
    f->cn.output_result = TERN_OK;
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_link_down(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    unsigned total0 = f->cn.total;
    tern_netif_set_link(&f->cn.nif, 0);
    /* A request still arrives (some drivers deliver), the reply cannot go. */
    size_t n = arp_request_for_us(fr);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.eth_tx_linkdown, 1);
    assert_int_equal(f->cn.total, total0);
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "x", 1), TERN_ERR_LINKDOWN);
    assert_int_equal(f->cn.total, total0);
    mem_assert_baseline(&f->stack, &f->base);
    /* Up again: a gratuitous ARP announces the address. */
    tern_netif_set_link(&f->cn.nif, 1);
    assert_int_equal(f->cn.count, 1);
    assert_int_equal(f->stack.counters.arp_tx_announce, 1);
}

static void test_rx_buffer_exhaustion(void **state)
{
    net_fixture_t *f = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned k = 0;
    while (k < TERN_NETBUF_COUNT && (held[k] = tern_netbuf_get(&f->stack.netbufs, 100, 0)) != NULL)
        k++;
    assert_int_equal(k, TERN_NETBUF_COUNT);
    uint8_t fr[FRAME_MAX];
    size_t n = arp_request_for_us(fr);
    if (f->cn.nif.caps & TERN_NETIF_CAP_ZERO_COPY_RX)
        assert_null(tern_netif_rx_buffer_get(&f->cn.nif));
    else
        assert_int_equal(tern_input_copy(&f->stack, &f->cn.nif, fr, n, f->now), TERN_ERR_NOBUFS);
    assert_int_equal(f->stack.counters.eth_rx_nobufs, 1);
    for (unsigned i = 0; i < k; i++)
        tern_netbuf_release(&f->stack.netbufs, held[i]);
    /* And the reply path finds no buffer for nothing: an ARP reply reuses
     * the request's buffer, so it works with exactly one buffer free. */
    for (k = 0; k < TERN_NETBUF_COUNT - 1; k++)
        held[k] = tern_netbuf_get(&f->stack.netbufs, 100, 0);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.arp_tx_reply, 1);
    for (unsigned i = 0; i < k; i++)
        tern_netbuf_release(&f->stack.netbufs, held[i]);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_input_copy_oversize(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t big[TERN_NETBUF_FRAME_SIZE + 1];
    memset(big, 0, sizeof big);
    assert_int_equal(tern_input_copy(&f->stack, &f->cn.nif, big, sizeof big, f->now), TERN_ERR_MSGSIZE);
    assert_int_equal(f->stack.counters.eth_drop_oversize, 1);
    assert_int_equal(tern_input_copy(&f->stack, &f->cn.nif, NULL, 10, f->now), TERN_ERR_INVAL);
    /* Length 0 with no storage is a runt, not a crash. */
    assert_int_equal(tern_input_copy(&f->stack, &f->cn.nif, NULL, 0, f->now), TERN_OK);
    assert_int_equal(f->stack.counters.eth_drop_runt, 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_tx_ownership(void **state)
{
    net_fixture_t *f = *state;
    net_fixture_learn_peer(f);
    uint16_t free0 = tern_netbuf_free_count(&f->stack.netbufs);
    f->cn.hold = 1;
    assert_int_equal(tern_ping_send(&f->stack, FR_PEER_IP, 1, 1, "abc", 3), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    if (f->cn.nif.caps & TERN_NETIF_CAP_ZERO_COPY_TX) {
        /* The driver holds the very buffer until the hardware is done. */
        assert_int_equal(f->cn.held_count, 1);
        assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0 - 1);
        assert_true(f->cn.held[0]->flags & TERN_NETBUF_F_RELEASE_AFTER_SEND);
        capnet_tx_complete(&f->cn);
    } else {
        /* Copy mode: the driver copied; the stack released at once. */
        assert_int_equal(f->cn.held_count, 0);
        /* A confused driver calling tx_done is refused, nothing double-freed. */
        tern_netbuf_t *nb = tern_netbuf_get(&f->stack.netbufs, 60, 0);
        tern_netif_tx_done(&f->cn.nif, nb);
        assert_true(nb->flags & TERN_NETBUF_F_IN_USE);
        tern_netbuf_release(&f->stack.netbufs, nb);
    }
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), free0);
    f->cn.hold = 0;
    mem_assert_baseline(&f->stack, &f->base);
}

/* A driver whose init fails, or with no output, is not registered. */
static int failing_init(tern_netif_t *nif)
{
    (void)nif;
    return TERN_ERR_NOTSUP;
}

static int null_output(tern_netif_t *nif, tern_netbuf_t *nb)
{
    (void)nif;
    (void)nb;
    return TERN_OK;
}

static void test_netif_add_remove(void **state)
{
    net_fixture_t *f = *state;
    assert_int_equal(tern_netif_add(&f->stack, &f->cn.nif), TERN_ERR_INVAL); /* twice */
    static const tern_netif_ops_t bad_ops = {failing_init, null_output, NULL};
    static const tern_netif_ops_t no_output = {NULL, NULL, NULL};
    tern_netif_t other;
    memset(&other, 0, sizeof other);
    other.ops = &bad_ops;
    assert_int_equal(tern_netif_add(&f->stack, &other), TERN_ERR_NOTSUP);
    assert_null(other.stack);
    other.ops = &no_output;
    assert_int_equal(tern_netif_add(&f->stack, &other), TERN_ERR_INVAL);
    assert_ptr_equal(f->stack.netifs, &f->cn.nif);
    assert_null(f->cn.nif.next);
    assert_int_equal(f->cn.nif.mtu, 1500);

    /* Remove with a packet waiting for ARP: shut down, the packet freed. */
    assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, 1, "q", 1), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), f->base.netbufs_free - 1);
    tern_netif_remove(&f->stack, &f->cn.nif);
    assert_int_equal(f->cn.shutdowns, 1);
    assert_null(f->stack.netifs);
    assert_int_equal(f->stack.counters.arp_queue_flushed, 1);
    mem_assert_baseline(&f->stack, &f->base);
    assert_int_equal(tern_ping_send(&f->stack, FR_OTHER_IP, 1, 1, "q", 1), TERN_ERR_NOROUTE);
    /* Put it back for the fixture's teardown (which expects one shutdown). */
    f->cn.shutdowns = 0;
    assert_int_equal(tern_netif_add(&f->stack, &f->cn.nif), TERN_OK);
    capnet_up(&f->cn, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
}

static void test_frame_layout_of_sent_frames(void **state)
{
    net_fixture_t *f = *state;
    /* The fixture's gratuitous ARP, rebuilt by hand. */
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    assert_int_equal(f->cn.count, 1);
    uint8_t want[FRAME_MAX];
    size_t n = frame_arp_eth(want, FR_BCAST_MAC, 1, FR_OUR_MAC, FR_OUR_IP, FR_ZERO_MAC, FR_OUR_IP);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runts_every_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicast_to_another_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ethertypes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_source_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_accepted_and_flagged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_sees_every_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_error_counted_no_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_buffer_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_copy_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netif_add_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_layout_of_sent_frames, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
