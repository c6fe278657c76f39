/* TERN_TEST_STATIC_VARIANT */
/* TCP loss recovery on hand-built segments: the rules that kept tern's
 * sender waiting for the RTO on a lossy path against Linux
 * (tests/system/tcp_lossy.sh), each checked here against the segments the
 * stack sends. The peer is the test itself (FR_PEER_IP) through the
 * capture driver; no timer runs unless a test advances the clock, so "no
 * RTO" is checked as tcp.timeouts unchanged.
 *
 * - recovery starts on SACK information carried by data segments whose
 *   window moves (RFC 6675 IsLost), not only on pure duplicate ACKs;
 * - a retransmission lost again is resent once data sent after it is
 *   SACKed (lost-retransmission detection);
 * - a bare ACK at our right edge is processed (BSD, Linux);
 * - recovery can start again at ACK == recover (RFC 6582: recover is the
 *   highest sequence sent), and from the first loss of a connection
 *   whatever its ISN; after NewReno recovery cwnd is at least 2 MSS;
 * - cwnd counts whole segments: no cwnd-cut short segment;
 * - a fast retransmission never carries bytes beyond SND.MAX (found by
 *   test_tcp_sim seed 1772: the peer's ACK of them was refused for ever);
 * - an old ACK overtaken by a newer one cannot leave SACK ranges below
 *   SND.UNA (they made tcp_output see negative bytes in flight and send
 *   nothing, with no timer but tcp_output's safety net). */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

/* The static-only variant: the rings this file enlarges with an option
 * come from pools of their size (docs/memory.md, "Static-only build"). */
TERN_STATIC_POOL(test_tx_16000, TERN_MEM_TCP_STREAM_TX, 16000, 1);

#define SPORT 41000u
#define LPORT 80u
#define PEER_ISN 7000u

typedef tcp_fixture_t tfix_t;

static void rx_seg(tfix_t *t, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                   const uint8_t *opt, size_t optlen, const void *data, size_t len)
{
    uint8_t fr[FRAME_MAX];
    fx_rx(t->f, fr, tseg_peer(fr, sport, LPORT, seq, ack, flags, wnd, opt, optlen, data, len));
}

static size_t opt_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
    o[0] = 1;
    o[1] = 1;
    o[2] = 8;
    o[3] = 10;
    be32_put(o + 4, tsval);
    be32_put(o + 8, tsecr);
    return 12;
}

static size_t opt_sack(uint8_t *o, const uint32_t *blocks, unsigned n)
{
    o[0] = 1;
    o[1] = 1;
    o[2] = 5;
    o[3] = (uint8_t)(2 + 8 * n);
    for (unsigned i = 0; i < 2 * n; i++)
        be32_put(o + 4 + 4 * i, blocks[i]);
    return 4 + 8 * n;
}

/* Captured segment i: sequence, payload length, flags; remembers our TSval. */
typedef struct cap {
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t len;
} cap_t;

static cap_t cap(tfix_t *t, unsigned i)
{
    cap_t c;
    const uint8_t *h = tcp_fixture_cap(t, i, &c.len);
    c.seq = be32_get(h + 4);
    c.ack = be32_get(h + 8);
    c.flags = h[13];
    size_t hl = (size_t)(h[12] >> 4) * 4u;
    for (size_t k = 20; k < hl;) {
        if (h[k] == 0)
            break;
        if (h[k] == 1) {
            k++;
            continue;
        }
        if (h[k] == 8)
            t->our_ts = be32_get(h + k + 2);
        k += h[k + 1];
    }
    return c;
}

/* How many captured segments carry payload starting at seq. */
static unsigned sent_at(tfix_t *t, uint32_t seq)
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        cap_t c = cap(t, i);
        if (c.len != 0u && c.seq == seq)
            n++;
    }
    return n;
}

