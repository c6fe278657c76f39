/* The packet views (src/net/wire_*.h): each check function refuses every
 * length it must refuse and the view it returns covers only checked bytes;
 * each writer's output reads back through its view. TERN_TEST_ONE_VARIANT
 * (the views do not depend on the buffer scheme). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/wire_arp.h"
#include "net/wire_eth.h"
#include "net/wire_icmp.h"
#include "net/wire_ipv4.h"
#include "net/wire_udp.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0A};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0B};

#define IP_A 0xC0000201u /* 192.0.2.1 */
#define IP_B 0xC0000202u /* 192.0.2.2 */

/* ---- Ethernet ------------------------------------------------------------ */

static void test_eth_check_lengths(void **state)
{
    (void)state;
    uint8_t fr[64];
    memset(fr, 0, sizeof fr);
    eth_write(fr, mac_b, mac_a, ETH_TYPE_ARP);
    eth_view_t v = {0};
    for (size_t len = 0; len < ETH_HDR_LEN; len++)
        assert_int_equal(eth_check(fr, len, &v), -1);
    assert_int_equal(eth_check(fr, ETH_HDR_LEN, &v), 0);
    assert_ptr_equal(v.p, fr);
    assert_int_equal(v.len, ETH_HDR_LEN);
    assert_memory_equal(eth_dst(&v), mac_b, 6);
    assert_memory_equal(eth_src(&v), mac_a, 6);
    assert_int_equal(eth_type(&v), ETH_TYPE_ARP);
    /* Big-endian on the wire. */
    assert_int_equal(fr[ETH_OFF_TYPE], 0x08);
    assert_int_equal(fr[ETH_OFF_TYPE + 1], 0x06);
}

/* ---- ARP ----------------------------------------------------------------- */

static void test_arp_check_and_writer(void **state)
{
    (void)state;
    uint8_t pkt[ARP_PKT_LEN + 4];
    memset(pkt, 0xEE, sizeof pkt);
    arp_write(pkt, ARP_OP_REPLY, mac_a, IP_A, mac_b, IP_B);
    arp_view_t v = {0};
    for (size_t len = 0; len < ARP_PKT_LEN; len++)
        assert_int_equal(arp_check(pkt, len, &v), -1);
    assert_int_equal(arp_check(pkt, ARP_PKT_LEN, &v), 0);
    assert_int_equal(arp_htype(&v), ARP_HTYPE_ETHERNET);
    assert_int_equal(arp_ptype(&v), ETH_TYPE_IPV4);
    assert_int_equal(arp_hlen(&v), 6);
    assert_int_equal(arp_plen(&v), 4);
    assert_int_equal(arp_op(&v), ARP_OP_REPLY);
    assert_memory_equal(arp_sha(&v), mac_a, 6);
    assert_int_equal(arp_spa(&v), IP_A);
    assert_memory_equal(arp_tha(&v), mac_b, 6);
    assert_int_equal(arp_tpa(&v), IP_B);
    /* Exactly 28 bytes written: the byte after is untouched. */
    assert_int_equal(pkt[ARP_PKT_LEN], 0xEE);
}

/* ---- IPv4 ---------------------------------------------------------------- */

/* A 20-byte header (total = 20 + payload) and payload bytes after it. */
static size_t ip_packet(uint8_t *p, size_t payload)
{
    uint16_t id = 0x1234;
    ipv4_write(p, (uint16_t)(IPV4_HDR_LEN + payload), &id, 64, IPV4_PROTO_UDP, IP_A, IP_B);
    for (size_t i = 0; i < payload; i++)
        p[IPV4_HDR_LEN + i] = (uint8_t)i;
    return IPV4_HDR_LEN + payload;
}

static void test_ipv4_writer_reads_back(void **state)
{
    (void)state;
    uint8_t p[IPV4_HDR_LEN];
    uint16_t id = 0xFFFF;
    ipv4_write(p, 20, &id, 7, IPV4_PROTO_ICMP, IP_A, IP_B);
    assert_int_equal(id, 0); /* advanced, wrapping */
    ipv4_view_t v = {0};
    assert_int_equal(ipv4_check(p, sizeof p, &v), IPV4_CHECK_OK);
    assert_int_equal(p[0], 0x45);
    assert_int_equal(v.hdr_len, 20);
    assert_int_equal(v.len, 20);
    assert_int_equal(ipv4_total_len(&v), 20);
    assert_int_equal(ipv4_id(&v), 0xFFFF);
    assert_int_equal(ipv4_frag(&v), IPV4_FLAG_DF);
    assert_int_equal(ipv4_ttl(&v), 7);
    assert_int_equal(ipv4_proto(&v), IPV4_PROTO_ICMP);
    assert_int_equal(wire_rd16(p + IPV4_OFF_CSUM), 0);
    assert_int_equal(ipv4_src(&v), IP_A);
    assert_int_equal(ipv4_dst(&v), IP_B);
    assert_int_equal(ipv4_options_len(&v), 0);
    assert_int_equal(ipv4_payload_len(&v), 0);
}

