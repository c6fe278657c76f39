/* One test per known bug class of embedded TCP/IP stacks (Ripple20,
 * AMNESIA:33, INFRA:HALT, URGENT/11), named after the class: each crafted
 * input must be dropped (counted under its reason) or handled the way the
 * RFCs require, leave memory where it was and raise no sanitizer report.
 * The TCP classes run against a listener and an established connection
 * (black box: public API, counters and the frames on the wire). DNS and
 * DHCP classes live in test_dns.c / test_dhcp.c; docs/reliability.md lists
 * them all. */
#include "tern_test.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "tern/err.h"
#include "tern/stack.h"
#include "tern/tcp.h"

static const uint8_t echo_data[32] = "tern bug-class regression data!";

static int setup(void **state)
{
    return net_fixture_setup(state, tern_test_seed(77));
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

/* An echo whose IPv4 total length says tl (the header checksum made good,
 * so it is the length that drops). */
static void expect_total_length_drop(net_fixture_t *f, uint16_t tl, const uint32_t *counter)
{
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, FR_PEER_IP, FR_OUR_IP);
    frame[16] = (uint8_t)(tl >> 8);
    frame[17] = (uint8_t)tl;
    ip_fix_checksum(frame);
    fx_expect_drop(f, frame, n, counter);
}

/* Ripple20 (CVE-2020-11896 family): total length larger than the frame. */
static void test_ipv4_total_length_beyond_frame(void **state)
{
    net_fixture_t *f = *state;
    expect_total_length_drop(f, 1500, &f->stack.counters.ipv4_drop_len);
}

/* Total length shorter than the header it claims. */
static void test_ipv4_total_length_short_of_header(void **state)
{
    net_fixture_t *f = *state;
    expect_total_length_drop(f, 19, &f->stack.counters.ipv4_drop_hdr_len);
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

/* An echo from src to us, expected dropped under counter. */
static void expect_source_drop(net_fixture_t *f, tern_ip4_t src, const uint32_t *counter)
{
    uint8_t frame[FRAME_MAX];
    size_t n = echo_ip(frame, src, FR_OUR_IP);
    fx_expect_drop(f, frame, n, counter);
}

/* LAND: source equals our own address. */
static void test_land_packet(void **state)
{
    net_fixture_t *f = *state;
    expect_source_drop(f, FR_OUR_IP, &f->stack.counters.ipv4_drop_land);
}

/* A broadcast or multicast source address must never be answered. */
static void test_broadcast_source_address(void **state)
{
    net_fixture_t *f = *state;
    expect_source_drop(f, TERN_IP4(255, 255, 255, 255), &f->stack.counters.ipv4_drop_bad_src);
    expect_source_drop(f, FR_SUBNET_BCAST, &f->stack.counters.ipv4_drop_bad_src);
}

static void test_multicast_source_address(void **state)
{
    net_fixture_t *f = *state;
    expect_source_drop(f, TERN_IP4(224, 0, 0, 1), &f->stack.counters.ipv4_drop_bad_src);
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


/* ==========================================================================
 * TCP: crafted segments into a listener (LISTEN) and an established
 * connection, through the whole input path. Black box: the public API, the
 * counters and the frames on the wire. The flag bits are RFC 9293 3.1's,
 * spelled here so the test does not lean on the stack's internal header.
 * ======================================================================== */
#define T_FIN 0x01u
#define T_SYN 0x02u
#define T_RST 0x04u
#define T_PSH 0x08u
#define T_ACK 0x10u
#define T_URG 0x20u
#define LPORT 80u
#define PPORT 40001u
#define PEER_ISN 5000u

typedef tcp_fixture_t tcpfx_t;
typedef tseg_t seg_t;

/* The segments here default to PPORT -> LPORT with an 8192-byte window. */
static size_t seg_frame(uint8_t *out, const seg_t *s)
{
    seg_t d = *s;
    d.sport = d.sport ? d.sport : PPORT;
    d.dport = d.dport ? d.dport : LPORT;
    d.wnd = d.wnd ? d.wnd : 8192u;
    return tseg_frame(out, &d);
}

static void seg_rx(tcpfx_t *t, const seg_t *s)
{
    uint8_t fr[FRAME_MAX];
    size_t n = seg_frame(fr, s);
    fx_rx(t->f, fr, n);
}

static uint32_t tcp_drops(const tern_tcp_stats_t *s)
{
    return s->drop_truncated + s->drop_checksum + s->drop_offset + s->drop_options + s->drop_bcast +
           s->drop_no_pcb + s->drop_unacceptable + s->drop_bad_ack + s->drop_rst + s->drop_syn_limit +
           s->drop_nomem + s->drop_state + s->drop_window;
}
static uint32_t all_drops(tcpfx_t *t)
{
    return counters_drops(&t->f->stack.counters) + tcp_drops(tern_tcp_stats(&t->f->stack));
}

/* Feed a crafted frame: counted once under *counter (one drop over every
 * layer), exactly `replies` frames sent in answer, no memory kept. */
static void expect_drop(tcpfx_t *t, const uint8_t *fr, size_t n, const uint32_t *counter, unsigned replies)
{
    mem_snapshot_t before;
    mem_snapshot(&t->f->stack, &before);
    uint32_t c0 = *counter, d0 = all_drops(t);
    uint16_t half0 = t->f->stack.tcp.half_open;
    capnet_clear(&t->f->cn);
    fx_rx(t->f, fr, n);
    assert_int_equal(*counter, c0 + 1u);
    assert_int_equal(all_drops(t), d0 + 1u);
    assert_int_equal(t->f->cn.count, replies);
    assert_int_equal(t->f->stack.tcp.half_open, half0);
    capnet_tx_complete(&t->f->cn);
    mem_assert_baseline(&t->f->stack, &before);
}
static void expect_seg_drop(tcpfx_t *t, const seg_t *s, const uint32_t *counter, unsigned replies)
{
    uint8_t fr[FRAME_MAX];
    size_t n = seg_frame(fr, s);
    expect_drop(t, fr, n, counter, replies);
}

/* The only reply is a bare ACK carrying our SND.NXT and the peer's
 * RCV.NXT unchanged: a challenge ACK (RFC 5961 7) or a duplicate ACK. */
static void expect_bare_ack(tcpfx_t *t)
{
    assert_int_equal(t->f->cn.count, 1);
    uint32_t plen;
    const uint8_t *h = tcp_fixture_cap(t, 0, &plen);
    assert_int_equal(h[13], T_ACK);
    assert_int_equal(plen, 0);
    assert_int_equal(be32_get(h + 4), t->rcv);
    assert_int_equal(be32_get(h + 8), t->snd);
}

static int tcp_setup(void **state)
{
    *state = tcp_fixture_new(tern_test_seed(77), LPORT);
    return 0;
}

static int tcp_teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* The peer's SYN is answered by exactly one SYN-ACK of it; t->rcv and
 * t->snd are set from the two. */
static void expect_synack(tcpfx_t *t, const seg_t *syn)
{
    capnet_clear(&t->f->cn);
    seg_rx(t, syn);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], T_SYN | T_ACK);
    assert_int_equal(be32_get(h + 8), syn->seq + 1u);
    t->rcv = be32_get(h + 4) + 1u;
    t->snd = syn->seq + 1u;
}

