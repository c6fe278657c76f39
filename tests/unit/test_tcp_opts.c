/* TERN_TEST_STATIC_VARIANT */
/* TCP options and their machinery on hand-built segments: SACK (RFC 2018)
 * negotiation, receiver blocks and the sender's scoreboard (RFC 6675),
 * timestamps (RFC 7323: negotiation, echo, PAWS, RTT), malformed options,
 * TIME-WAIT reuse (RFC 6191), ICMP errors to TCP (RFC 5927, RFC 1191),
 * keep-alive on virtual time, and the descriptor pool running dry. The
 * peer is the test itself (FR_PEER_IP) through the capture driver. */
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

#define SPORT 40000u
#define LPORT 80u
#define PEER_ISN 1000u

typedef tcp_fixture_t tfix_t;

/* A segment from the peer on the established connection, with its
 * timestamp (the peer clock ticks once per segment) and SACK blocks. */
static void peer(tfix_t *t, uint32_t seq, uint32_t ack, uint8_t flags, const uint32_t *blocks, unsigned n,
                 const void *data, size_t len)
{
    uint8_t o[40];
    size_t ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    if (n)
        ol += tseg_opt_sack(o + ol, blocks, n);
    tcp_fixture_rx(t, SPORT, LPORT, seq, ack, flags, 8192, o, ol, data, len);
}

/* Captured segment i: header, options and payload. */
typedef struct cap {
    const uint8_t *h;
    uint32_t seq, ack;
    uint8_t flags;
    size_t len;           /* payload */
    int has_ts, sack_ok, has_wscale;
    uint32_t tsval, tsecr;
    unsigned nsack;
    uint32_t sack[8];
    uint16_t mss;
} cap_t;

static cap_t cap(tfix_t *t, unsigned i)
{
    cap_t c;
    memset(&c, 0, sizeof c);
    assert_true(i < t->f->cn.count);
    size_t flen;
    const uint8_t *fr = capnet_frame(&t->f->cn, i, &flen);
    assert_int_equal(fr[23], 6);
    c.h = fr + 34;
    size_t hl = (size_t)(c.h[12] >> 4) * 4u;
    c.seq = be32_get(c.h + 4);
    c.ack = be32_get(c.h + 8);
    c.flags = c.h[13];
    c.len = flen - 34 - hl;
    for (size_t k = 20; k < hl;) {
        uint8_t kind = c.h[k];
        if (kind == 0)
            break;
        if (kind == 1) {
            k++;
            continue;
        }
        uint8_t ol = c.h[k + 1];
        assert_true(ol >= 2 && k + ol <= hl);
        if (kind == 2)
            c.mss = (uint16_t)(c.h[k + 2] << 8 | c.h[k + 3]);
        if (kind == 3)
            c.has_wscale = 1;
        if (kind == 4)
            c.sack_ok = 1;
        if (kind == 8) {
            c.has_ts = 1;
            c.tsval = be32_get(c.h + k + 2);
            c.tsecr = be32_get(c.h + k + 6);
        }
        if (kind == 5) {
            c.nsack = (ol - 2u) / 8u;
            for (unsigned b = 0; b < 2 * c.nsack; b++)
                c.sack[b] = be32_get(c.h + k + 2 + 4 * b);
        }
        k += ol;
    }
    if (c.has_ts)
        t->our_ts = c.tsval;
    return c;
}

