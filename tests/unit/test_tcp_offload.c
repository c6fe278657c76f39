/* TCP with the interface offloads of netif.h (checksum offload, TSO, large
 * receive), tern against tern on the virtual wire, which plays the NIC: it
 * cuts TSO packets and completes checksums itself, so none of this depends
 * on a kernel. Built against tern-demo-offload's configuration (64 KB
 * network buffers: TERN_TEST_OFFLOAD_VARIANT), since with 1514-byte buffers TSO and
 * large receive change nothing.
 *
 * Each case moves data both ways at once and checks it byte for byte,
 * checks every frame the receiver got (sizes, checksums), and counts what
 * the offload really did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_gso.h"
#include "tern_test.h"
#include "wire2.h"

/* TERN_TEST_OFFLOAD_VARIANT */

#define PORT 5001u
#define RING 16384u

static uint8_t pat(int dir, uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + (uint64_t)dir * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17) ^ (i >> 11));
}

typedef struct end {
    tern_tcp_pcb_t *pcb;
    int dir;            /* pattern of the bytes this end sends */
    uint64_t to_send, sent, received, expect;
    int bad, err;
} end_t;

typedef struct rxcheck {
    uint64_t frames, large, bad_csum;
    uint64_t acks; /* TCP segments without payload */
    size_t max_len;
} rxcheck_t;

typedef struct world {
    wire2_t w;
    tern_test_port_t pa, pb;
    end_t a, b;
    rxcheck_t rx_a, rx_b;
    tern_tcp_pcb_t *listener;
} world_t;

static void end_pump(end_t *e)
{
    uint8_t buf[4096];
    while (e->pcb != NULL && e->sent < e->to_send) {
        size_t n = e->to_send - e->sent < sizeof buf ? (size_t)(e->to_send - e->sent) : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(e->dir, e->sent + i);
        int r = tern_tcp_write(e->pcb, buf, n);
        if (r <= 0)
            break;
        e->sent += (uint64_t)r;
    }
}

static void end_read(end_t *e)
{
    uint8_t buf[4096];
    int r;
    while (e->pcb != NULL && (r = tern_tcp_read(e->pcb, buf, sizeof buf)) > 0) {
        for (int i = 0; i < r; i++)
            if (buf[i] != pat(1 - e->dir, e->received + (uint64_t)i))
                e->bad++;
        e->received += (uint64_t)r;
    }
}

static void cb_readable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    end_read(arg);
}

static void cb_writable(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    end_pump(arg);
}

static void cb_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)pcb;
    end_pump(arg);
}

static void cb_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)pcb;
    end_t *e = arg;
    e->err = err;
    e->pcb = NULL;
}

static const tern_tcp_callbacks_t end_cbs = {
    .connected = cb_connected,
    .readable = cb_readable,
    .writable = cb_writable,
    .error = cb_error,
};

static int cb_accept(void *arg, tern_tcp_pcb_t *listener, tern_tcp_pcb_t *pcb)
{
    (void)listener;
    world_t *wd = arg;
    wd->b.pcb = pcb;
    tern_tcp_set_callbacks(pcb, &end_cbs, &wd->b);
    end_pump(&wd->b);
    return TERN_OK;
}

/* Every frame a stack receives, as the wire delivered it. */
static void rx_capture(void *ctx, const uint8_t *frame, size_t len, int outbound, uint32_t now)
{
    (void)now;
    rxcheck_t *c = ctx;
    if (outbound || len < 14u || frame[12] != 0x08u || frame[13] != 0x00u)
        return;
    c->frames++;
    if (len > c->max_len)
        c->max_len = len;
    if (len > 1514u)
        c->large++;
    if (!tern_gso_csum_ok(frame, len, 14))
        c->bad_csum++;
    size_t ihl = (size_t)(frame[14] & 0x0Fu) * 4u;
    if (frame[14 + 9] == 6u && len >= 14u + ihl + 20u) {
        size_t tot = (size_t)frame[16] << 8 | frame[17];
        size_t thl = (size_t)(frame[14 + ihl + 12] >> 4) * 4u;
        if (tot == ihl + thl)
            c->acks++;
    }
}