/* The passive handshake from PPORT with ISN PEER_ISN and the given SYN
 * options; leaves t->conn ESTABLISHED, nothing captured. */
static void tcp_establish(tcpfx_t *t, const uint8_t *opt, size_t opt_len, uint16_t wnd)
{
    expect_synack(t, &(seg_t){.seq = PEER_ISN, .flags = T_SYN, .opt = opt, .opt_len = opt_len, .wnd = wnd});
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK, .wnd = wnd});
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    assert_int_equal(t->f->cn.count, 0);
}

/* After an attack: still in `state`, and both sequence spaces where they
 * were. The peer's next byte is taken in order and our ACK for it carries
 * the expected SEQ and ACK. */
static void assert_conn_intact(tcpfx_t *t, int state)
{
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), state);
    assert_int_equal(t->errors, 0);
    if (state != TERN_TCP_ESTABLISHED)
        return;
    size_t avail = tern_tcp_recv_avail(t->conn);
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK | T_PSH, .data = "z", .len = 1});
    assert_int_equal(tern_tcp_recv_avail(t->conn), avail + 1u);
    t->snd++;
    t->f->now += TERN_TCP_DELACK_MS + 1u;
    tern_poll(&t->f->stack, t->f->now);
    expect_bare_ack(t);
    uint8_t buf[64];
    while (tern_tcp_read(t->conn, buf, sizeof buf) > 0) {
    }
    capnet_clear(&t->f->cn);
}

/* URGENT/11 (CVE-2019-12255 family): an urgent pointer beyond the data must
 * not make the stack read, copy or skip past the segment. tern delivers
 * urgent bytes inline and ignores the pointer (RFC 6093 3). */