static int setup(void **state)
{
    tfix_t *t = tcp_fixture_new(91, LPORT);
    t->tsval = 5000;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* Passive handshake; sack/ts: what the peer's SYN offers. */
static void handshake_opts(tfix_t *t, int sack, int ts, uint16_t sport, uint32_t isn)
{
    uint8_t o[40];
    size_t ol = tseg_opt_syn(o, sack, ts, ts ? ++t->tsval : 0u, 7);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, sport, LPORT, isn, 0, TCP_SYN, 65535, o, ol, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    cap_t c = cap(t, 0);
    assert_int_equal(c.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(c.ack, isn + 1);
    assert_int_equal(c.mss, 1460);
    assert_int_equal(c.sack_ok, sack);
    assert_int_equal(c.has_ts, ts);
    if (ts)
        assert_int_equal(c.tsecr, t->tsval); /* RFC 7323 3.2: the SYN's TSval echoed */
    assert_true(c.has_wscale);
    t->iss = c.seq;
    capnet_clear(&t->f->cn);
    uint8_t a[12];
    size_t al = ts ? tseg_opt_ts(a, ++t->tsval, t->our_ts) : 0;
    tcp_fixture_rx(t, sport, LPORT, isn + 1, t->iss + 1, TCP_ACK, 8192, a, al, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
}

static void handshake(tfix_t *t)
{
    handshake_opts(t, 1, 1, SPORT, PEER_ISN);
}

static void test_negotiation(void **state)
{
    tfix_t *t = *state;
    handshake_opts(t, 0, 0, SPORT, PEER_ISN);
    assert_false(t->conn->flags & (TF_SACK | TF_TS));
    assert_int_equal(t->conn->mss, 1460);
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    handshake_opts(t, 1, 0, SPORT + 1, PEER_ISN);
    assert_true(t->conn->flags & TF_SACK);
    assert_false(t->conn->flags & TF_TS);
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    handshake_opts(t, 0, 1, SPORT + 2, PEER_ISN);
    assert_true(t->conn->flags & TF_TS);
    assert_int_equal(t->conn->mss, 1460 - 12); /* RFC 6691: options come out of the MSS */
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    /* A listener told not to: neither is offered back. */
    tern_tcp_set_options(t->listener, TERN_TCP_OPT_NOSACK | TERN_TCP_OPT_NOTS);
    handshake_opts(t, 0, 0, SPORT + 3, PEER_ISN);
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    tern_tcp_set_options(t->listener, 0);
    /* Our own SYN offers both. */
    int err;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 5555, &tcp_fixture_cbs, t, &err);
    assert_non_null(c);
    cap_t s = cap(t, 0);
    assert_int_equal(s.flags, TCP_SYN);
    assert_true(s.sack_ok && s.has_ts && s.has_wscale);
    assert_int_equal(s.tsecr, 0);
    assert_true((s.h[12] >> 4) * 4 == 20 + TCP_SYN_OPT_MAX);
    tern_tcp_abort(c);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

/* Out-of-order data: ACKs carry SACK blocks, the most recent first, at
 * most 3 next to a timestamp (RFC 2018 4). */
static void test_receiver_sack_blocks(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    uint8_t d[100];
    memset(d, 'x', sizeof d);
    uint32_t base = PEER_ISN + 1;
    capnet_clear(&t->f->cn);
    peer(t, base + 100, t->iss + 1, TCP_ACK, NULL, 0, d, 50); /* [150, 200) */
    cap_t c = cap(t, t->f->cn.count - 1);
    assert_int_equal(c.ack, base);
    assert_int_equal(c.nsack, 1);
    assert_int_equal(c.sack[0], base + 100);
    assert_int_equal(c.sack[1], base + 150);
    assert_true(c.has_ts);
    capnet_clear(&t->f->cn);
    peer(t, base + 300, t->iss + 1, TCP_ACK, NULL, 0, d, 50);
    peer(t, base + 500, t->iss + 1, TCP_ACK, NULL, 0, d, 50);
    peer(t, base + 700, t->iss + 1, TCP_ACK, NULL, 0, d, 50);
    c = cap(t, t->f->cn.count - 1);
    assert_int_equal(c.nsack, 3);
    assert_int_equal(c.sack[0], base + 700);
    assert_int_equal(c.sack[2], base + 500);
    assert_int_equal(c.sack[4], base + 300);
    /* Extending an older range makes it the first block. */
    capnet_clear(&t->f->cn);
    peer(t, base + 150, t->iss + 1, TCP_ACK, NULL, 0, d, 50);
    c = cap(t, 0);
    assert_int_equal(c.sack[0], base + 100);
    assert_int_equal(c.sack[1], base + 200);
    assert_int_equal(c.sack[2], base + 700);
    assert_int_equal(t->conn->ooo_count, 4);
    /* Filling the first hole delivers [0, 200) and the blocks shrink. */
    capnet_clear(&t->f->cn);
    peer(t, base, t->iss + 1, TCP_ACK, NULL, 0, d, 100);
    c = cap(t, 0);
    assert_int_equal(c.ack, base + 200);
    assert_int_equal(c.nsack, 3);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 200);
    tern_tcp_range_usage_t u;
    tern_tcp_range_usage(&t->f->stack, &u);
    assert_int_equal(u.in_use, 3);
    assert_true(u.peak >= 4);
    assert_int_equal(u.count, TERN_TCP_RANGE_COUNT);
}

static void test_bad_options(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    const tern_tcp_stats_t *s = tern_tcp_stats(&t->f->stack);
    static const uint8_t bad[][12] = {
        {5, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* SACK of length 0 */
        {5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* length 1 */
        {5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* no block */
        {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1},    /* not 2 + 8n */
        {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2},   /* two blocks claimed, past the header */
        {8, 8, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1},    /* timestamps of length 8 */
        {8, 12, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0},   /* timestamps past the header */
        {4, 3, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* SACK-permitted of length 3 */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint32_t before = s->drop_options;
        tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1, t->iss + 1, TCP_ACK, 8192, bad[k], 12, "abc", 3);
        assert_int_equal(s->drop_options, before + 1);
    }
    /* A block count too big for any header: 5 blocks = 42 bytes. */
    uint8_t o[44];
    memset(o, 1, sizeof o);
    o[0] = 5;
    o[1] = 42;
    uint32_t before = s->drop_options;
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1, t->iss + 1, TCP_ACK, 8192, o, 40, "abc", 3);
    assert_int_equal(s->drop_options, before + 1);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    /* Without a timestamp on a timestamp connection: dropped (RFC 7323 3.2). */
    before = s->drop_no_ts;
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1, t->iss + 1, TCP_ACK, 8192, NULL, 0, "abc", 3);
    assert_int_equal(s->drop_no_ts, before + 1);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 0);
    /* With it: taken. */
    peer(t, PEER_ISN + 1, t->iss + 1, TCP_ACK, NULL, 0, "abc", 3);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 3);
}

/* Send nseg full segments; returns the MSS. */
static uint32_t send_segments(tfix_t *t, unsigned nseg)
{
    static uint8_t buf[20000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 13u);
    uint32_t mss = t->conn->mss;
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    assert_true(tern_tcp_set_bufsizes(t->conn, 0, 0) == TERN_OK);
    t->conn->cwnd = 20u * mss; /* open, so that nseg go out at once */
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, buf, nseg * mss), (int)(nseg * mss));
    return mss;
}

