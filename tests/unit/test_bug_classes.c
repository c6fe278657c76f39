/* One test per known bug class of embedded TCP/IP stacks (Ripple20,
 * AMNESIA:33, INFRA:HALT, URGENT/11) for the layers that exist so far:
 * each crafted input must be dropped, counted under its reason, leave memory
 * at the baseline and raise no sanitizer report. UDP, TCP, DHCP and DNS
 * classes live with their layers' tests; docs/reliability.md lists them all. */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tern/stack.h"

static const uint8_t echo_data[32] = "tern bug-class regression data!";

static int setup(void **state)
{
    net_fixture_t *f = net_fixture_new(tern_test_seed(77));
    net_fixture_learn_peer(f);
    mem_snapshot(&f->stack, &f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    net_fixture_free(*state);
    return 0;
}

static size_t echo_ip(uint8_t *out, tern_ip4_t src, tern_ip4_t dst)
{
    uint8_t icmp[64];
    size_t n = frame_icmp(icmp, 8, 0, 0x00010001u, echo_data, sizeof echo_data);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 1};
    return frame_ip_eth(out, &ip, icmp, n);
}

static void ip_fix_checksum(uint8_t *frame)
{
    uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4u;
    ip[10] = ip[11] = 0;
    uint16_t c = frame_checksum(ip, ihl < 20 ? 20 : ihl);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
}

/* AMNESIA:33 / Ripple20: header length fields below the minimum. */
static void test_ipv4_header_length_below_20(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        size_t n = echo_ip(frame, FR_PEER_IP, FR_OUR_IP);
        frame[14] = (uint8_t)(0x40u | ihl);
        ip_fix_checksum(frame);
        fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_ihl);
    }
}

/* Ripple20 (CVE-2020-11896 family): total length larger than the frame. */
static void test_ipv4_total_length_beyond_frame(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, FR_PEER_IP, FR_OUR_IP);
    frame[16] = 0x05; /* 1500 + */
    frame[17] = 0xDC;
    ip_fix_checksum(frame);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_len);
}

/* Total length shorter than the header it claims. */
static void test_ipv4_total_length_short_of_header(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, FR_PEER_IP, FR_OUR_IP);
    frame[16] = 0;
    frame[17] = 19;
    ip_fix_checksum(frame);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_hdr_len);
}

/* Options whose length runs past the header. */
static void test_ipv4_options_past_header(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    static const uint8_t opt[4] = {0x07, 0x27, 0x04, 0x00}; /* record route, length 39 > 4 */
    uint8_t icmp[64];
    size_t in = frame_icmp(icmp, 8, 0, 0x00010001u, echo_data, sizeof echo_data);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1, .options = opt, .opt_len = 4};
    size_t n = frame_ip_eth(frame, &ip, icmp, in);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_options);
}

/* LAND: source equals our own address. */
static void test_land_packet(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, FR_OUR_IP, FR_OUR_IP);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_land);
}

/* A broadcast or multicast source address must never be answered. */
static void test_broadcast_source_address(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, TERN_IP4(255, 255, 255, 255), FR_OUR_IP);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_bad_src);
    n = echo_ip(frame, FR_SUBNET_BCAST, FR_OUR_IP);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_bad_src);
}

static void test_multicast_source_address(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, TERN_IP4(224, 0, 0, 1), FR_OUR_IP);
    fx_expect_drop(f, frame, n, &f->stack.counters.ipv4_drop_bad_src);
}

/* ICMP errors quoting a truncated IPv4 header (less than 20 bytes, or an
 * IHL longer than what is quoted): never read past the quote. */
static void test_icmp_error_quoting_truncated_header(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    uint8_t quote[28];
    memset(quote, 0, sizeof quote);
    quote[0] = 0x4F; /* claims 60 bytes of header */
    quote[9] = 17;
    for (size_t qlen = 0; qlen <= sizeof quote; qlen += 4) {
        uint8_t icmp[64];
        size_t in = frame_icmp(icmp, 3, 3, 0, quote, qlen);
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1};
        size_t n = frame_ip_eth(frame, &ip, icmp, in);
        fx_expect_drop(f, frame, n, &f->stack.counters.icmp_drop_quote);
    }
}

/* ARP with a broadcast sender hardware address (cache poisoning / storms). */
static void test_arp_broadcast_sender(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    uint8_t arp[28];
    size_t an = frame_arp(arp, 1, FR_BCAST_MAC, FR_OTHER_IP, FR_ZERO_MAC, FR_OUR_IP);
    size_t n = frame_eth(frame, FR_BCAST_MAC, FR_PEER_MAC, 0x0806, arp, an);
    fx_expect_drop(f, frame, n, &f->stack.counters.arp_drop_sender_mac);
    /* The same as the link source: dropped by Ethernet before ARP sees it. */
    n = frame_arp_eth(frame, FR_BCAST_MAC, 1, FR_BCAST_MAC, FR_OTHER_IP, FR_ZERO_MAC, FR_OUR_IP);
    uint32_t drops = counters_drops(&f->stack.counters);
    fx_rx(f, frame, n);
    assert_int_equal(counters_drops(&f->stack.counters), drops + 1);
    mem_assert_baseline(&f->stack, &f->base);
}

#if TERN_IP_REASSEMBLY
static size_t fragment(uint8_t *out, uint16_t id, uint16_t frag, const uint8_t *payload, size_t len)
{
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1, .id = id, .frag = frag};
    return frame_ip_eth(out, &ip, payload, len);
}

/* Fragments that overlap: the whole datagram is dropped (RFC 5722 spirit),
 * and nothing is left held. */
static void test_ipv4_fragments_overlap(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    uint8_t data[64];
    memset(data, 0xA5, sizeof data);
    size_t n = fragment(frame, 99, 0x2000u | 0u, data, 48);   /* bytes 0..47, more */
    fx_rx(f, frame, n);
    n = fragment(frame, 99, 0x0000u | 4u, data, 40);          /* bytes 32..71 overlaps */
    uint32_t before = f->stack.counters.ipv4_reass_overlap;
    fx_rx(f, frame, n);
    assert_int_equal(f->stack.counters.ipv4_reass_overlap, before + 1);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A fragment whose offset + length passes 65535 (ping of death). */
static void test_ipv4_reassembly_past_65535(void **state)
{
    net_fixture_t *f = *state;
    uint8_t frame[FRAME_MAX];
    uint8_t data[64];
    memset(data, 0x5A, sizeof data);
    size_t n = fragment(frame, 7, 0x2000u | 0u, data, 48);
    fx_rx(f, frame, n);
    n = fragment(frame, 7, 0x1FFFu, data, 64); /* offset 65528 + 64 > 65535 */
    uint32_t before = f->stack.counters.ipv4_reass_too_big;
    fx_rx(f, frame, n);
    assert_int_equal(f->stack.counters.ipv4_reass_too_big, before + 1);
    f->now += TERN_IP_REASS_TIMEOUT_MS + 1000u;
    tern_poll(&f->stack, f->now);
    capnet_clear(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ipv4_header_length_below_20, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_total_length_beyond_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_total_length_short_of_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_options_past_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_land_packet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_source_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multicast_source_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icmp_error_quoting_truncated_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arp_broadcast_sender, setup, teardown),
#if TERN_IP_REASSEMBLY
        cmocka_unit_test_setup_teardown(test_ipv4_fragments_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_reassembly_past_65535, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