static void test_tcp_urgent_pointer_beyond_data(void **state)
{
    tcpfx_t *t = *state;
    tcp_establish(t, NULL, 0, 0);
    static const uint16_t urps[] = {0xFFFFu, 4u, 1000u, 0u};
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    for (size_t i = 0; i < sizeof urps / sizeof urps[0]; i++) {
        uint32_t d0 = all_drops(t);
        seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK | T_URG | T_PSH, .urp = urps[i],
                           .data = "abc", .len = 3});
        t->snd += 3u;
        assert_int_equal(all_drops(t), d0);
        assert_int_equal(tern_tcp_recv_avail(t->conn), 3);
        char buf[8];
        assert_int_equal(tern_tcp_read(t->conn, buf, sizeof buf), 3);
        assert_memory_equal(buf, "abc", 3);
        /* The pointer with no data at all: nothing to deliver. */
        seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK | T_URG, .urp = urps[i]});
        assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    }
    assert_int_equal(s->drop_unacceptable, 0);
    capnet_clear(&t->f->cn);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
    /* On a SYN the pointer means nothing: the handshake goes on normally. */
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.sport = PPORT + 1u, .seq = 77, .flags = T_SYN | T_URG, .urp = 0xFFFFu});
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(tcp_fixture_cap(t, 0, NULL)[13], T_SYN | T_ACK);
}

/* Malformed options are checked both in LISTEN (a SYN) and in ESTABLISHED
 * (a data segment): dropped before anything is allocated or delivered,
 * counted under drop_options, nothing sent. */
static void expect_bad_options(tcpfx_t *t, const uint8_t *opt, size_t opt_len)
{
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    expect_seg_drop(t, &(seg_t){.sport = PPORT + 7u, .seq = 1, .flags = T_SYN, .opt = opt, .opt_len = opt_len},
                    &s->drop_options, 0);
    assert_int_equal(t->accepts, 1);
    expect_seg_drop(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK | T_PSH, .opt = opt,
                                .opt_len = opt_len, .data = "evil", .len = 4},
                    &s->drop_options, 0);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
}

/* Each kind, known and unknown, at the head of the options (`first`, kind
 * at 0) and after some NOPs (`later`, kind at later_at). */
static void option_kinds_case(tcpfx_t *t, const uint8_t first[8], const uint8_t later[8], size_t later_at)
{
    tcp_establish(t, NULL, 0, 0);
    static const uint8_t kinds[] = {2, 3, 4, 5, 8, 30, 254};
    for (size_t k = 0; k < sizeof kinds; k++) {
        uint8_t a[8], b[8];
        memcpy(a, first, 8);
        memcpy(b, later, 8);
        a[0] = b[later_at] = kinds[k];
        expect_bad_options(t, a, 8);
        expect_bad_options(t, b, 8);
    }
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* AMNESIA:33 (CVE-2020-17443 family) / URGENT/11: an option length of 0
 * never advances the parser (an endless loop); of 1 it points into its own
 * length byte. Both for known and unknown kinds. */
static void test_tcp_option_length_zero(void **state)
{
    static const uint8_t first[8] = {0, 0, 1, 1, 1, 1, 1, 1}, later[8] = {1, 1, 1, 0, 0, 0, 0, 0};
    option_kinds_case(*state, first, later, 3);
}

static void test_tcp_option_length_one(void **state)
{
    static const uint8_t first[8] = {0, 1, 1, 1, 1, 1, 1, 1}, later[8] = {1, 1, 1, 1, 1, 0, 1, 0};
    option_kinds_case(*state, first, later, 5);
}

/* An option whose length runs past the end of the header (into the data or
 * past the segment), or whose kind is the last byte with no length. */
static void test_tcp_option_past_header(void **state)
{
    tcpfx_t *t = *state;
    tcp_establish(t, NULL, 0, 0);
    static const uint8_t bad[][8] = {
        {2, 12, 5, 0xb4, 1, 1, 1, 1},      /* MSS claiming 12 bytes of 8 */
        {1, 1, 1, 1, 1, 1, 1, 2},          /* MSS kind on the last byte, no length */
        {1, 1, 1, 1, 1, 1, 1, 254},        /* unknown kind on the last byte */
        {1, 1, 8, 10, 0, 0, 0, 1},         /* timestamps: 10 bytes from offset 2 of 8 */
        {5, 10, 0, 0, 0, 1, 0, 0},         /* SACK block running past */
        {254, 255, 1, 1, 1, 1, 1, 1},      /* the largest length */
        {1, 1, 1, 1, 1, 1, 3, 3},          /* window scale: 3 bytes from offset 6 of 8 */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        expect_bad_options(t, bad[k], 8);
    /* Control: the same area, well formed up to its last byte, is taken. */
    static const uint8_t good[8] = {1, 1, 1, 1, 2, 4, 5, 0xb4};
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.sport = PPORT + 9u, .seq = 1, .flags = T_SYN, .opt = good, .opt_len = 8});
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(tcp_fixture_cap(t, 0, NULL)[13], T_SYN | T_ACK);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* AMNESIA:33 / FNET: an MSS of 0 (or 1) must not make the sender divide by
 * zero or spin on empty segments: it is clamped, and data still flows in
 * non-empty segments no larger than the RFC 9293 default of 536. */
static void mss_case(tcpfx_t *t, uint16_t mss)
{
    const uint8_t opt[4] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss};
    tcp_establish(t, opt, sizeof opt, 65535u);
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    static uint8_t out[3000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 13u + 1u);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, out, sizeof out), (int)sizeof out);
    uint32_t acked = t->rcv, segments = 0;
    uint8_t got[sizeof out];
    for (int round = 0; round < 200 && acked != t->rcv + (uint32_t)sizeof out; round++) {
        uint32_t high = acked;
        for (unsigned i = 0; i < t->f->cn.count; i++) {
            uint32_t plen;
            const uint8_t *h = tcp_fixture_cap(t, i, &plen);
            if (plen == 0u)
                continue;
            segments++;
            assert_true(plen <= 536u);
            uint32_t seq = be32_get(h + 4);
            uint32_t off = seq - t->rcv;
            assert_true(off + plen <= sizeof out);
            memcpy(got + off, h + (size_t)(h[12] >> 4) * 4u, plen);
            if (seq + plen - high < 0x80000000u)
                high = seq + plen;
        }
        capnet_clear(&t->f->cn);
        if (high == acked) {
            /* Nothing new: let the retransmission timer run. */
            t->f->now += 1000u;
            tern_poll(&t->f->stack, t->f->now);
            continue;
        }
        acked = high;
        seg_rx(t, &(seg_t){.seq = t->snd, .ack = acked, .flags = T_ACK, .wnd = 65535u});
    }
    assert_int_equal(acked, t->rcv + (uint32_t)sizeof out);
    assert_memory_equal(got, out, sizeof out);
    assert_true(segments >= (uint32_t)sizeof out / 536u);
    t->rcv = acked;
    capnet_clear(&t->f->cn);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