static world_t *world_new(unsigned off_a, unsigned off_b, const tern_vwire_params_t *params, uint64_t seed)
{
    world_t *wd = calloc(1, sizeof *wd);
    assert_non_null(wd);
    tern_test_port_init(&wd->pa, seed);
    tern_test_port_init(&wd->pb, seed + 1u);
    wd->pa.quiet = wd->pb.quiet = 1;
    wire2_init(&wd->w, seed, params, &wd->pa.port, &wd->pb.port);
    /* Offloads are read as frames go: setting them after attaching is as
     * good as before (the wire reads them per frame too). */
    wd->w.nif_a.offload = (uint8_t)off_a;
    wd->w.nif_b.offload = (uint8_t)off_b;
    wd->w.nif_a.tso_max = wd->w.nif_b.tso_max = 65535u;
    wd->w.nif_a.capture = rx_capture;
    wd->w.nif_a.capture_ctx = &wd->rx_a;
    wd->w.nif_b.capture = rx_capture;
    wd->w.nif_b.capture_ctx = &wd->rx_b;
    return wd;
}

/* A sends a_bytes to B while B sends b_bytes to A; both must arrive exact
 * within limit_ms of virtual time. */
static void transfer(world_t *wd, uint64_t a_bytes, uint64_t b_bytes, uint32_t limit_ms)
{
    int err = 0;
    wd->a.dir = 0;
    wd->b.dir = 1;
    wd->a.to_send = wd->b.expect = a_bytes;
    wd->b.to_send = wd->a.expect = b_bytes;
    tern_tcp_set_default_options(wd->w.b, 0);
    wd->listener = tern_tcp_listen(wd->w.b, PORT, 4, &(tern_tcp_callbacks_t){.accept = cb_accept}, wd, &err);
    assert_non_null(wd->listener);
    wd->a.pcb = tern_tcp_connect(wd->w.a, W2_IP_B, PORT, &end_cbs, &wd->a, &err);
    assert_non_null(wd->a.pcb);
    assert_int_equal(tern_tcp_set_bufsizes(wd->a.pcb, RING, RING), TERN_OK);
    uint32_t start = wire2_now(&wd->w);
    while (wire2_now(&wd->w) - start < limit_ms) {
        if (wd->b.pcb == NULL && wd->listener != NULL) {
            /* accepted connections inherit the listener's ring sizes */
        }
        wire2_run(&wd->w, 5);
        end_pump(&wd->a);
        end_pump(&wd->b);
        end_read(&wd->a);
        end_read(&wd->b);
        if (wd->a.received == wd->a.expect && wd->b.received == wd->b.expect)
            break;
    }
    assert_int_equal(wd->a.err, 0);
    assert_int_equal(wd->b.err, 0);
    assert_int_equal(wd->a.bad, 0);
    assert_int_equal(wd->b.bad, 0);
    assert_true(wd->b.received == a_bytes);
    assert_true(wd->a.received == b_bytes);
}

static void world_free(world_t *wd)
{
    /* No frame with a bad checksum ever reached a stack, and no stack
     * dropped one (the wire completes what was left to it). */
    assert_int_equal(wd->rx_a.bad_csum, 0);
    assert_int_equal(wd->rx_b.bad_csum, 0);
    assert_int_equal(tern_tcp_stats(wd->w.a)->drop_checksum, 0);
    assert_int_equal(tern_tcp_stats(wd->w.b)->drop_checksum, 0);
    wire2_deinit(&wd->w);
    free(wd);
}

#define ALL_TX (TERN_OFFLOAD_TX_IPV4_CSUM | TERN_OFFLOAD_TX_L4_CSUM | TERN_OFFLOAD_TX_TSO)
#define ALL_RX (TERN_OFFLOAD_RX_IPV4_CSUM | TERN_OFFLOAD_RX_L4_CSUM)

/* No offload: the baseline. Nothing is cut, nothing is large. */
static void test_offloads_off(void **state)
{
    (void)state;
    world_t *wd = world_new(0, 0, NULL, 1);
    transfer(wd, 200000, 150000, 60000);
    assert_int_equal(tern_vwire_stats(&wd->w.wire, 0)->tso_packets, 0);
    assert_int_equal(wd->rx_b.large, 0);
    assert_true(wd->rx_b.max_len <= 1514u);
    world_free(wd);
}

/* Checksum offload both ways, no TSO: the stack leaves the partial sum,
 * the wire finishes it, the receiving wire verifies. */
static void test_checksum_offload(void **state)
{
    (void)state;
    unsigned off = TERN_OFFLOAD_TX_IPV4_CSUM | TERN_OFFLOAD_TX_L4_CSUM | ALL_RX;
    world_t *wd = world_new(off, off, NULL, 2);
    transfer(wd, 200000, 150000, 60000);
    assert_int_equal(tern_vwire_stats(&wd->w.wire, 0)->tso_packets, 0);
    assert_true(wd->rx_b.frames > 100u);
    world_free(wd);
}