/* The sender resends holes only, never SACKed bytes (RFC 6675). */
static void test_sender_sack_recovery(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    /* A large send ring: the default holds about three segments. */
    tern_tcp_abort(t->conn);
    t->conn = NULL;
    assert_int_equal(tern_tcp_set_bufsizes(t->listener, 0, 16000), TERN_OK);
    handshake_opts(t, 1, 1, SPORT + 1, PEER_ISN);
    uint32_t mss = send_segments(t, 8);
    assert_int_equal(t->f->cn.count, 8);
    uint32_t s0 = t->iss + 1;
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    /* Segments 1 and 4 lost (0-based); 0 arrives, then 2, 3, 5, 6, 7. */
    uint16_t sp = SPORT + 1;
    uint32_t pseq = PEER_ISN + 1;
    uint8_t o[40];
    capnet_clear(&t->f->cn);
    size_t ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    tcp_fixture_rx(t, sp, LPORT, pseq, s0 + mss, TCP_ACK, 8192, o, ol, NULL, 0);
    uint32_t b1[] = {s0 + 2 * mss, s0 + 3 * mss};
    uint32_t b2[] = {s0 + 2 * mss, s0 + 4 * mss};
    uint32_t b3[] = {s0 + 5 * mss, s0 + 6 * mss, s0 + 2 * mss, s0 + 4 * mss};
    uint32_t b4[] = {s0 + 5 * mss, s0 + 8 * mss, s0 + 2 * mss, s0 + 4 * mss};
    const uint32_t *bl[] = {b1, b2, b3, b4};
    unsigned nb[] = {1, 1, 2, 2};
    for (int k = 0; k < 4; k++) {
        ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
        ol += tseg_opt_sack(o + ol, bl[k], nb[k]);
        tcp_fixture_rx(t, sp, LPORT, pseq, s0 + mss, TCP_ACK, 8192, o, ol, NULL, 0);
    }
    assert_int_equal(st->sack_recoveries, 1);
    assert_true(t->conn->flags & TF_RECOVERY);
    /* Every retransmission lies in a hole: [1, 2) or [4, 5) in MSS units. */
    unsigned holes = 0;
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        cap_t c = cap(t, i);
        if (c.len == 0)
            continue;
        uint32_t off = c.seq - s0;
        assert_true((off >= mss && off + c.len <= 2 * mss) || (off >= 4 * mss && off + c.len <= 5 * mss));
        holes |= off < 2 * mss ? 1u : 2u;
    }
    assert_int_equal(holes, 3u);
    assert_int_equal(t->conn->sack_count, 2);
    /* A partial ACK up to the second hole; then the full ACK ends recovery. */
    capnet_clear(&t->f->cn);
    ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    uint32_t b5[] = {s0 + 5 * mss, s0 + 8 * mss};
    ol += tseg_opt_sack(o + ol, b5, 1);
    tcp_fixture_rx(t, sp, LPORT, pseq, s0 + 4 * mss, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_int_equal(t->conn->sack_count, 1);
    for (unsigned i = 0; i < t->f->cn.count; i++) {
        cap_t c = cap(t, i);
        assert_true(c.len == 0 || (c.seq - s0 >= 4 * mss && c.seq - s0 + c.len <= 5 * mss));
    }
    ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    tcp_fixture_rx(t, sp, LPORT, pseq, s0 + 8 * mss, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_false(t->conn->flags & TF_RECOVERY);
    assert_int_equal(t->conn->sack_count, 0);
    assert_null(t->conn->sack);
    /* Blocks outside SND.UNA..SND.MAX are ignored and counted; a D-SACK
     * (below the ACK) too. */
    send_segments(t, 2);
    uint32_t u = s0 + 8 * mss;
    uint32_t bad[] = {u - 100, u - 50, u + 10, u + 5, u + mss, u + 10 * mss, u - 10, u + 10};
    uint32_t b0 = st->sack_blocks_bad, d0 = st->sack_dsack;
    ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    ol += tseg_opt_sack(o + ol, bad, 3);
    tcp_fixture_rx(t, sp, LPORT, pseq, u, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_int_equal(st->sack_dsack, d0 + 1);
    assert_int_equal(st->sack_blocks_bad, b0 + 2);
    ol = tseg_opt_ts(o, ++t->tsval, t->our_ts);
    ol += tseg_opt_sack(o + ol, bad + 6, 1);
    tcp_fixture_rx(t, sp, LPORT, pseq, u, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_int_equal(st->sack_blocks_bad, b0 + 3);
    assert_null(t->conn->sack);
}

/* No descriptor left: SACK information is dropped (NewReno), out-of-order
 * data too; both counted; nothing breaks. */
static void test_pool_empty(void **state)
{
    tfix_t *t = *state;
    assert_int_equal(tern_tcp_set_bufsizes(t->listener, 0, 16000), TERN_OK);
    handshake(t);
    tern_stack_t *s = &t->f->stack;
    const tern_tcp_stats_t *st = tern_tcp_stats(s);
    struct tcp_range *taken = NULL;
    struct tcp_range *d;
    while ((d = tcp_range_get(s)) != NULL) {
        d->next = taken;
        taken = d;
    }
    tern_tcp_range_usage_t u;
    tern_tcp_range_usage(s, &u);
    assert_int_equal(u.in_use, TERN_TCP_RANGE_COUNT);
    assert_int_equal(u.peak, TERN_TCP_RANGE_COUNT);
    /* Out of order: not kept, no SACK block, counted. */
    uint32_t base = PEER_ISN + 1;
    capnet_clear(&t->f->cn);
    peer(t, base + 100, t->iss + 1, TCP_ACK, NULL, 0, "0123456789", 10);
    assert_int_equal(st->ooo_no_desc, 1);
    assert_int_equal(cap(t, 0).nsack, 0);
    /* SACK blocks that cannot be recorded: NewReno's retransmission of the
     * first unacknowledged segment on the third duplicate. */
    uint32_t mss = send_segments(t, 6);
    uint32_t s0 = t->iss + 1;
    capnet_clear(&t->f->cn);
    for (unsigned k = 2; k <= 4; k++) {
        uint32_t b[] = {s0 + mss, s0 + k * mss};
        peer(t, base, s0, TCP_ACK, b, 1, NULL, 0);
    }
    assert_true(st->sack_no_desc >= 1);
    assert_true(t->conn->flags & TF_RECOVERY);
    assert_false(tcp_sack_recovery(t->conn));
    cap_t c = cap(t, 0);
    assert_int_equal(c.seq, s0);
    assert_int_equal(c.len, mss);
    /* Give the pool back; the full ACK ends it. */
    while (taken != NULL) {
        d = taken;
        taken = d->next;
        tcp_range_put(s, d);
    }
    peer(t, base, s0 + 6 * mss, TCP_ACK, NULL, 0, NULL, 0);
    assert_false(t->conn->flags & (TF_RECOVERY | TF_SACK_FAIL));
}

/* RFC 7323: TSecr echoes TS.Recent under the update rule; PAWS drops an
 * older timestamp; RTT samples come from TSecr. */
static void test_timestamps(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t base = PEER_ISN + 1;
    uint8_t o[12];
    /* In order, ACKed at once (every second segment): TSecr = its TSval. */
    peer(t, base, t->iss + 1, TCP_ACK, NULL, 0, "aaaa", 4);
    uint32_t ts1 = t->tsval;
    capnet_clear(&t->f->cn);
    peer(t, base + 4, t->iss + 1, TCP_ACK, NULL, 0, "bbbb", 4);
    cap_t c = cap(t, 0);
    /* Delayed ACK: TS.Recent stayed at the first unacknowledged segment's
     * (SEG.SEQ <= Last.ACK.sent), as RFC 7323 4.3 wants. */
    assert_int_equal(c.tsecr, ts1);
    /* An old timestamp: PAWS drops it (counted) and ACKs. */
    capnet_clear(&t->f->cn);
    uint32_t p0 = st->drop_paws;
    size_t ol = tseg_opt_ts(o, ts1 - 10, t->our_ts);
    tcp_fixture_rx(t, SPORT, LPORT, base + 8, t->iss + 1, TCP_ACK, 8192, o, ol, "cccc", 4);
    assert_int_equal(st->drop_paws, p0 + 1);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 8);
    assert_int_equal(t->f->cn.count, 1);
    /* A reset with an old timestamp is not subject to PAWS (RFC 7323 5.3). */
    /* RTT from TSecr: our data, echoed 30 ms later. */
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, "data", 4), 4);
    c = cap(t, 0);
    uint32_t samples = st->ts_rtt_samples;
    t->f->now += 30;
    tern_poll(&t->f->stack, t->f->now);
    ol = tseg_opt_ts(o, ++t->tsval, c.tsval);
    tcp_fixture_rx(t, SPORT, LPORT, base + 8, t->iss + 5, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_int_equal(st->ts_rtt_samples, samples + 1);
    assert_int_equal(t->conn->srtt8 >> 3, 30);
    /* After a retransmission the echo still times the right copy: Karn's
     * rule needs no exclusion. The retransmission goes 1 s later... */
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, "more", 4), 4);
    t->f->now += t->conn->rto;
    tern_poll(&t->f->stack, t->f->now);
    c = cap(t, t->f->cn.count - 1);
    assert_int_equal(c.len, 4);
    t->f->now += 20;
    tern_poll(&t->f->stack, t->f->now);
    ol = tseg_opt_ts(o, ++t->tsval, c.tsval);
    tcp_fixture_rx(t, SPORT, LPORT, base + 8, t->iss + 9, TCP_ACK, 8192, o, ol, NULL, 0);
    assert_int_equal(st->ts_rtt_samples, samples + 2);
    /* 30 and 20 ms: SRTT = 30 + (20 - 30) / 8. */
    assert_int_equal(t->conn->srtt8 >> 3, 28);
}