static void test_tcp_mss_zero(void **state)
{
    mss_case(*state, 0);
}

static void test_tcp_mss_one(void **state)
{
    mss_case(*state, 1);
}

/* Build a segment, then overwrite its data offset (the checksum made good
 * again, so it is the offset that drops) and expect it dropped silently. */
static void expect_offset_drop(tcpfx_t *t, const seg_t *s, unsigned off)
{
    uint8_t fr[FRAME_MAX];
    size_t n = seg_frame(fr, s);
    fr[14 + 20 + 12] = (uint8_t)(off << 4);
    tseg_fix_checksum(fr, n);
    expect_drop(t, fr, n, &tern_tcp_stats(&t->f->stack)->drop_offset, 0);
}

/* Offsets [lo, hi) on a SYN to the listener and on a segment of the
 * established connection (with `data`, if any). */
static void offset_range_case(tcpfx_t *t, unsigned lo, unsigned hi, const char *data)
{
    size_t len = data != NULL ? strlen(data) : 0u;
    for (unsigned off = lo; off < hi; off++) {
        expect_offset_drop(t, &(seg_t){.sport = PPORT + 3u, .seq = 1, .flags = T_SYN}, off);
        expect_offset_drop(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK, .data = data, .len = len}, off);
    }
}

/* AMNESIA:33 (CVE-2020-17445 family): a data offset below 5 makes the
 * "options" length negative; checked before anything else, in LISTEN and in
 * ESTABLISHED. */
static void test_tcp_data_offset_below_5(void **state)
{
    tcpfx_t *t = *state;
    tcp_establish(t, NULL, 0, 0);
    offset_range_case(t, 0, 5, "0123456789");
    assert_int_equal(t->accepts, 1);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* A data offset that puts the header end beyond the segment (Ripple20 /
 * AMNESIA:33 out-of-bounds reads of "options"). */
static void test_tcp_data_offset_beyond_segment(void **state)
{
    tcpfx_t *t = *state;
    tcp_establish(t, NULL, 0, 0);
    offset_range_case(t, 6, 16, NULL);
    /* 60 bytes claimed with 8 bytes of data after a 20-byte header. */
    expect_offset_drop(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK, .data = "abcdefgh", .len = 8}, 15);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* Fewer than 20 bytes of TCP header. */
static void test_tcp_header_truncated(void **state)
{
    tcpfx_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    uint8_t fr[FRAME_MAX];
    uint8_t whole[20];
    size_t n = seg_frame(fr, &(seg_t){.seq = 1, .flags = T_SYN});
    memcpy(whole, fr + 34, 20);
    for (size_t len = 0; len < 20u; len++) {
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 6};
        n = frame_ip_eth(fr, &ip, whole, len);
        expect_drop(t, fr, n, &s->drop_truncated, 0);
    }
}

