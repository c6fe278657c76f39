/* TERN_TEST_STATIC_VARIANT */
/* TCP on hand-built segments: closed-port resets, the passive handshake and
 * its options, RFC 5961 reset/SYN handling, the acceptance test, malformed
 * headers and options, SYN-flood bounds, urgent data, SYN with data/FIN.
 * The peer is the test itself (FR_PEER_IP), through the capture driver. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define SPORT 40000u
#define LPORT 80u

typedef tcp_fixture_t tfix_t;

static void tx(tfix_t *t, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len)
{
    tcp_fixture_rx(t, sport, LPORT, seq, ack, flags, 8192, NULL, 0, data, len);
}

static int setup(void **state)
{
    *state = tcp_fixture_new(77, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* Handshake on SPORT with ISN 1000; returns our ISS. */
static uint32_t handshake(tfix_t *t)
{
    static const uint8_t opt[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    uint8_t fr[FRAME_MAX];
    capnet_clear(&t->f->cn);
    size_t n = tseg_peer(fr, SPORT, LPORT, 1000, 0, TCP_SYN, 65535, opt, sizeof opt, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    assert_int_equal(be32_get(h + 8), 1001);
    /* MSS from our MTU (1500 - 40) and our window scale. */
    assert_int_equal(h[12] >> 4, 7);
    assert_int_equal(h[20], 2);
    assert_int_equal(h[22] << 8 | h[23], 1460);
    assert_int_equal(h[24], 1);
    assert_int_equal(h[25], 3);
    uint32_t iss = be32_get(h + 4);
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1001, iss + 1, TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    assert_int_equal(t->f->cn.count, 0);
    return iss;
}

static void test_closed_port_rst(void **state)
{
    tfix_t *t = *state;
    uint8_t fr[FRAME_MAX];
    capnet_clear(&t->f->cn);
    size_t n = tseg_peer(fr, SPORT, 81, 5000, 0, TCP_SYN, 1000, NULL, 0, "ab", 2);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    /* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counts one. */
    assert_int_equal(h[13], TCP_RST | TCP_ACK);
    assert_int_equal(be32_get(h + 4), 0);
    assert_int_equal(be32_get(h + 8), 5003);
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, SPORT, 81, 5000, 777, TCP_ACK, 1000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_RST);
    assert_int_equal(be32_get(h + 4), 777);
    /* Never a reset for a reset. */
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, SPORT, 81, 5000, 777, TCP_RST, 1000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 0);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

static void test_rfc5961_rst(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    /* Outside the window: dropped silently. */
    tx(t, SPORT, 1001 + 100000, 0, TCP_RST, NULL, 0);
    assert_int_equal(t->f->cn.count, 0);
    assert_non_null(t->conn);
    /* In the window, not exact: a challenge ACK, the connection stays. */
    uint32_t before = s->challenge_acks;
    tx(t, SPORT, 1001 + 10, 0, TCP_RST, NULL, 0);
    assert_int_equal(s->challenge_acks, before + 1);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_ACK);
    assert_int_equal(be32_get(h + 8), 1001);
    assert_int_equal(be32_get(h + 4), iss + 1);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    /* SYN in ESTABLISHED: challenge ACK too (RFC 5961 4.2). */
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1001, 0, TCP_SYN, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(tcp_fixture_cap(t, 0, NULL)[13], TCP_ACK);
    assert_non_null(t->conn);
    /* Exact: reset, the application hears TERN_ERR_RESET, memory returns. */
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1001, 0, TCP_RST, NULL, 0);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->last_err, TERN_ERR_RESET);
    assert_null(t->conn);
    assert_int_equal(t->f->cn.count, 0);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

static void test_challenge_ack_rate_limit(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    for (int i = 0; i < 50; i++)
        tx(t, SPORT, 1001 + 5, 0, TCP_RST, NULL, 0);
    assert_int_equal(t->f->cn.count, TERN_TCP_CHALLENGE_ACK_LIMIT);
    assert_int_equal(tern_tcp_stats(&t->f->stack)->challenge_acks_limited, 50 - TERN_TCP_CHALLENGE_ACK_LIMIT);
}