/* RFC 6191 / RFC 1122 4.2.2.13: a SYN reopens a 4-tuple in TIME-WAIT when
 * its timestamp is newer, or without timestamps when its sequence number
 * is above the old RCV.NXT. */
static void test_timewait_reuse(void **state)
{
    tfix_t *t = *state;
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    for (int round = 0; round < 3; round++) {
        int ts = round != 2;
        uint32_t isn = PEER_ISN + (uint32_t)round * 100000u;
        handshake_opts(t, 1, ts, SPORT, isn);
        /* We close first: FIN-WAIT-1, the peer ACKs and FINs: TIME-WAIT. */
        capnet_clear(&t->f->cn);
        assert_int_equal(tern_tcp_close(t->conn), TERN_OK);
        t->conn = NULL;
        uint8_t o[12];
        size_t ol = ts ? tseg_opt_ts(o, ++t->tsval, t->our_ts) : 0;
        tcp_fixture_rx(t, SPORT, LPORT, isn + 1, t->iss + 2, TCP_ACK | TCP_FIN, 8192, o, ol, NULL, 0);
        tern_tcp_info_t rows[4];
        assert_int_equal(tern_tcp_list(&t->f->stack, rows, 4), 2);
        assert_int_equal(rows[1].state, TERN_TCP_TIME_WAIT);
        uint32_t old_iss = t->iss;
        uint32_t reuse0 = st->timewait_reuse;
        if (ts) {
            /* Lower sequence number, older timestamp: refused, ACKed. */
            capnet_clear(&t->f->cn);
            uint8_t so[24] = {2, 4, 0x05, 0xb4};
            size_t sl = 4 + tseg_opt_ts(so + 4, t->tsval - 5, 0);
            tcp_fixture_rx(t, SPORT, LPORT, isn - 50, 0, TCP_SYN, 65535, so, sl, NULL, 0);
            assert_int_equal(t->f->cn.count, 1);
            assert_int_equal(cap(t, 0).flags, TCP_ACK);
            assert_int_equal(st->timewait_reuse, reuse0);
        } else {
            capnet_clear(&t->f->cn);
            tcp_fixture_rx(t, SPORT, LPORT, isn - 50, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
            assert_int_equal(cap(t, 0).flags, TCP_ACK);
            assert_int_equal(st->timewait_reuse, reuse0);
        }
        /* The new incarnation: with timestamps a lower sequence number but
         * a newer TSval (round 0), or a higher sequence number. */
        uint32_t nisn = round == 0 ? isn - 50 : isn + 50000;
        handshake_opts(t, 1, ts, SPORT, nisn);
        assert_int_equal(st->timewait_reuse, reuse0 + 1);
        /* Our ISS is above the old incarnation's sequence space. */
        assert_true((int32_t)(t->iss - (old_iss + 2)) > 0);
        tern_tcp_abort(t->conn);
        t->conn = NULL;
    }
}

/* ICMP error around our segment: type/code, next-hop MTU, and the quoted
 * IPv4 + TCP header of a segment we sent (from FR_OUR_IP to FR_PEER_IP). */
static void rx_icmp(tfix_t *t, uint8_t type, uint8_t code, uint16_t mtu, uint16_t lport, uint16_t rport,
                    uint32_t seq, uint16_t qtotal)
{
    uint8_t q[28];
    memset(q, 0, sizeof q);
    q[0] = 0x45;
    q[2] = (uint8_t)(qtotal >> 8);
    q[3] = (uint8_t)qtotal;
    q[6] = 0x40;
    q[8] = 64;
    q[9] = 6;
    be32_put(q + 12, FR_OUR_IP);
    be32_put(q + 16, FR_PEER_IP);
    q[20] = (uint8_t)(lport >> 8);
    q[21] = (uint8_t)lport;
    q[22] = (uint8_t)(rport >> 8);
    q[23] = (uint8_t)rport;
    be32_put(q + 24, seq);
    uint8_t icmp[64], fr[FRAME_MAX];
    size_t n = frame_icmp(icmp, type, code, mtu, q, sizeof q);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1};
    fx_rx(t->f, fr, frame_ip_eth(fr, &ip, icmp, n));
}