static void test_ipv4_check_truncated(void **state)
{
    (void)state;
    uint8_t p[64];
    ip_packet(p, 8);
    ipv4_view_t v = {0};
    for (size_t len = 0; len < IPV4_HDR_LEN; len++)
        assert_int_equal(ipv4_check(p, len, &v), IPV4_CHECK_TRUNCATED);
}

static void test_ipv4_check_version(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = ip_packet(p, 8);
    ipv4_view_t v = {0};
    for (unsigned ver = 0; ver < 16; ver++) {
        p[0] = (uint8_t)((ver << 4) | 5u);
        assert_int_equal(ipv4_check(p, n, &v), ver == 4 ? IPV4_CHECK_OK : IPV4_CHECK_VERSION);
    }
}

static void test_ipv4_check_bad_ihl(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = ip_packet(p, 40);
    ipv4_view_t v = {0};
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        p[0] = (uint8_t)(0x40u | ihl);
        assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_IHL);
    }
    /* IHL 15 (60 bytes) in a 60-byte packet: whole, 40 bytes of options. */
    p[0] = 0x4F;
    assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_OK);
    assert_int_equal(v.hdr_len, 60);
    assert_int_equal(ipv4_options_len(&v), 40);
    assert_ptr_equal(ipv4_options(&v), p + 20);
    assert_int_equal(ipv4_payload_len(&v), 0);
    /* The same header length beyond the total length. */
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, 59);
    assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_TOTAL_SHORT);
}

static void test_ipv4_check_total_length(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = ip_packet(p, 8);
    ipv4_view_t v = {0};
    /* Below the header length. */
    for (uint16_t total = 0; total < IPV4_HDR_LEN; total++) {
        wire_wr16(p + IPV4_OFF_TOTAL_LEN, total);
        assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_TOTAL_SHORT);
    }
    /* Beyond the bytes received, by one and by everything. */
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, (uint16_t)(n + 1u));
    assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_TOTAL_LONG);
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, 0xFFFF);
    assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_TOTAL_LONG);
    /* Exactly the bytes received. */
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, (uint16_t)n);
    assert_int_equal(ipv4_check(p, n, &v), IPV4_CHECK_OK);
    assert_int_equal(v.len, n);
    assert_int_equal(ipv4_payload_len(&v), 8);
    assert_ptr_equal(ipv4_payload(&v), p + 20);
    /* Link padding after the datagram: the view stops at the total. */
    assert_int_equal(ipv4_check(p, n + 18u, &v), IPV4_CHECK_OK);
    assert_int_equal(v.len, n);
    assert_int_equal(ipv4_payload_len(&v), 8);
}

static void test_ipv4_check_quote(void **state)
{
    (void)state;
    uint8_t p[80];
    ip_packet(p, 8);
    /* A quote's total length describes the original datagram: a quote of
     * a 1500-byte packet carries 20 + 8 bytes and is fine. */
    wire_wr16(p + IPV4_OFF_TOTAL_LEN, 1500);
    ipv4_view_t v = {0};
    for (size_t len = 0; len < 28; len++)
        assert_int_equal(ipv4_check_quote(p, len, 8, &v), -1);
    assert_int_equal(ipv4_check_quote(p, 28, 8, &v), 0);
    assert_int_equal(v.hdr_len, 20);
    assert_int_equal(v.len, 28);
    assert_int_equal(ipv4_payload_len(&v), 8);
    assert_int_equal(ipv4_proto(&v), IPV4_PROTO_UDP);
    /* Not version 4. */
    p[0] = 0x65;
    assert_int_equal(ipv4_check_quote(p, 28, 8, &v), -1);
    /* IHL below 5, and an IHL whose header plus 8 bytes is not all there. */
    p[0] = 0x44;
    assert_int_equal(ipv4_check_quote(p, 28, 8, &v), -1);
    p[0] = 0x46;
    assert_int_equal(ipv4_check_quote(p, 31, 8, &v), -1);
    assert_int_equal(ipv4_check_quote(p, 32, 8, &v), 0);
    assert_int_equal(v.hdr_len, 24);
    assert_int_equal(ipv4_payload_len(&v), 8);
}

/* ---- ICMP ---------------------------------------------------------------- */