static void test_data_and_window(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    /* In order: delivered, ACK delayed. */
    tx(t, SPORT, 1001, iss + 1, TCP_ACK | TCP_PSH, "hello", 5);
    assert_int_equal(t->readable, 1);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 5);
    assert_int_equal(t->f->cn.count, 0);
    t->f->now += TERN_TCP_DELACK_MS;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 8), 1006);
    /* Beyond the window (RCVBUF): not accepted, answered with an ACK. */
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1006 + TERN_TCP_RCVBUF + 10, iss + 1, TCP_ACK, "x", 1);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 8), 1006);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 5);
    /* Out of order, then the gap: delivered in one piece, immediate ACK. */
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1009, iss + 1, TCP_ACK, "def", 3);
    assert_int_equal(t->f->cn.count, 1); /* duplicate ACK */
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 8), 1006);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 5);
    tx(t, SPORT, 1006, iss + 1, TCP_ACK | TCP_URG, "abc", 3); /* URG ignored, data inline */
    assert_int_equal(tern_tcp_recv_avail(t->conn), 11);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 1, NULL) + 8), 1012);
    char buf[16];
    assert_int_equal(tern_tcp_read(t->conn, buf, sizeof buf), 11);
    assert_memory_equal(buf, "helloabcdef", 11);
    /* A duplicate of old data: ACKed, not delivered again. */
    capnet_clear(&t->f->cn);
    tx(t, SPORT, 1001, iss + 1, TCP_ACK, "hello", 5);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    assert_int_equal(t->f->cn.count, 1);
    /* FIN: peer closed; our close then sends FIN; its ACK ends it. */
    tx(t, SPORT, 1012, iss + 1, TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(t->peer_closed, 1);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_CLOSE_WAIT);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_close(t->conn), TERN_OK);
    assert_int_equal(t->f->cn.count, 1);
    assert_true(tcp_fixture_cap(t, 0, NULL)[13] & TCP_FIN);
    tx(t, SPORT, 1013, iss + 2, TCP_ACK, NULL, 0);
    t->conn = NULL;
    assert_int_equal(tern_tcp_list(&t->f->stack, NULL, 0), 1);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

static void test_malformed(void **state)
{
    tfix_t *t = *state;
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    uint8_t fr[FRAME_MAX];
    static const uint8_t bad_opts[][8] = {
        {2, 0, 1, 1, 1, 1, 1, 1},   /* length 0 */
        {1, 1, 1, 1, 1, 1, 1, 2},   /* kind at the end, no length */
        {3, 1, 1, 1, 1, 1, 1, 1},   /* length 1 */
        {2, 12, 5, 0xb4, 1, 1, 1, 1}, /* runs past the header */
        {2, 3, 5, 1, 1, 1, 1, 1},   /* MSS of the wrong length */
    };
    for (size_t k = 0; k < sizeof bad_opts / sizeof bad_opts[0]; k++) {
        uint32_t before = s->drop_options;
        size_t n = tseg_peer(fr, SPORT, LPORT, 1, 0, TCP_SYN, 1000, bad_opts[k], 8, NULL, 0);
        fx_rx(t->f, fr, n);
        assert_int_equal(s->drop_options, before + 1);
    }
    /* Data offset below 5 and beyond the segment. */
    size_t n = tseg_peer(fr, SPORT, LPORT, 1, 0, TCP_SYN, 1000, NULL, 0, NULL, 0);
    fr[14 + 20 + 12] = 0x40;
    uint32_t before = s->drop_offset;
    fx_rx(t->f, fr, n); /* checksum now wrong too, but the offset is checked first */
    assert_int_equal(s->drop_offset, before + 1);
    n = tseg_peer(fr, SPORT, LPORT, 1, 0, TCP_SYN, 1000, NULL, 0, NULL, 0);
    fr[14 + 20 + 12] = 0xF0; /* 60 bytes claimed, 20 present */
    fx_rx(t->f, fr, n);
    assert_int_equal(s->drop_offset, before + 2);
    /* Truncated header. */
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 6};
    n = frame_ip_eth(fr, &ip, "0123456789", 10);
    fx_rx(t->f, fr, n);
    assert_int_equal(s->drop_truncated, 1);
    /* Bad checksum. */
    n = tseg_peer(fr, SPORT, LPORT, 1, 0, TCP_SYN, 1000, NULL, 0, NULL, 0);
    fr[n - 1] ^= 1;
    fx_rx(t->f, fr, n);
    assert_int_equal(s->drop_checksum, 1);
    assert_int_equal(t->f->cn.count, 0);
    assert_int_equal(t->accepts, 0);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