static void test_icmp_errors(void **state)
{
    tfix_t *t = *state;
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    int err;
    /* Port unreachable for our SYN: a hard error in SYN-SENT. */
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 5555, &tcp_fixture_cbs, t, &err);
    cap_t s = cap(t, 0);
    uint16_t lport = (uint16_t)(s.h[0] << 8 | s.h[1]);
    /* Wrong sequence number, or another port: ignored and counted. */
    rx_icmp(t, 3, 3, 0, lport, 5555, s.seq + 1, 44);
    rx_icmp(t, 3, 3, 0, lport, 5556, s.seq, 44);
    assert_int_equal(st->icmp_no_match, 2);
    assert_int_equal(t->errors, 0);
    /* Source quench: ignored (RFC 6633). */
    rx_icmp(t, 4, 0, 0, lport, 5555, s.seq, 44);
    assert_int_equal(st->icmp_quench, 1);
    assert_int_equal(t->errors, 0);
    rx_icmp(t, 3, 3, 0, lport, 5555, s.seq, 44);
    assert_int_equal(st->icmp_hard, 1);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->last_err, TERN_ERR_REFUSED);
    (void)c;
    /* Host unreachable in SYN-SENT: soft, reported when the SYN times out. */
    capnet_clear(&t->f->cn);
    c = tern_tcp_connect(&t->f->stack, FR_PEER_IP, 5555, &tcp_fixture_cbs, t, &err);
    s = cap(t, 0);
    lport = (uint16_t)(s.h[0] << 8 | s.h[1]);
    rx_icmp(t, 3, 1, 0, lport, 5555, s.seq, 44);
    assert_int_equal(st->icmp_soft, 1);
    assert_int_equal(t->errors, 1);
    for (int i = 0; i < 200 && t->errors == 1; i++) {
        t->f->now += 1000;
        tern_poll(&t->f->stack, t->f->now);
        capnet_clear(&t->f->cn);
    }
    assert_int_equal(t->errors, 2);
    assert_int_equal(t->last_err, TERN_ERR_UNREACH);
    /* The retransmitted SYNs passed negative advice (RFC 1122 4.2.3.5) and
     * the scripted peer answered none of ARP's requests: its entry is gone.
     * It answers now. */
    assert_true(t->f->stack.counters.arp_resolve_failed >= 1u);
    net_fixture_learn_peer(t->f);
    /* Established: port unreachable is soft; fragmentation needed lowers
     * the MSS and the data in flight goes again in smaller segments. */
    assert_int_equal(tern_tcp_set_bufsizes(t->listener, 0, 16000), TERN_OK);
    handshake(t);
    t->errors = 0;
    uint32_t mss = send_segments(t, 3);
    uint32_t s0 = t->iss + 1;
    rx_icmp(t, 3, 3, 0, LPORT, SPORT, s0, 1500);
    assert_int_equal(t->errors, 0);
    assert_int_equal(st->icmp_soft, 2);
    /* An MTU not below the packet quoted, or a sequence not in flight: no. */
    rx_icmp(t, 3, 4, 1500, LPORT, SPORT, s0, 1500);
    rx_icmp(t, 3, 4, 1000, LPORT, SPORT, s0 + 3 * mss, 1500);
    assert_int_equal(t->conn->mss, mss);
    capnet_clear(&t->f->cn);
    rx_icmp(t, 3, 4, 1000, LPORT, SPORT, s0 + mss, 1500);
    assert_int_equal(st->icmp_pmtu, 1);
    assert_int_equal(t->conn->mss, 1000 - 40 - 12);
    assert_true(t->f->cn.count >= 1);
    cap_t r = cap(t, 0);
    assert_int_equal(r.seq, s0);
    assert_int_equal(r.len, 1000 - 40 - 12);
    /* A forged tiny MTU is floored at TERN_TCP_PMTU_MIN. */
    rx_icmp(t, 3, 4, 100, LPORT, SPORT, s0, 1000);
    assert_int_equal(t->conn->mss, TERN_TCP_PMTU_MIN - 40 - 12);
    /* Progress clears the soft error. */
    peer(t, PEER_ISN + 1, s0 + 3 * mss, TCP_ACK, NULL, 0, NULL, 0);
    assert_int_equal(t->conn->soft_err, 0);
}