static int setup(void **state)
{
    tfix_t *t = tcp_fixture_new(77, LPORT);
    t->tsval = 9000;
    /* A send ring of eleven segments (the default holds three). */
    assert_int_equal(tern_tcp_set_bufsizes(t->listener, 0, 16000), TERN_OK);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* Passive handshake from sport; sack/ts: what the peer's SYN offers. */
static void handshake(tfix_t *t, uint16_t sport, int sack, int ts)
{
    uint8_t o[40];
    size_t ol = 0;
    o[ol++] = 2;
    o[ol++] = 4;
    o[ol++] = 0x05;
    o[ol++] = 0xb4;
    if (sack) {
        o[ol++] = 1;
        o[ol++] = 1;
        o[ol++] = 4;
        o[ol++] = 2;
    }
    if (ts)
        ol += opt_ts(o + ol, ++t->tsval, 0);
    capnet_clear(&t->f->cn);
    rx_seg(t, sport, PEER_ISN, 0, TCP_SYN, 65535, o, ol, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    cap_t c = cap(t, 0);
    assert_int_equal(c.flags, TCP_SYN | TCP_ACK);
    t->iss = c.seq;
    uint8_t a[12];
    size_t al = ts ? opt_ts(a, ++t->tsval, t->our_ts) : 0;
    rx_seg(t, sport, PEER_ISN + 1, t->iss + 1, TCP_ACK, 65535, a, al, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    t->snd = PEER_ISN + 1;
    capnet_clear(&t->f->cn);
}

/* Write nseg full segments with cwnd opened for all of them. */
static uint32_t send_segments(tfix_t *t, unsigned nseg)
{
    static uint8_t buf[16000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7u);
    uint32_t mss = t->conn->mss;
    t->conn->cwnd = 20u * mss;
    assert_int_equal(tern_tcp_write(t->conn, buf, nseg * mss), (int)(nseg * mss));
    return mss;
}

/* A segment from the peer: its timestamp when ts, the SACK blocks, data. */
static void peer(tfix_t *t, uint16_t sport, int ts, uint32_t seq, uint32_t ack, uint16_t wnd, const uint32_t *blocks,
                 unsigned n, const void *data, size_t len)
{
    uint8_t o[40];
    size_t ol = ts ? opt_ts(o, ++t->tsval, t->our_ts) : 0;
    if (n)
        ol += opt_sack(o + ol, blocks, n);
    rx_seg(t, sport, seq, ack, TCP_ACK, wnd, o, ol, data, len);
}

/* The peer's ACKs ride on its data and its window moves (an echo): no
 * duplicate ACK in RFC 5681's sense, yet the SACK blocks show a loss. */
static void test_recovery_on_data_acks(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 8);
    assert_int_equal(t->f->cn.count, 8);
    capnet_clear(&t->f->cn);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t s0 = t->iss + 1, to0 = st->timeouts;
    static const char data[300] = "echo";
    /* Segment 1 lost: 0 acknowledged, then 2, 3, 4 SACKed, each on 100 bytes
     * of the peer's data with a different window. */
    peer(t, SPORT, 1, t->snd, s0 + mss, 65535, NULL, 0, data, 100);
    t->snd += 100;
    for (unsigned k = 3; k <= 5; k++) {
        uint32_t b[] = {s0 + 2 * mss, s0 + k * mss};
        peer(t, SPORT, 1, t->snd, s0 + mss, (uint16_t)(65535 - 100 * k), b, 1, data + 100 * (k - 3), 100);
        t->snd += 100;
    }
    assert_int_equal(st->sack_recoveries, 1);
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_int_equal(sent_at(t, s0 + mss), 1); /* the hole, once */
    assert_int_equal(sent_at(t, s0 + 2 * mss), 0); /* SACKed bytes are not resent */
    assert_int_equal(st->timeouts, to0);
    /* Our data, received in order, was taken. */
    assert_int_equal(tern_tcp_recv_avail(t->conn), 400);
}

/* The retransmission of a hole is lost as well: once the peer SACKs data
 * sent after it, the hole goes again, with no RTO. */
static void test_lost_retransmission(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 8);
    capnet_clear(&t->f->cn);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t s0 = t->iss + 1, to0 = st->timeouts;
    peer(t, SPORT, 1, t->snd, s0 + mss, 65535, NULL, 0, NULL, 0);
    for (unsigned k = 3; k <= 8; k++) {
        uint32_t b[] = {s0 + 2 * mss, s0 + k * mss};
        peer(t, SPORT, 1, t->snd, s0 + mss, 65535, b, 1, NULL, 0);
    }
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_int_equal(sent_at(t, s0 + mss), 1);
    /* New data while the retransmission travels (RFC 6675 rule 2). */
    static uint8_t more[3 * 1460];
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, more, 3u * mss), (int)(3u * mss));
    assert_true(sent_at(t, s0 + 8 * mss) == 1);
    /* More duplicates about old data: no new verdict yet. */
    uint32_t b8[] = {s0 + 2 * mss, s0 + 8 * mss};
    peer(t, SPORT, 1, t->snd, s0 + mss, 65535, b8, 1, NULL, 0);
    assert_int_equal(st->sack_rxt_lost, 0);
    assert_int_equal(sent_at(t, s0 + mss), 0);
    /* The first new segment is SACKed, the hole still missing: the
     * retransmission was lost; it goes again at once. */
    uint32_t b9[] = {s0 + 2 * mss, s0 + 9 * mss};
    peer(t, SPORT, 1, t->snd, s0 + mss, 65535, b9, 1, NULL, 0);
    assert_int_equal(st->sack_rxt_lost, 1);
    assert_int_equal(sent_at(t, s0 + mss), 1);
    assert_int_equal(sent_at(t, s0 + 2 * mss), 0);
    /* Once per round: the next SACK does not resend it a third time. */
    uint32_t b10[] = {s0 + 2 * mss, s0 + 10 * mss};
    peer(t, SPORT, 1, t->snd, s0 + mss, 65535, b10, 1, NULL, 0);
    assert_int_equal(st->sack_rxt_lost, 1);
    assert_int_equal(sent_at(t, s0 + mss), 1);
    /* The hole arrives: everything acknowledged, recovery over. */
    peer(t, SPORT, 1, t->snd, s0 + 11 * mss, 65535, NULL, 0, NULL, 0);
    assert_false(t->conn->flags & TF_RECOVERY);
    assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    assert_null(t->conn->sack);
    assert_int_equal(st->timeouts, to0);
}