static void test_syn_flood_bounded(void **state)
{
    tfix_t *t = *state;
    uint8_t fr[FRAME_MAX];
    for (unsigned i = 0; i < 200; i++) {
        size_t n = tseg_peer(fr, (uint16_t)(1024 + i), LPORT, i * 1000u, 0, TCP_SYN, 1000, NULL, 0, NULL, 0);
        fx_rx(t->f, fr, n);
        capnet_tx_complete(&t->f->cn);
    }
    /* Backlog 4: four half-open connections; each later SYN gets a cookie
     * (or, without cookies, evicts the oldest), counted. */
    assert_int_equal(t->f->stack.tcp.half_open, 4);
#if TERN_TCP_SYN_COOKIES
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syncookies_sent, 196);
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syn_evicted, 0);
#else
    assert_int_equal(tern_tcp_stats(&t->f->stack)->syn_evicted, 196);
#endif
    assert_int_equal(tern_tcp_stats(&t->f->stack)->drop_syn_limit, 0);
    assert_int_equal(tern_ledger_category(&t->f->stack.ledger, TERN_MEM_SOCKET)->blocks, 2u + 4u);
    /* They time out after the SYN-ACK retries; memory returns. */
    for (int i = 0; i < 300; i++) {
        t->f->now += 1000;
        tern_poll(&t->f->stack, t->f->now);
        capnet_tx_complete(&t->f->cn);
    }
    assert_int_equal(t->f->stack.tcp.half_open, 0);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

static void test_syn_with_data_and_fin(void **state)
{
    tfix_t *t = *state;
    uint8_t fr[FRAME_MAX];
    capnet_clear(&t->f->cn);
    /* Data and FIN on a SYN are not taken: only the SYN is acknowledged,
     * the peer sends them again once established. */
    size_t n = tseg_peer(fr, SPORT, LPORT, 1000, 0, TCP_SYN | TCP_FIN, 1000, NULL, 0, "data", 4);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    assert_int_equal(be32_get(h + 8), 1001);
    uint32_t iss = be32_get(h + 4);
    tx(t, SPORT, 1001, iss + 1, TCP_ACK, "data", 4);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 4);
}

static void test_simultaneous_open(void **state)
{
    tfix_t *t = *state;
    int err;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 5555, &tcp_fixture_cbs, t, &err);
    assert_non_null(c);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN);
    uint16_t lport = (uint16_t)(h[0] << 8 | h[1]);
    uint32_t iss = be32_get(h + 4);
    /* The peer's own SYN crosses ours. */
    capnet_clear(&t->f->cn);
    uint8_t fr[FRAME_MAX];
    size_t n = tseg_peer(fr, 5555, lport, 9000, 0, TCP_SYN, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_SYN_RECEIVED);
    h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    assert_int_equal(be32_get(h + 4), iss);
    /* RFC 9293 figure 8: the peer's SYN-ACK (its SYN again) completes it. */
    n = tseg_peer(fr, 5555, lport, 9000, iss + 1, TCP_SYN | TCP_ACK, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_ESTABLISHED);
    /* Simultaneous close: both FINs cross -> CLOSING -> TIME-WAIT. */
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_close(c), TERN_OK);
    assert_true(tcp_fixture_cap(t, 0, NULL)[13] & TCP_FIN);
    n = tseg_peer(fr, 5555, lport, 9001, iss + 1, TCP_ACK | TCP_FIN, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_CLOSING);
    n = tseg_peer(fr, 5555, lport, 9002, iss + 2, TCP_ACK, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    /* In the TIME-WAIT table now; a retransmitted FIN is re-ACKed. */
    tern_tcp_info_t rows[4];
    assert_int_equal(tern_tcp_list(&t->f->stack, rows, 4), 2);
    assert_int_equal(rows[1].state, TERN_TCP_TIME_WAIT);
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, 5555, lport, 9001, iss + 2, TCP_ACK | TCP_FIN, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 8), 9002);
    t->f->now += TERN_TCP_TIMEWAIT_MS + 1;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(tern_tcp_list(&t->f->stack, NULL, 0), 1);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