/* Keep-alive on virtual time (RFC 1122 4.2.3.6). */
static void test_keepalive(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_KEEPALIVE);
    assert_int_equal(tern_tcp_set_keepalive(t->conn, 10000, 2000, 3), TERN_OK);
    /* An answering peer: each probe ACKed, the connection lives on. */
    unsigned probes = 0;
    for (uint32_t ms = 0; ms < 60000; ms += 100) {
        t->f->now += 100;
        capnet_clear(&t->f->cn);
        tern_poll(&t->f->stack, t->f->now);
        for (unsigned i = 0; i < t->f->cn.count; i++) {
            cap_t c = cap(t, i);
            assert_int_equal(c.seq, t->iss); /* SND.NXT - 1 */
            assert_int_equal(c.len, 0);
            assert_true(c.has_ts);
            probes++;
            peer(t, PEER_ISN + 1, t->iss + 1, TCP_ACK, NULL, 0, NULL, 0);
        }
    }
    assert_int_equal(probes, 6); /* after every 10 s of silence */
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    /* A silent peer: probes at idle, idle + 2 s, idle + 4 s; death at +6 s. */
    uint32_t k0 = st->keepalive_probes;
    uint32_t quiet_from = t->f->now;
    uint32_t at[4];
    unsigned n = 0;
    for (uint32_t ms = 0; ms < 30000 && t->conn != NULL; ms += 100) {
        t->f->now += 100;
        capnet_clear(&t->f->cn);
        tern_poll(&t->f->stack, t->f->now);
        if (t->f->cn.count != 0u && t->conn != NULL) {
            assert_true(n < 4);
            at[n++] = t->f->now - quiet_from;
        }
    }
    assert_int_equal(n, 3);
    assert_int_equal(st->keepalive_probes, k0 + 3);
    /* The last answer came at quiet_from (the peer answered the probe of
     * that poll). Death 2 s after the third probe. */
    assert_int_equal(at[0], 10000);
    assert_int_equal(at[1], 12000);
    assert_int_equal(at[2], 14000);
    assert_int_equal(t->f->now - quiet_from, 16000);
    assert_null(t->conn);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->last_err, TERN_ERR_TIMEOUT);
    mem_assert_baseline(&t->f->stack, &t->f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_sack_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_sack_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timewait_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icmp_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