/* Our receive window is full with a hole at RCV.NXT: the peer's bare
 * ACKs come at its SND.NXT, our right edge. They must still acknowledge
 * our data. */
static void test_ack_at_right_edge(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 2);
    uint32_t s0 = t->iss + 1;
    uint32_t edge = t->conn->rcv_adv;
    assert_true(edge - t->snd > 600u);
    static const uint8_t data[500];
    /* The peer's first 100 bytes are lost; the rest of its data fills the
     * window to the edge. */
    peer(t, SPORT, 1, edge - 500, s0, 65535, NULL, 0, data, 500);
    assert_int_equal(t->conn->rcv_nxt, t->snd);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t u0 = st->drop_unacceptable;
    peer(t, SPORT, 1, edge, s0 + 2 * mss, 65535, NULL, 0, NULL, 0);
    assert_int_equal(st->drop_unacceptable, u0);
    assert_int_equal(t->conn->snd_una, s0 + 2 * mss);
    /* Beyond the edge is still refused. */
    peer(t, SPORT, 1, edge + 1, s0 + 2 * mss, 65535, NULL, 0, NULL, 0);
    assert_int_equal(st->drop_unacceptable, u0 + 1);
}

/* NewReno (no SACK): the first loss of each connection, whatever its ISN,
 * is a fast retransmit; recovery ends at ACK == recover with cwnd >= 2
 * MSS, and a loss of the next segment (at recover) is a fast retransmit
 * again, not an RTO. */
static void test_recover_boundary(void **state)
{
    tfix_t *t = *state;
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t to0 = st->timeouts;
    /* Eight connections, eight ISNs: with recover left at 0 about half of
     * them could never start a fast retransmit before their first RTO. */
    for (uint16_t c = 0; c < 8; c++) {
        uint16_t sp = (uint16_t)(SPORT + 10u + c);
        if (t->conn != NULL) {
            tern_tcp_abort(t->conn);
            t->conn = NULL;
        }
        handshake(t, sp, 0, 0);
        uint32_t mss = send_segments(t, 4);
        uint32_t s0 = t->iss + 1;
        uint32_t fr0 = st->fast_retransmits;
        capnet_clear(&t->f->cn);
        for (int k = 0; k < 3; k++)
            peer(t, sp, 0, t->snd, s0, 65535, NULL, 0, NULL, 0);
        assert_int_equal(st->fast_retransmits, fr0 + 1);
        assert_int_equal(sent_at(t, s0), 1);
        /* Full ACK exactly at recover: out of recovery, 2 MSS at least. */
        peer(t, sp, 0, t->snd, s0 + 4 * mss, 65535, NULL, 0, NULL, 0);
        assert_false(t->conn->flags & TF_RECOVERY);
        assert_true(t->conn->cwnd >= 2u * mss);
        /* The next flight's first segment (at recover) is lost. */
        send_segments(t, 4);
        capnet_clear(&t->f->cn);
        for (int k = 0; k < 3; k++)
            peer(t, sp, 0, t->snd, s0 + 4 * mss, 65535, NULL, 0, NULL, 0);
        assert_int_equal(st->fast_retransmits, fr0 + 2);
        assert_int_equal(sent_at(t, s0 + 4 * mss), 1);
        peer(t, sp, 0, t->snd, s0 + 8 * mss, 65535, NULL, 0, NULL, 0);
        assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    }
    assert_int_equal(st->timeouts, to0);
}