/* Regression (found against Linux): the peer closes its window while data
 * of ours lies beyond it. With RCV.WND = 0 the peer accepts only
 * SEG.SEQ = RCV.NXT (RFC 9293 3.10.7.4) and drops anything else unread,
 * ACK field included; ACKs sent from snd_max then never reached it and both
 * sides waited forever. Our ACKs must carry snd_una, and the data beyond
 * the window goes again once it opens. */
static void test_window_closed_over_our_data(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    static uint8_t out[3000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 7u);
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    assert_int_equal(tern_tcp_write(t->conn, out, sizeof out), (int)sizeof out);
    assert_true(t->f->cn.count >= 2);
    uint32_t sent_end = 0;
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        const uint8_t *h = tcp_fixture_cap(t, i, NULL);
        size_t flen;
        capnet_frame(&t->f->cn, i, &flen);
        uint32_t end = be32_get(h + 4) + (uint32_t)(flen - 14 - 20 - (size_t)(h[12] >> 4) * 4u);
        if (end - (iss + 1) > sent_end - (iss + 1) || sent_end == 0)
            sent_end = end;
    }
    assert_true(sent_end - (iss + 1) > 1460u);
    /* The peer takes 1460 bytes and closes its window. */
    uint8_t fr[FRAME_MAX];
    capnet_clear(&t->f->cn);
    size_t n = tseg_peer(fr, SPORT, LPORT, 1001, iss + 1 + 1460, TCP_ACK, 0, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    /* The peer's data arrives; our ACK must be acceptable to a closed window. */
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, SPORT, LPORT, 1001, iss + 1 + 1460, TCP_ACK | TCP_PSH, 0, NULL, 0, "abc", 3);
    fx_rx(t->f, fr, n);
    t->f->now += TERN_TCP_DELACK_MS;
    tern_poll(&t->f->stack, t->f->now);
    assert_true(t->f->cn.count >= 1);
    const uint8_t *h = tcp_fixture_cap(t, t->f->cn.count - 1, NULL);
    assert_int_equal(be32_get(h + 8), 1004);
    assert_int_equal(be32_get(h + 4), iss + 1 + 1460); /* snd_una, not snd_max */
    /* The window opens: the data beyond it goes again from snd_una. */
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, SPORT, LPORT, 1004, iss + 1 + 1460, TCP_ACK, 8192, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_true(t->f->cn.count >= 1);
    assert_int_equal(be32_get(tcp_fixture_cap(t, 0, NULL) + 4), iss + 1 + 1460);
}

/* FIN-WAIT-2: once our data and FIN are acknowledged the send ring is
 * freed at once, while the peer may keep its side open (and send) for long. */
static void test_fin_wait_2_frees_send_ring(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_ledger_t *lg = &t->f->stack.ledger;
    assert_int_equal(tern_tcp_write(t->conn, "hello", 5), 5);
    assert_true(tern_ledger_category(lg, TERN_MEM_TCP_STREAM_TX)->bytes > 0u);
    assert_int_equal(tern_tcp_shutdown(t->conn), TERN_OK);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_FIN_WAIT_1);
    /* The peer acknowledges the data only: the ring stays. */
    tx(t, SPORT, 1001, iss + 1 + 5, TCP_ACK, NULL, 0);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_FIN_WAIT_1);
    assert_true(tern_ledger_category(lg, TERN_MEM_TCP_STREAM_TX)->bytes > 0u);
    /* ... and the FIN: FIN-WAIT-2 without a send ring. */
    tx(t, SPORT, 1001, iss + 1 + 6, TCP_ACK, NULL, 0);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_FIN_WAIT_2);
    assert_int_equal(tern_ledger_category(lg, TERN_MEM_TCP_STREAM_TX)->bytes, 0);
    assert_int_equal(tern_tcp_write(t->conn, "x", 1), TERN_ERR_STATE);
    /* The peer still sends; we still receive, then it closes. */
    tx(t, SPORT, 1001, iss + 1 + 6, TCP_ACK | TCP_PSH, "late", 4);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 4);
    char buf[8];
    assert_int_equal(tern_tcp_read(t->conn, buf, sizeof buf), 4);
    assert_memory_equal(buf, "late", 4);
    tx(t, SPORT, 1005, iss + 1 + 6, TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_CLOSED);
    assert_int_equal(tern_tcp_close(t->conn), TERN_OK);
    t->conn = NULL;
}