/* LAND (CVE-1999-0016): a SYN from our own address and port to itself
 * would make a connection answer itself forever. */
static void test_tcp_land_packet(void **state)
{
    tcpfx_t *t = *state;
    expect_seg_drop(t, &(seg_t){.src = FR_OUR_IP, .sport = LPORT, .seq = 1, .flags = T_SYN},
                    &t->f->stack.counters.ipv4_drop_land, 0);
    expect_seg_drop(t, &(seg_t){.src = FR_OUR_IP, .sport = 1234, .seq = 1, .flags = T_SYN | T_ACK},
                    &t->f->stack.counters.ipv4_drop_land, 0);
    assert_int_equal(t->accepts, 0);
}

/* RFC 1122 4.2.3.10: a SYN from a broadcast or multicast source must be
 * ignored (no SYN-ACK, no RST, no half-open connection), to the listener
 * and to a closed port alike. */
static void bad_source_case(tcpfx_t *t, const tern_ip4_t srcs[2])
{
    for (size_t i = 0; i < 2; i++) {
        expect_seg_drop(t, &(seg_t){.src = srcs[i], .seq = 1, .flags = T_SYN},
                        &t->f->stack.counters.ipv4_drop_bad_src, 0);
        expect_seg_drop(t, &(seg_t){.src = srcs[i], .dport = 4242, .seq = 1, .flags = T_SYN},
                        &t->f->stack.counters.ipv4_drop_bad_src, 0);
    }
    assert_int_equal(t->accepts, 0);
}

static void test_tcp_broadcast_source(void **state)
{
    static const tern_ip4_t srcs[2] = {TERN_IP4(255, 255, 255, 255), FR_SUBNET_BCAST};
    bad_source_case(*state, srcs);
}

static void test_tcp_multicast_source(void **state)
{
    static const tern_ip4_t srcs[2] = {TERN_IP4(224, 0, 0, 1), TERN_IP4(239, 255, 255, 250)};
    bad_source_case(*state, srcs);
}

/* A SYN to a broadcast address (or in a link broadcast) is not for a
 * connection (RFC 1122 4.2.3.10): no SYN-ACK and, to a closed port, no RST
 * storm. */
static void test_tcp_broadcast_destination(void **state)
{
    tcpfx_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    expect_seg_drop(t, &(seg_t){.dst = FR_SUBNET_BCAST, .eth_dst = FR_BCAST_MAC, .seq = 1, .flags = T_SYN},
                    &s->drop_bcast, 0);
    /* Our unicast address in a link broadcast: IPv4 drops it already
     * (RFC 1122 3.3.6). */
    expect_seg_drop(t, &(seg_t){.dst = FR_OUR_IP, .eth_dst = FR_BCAST_MAC, .seq = 1, .flags = T_SYN},
                    &t->f->stack.counters.ipv4_drop_bcast_mismatch, 0);
    expect_seg_drop(t, &(seg_t){.dst = TERN_IP4(255, 255, 255, 255), .eth_dst = FR_BCAST_MAC, .seq = 1,
                                .flags = T_SYN},
                    &s->drop_bcast, 0);
    expect_seg_drop(t, &(seg_t){.dst = FR_SUBNET_BCAST, .eth_dst = FR_BCAST_MAC, .dport = 4242, .seq = 1,
                                .flags = T_ACK},
                    &s->drop_bcast, 0);
    assert_int_equal(t->accepts, 0);
}

/* URGENT/11: data on a SYN is neither stored nor acknowledged (RFC 9293
 * 3.10.7.2 allows queueing it; not doing so costs the peer a resend and
 * spends no memory on a half-open connection). */
