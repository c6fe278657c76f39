/* Input batches (stack.h tern_input_batch_begin/end) and the ACKs they
 * decide, on hand-built segments through the capture driver: the
 * every-second-segment ACK waits for the batch end (one cumulative ACK per
 * batch), while the ACKs RFC 5681 4.2 and RFC 9293 3.10.7.4 want at once
 * (duplicate ACKs for out-of-order data, the ACK that fills a gap, the ACK
 * of a FIN) still go at once; a batch of one frame behaves as no batch; a
 * segment of two MSS or more is ACKed at once outside a batch. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define SPORT 40000u
#define LPORT 80u
#define SMSS 100u /* our send MSS, from the peer's MSS option: small segments are "full" */

typedef tcp_fixture_t tfix_t;

static uint8_t payload[4 * SMSS];

static void tx(tfix_t *t, uint32_t seq, uint32_t ack, uint8_t flags, size_t len)
{
    tcp_fixture_rx(t, SPORT, LPORT, seq, ack, flags, 8192, NULL, 0, payload, len);
}

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    *state = tcp_fixture_new(78, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* Handshake with ISN 1000 and MSS SMSS; returns our ISS. */
static uint32_t handshake(tfix_t *t)
{
    static const uint8_t opt[] = {2, 4, 0, SMSS};
    uint8_t fr[FRAME_MAX];
    capnet_clear(&t->f->cn);
    size_t n = tseg_peer(fr, SPORT, LPORT, 1000, 0, TCP_SYN, 65535, opt, sizeof opt, NULL, 0);
    fx_rx(t->f, fr, n);
    assert_int_equal(t->f->cn.count, 1);
    uint32_t iss = be32_get(tcp_fixture_cap(t, 0, NULL) + 4);
    capnet_clear(&t->f->cn);
    tx(t, 1001, iss + 1, TCP_ACK, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    assert_int_equal(t->f->cn.count, 0);
    return iss;
}

static uint32_t ack_of(const tfix_t *t, unsigned i)
{
    const uint8_t *h = tcp_fixture_cap(t, i, NULL);
    assert_true(h[13] & TCP_ACK);
    return be32_get(h + 8);
}

/* The delayed-ACK timer runs out: whatever is still owed goes. */
static void delack_expires(tfix_t *t)
{
    t->f->now += TERN_TCP_DELACK_MS;
    tern_poll(&t->f->stack, t->f->now);
}

/* Five in-order segments in one batch: no ACK before the batch ends, then
 * exactly one, cumulative, and nothing left for the delayed-ACK timer. */
static void test_in_order_batch_one_ack(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_input_batch_begin(&t->f->stack);
    for (uint32_t i = 0; i < 5u; i++)
        tx(t, 1001u + i * SMSS, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 5u * SMSS);
    delack_expires(t);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 5 * SMSS);

    /* The same five without a batch: an ACK every second segment, the
     * fifth's after the timer (RFC 5681 4.2), as before batching. */
    capnet_clear(&t->f->cn);
    for (uint32_t i = 5; i < 10u; i++)
        tx(t, 1001u + i * SMSS, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(t->f->cn.count, 2);
    assert_int_equal(ack_of(t, 0), 1001u + 7u * SMSS);
    assert_int_equal(ack_of(t, 1), 1001u + 9u * SMSS);
    delack_expires(t);
    assert_int_equal(t->f->cn.count, 3);
    assert_int_equal(ack_of(t, 2), 1001u + 10u * SMSS);
}

/* A batch of one segment is no batch: its ACK is delayed by the timer
 * (not sent at the batch end); the second segment's batch then ends with
 * the every-second-segment ACK. */
static void test_batch_of_one(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001, iss + 1, TCP_ACK, SMSS);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001 + SMSS, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 2u * SMSS);
    /* A lone segment in its batch: the timer's ACK, no earlier. */
    capnet_clear(&t->f->cn);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001 + 2u * SMSS, iss + 1, TCP_ACK, SMSS);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 0);
    t->f->now += TERN_TCP_DELACK_MS - 1u;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(t->f->cn.count, 0);
    t->f->now += 1u;
    tern_poll(&t->f->stack, t->f->now);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 3u * SMSS);
}

/* Out of order inside a batch: the duplicate ACK goes at once, the
 * segment that fills the gap is ACKed at once, and the batch end adds
 * nothing. */