/* TCP simulation seed 2777: one flipped bit in the peer's ARP reply (ARP
 * has no checksum) left a wrong MAC in the cache for longer than the SYN
 * retries last. RFC 1122 4.2.3.5: after R1 (3) retransmissions TCP gives
 * IP negative advice, and ARP re-asks by broadcast (2.3.2.1) while still
 * using the old entry; the answer repairs it before R2 ends the connection. */
static void test_rexmit_advice_repairs_wrong_arp_entry(void **state)
{
    tfix_t *t = *state;
    static const uint8_t WRONG_MAC[6] = {0x06, 0, 0, 0, 0, 0x01}; /* FR_PEER_MAC with bit 2 of byte 0 flipped */
    uint8_t fr[FRAME_MAX];
    /* The corrupted mapping arrives and is merged into the peer's entry. */
    size_t n = frame_arp_eth(fr, FR_OUR_MAC, 2, WRONG_MAC, FR_PEER_IP, FR_OUR_MAC, FR_OUR_IP);
    fx_rx(t->f, fr, n);
    uint8_t mac[6];
    assert_int_equal(tern_arp_lookup(&t->f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, WRONG_MAC, 6);
    int err;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 5555, &tcp_fixture_cbs, t, &err);
    assert_non_null(c);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    uint16_t lport = (uint16_t)(h[0] << 8 | h[1]);
    uint32_t iss = be32_get(h + 4);
    /* Nobody answers the SYNs sent to WRONG_MAC. Up to the R1-th
     * retransmission no ARP request; with it, a broadcast request. */
    uint32_t requests0 = t->f->stack.counters.arp_tx_request;
    unsigned syns = 1, arp_seen = 0;
    for (unsigned i = 0; i < 200 && !arp_seen; i++) {
        capnet_clear(&t->f->cn);
        t->f->now += 100;
        tern_poll(&t->f->stack, t->f->now);
        for (unsigned k = 0; k < t->f->cn.count; k++) {
            const uint8_t *fk = capnet_frame(&t->f->cn, k, NULL);
            if (fk[12] == 0x08 && fk[13] == 0x06) {
                assert_memory_equal(fk, FR_BCAST_MAC, 6);
                assert_int_equal(syns, 3); /* after the original SYN and 2 retransmissions */
                arp_seen = 1;
            } else {
                assert_memory_equal(fk, WRONG_MAC, 6); /* still used while re-asking */
                syns++;
            }
        }
    }
    assert_true(arp_seen);
    assert_int_equal(syns, 4); /* the 3rd retransmission went out with the request */
    assert_int_equal(t->f->stack.counters.arp_tx_request, requests0 + 1u);
    /* The peer answers the broadcast: the entry is right again and the
     * next retransmitted SYN reaches the peer. */
    n = frame_arp_eth(fr, FR_OUR_MAC, 2, FR_PEER_MAC, FR_PEER_IP, FR_OUR_MAC, FR_OUR_IP);
    fx_rx(t->f, fr, n);
    assert_int_equal(tern_arp_lookup(&t->f->stack, FR_PEER_IP, mac), TERN_OK);
    assert_memory_equal(mac, FR_PEER_MAC, 6);
    capnet_clear(&t->f->cn);
    for (unsigned i = 0; i < 400 && t->f->cn.count == 0; i++) {
        t->f->now += 100;
        tern_poll(&t->f->stack, t->f->now);
    }
    /* Past R1 every retransmission advises again: a fresh request, then
     * the SYN, now to the right MAC. */
    assert_int_equal(t->f->cn.count, 2);
    assert_memory_equal(capnet_frame(&t->f->cn, 0, NULL), FR_BCAST_MAC, 6);
    assert_memory_equal(capnet_frame(&t->f->cn, 1, NULL), FR_PEER_MAC, 6);
    h = tcp_fixture_cap(t, 1, NULL);
    assert_int_equal(h[13], TCP_SYN);
    capnet_clear(&t->f->cn);
    n = tseg_peer(fr, 5555, lport, 9000, iss + 1, TCP_SYN | TCP_ACK, 4000, NULL, 0, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_ESTABLISHED);
    tern_tcp_abort(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_port_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc5961_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_challenge_ack_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_and_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syn_flood_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syn_with_data_and_fin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_closed_over_our_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fin_wait_2_frees_send_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rexmit_advice_repairs_wrong_arp_entry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