static void test_syn_with_data(void **state)
{
    tcpfx_t *t = *state;
    static uint8_t big[1200];
    memset(big, 'S', sizeof big);
    expect_synack(t, &(seg_t){.seq = PEER_ISN, .flags = T_SYN, .data = big, .len = sizeof big});
    assert_int_equal(tern_ledger_category(&t->f->stack.ledger, TERN_MEM_TCP_STREAM_RX)->bytes, 0);
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK});
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    /* The peer sends it again: taken now. */
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK, .data = "data", .len = 4});
    t->snd += 4u;
    assert_int_equal(tern_tcp_recv_avail(t->conn), 4);
    /* A SYN with data on the established connection: a challenge ACK,
     * the data not taken. */
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = t->snd, .flags = T_SYN, .data = "more", .len = 4});
    expect_bare_ack(t);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 4);
    capnet_clear(&t->f->cn);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* SYN flood (spoofed sources fill the half-open table): the oldest
 * half-open child makes room, so a real client still gets its SYN-ACK and
 * connects while the flood's entries would still be retrying (dropping the
 * new SYN instead locked every listener out for the SYN-ACK retry time). */
static void test_syn_flood_evicts_oldest_half_open(void **state)
{
    tcpfx_t *t = *state;
    tern_stack_t *st = &t->f->stack;
    const tern_tcp_stats_t *ts = tern_tcp_stats(st);
    for (unsigned i = 0; i < 3u * TERN_TCP_SYN_MAX; i++) {
        /* Off-link sources (through the gateway), as spoofed SYNs from the
         * Internet arrive. */
        seg_rx(t, &(seg_t){.src = TERN_IP4(198, 51, 100, 1 + i % 50u), .sport = (uint16_t)(40000u + i),
                           .seq = 1000u * i, .flags = T_SYN});
        t->f->now += 10;
        tern_poll(st, t->f->now);
        capnet_tx_complete(&t->f->cn);
        assert_true(st->tcp.half_open <= TERN_TCP_SYN_MAX);
    }
#if TERN_TCP_SYN_COOKIES
    /* Cookies once full: nothing evicted. */
    assert_true(ts->syncookies_sent >= 3u * TERN_TCP_SYN_MAX - 4u);
    assert_int_equal(ts->syn_evicted, 0);
#else
    assert_true(ts->syn_evicted >= 3u * TERN_TCP_SYN_MAX - 4u);
#endif
    assert_int_equal(ts->drop_syn_limit, 0);
    uint16_t half = st->tcp.half_open;
    uint32_t evicted = ts->syn_evicted;
    uint32_t cookies = ts->syncookies_sent;
    /* The real client: answered at once, and its handshake completes. */
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = PEER_ISN, .flags = T_SYN});
#if TERN_TCP_SYN_COOKIES
    assert_int_equal(ts->syncookies_sent, cookies + 1u);
    assert_int_equal(ts->syn_evicted, evicted);
#else
    (void)cookies;
    assert_int_equal(ts->syn_evicted, evicted + 1u);
#endif
    assert_int_equal(st->tcp.half_open, half);
    int synack = -1;
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        const uint8_t *fr = capnet_frame(&t->f->cn, i, NULL);
        if ((fr[12] << 8 | fr[13]) != 0x0800)
            continue;
        const uint8_t *h = tcp_fixture_cap(t, i, NULL);
        if (h[13] == (T_SYN | T_ACK) && be32_get(h + 8) == PEER_ISN + 1u)
            synack = (int)i;
    }
    assert_true(synack >= 0);
    t->rcv = be32_get(tcp_fixture_cap(t, (unsigned)synack, NULL) + 4) + 1u;
    t->snd = PEER_ISN + 1u;
    capnet_tx_complete(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK});
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    capnet_clear(&t->f->cn);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* SYN+FIN (a classic scanner and fingerprinting probe): the FIN is not
 * taken with the SYN, so the connection opens as ESTABLISHED, not
 * CLOSE-WAIT, and the application hears no close. */
static void test_syn_with_fin(void **state)
{
    tcpfx_t *t = *state;
    expect_synack(t, &(seg_t){.seq = PEER_ISN, .flags = T_SYN | T_FIN});
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK});
    assert_int_equal(t->peer_closed, 0);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
    /* SYN+FIN to a closed port: one RST, nothing kept. */
    uint8_t fr[FRAME_MAX];
    size_t n = seg_frame(fr, &(seg_t){.dport = 4242, .seq = 9, .flags = T_SYN | T_FIN});
    expect_drop(t, fr, n, &tern_tcp_stats(&t->f->stack)->drop_no_pcb, 1);
    assert_true(tcp_fixture_cap(t, 0, NULL)[13] & T_RST);
}

/* SYN+RST to a listener: a reset is never answered, nothing is opened. */
static void test_syn_with_rst(void **state)
{
    tcpfx_t *t = *state;
    expect_seg_drop(t, &(seg_t){.seq = PEER_ISN, .flags = T_SYN | T_RST}, &tern_tcp_stats(&t->f->stack)->drop_rst,
                    0);
    assert_int_equal(t->accepts, 0);
}