static void test_icmp_check_and_writer(void **state)
{
    (void)state;
    uint8_t p[64];
    memset(p, 0xEE, sizeof p);
    icmp_write(p, ICMP_ECHO, 0, 0xABCD0102u);
    icmp_view_t v = {0};
    for (size_t len = 0; len < ICMP_HDR_LEN; len++)
        assert_int_equal(icmp_check(p, len, &v), -1);
    assert_int_equal(icmp_check(p, ICMP_HDR_LEN, &v), 0);
    assert_int_equal(icmp_type(&v), ICMP_ECHO);
    assert_int_equal(icmp_code(&v), 0);
    assert_int_equal(wire_rd16(p + ICMP_OFF_CSUM), 0);
    assert_int_equal(icmp_echo_id(&v), 0xABCD);
    assert_int_equal(icmp_echo_seq(&v), 0x0102);
    assert_int_equal(icmp_rest(&v), 0xABCD0102u);
    assert_int_equal(icmp_data_len(&v), 0);
    assert_int_equal(p[ICMP_HDR_LEN], 0xEE);
    assert_true(icmp_type_is_error(ICMP_DEST_UNREACH));
    assert_true(icmp_type_is_error(ICMP_TIME_EXCEEDED));
    assert_false(icmp_type_is_error(ICMP_ECHO));
    assert_false(icmp_type_is_error(ICMP_ECHO_REPLY));
}

static void test_icmp_quote(void **state)
{
    (void)state;
    uint8_t p[80];
    icmp_write(p, ICMP_DEST_UNREACH, ICMP_UNREACH_FRAG_NEEDED, 1400u);
    size_t n = ICMP_HDR_LEN + ip_packet(p + ICMP_HDR_LEN, 8);
    icmp_view_t v = {0};
    ipv4_view_t q = {0};
    assert_int_equal(icmp_check(p, n, &v), 0);
    assert_int_equal(icmp_next_mtu(&v), 1400);
    assert_int_equal(icmp_quote(&v, &q), 0);
    assert_ptr_equal(q.p, p + ICMP_HDR_LEN);
    assert_int_equal(ipv4_dst(&q), IP_B);
    /* One byte short of the quoted header and its 8 bytes. */
    assert_int_equal(icmp_check(p, n - 1u, &v), 0);
    assert_int_equal(icmp_quote(&v, &q), -1);
}

/* ---- UDP ----------------------------------------------------------------- */

static void test_udp_check_lengths(void **state)
{
    (void)state;
    uint8_t p[64];
    memset(p, 0, sizeof p);
    udp_write(p, 5353, 53, 12);
    udp_view_t v = {0};
    for (size_t len = 0; len < UDP_HDR_LEN; len++)
        assert_int_equal(udp_check(p, len, &v), UDP_CHECK_TRUNCATED);
    /* Length field below the header. */
    for (uint16_t ulen = 0; ulen < UDP_HDR_LEN; ulen++) {
        wire_wr16(p + UDP_OFF_LEN, ulen);
        assert_int_equal(udp_check(p, 12, &v), UDP_CHECK_LEN);
    }
    /* Beyond what IP delivered. */
    wire_wr16(p + UDP_OFF_LEN, 13);
    assert_int_equal(udp_check(p, 12, &v), UDP_CHECK_LEN);
    wire_wr16(p + UDP_OFF_LEN, 12);
    assert_int_equal(udp_check(p, 12, &v), UDP_CHECK_OK);
    assert_int_equal(v.len, 12);
    assert_int_equal(udp_sport(&v), 5353);
    assert_int_equal(udp_dport(&v), 53);
    assert_int_equal(udp_csum(&v), 0);
    assert_int_equal(udp_payload_len(&v), 4);
    assert_ptr_equal(udp_payload(&v), p + 8);
    /* Padding after the datagram: the view stops at its length. */
    assert_int_equal(udp_check(p, 40, &v), UDP_CHECK_OK);
    assert_int_equal(v.len, 12);
    /* A quoted header: 8 bytes, whatever its length field says. */
    wire_wr16(p + UDP_OFF_LEN, 1000);
    assert_int_equal(udp_check_quote(p, 7, &v), -1);
    assert_int_equal(udp_check_quote(p, 8, &v), 0);
    assert_int_equal(v.len, 8);
    assert_int_equal(udp_payload_len(&v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_check_lengths),
        cmocka_unit_test(test_arp_check_and_writer),
        cmocka_unit_test(test_ipv4_writer_reads_back),
        cmocka_unit_test(test_ipv4_check_truncated),
        cmocka_unit_test(test_ipv4_check_version),
        cmocka_unit_test(test_ipv4_check_bad_ihl),
        cmocka_unit_test(test_ipv4_check_total_length),
        cmocka_unit_test(test_ipv4_check_quote),
        cmocka_unit_test(test_icmp_check_and_writer),
        cmocka_unit_test(test_icmp_quote),
        cmocka_unit_test(test_udp_check_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