/* cwnd of 1.5 MSS with nothing in flight: two full segments, never a
 * segment cut to the odd remainder. */
static void test_cwnd_whole_segments(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    static uint8_t buf[4 * 1460];
    uint32_t mss = t->conn->mss;
    t->conn->cwnd = mss + mss / 2u;
    t->conn->ssthresh = t->conn->cwnd;
    assert_int_equal(tern_tcp_write(t->conn, buf, 4u * mss), (int)(4u * mss));
    assert_int_equal(t->f->cn.count, 2);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(cap(t, i).len, mss);
}

/* The window allowed a 1000-byte segment; its fast retransmission must
 * not grow to an MSS of bytes never sent, or the peer's ACK of them lies
 * beyond SND.MAX and is refused until the connection times out. */
static void test_rexmit_within_snd_max(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 0, 0);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t s0 = t->iss + 1;
    peer(t, SPORT, 0, t->snd, s0, 1000, NULL, 0, NULL, 0); /* the window shrinks to 1000 */
    static uint8_t buf[3 * 1460];
    uint32_t mss = t->conn->mss;
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, buf, 3u * mss), (int)(3u * mss));
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(cap(t, 0).len, 1000);
    capnet_clear(&t->f->cn);
    for (int k = 0; k < 3; k++)
        peer(t, SPORT, 0, t->snd, s0, 1000, NULL, 0, NULL, 0);
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_int_equal(sent_at(t, s0), 1);
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        cap_t c = cap(t, i);
        if (c.seq == s0 && c.len != 0u)
            assert_int_equal(c.len, 1000);
    }
    uint32_t bad0 = st->drop_bad_ack;
    peer(t, SPORT, 0, t->snd, s0 + 1000, 1000, NULL, 0, NULL, 0);
    assert_int_equal(st->drop_bad_ack, bad0);
    assert_int_equal(t->conn->snd_una, s0 + 1000);
}

/* A reordering path: the ACK of everything arrives before an older ACK
 * carrying a SACK block. The old block is below SND.UNA: ignored, and new
 * data goes at once. Before, it stayed in the scoreboard (trimmed only
 * when SND.UNA moves), in-flight bytes came out negative, nothing was
 * sent and only the RTO cleared it. */
static void test_old_ack_stale_sack(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 0);
    uint32_t mss = send_segments(t, 4);
    uint32_t s0 = t->iss + 1;
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    peer(t, SPORT, 0, t->snd, s0 + 4 * mss, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    uint32_t bad0 = st->sack_blocks_bad;
    uint32_t b[] = {s0 + 2 * mss, s0 + 3 * mss};
    peer(t, SPORT, 0, t->snd, s0 + mss, 65535, b, 1, NULL, 0);
    assert_null(t->conn->sack);
    assert_int_equal(st->sack_blocks_bad, bad0 + 1);
    capnet_clear(&t->f->cn);
    static uint8_t more[2 * 1460];
    assert_int_equal(tern_tcp_write(t->conn, more, 2u * mss), (int)(2u * mss));
    assert_int_equal(sent_at(t, s0 + 4 * mss), 1);
    assert_int_equal(sent_at(t, s0 + 5 * mss), 1);
}

/* RFC 3042 limited transmit: with cwnd full, each of the first two
 * duplicate ACKs lets one new segment out (so a small window still
 * collects the three duplicates fast retransmit needs); the third starts
 * recovery. */