/* RFC 5961 3.2: a RST inside the window that is not exactly RCV.NXT is
 * answered with a challenge ACK and changes nothing: a blind attacker must
 * guess the exact number (one in 2^32), not one in 2^32/window. Checked in
 * SYN-RECEIVED, ESTABLISHED and CLOSE-WAIT; then the exact RST works. */
static void test_rst_blind_in_window(void **state)
{
    tcpfx_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    /* SYN-RECEIVED (a half-open child). */
    capnet_clear(&t->f->cn);
    seg_rx(t, &(seg_t){.sport = PPORT + 5u, .seq = 90000, .flags = T_SYN});
    assert_int_equal(t->f->stack.tcp.half_open, 1);
    uint32_t child_iss = be32_get(tcp_fixture_cap(t, 0, NULL) + 4);
    uint8_t fr[FRAME_MAX];
    size_t n = seg_frame(fr, &(seg_t){.sport = PPORT + 5u, .seq = 90001u + 100u, .flags = T_RST});
    expect_drop(t, fr, n, &s->drop_rst, 1);
    assert_int_equal(tcp_fixture_cap(t, 0, NULL)[13], T_ACK);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 4), child_iss + 1u);
    assert_int_equal(t->f->stack.tcp.half_open, 1);
    seg_rx(t, &(seg_t){.sport = PPORT + 5u, .seq = 90001u, .flags = T_RST}); /* exact */
    assert_int_equal(t->f->stack.tcp.half_open, 0);
    mem_assert_baseline(&t->f->stack, &t->f->base);

    tcp_establish(t, NULL, 0, 0);
    for (uint32_t d = 1; d < 4000u; d += 397u) {
        n = seg_frame(fr, &(seg_t){.seq = t->snd + d, .flags = T_RST});
        expect_drop(t, fr, n, &s->drop_rst, 1);
        expect_bare_ack(t);
        n = seg_frame(fr, &(seg_t){.seq = t->snd + d, .ack = t->rcv, .flags = T_RST | T_ACK});
        expect_drop(t, fr, n, &s->drop_rst, 1);
        expect_bare_ack(t);
        /* A fresh second: the challenge-ACK budget (RFC 5961 7) refills. */
        t->f->now += 1001u;
        tern_poll(&t->f->stack, t->f->now);
    }
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
    /* CLOSE-WAIT: the peer has sent its FIN. */
    seg_rx(t, &(seg_t){.seq = t->snd, .ack = t->rcv, .flags = T_ACK | T_FIN});
    t->snd++;
    assert_int_equal(t->peer_closed, 1);
    n = seg_frame(fr, &(seg_t){.seq = t->snd + 50u, .flags = T_RST});
    t->f->now += 1001u;
    expect_drop(t, fr, n, &s->drop_rst, 1);
    expect_bare_ack(t);
    assert_conn_intact(t, TERN_TCP_CLOSE_WAIT);
    /* Control: the exact RST resets it, and memory returns. */
    seg_rx(t, &(seg_t){.seq = t->snd, .flags = T_RST});
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->last_err, TERN_ERR_RESET);
    assert_null(t->conn);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

/* A blind attacker's segments at SND.NXT + off[i]: `flags` alone and, if
 * flags_ack is not 0, flags_ack with an ACK of RCV.NXT. Each is dropped
 * under counter; with replies 1 the answer is a bare ACK, with 0 nothing. */
static void blind_offsets(tcpfx_t *t, uint8_t flags, uint8_t flags_ack, const uint32_t *off, size_t n,
                          const uint32_t *counter, unsigned replies)
{
    for (size_t i = 0; i < n; i++) {
        expect_seg_drop(t, &(seg_t){.seq = t->snd + off[i], .flags = flags}, counter, replies);
        if (replies)
            expect_bare_ack(t);
        if (flags_ack == 0)
            continue;
        expect_seg_drop(t, &(seg_t){.seq = t->snd + off[i], .ack = t->rcv, .flags = flags_ack}, counter, replies);
        if (replies)
            expect_bare_ack(t);
    }
}

/* One blind-attack class: the segments blind_offsets sends, where each
 * drop counts (an offsetof in tern_tcp_stats_t) and a counter that must
 * stay 0 (no RST taken or sent). */
typedef struct blind {
    uint8_t flags, flags_ack;
    const uint32_t *off;
    size_t n;
    size_t counter;
    unsigned replies;
    size_t never;
} blind_t;

static const uint32_t *tcp_stat(const tern_tcp_stats_t *s, size_t at)
{
    return (const uint32_t *)(const void *)((const char *)s + at);
}