static void test_out_of_order_in_batch(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(t->f->cn.count, 0);
    tx(t, 1001 + 2u * SMSS, iss + 1, TCP_ACK, SMSS); /* the second is missing */
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + SMSS); /* duplicate ACK, at once */
    tx(t, 1001 + 3u * SMSS, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(t->f->cn.count, 2); /* another, at once */
    assert_int_equal(ack_of(t, 1), 1001u + SMSS);
    tx(t, 1001 + SMSS, iss + 1, TCP_ACK, SMSS); /* fills the gap */
    assert_int_equal(t->f->cn.count, 3);
    assert_int_equal(ack_of(t, 2), 1001u + 4u * SMSS);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 3);
    delack_expires(t);
    assert_int_equal(t->f->cn.count, 3);
    assert_int_equal(tern_tcp_recv_avail(t->conn), 4 * SMSS);
}

/* A FIN inside a batch is ACKed at once (RFC 9293 3.10.7.4 eighth step). */
static void test_fin_in_batch(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001, iss + 1, TCP_ACK, SMSS);
    tx(t, 1001 + SMSS, iss + 1, TCP_ACK | TCP_FIN, SMSS);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 2u * SMSS + 1u);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(t->peer_closed, 1);
}

/* Outside a batch a segment of two MSS or more (a coalesced one, large
 * receive) is ACKed at once, one byte less waits for the timer; inside a
 * batch it waits for the batch end. */
static void test_two_mss_segment(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tx(t, 1001, iss + 1, TCP_ACK, 2u * SMSS - 1u);
    assert_int_equal(t->f->cn.count, 0);
    delack_expires(t);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 2u * SMSS - 1u);
    capnet_clear(&t->f->cn);
    uint32_t seq = 1001u + 2u * SMSS - 1u;
    tx(t, seq, iss + 1, TCP_ACK, 2u * SMSS);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), seq + 2u * SMSS);
    capnet_clear(&t->f->cn);
    seq += 2u * SMSS;
    tern_input_batch_begin(&t->f->stack);
    tx(t, seq, iss + 1, TCP_ACK, 2u * SMSS);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), seq + 2u * SMSS);
}

/* A read inside a batch (the application's readable callback) opens the
 * window: that update rides on the batch's ACK. But a window the peer was
 * held by (closed, or below one segment) is announced at once (RFC 9293
 * 3.8.6.2.2: the peer waits for it). */
static void test_window_update_in_batch(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    uint8_t buf[TERN_TCP_RCVBUF];
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001, iss + 1, TCP_ACK, SMSS);
    assert_int_equal(tern_tcp_read(t->conn, buf, sizeof buf), SMSS);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + SMSS);
    /* Fill the window to zero, then read it all inside a batch. */
    uint32_t seq = 1001u + SMSS;
    uint32_t left = TERN_TCP_RCVBUF;
    while (left != 0u) {
        uint32_t n = left < SMSS ? left : SMSS;
        tx(t, seq, iss + 1, TCP_ACK, n);
        seq += n;
        left -= n;
    }
    delack_expires(t);
    assert_int_equal(tern_tcp_recv_avail(t->conn), TERN_TCP_RCVBUF);
    capnet_clear(&t->f->cn);
    tern_input_batch_begin(&t->f->stack);
    assert_int_equal(tern_tcp_read(t->conn, buf, sizeof buf), TERN_TCP_RCVBUF);
    assert_true(t->f->cn.count >= 1u);
    assert_int_equal(ack_of(t, 0), seq);
    tern_input_batch_end(&t->f->stack);
}

/* Batches nest (a driver inside a driver's batch): only the outer end
 * sends; an end without a begin is ignored. */
static void test_nested_batches(void **state)
{
    tfix_t *t = *state;
    uint32_t iss = handshake(t);
    tern_input_batch_end(&t->f->stack);
    tern_input_batch_begin(&t->f->stack);
    tern_input_batch_begin(&t->f->stack);
    tx(t, 1001, iss + 1, TCP_ACK, SMSS);
    tx(t, 1001 + SMSS, iss + 1, TCP_ACK, SMSS);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 0);
    tern_input_batch_end(&t->f->stack);
    assert_int_equal(t->f->cn.count, 1);
    assert_int_equal(ack_of(t, 0), 1001u + 2u * SMSS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order_batch_one_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_of_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fin_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_mss_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_update_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