static void test_limited_transmit(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 0, 0);
    static uint8_t buf[8 * 1460];
    uint32_t mss = t->conn->mss;
    t->conn->cwnd = 3u * mss;
    assert_int_equal(tern_tcp_write(t->conn, buf, 8u * mss), (int)(8u * mss));
    assert_int_equal(t->f->cn.count, 3);
    capnet_clear(&t->f->cn);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t s0 = t->iss + 1, fr0 = st->fast_retransmits;
    /* Segment 1 lost; 2 and 3 each bring a duplicate ACK. */
    peer(t, SPORT, 0, t->snd, s0, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(sent_at(t, s0 + 3 * mss), 1);
    peer(t, SPORT, 0, t->snd, s0, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->f->cn.count, 2);
    assert_int_equal(sent_at(t, s0 + 4 * mss), 1);
    assert_int_equal(st->fast_retransmits, fr0);
    /* Segment 4 (the first sent by limited transmit): the third duplicate. */
    peer(t, SPORT, 0, t->snd, s0, 65535, NULL, 0, NULL, 0);
    assert_int_equal(st->fast_retransmits, fr0 + 1);
    assert_int_equal(sent_at(t, s0), 1);
}

/* The peer acknowledges the first segment 10 ms after it left: an RTT. */
static void rtt_10ms(tfix_t *t, uint32_t upto)
{
    t->f->now += 10;
    peer(t, SPORT, 1, t->snd, upto, 65535, NULL, 0, NULL, 0);
    assert_true(t->conn->srtt8 != 0u);
}

/* RFC 8985 7: the last two segments of a flight are lost, so no ACK comes
 * at all. The probe timeout (2 SRTT) sends the last segment again; the
 * peer's SACK of it shows the hole, which the reordering window then
 * declares lost: all repaired without the RTO. */
static void test_tail_loss_probe(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 4);
    assert_int_equal(t->f->cn.count, 4);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t s0 = t->iss + 1, to0 = st->timeouts, rx0 = st->retransmits;
    /* 1 and 2 arrive; 3 and 4 are lost. */
    rtt_10ms(t, s0 + mss);
    peer(t, SPORT, 1, t->snd, s0 + 2 * mss, 65535, NULL, 0, NULL, 0);
    assert_true(t->conn->flags & TF_TLP);
    assert_true(t->conn->t_rexmit - t->f->now < t->conn->rto);
    capnet_clear(&t->f->cn);
    /* The probe: the last segment, well before the RTO. */
    t->f->now += 25;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(st->tlp_probes, 1);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(sent_at(t, s0 + 3 * mss), 1);
    assert_int_equal(st->timeouts, to0);
    /* The peer SACKs it: segment 3 is a hole; after the reordering window
     * (SRTT / 4) it is resent. */
    uint32_t b[] = {s0 + 3 * mss, s0 + 4 * mss};
    peer(t, SPORT, 1, t->snd, s0 + 2 * mss, 65535, b, 1, NULL, 0);
    assert_true(t->conn->flags & TF_RACK);
    capnet_clear(&t->f->cn);
    t->f->now += 4;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(st->rack_recoveries, 1);
    assert_int_equal(sent_at(t, s0 + 2 * mss), 1);
    assert_int_equal(sent_at(t, s0 + 3 * mss), 0); /* SACKed: not again */
    peer(t, SPORT, 1, t->snd, s0 + 4 * mss, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    assert_int_equal(st->timeouts, to0);
    assert_int_equal(st->retransmits, rx0 + 2);
    /* One probe per tail: nothing in flight now, no timer but none owed. */
    assert_false(t->conn->flags & TF_REXMIT);
}

/* Three segments in flight (the default ring), the first lost: only two
 * SACKed segments can follow, never three, so RFC 6675's IsLost never
 * says lost. The reordering window does, without the RTO. */
static void test_rack_small_window(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 1);
    uint32_t s0 = t->iss + 1;
    rtt_10ms(t, s0 + mss);
    static uint8_t buf[3 * 1460];
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, buf, 3u * mss), (int)(3u * mss));
    assert_int_equal(t->f->cn.count, 3);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t to0 = st->timeouts;
    uint32_t s1 = s0 + mss;
    /* Segment 1 lost, 2 and 3 SACKed. */
    uint32_t b2[] = {s1 + mss, s1 + 2 * mss};
    peer(t, SPORT, 1, t->snd, s1, 65535, b2, 1, NULL, 0);
    uint32_t b3[] = {s1 + mss, s1 + 3 * mss};
    peer(t, SPORT, 1, t->snd, s1, 65535, b3, 1, NULL, 0);
    assert_false(t->conn->flags & TF_RECOVERY);
    assert_true(t->conn->flags & TF_RACK);
    capnet_clear(&t->f->cn);
    /* Not before the window passes (reordering is not loss) ... */
    tern_poll(&t->f->stack, t->f->now + 1);
    assert_int_equal(t->f->cn.count, 0);
    /* ... then the hole goes, once. */
    t->f->now += 4;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(st->rack_recoveries, 1);
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_int_equal(sent_at(t, s1), 1);
    assert_int_equal(t->f->cn.count, 1);
    peer(t, SPORT, 1, t->snd, s1 + 3 * mss, 65535, NULL, 0, NULL, 0);
    assert_false(t->conn->flags & TF_RECOVERY);
    assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    assert_int_equal(st->timeouts, to0);
}