static void blind_case(tcpfx_t *t, const blind_t *c)
{
    tcp_establish(t, NULL, 0, 0);
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    blind_offsets(t, c->flags, c->flags_ack, c->off, c->n, tcp_stat(s, c->counter), c->replies);
    assert_int_equal(*tcp_stat(s, c->never), 0);
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

/* RFC 9293 3.10.7.4 / RFC 5961 3.2: a RST outside the window is dropped
 * silently (no answer an attacker could use), above or below it. */
static void test_rst_blind_outside_window(void **state)
{
    static const uint32_t off[] = {TERN_TCP_RCVBUF + 1u, 100000u, 0x7FFFFFFFu, 0x80000000u,
                                   (uint32_t)-1, (uint32_t)-100, (uint32_t)-70000};
    static const blind_t c = {T_RST, T_RST | T_ACK, off, sizeof off / sizeof off[0],
                              offsetof(tern_tcp_stats_t, drop_unacceptable), 0, offsetof(tern_tcp_stats_t, rst_rx)};
    blind_case(*state, &c);
}

/* RFC 5961 4.2: a SYN on a synchronized connection, in the window, gets a
 * challenge ACK; it neither resets the connection (RFC 793's old rule, a
 * blind reset) nor moves anything. */
static void test_syn_blind_in_window(void **state)
{
    static const uint32_t off[] = {0u, 1u, 100u, TERN_TCP_RCVBUF - 1u};
    static const blind_t c = {T_SYN, T_SYN | T_ACK, off, sizeof off / sizeof off[0],
                              offsetof(tern_tcp_stats_t, drop_state), 1, offsetof(tern_tcp_stats_t, rst_tx)};
    blind_case(*state, &c);
}

/* A SYN outside the window: answered with an ACK (RFC 5961 4.2 asks for
 * a challenge ACK whatever the sequence number), never a RST, no change.
 * Not -1: SEQ = IRS is the peer's own SYN again, a duplicate. */
static void test_syn_blind_outside_window(void **state)
{
    static const uint32_t off[] = {TERN_TCP_RCVBUF + 1u, 100000u, 0x80000000u, (uint32_t)-2, (uint32_t)-70000};
    static const blind_t c = {T_SYN, 0, off, sizeof off / sizeof off[0],
                              offsetof(tern_tcp_stats_t, drop_unacceptable), 1, offsetof(tern_tcp_stats_t, rst_tx)};
    blind_case(*state, &c);
}

/* RFC 5961 5.2: a blind data injection needs an acceptable ACK field too:
 * an ACK for data never sent, or older than the largest window ever sent
 * back from SND.UNA, is dropped with its data and answered with an ACK. */
static void test_ack_blind_injection(void **state)
{
    tcpfx_t *t = *state;
    tcp_establish(t, NULL, 0, 0);
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    static const uint32_t off[] = {1u, 1000u, 0x40000000u, (uint32_t)-70000, (uint32_t)-0x40000000};
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
        t->f->now += 1001u; /* a fresh challenge-ACK budget each time */
        tern_poll(&t->f->stack, t->f->now);
        expect_seg_drop(t, &(seg_t){.seq = t->snd, .ack = t->rcv + off[i], .flags = T_ACK | T_PSH,
                                    .data = "inject", .len = 6},
                        &s->drop_bad_ack, 1);
        expect_bare_ack(t);
        assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    }
    assert_conn_intact(t, TERN_TCP_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ipv4_header_length_below_20, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_total_length_beyond_frame, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_total_length_short_of_header, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_options_past_header, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_land_packet, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_source_address, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_multicast_source_address, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_error_quoting_truncated_header, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_arp_broadcast_sender, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_urgent_pointer_beyond_data, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_option_length_zero, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_option_length_one, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_option_past_header, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_mss_zero, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_mss_one, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_data_offset_below_5, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_data_offset_beyond_segment, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_header_truncated, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_land_packet, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_broadcast_source, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_multicast_source, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_broadcast_destination, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_with_data, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_flood_evicts_oldest_half_open, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_with_fin, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_with_rst, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_rst_blind_in_window, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_rst_blind_outside_window, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_blind_in_window, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_syn_blind_outside_window, tcp_setup, tcp_teardown),
        cmocka_unit_test_setup_teardown(test_ack_blind_injection, tcp_setup, tcp_teardown),
#if TERN_IP_REASSEMBLY
        cmocka_unit_test_setup_teardown(test_ipv4_fragments_overlap, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_reassembly_past_65535, setup, net_fixture_teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