/* TSO on both sides, receivers without large receive: the wire cuts every
 * TSO packet into MTU-sized segments with right checksums. */
static void test_tso_cut_by_wire(void **state)
{
    (void)state;
    world_t *wd = world_new(ALL_TX, ALL_TX, NULL, 3);
    transfer(wd, 300000, 200000, 60000);
    const tern_vwire_stats_t *s0 = tern_vwire_stats(&wd->w.wire, 0);
    const tern_vwire_stats_t *s1 = tern_vwire_stats(&wd->w.wire, 1);
    assert_true(s0->tso_packets > 0u);
    assert_true(s0->segmented > 2u * s0->tso_packets);
    assert_true(s1->tso_packets > 0u);
    assert_int_equal(wd->rx_b.large, 0);
    assert_true(wd->rx_b.max_len <= 1514u);
    world_free(wd);
}

/* TSO towards a receiver with large receive: the packets cross whole and
 * the stack takes segments larger than the MTU. */
static void test_tso_large_receive(void **state)
{
    (void)state;
    world_t *wd = world_new(ALL_TX, TERN_OFFLOAD_RX_LARGE, NULL, 4);
    transfer(wd, 300000, 100000, 60000);
    assert_true(tern_vwire_stats(&wd->w.wire, 0)->tso_packets > 0u);
    assert_true(wd->rx_b.large > 0u);
    assert_true(wd->rx_b.max_len > 1514u);
    assert_int_equal(wd->rx_a.large, 0); /* B has no TSO */
    world_free(wd);
}

/* TSO under loss: single segments cut from a TSO packet go missing, the
 * peer acknowledges part of the packet, and the rest is sent again from
 * the ring (whatever size the next send has). Reordering and duplicates
 * too. */
static void test_tso_loss_partial_ack(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.loss_ppm = 30000, .dup_ppm = 10000, .reorder_ppm = 10000, .reorder_ms = 3,
                             .delay_ms = 2};
    for (uint64_t seed = 10; seed < 14; seed++) {
        world_t *wd = world_new(ALL_TX, ALL_TX, &p, seed);
        transfer(wd, 200000, 100000, 600000);
        assert_true(tern_vwire_stats(&wd->w.wire, 0)->tso_packets > 0u);
        assert_true(tern_vwire_stats(&wd->w.wire, 0)->lost > 0u);
        assert_true(tern_tcp_stats(wd->w.a)->retransmits > 0u);
        world_free(wd);
    }
}

/* RX checksum offload with a wire that damages frames: the receiving wire
 * (the NIC) drops them, the stack never sees them, the data still
 * arrives exact. */
static void test_rx_offload_drops_corrupt(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.corrupt_ppm = 20000, .delay_ms = 1};
    world_t *wd = world_new(ALL_TX | ALL_RX, ALL_TX | ALL_RX, &p, 21);
    transfer(wd, 200000, 100000, 600000);
    assert_true(tern_vwire_stats(&wd->w.wire, 0)->rx_csum_drops + tern_vwire_stats(&wd->w.wire, 1)->rx_csum_drops >
                0u);
    world_free(wd);
}

/* Input batches on the wire (tern_vwire_set_batch: the frames due at one
 * millisecond reach the stack as one batch) with every offload the wire
 * can play: the same transfer, exact both ways, with fewer pure ACKs back
 * to the sender than without batches; and under loss, duplicates and
 * reordering, where the duplicate ACKs must still go at once. */
static uint64_t batch_transfer(int batch, unsigned off_a, unsigned off_b, const tern_vwire_params_t *p, uint64_t seed,
                               uint32_t limit_ms)
{
    world_t *wd = world_new(off_a, off_b, p, seed);
    tern_vwire_set_batch(&wd->w.wire, 0, batch);
    tern_vwire_set_batch(&wd->w.wire, 1, batch);
    transfer(wd, 400000, 20000, limit_ms);
    uint64_t acks = wd->rx_a.acks;
    world_free(wd);
    return acks;
}