/* The hole resent by RACK is lost as well, and nothing is sent after it,
 * so no SACK can show it (tcp_sack_rxt_lost needs data sent later). In
 * recovery the probe timeout (2 SRTT, no delayed-ACK allowance: the peer
 * holds a hole) resends it, before the RTO. */
static void test_probe_in_recovery(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    uint32_t mss = send_segments(t, 1);
    uint32_t s0 = t->iss + 1;
    rtt_10ms(t, s0 + mss);
    static uint8_t buf[3 * 1460];
    assert_int_equal(tern_tcp_write(t->conn, buf, 3u * mss), (int)(3u * mss));
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t to0 = st->timeouts, p0 = st->tlp_probes;
    uint32_t s1 = s0 + mss;
    uint32_t b3[] = {s1 + mss, s1 + 3 * mss};
    peer(t, SPORT, 1, t->snd, s1, 65535, b3, 1, NULL, 0);
    t->f->now += 4;
    tern_poll(&t->f->stack, t->f->now);
    assert_true(t->conn->flags & TF_RECOVERY);
    capnet_clear(&t->f->cn);
    /* The retransmission is lost: no ACK. 2 SRTT + 2 ms later, well
     * before the 200 ms RTO, the hole goes again. */
    t->f->now += 23;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(st->tlp_probes, p0 + 1);
    assert_int_equal(sent_at(t, s1), 1);
    assert_int_equal(sent_at(t, s1 + mss), 0); /* SACKed: not again */
    assert_int_equal(st->timeouts, to0);
    peer(t, SPORT, 1, t->snd, s1 + 3 * mss, 65535, NULL, 0, NULL, 0);
    assert_false(t->conn->flags & TF_RECOVERY);
    assert_int_equal(t->conn->snd_una, t->conn->snd_max);
    assert_int_equal(st->timeouts, to0);
}

/* Our receive window fell below one segment: the peer's sender SWS rule
 * holds it until it learns the window opened, and the window update that
 * tells it is a lone pure ACK. It goes twice, so one loss does not cost
 * the peer its persist timer. An update that was not holding the peer
 * goes once. */
static void test_window_update_twice(void **state)
{
    tfix_t *t = *state;
    handshake(t, SPORT, 1, 1);
    static const uint8_t data[1460];
    uint32_t space = t->conn->rcv_adv - t->conn->rcv_nxt;
    uint32_t mss = t->conn->mss;
    assert_true(space > 3u * 1000u);
    /* The peer fills all but 36 bytes of the window. */
    uint32_t left = space - 36u;
    while (left > 0u) {
        uint32_t n = left < 1000u ? left : 1000u;
        peer(t, SPORT, 1, t->snd, t->iss + 1, 65535, NULL, 0, data, n);
        t->snd += n;
        left -= n;
    }
    tern_poll(&t->f->stack, t->f->now + 500); /* the delayed ACK, if any */
    assert_true(t->conn->rcv_adv - t->conn->rcv_nxt < mss);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_consume(t->conn, space - 36u), TERN_OK);
    assert_int_equal(t->f->cn.count, 2);
    for (unsigned i = 0; i < 2; i++) {
        cap_t c = cap(t, i);
        assert_int_equal(c.len, 0);
        assert_int_equal(c.ack, t->snd);
    }
    assert_true(t->conn->rcv_adv - t->conn->rcv_nxt >= mss);
    /* More data, the window stays open: a later update goes once. */
    peer(t, SPORT, 1, t->snd, t->iss + 1, 65535, NULL, 0, data, mss);
    t->snd += mss;
    tern_poll(&t->f->stack, t->f->now + 1000);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_consume(t->conn, mss), TERN_OK);
    assert_int_equal(t->f->cn.count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recovery_on_data_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_retransmission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_at_right_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwnd_whole_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rexmit_within_snd_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_ack_stale_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limited_transmit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_loss_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rack_small_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_in_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_update_twice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
