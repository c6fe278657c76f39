/* TERN_TEST_STATIC_VARIANT */
/* SACK bookkeeping at its limits (src/net/tcp_sack.c; issue 17, measured
 * coverage), on hand-built segments through the capture driver:
 *  - receiver: a segment bridging several out-of-order ranges merges them
 *    into one descriptor; a connection keeps at most TERN_TCP_OOO_PER_CONN
 *    ranges and drops (does not buffer) the data of one more;
 *  - sender: a SACK block bridging recorded blocks merges them; a D-SACK
 *    reported as a first block inside the second (RFC 2883 4.1.2) is counted
 *    and not recorded; one block more than TERN_TCP_SACK_PER_CONN drops the
 *    scoreboard (NewReno, RFC 6675 leaves the choice to the sender) until
 *    everything outstanding is acknowledged. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define SPORT 41000u
#define LPORT 80u
#define PEER_ISN 7000u

typedef tcp_fixture_t tfix_t;

static int setup(void **state)
{
    *state = tcp_fixture_new(93, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* A segment from the peer with n SACK blocks (no timestamps negotiated). */
static void peer(tfix_t *t, uint32_t seq, uint32_t ack, const uint32_t *blocks, unsigned n, const void *data,
                 size_t len)
{
    uint8_t o[40];
    size_t ol = n ? tseg_opt_sack(o, blocks, n) : 0u;
    tcp_fixture_rx(t, SPORT, LPORT, seq, ack, TCP_ACK, 65535, o, ol, data, len);
}

/* Passive handshake, SACK permitted, no timestamps. */
static void handshake(tfix_t *t)
{
    uint8_t o[40];
    size_t ol = tseg_opt_syn(o, 1, 0, 0, 7);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN, 0, TCP_SYN, 65535, o, ol, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    t->iss = be32_get(h + 4);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1, t->iss + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    assert_true(t->conn->flags & TF_SACK);
}

static void test_receiver_bridge_and_limit(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    uint32_t base = PEER_ISN + 1;
    uint8_t d[400];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)i;
    /* Three ranges [100,150) [200,250) [300,350), then [140,310) over them. */
    for (uint32_t k = 1; k <= 3; k++)
        peer(t, base + 100 * k, t->iss + 1, NULL, 0, d + 100 * k, 50);
    assert_int_equal(t->conn->ooo_count, 3);
    peer(t, base + 140, t->iss + 1, NULL, 0, d + 140, 170);
    assert_int_equal(t->conn->ooo_count, 1);
    /* Up to the limit, then one more: not kept, counted. */
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t nodesc0 = st->ooo_no_desc;
    for (uint32_t k = 1; k < TERN_TCP_OOO_PER_CONN; k++)
        peer(t, base + 400 + 20 * k, t->iss + 1, NULL, 0, d, 10);
    assert_int_equal(t->conn->ooo_count, TERN_TCP_OOO_PER_CONN);
    peer(t, base + 400 + 20 * TERN_TCP_OOO_PER_CONN, t->iss + 1, NULL, 0, d, 10);
    assert_int_equal(t->conn->ooo_count, TERN_TCP_OOO_PER_CONN);
    assert_int_equal(st->ooo_no_desc, nodesc0 + 1);
    /* The first hole filled: [0, 350) is delivered, in order, intact. */
    peer(t, base, t->iss + 1, NULL, 0, d, 100);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 350);
    uint8_t got[350];
    assert_int_equal(tern_tcp_read(t->conn, got, sizeof got), 350);
    assert_memory_equal(got, d, 350);
    assert_int_equal(t->conn->ooo_count, TERN_TCP_OOO_PER_CONN - 1);
}

/* n bytes of data from us, all in flight (cwnd opened by hand). */
static void send_data(tfix_t *t, uint32_t n)
{
    static uint8_t buf[4000];
    assert_true(n <= sizeof buf);
    tern_tcp_set_options(t->conn, TERN_TCP_OPT_NODELAY);
    t->conn->cwnd = 20u * t->conn->mss;
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_write(t->conn, buf, n), (int)n);
    assert_true(t->f->cn.count >= 1u);
}

static void test_sender_merge_dsack_and_limit(void **state)
{
    tfix_t *t = *state;
    handshake(t);
    const tern_tcp_stats_t *st = tern_tcp_stats(&t->f->stack);
    uint32_t pseq = PEER_ISN + 1;
    uint32_t s0 = t->iss + 1;
    send_data(t, 2000);
    /* Two blocks, then one bridging them: one block [100, 320). */
    uint32_t b1[] = {s0 + 100, s0 + 120, s0 + 300, s0 + 320};
    peer(t, pseq, s0, b1, 2, NULL, 0);
    assert_int_equal(t->conn->sack_count, 2);
    uint32_t b2[] = {s0 + 110, s0 + 310};
    peer(t, pseq, s0, b2, 1, NULL, 0);
    assert_int_equal(t->conn->sack_count, 1);
    assert_int_equal(t->conn->sack->start, s0 + 100);
    assert_int_equal(t->conn->sack->end, s0 + 320);
    /* A D-SACK: the first block lies inside the second. */
    uint32_t dsack0 = st->sack_dsack, rx0 = st->sack_blocks_rx;
    uint32_t b3[] = {s0 + 500, s0 + 520, s0 + 480, s0 + 540};
    peer(t, pseq, s0, b3, 2, NULL, 0);
    assert_int_equal(st->sack_dsack, dsack0 + 1);
    assert_int_equal(st->sack_blocks_rx, rx0 + 1);
    assert_int_equal(t->conn->sack_count, 2);
    /* Disjoint blocks up to the limit, then one more: scoreboard dropped. */
    uint32_t nodesc0 = st->sack_no_desc;
    for (uint32_t k = 2; k < TERN_TCP_SACK_PER_CONN; k++) {
        uint32_t b[] = {s0 + 600 + 40 * k, s0 + 610 + 40 * k};
        peer(t, pseq, s0, b, 1, NULL, 0);
    }
    assert_int_equal(t->conn->sack_count, TERN_TCP_SACK_PER_CONN);
    assert_int_equal(st->sack_no_desc, nodesc0);
    uint32_t over[] = {s0 + 1900, s0 + 1950};
    peer(t, pseq, s0, over, 1, NULL, 0);
    assert_int_equal(st->sack_no_desc, nodesc0 + 1);
    assert_int_equal(t->conn->sack_count, 0);
    assert_null(t->conn->sack);
    assert_true(t->conn->flags & TF_SACK_FAIL);
    /* While failed, blocks are not recorded... */
    peer(t, pseq, s0, b1, 1, NULL, 0);
    assert_int_equal(t->conn->sack_count, 0);
    /* ...until everything outstanding is acknowledged. */
    peer(t, pseq, s0 + 2000, NULL, 0, NULL, 0);
    assert_false(t->conn->flags & TF_SACK_FAIL);
    send_data(t, 1000);
    uint32_t b4[] = {s0 + 2100, s0 + 2200};
    peer(t, pseq, s0 + 2000, b4, 1, NULL, 0);
    assert_int_equal(t->conn->sack_count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receiver_bridge_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_merge_dsack_and_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