static void test_batching_with_offloads(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 1};
    unsigned off = ALL_TX | ALL_RX;
    uint64_t plain = batch_transfer(0, off, off, &p, 31, 60000);
    uint64_t batched = batch_transfer(1, off, off, &p, 31, 60000);
    assert_true(batched > 0u);
    assert_true(batched < plain);
    /* Large receive too: the batch holds coalesced segments. */
    (void)batch_transfer(1, off, off | TERN_OFFLOAD_RX_LARGE, &p, 32, 60000);
    /* No offload at all: batching alone. */
    assert_true(batch_transfer(1, 0, 0, &p, 33, 60000) < batch_transfer(0, 0, 0, &p, 33, 60000));
    tern_vwire_params_t lossy = {.loss_ppm = 30000, .dup_ppm = 10000, .reorder_ppm = 10000, .reorder_ms = 3,
                                 .delay_ms = 2};
    for (uint64_t seed = 40; seed < 43; seed++)
        (void)batch_transfer(1, off, off, &lossy, seed, 600000);
}

/* The segmentation helper itself: a 5-segment packet with FIN and PSH,
 * cut by 1000: sequence numbers, IDs, flags on the last only, lengths and
 * checksums. */
typedef struct cut_log {
    unsigned n;
    uint32_t seq[8];
    uint8_t flags[8];
    uint16_t id[8];
    size_t len[8];
    int ok[8];
} cut_log_t;

static int cut_emit(void *ctx, const uint8_t *frame, size_t len)
{
    cut_log_t *c = ctx;
    if (c->n >= 8u)
        return TERN_ERR_NOBUFS;
    const uint8_t *t = frame + 14 + 20;
    c->seq[c->n] = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
    c->flags[c->n] = t[13];
    c->id[c->n] = (uint16_t)(frame[14 + 4] << 8 | frame[14 + 5]);
    c->len[c->n] = len;
    c->ok[c->n] = tern_gso_csum_ok(frame, len, 14);
    c->n++;
    return TERN_OK;
}

static void test_gso_segment_helper(void **state)
{
    (void)state;
    static uint8_t f[14 + 20 + 20 + 4500];
    static uint8_t out[2048];
    memset(f, 0, sizeof f);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 20 + 4500) >> 8);
    ip[3] = (uint8_t)(20 + 20 + 4500);
    ip[4] = 0x12;
    ip[5] = 0xFF;
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
    ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 2;
    uint8_t *t = ip + 20;
    t[1] = 80;
    t[3] = 81;
    t[4] = 0xFF, t[5] = 0xFF, t[6] = 0xFC, t[7] = 0x00; /* wraps */
    t[12] = 0x50;
    t[13] = 0x10 | 0x08 | 0x01 | 0x80; /* ACK PSH FIN CWR */
    for (size_t i = 0; i < 4500; i++)
        t[20 + i] = (uint8_t)(i * 7u);
    cut_log_t c = {0};
    assert_int_equal(tern_gso_segment(f, sizeof f, 14, 1000, out, sizeof out, cut_emit, &c), 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(c.seq[i], 0xFFFFFC00u + 1000u * i);
        assert_int_equal(c.id[i], (uint16_t)(0x12FF + i));
        assert_true(c.ok[i]);
        assert_int_equal(c.len[i], 54u + (i < 4 ? 1000u : 500u));
        assert_int_equal(c.flags[i] & 0x09, i == 4 ? 0x09 : 0);
        assert_int_equal(c.flags[i] & 0x80, i == 0 ? 0x80 : 0);
        assert_int_equal(c.flags[i] & 0x10, 0x10);
    }
    /* Not TCP, or a segment that does not fit out: refused. */
    ip[9] = 17;
    assert_int_equal(tern_gso_segment(f, sizeof f, 14, 1000, out, sizeof out, cut_emit, &c), TERN_ERR_INVAL);
    ip[9] = 6;
    assert_int_equal(tern_gso_segment(f, sizeof f, 14, 4000, out, sizeof out, cut_emit, &c), TERN_ERR_INVAL);
    /* Truncated: the IP length says more than the frame has. */
    assert_int_equal(tern_gso_segment(f, 200, 14, 1000, out, sizeof out, cut_emit, &c), TERN_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gso_segment_helper),
        cmocka_unit_test(test_offloads_off),
        cmocka_unit_test(test_checksum_offload),
        cmocka_unit_test(test_tso_cut_by_wire),
        cmocka_unit_test(test_tso_large_receive),
        cmocka_unit_test(test_tso_loss_partial_ack),
        cmocka_unit_test(test_rx_offload_drops_corrupt),
        cmocka_unit_test(test_batching_with_offloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
