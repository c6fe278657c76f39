/* TERN_TEST_STATIC_VARIANT */
/* Two stacks on the virtual wire exchanging datagrams through sockets: A
 * sends numbered datagrams of sizes up to 1472 to an echo socket on B,
 * through loss, duplication, reordering and bit corruption. Every echo that
 * arrives is byte-identical to what was sent; losses are losses, never
 * corruption; the same seed replays exactly; sockets closed, memory is back
 * at its baseline and deinit empties the ledger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

#define ECHO_PORT 7
#define MAX_DGRAMS 600u

typedef struct world {
    tern_test_port_t port_a, port_b;
    wire2_t n;
    int sa, sb;
    unsigned sent, echoed, bad, dups, echo_fail;
    uint16_t size[MAX_DGRAMS];
    uint8_t answered[MAX_DGRAMS];
} world_t;

static void fill(uint8_t *buf, size_t len, uint16_t seq)
{
    buf[0] = (uint8_t)(seq >> 8);
    buf[1] = (uint8_t)seq;
    for (size_t i = 2; i < len; i++)
        buf[i] = (uint8_t)(i * 11u + seq * 5u + 3u);
}

static size_t ledger_bytes(const tern_stack_t *s)
{
    return tern_ledger_total_bytes(&s->ledger);
}

static world_t *world_new(uint64_t seed, const tern_vwire_params_t *p)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->port_a, seed * 5u + 1u);
    tern_test_port_init(&w->port_b, seed * 5u + 2u);
    wire2_init(&w->n, seed, p, &w->port_a.port, &w->port_b.port);
    w->sa = tern_socket(w->n.a, TERN_SOCK_DGRAM);
    w->sb = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    assert_true(w->sa > 0 && w->sb > 0);
    tern_sockaddr_t lb = {.addr = 0, .port = ECHO_PORT};
    assert_int_equal(tern_bind(w->n.b, w->sb, &lb), TERN_OK);
    /* The echo side queues a little more than the default: the wire may
     * deliver a burst (reordered and duplicated frames) at one instant. */
    assert_int_equal(tern_setsockopt(w->n.b, w->sb, TERN_SO_UDP_RXQ, 8), TERN_OK);
    return w;
}

/* B: echo everything queued (non-blocking). */
static void echo_drain(world_t *w)
{
    static uint8_t buf[1500];
    for (;;) {
        tern_sockaddr_t from;
        int n = tern_recvfrom(w->n.b, w->sb, buf, sizeof buf, TERN_MSG_DONTWAIT, &from);
        if (n == TERN_ERR_WOULDBLOCK)
            return;
        assert_true(n >= 0);
        int r = tern_sendto(w->n.b, w->sb, buf, (size_t)n, TERN_MSG_DONTWAIT, &from);
        if (r != n)
            w->echo_fail++; /* a full ARP queue or no buffer: a loss, never corruption */
    }
}

/* A: check every echo against what was sent. Zero copy here. */
static void client_drain(world_t *w)
{
    uint8_t expect[1472];
    for (;;) {
        tern_netbuf_t *nb;
        tern_sockaddr_t from;
        int n = tern_recvfrom_netbuf(w->n.a, w->sa, &nb, TERN_MSG_DONTWAIT, &from);
        if (n == TERN_ERR_WOULDBLOCK)
            return;
        assert_true(n >= 2);
        assert_int_equal(from.addr, W2_IP_B);
        assert_int_equal(from.port, ECHO_PORT);
        uint16_t seq = (uint16_t)(nb->data[0] << 8 | nb->data[1]);
        if (seq >= w->sent || n != w->size[seq]) {
            w->bad++;
        } else {
            fill(expect, (size_t)n, seq);
            if (memcmp(nb->data, expect, (size_t)n) != 0)
                w->bad++;
            else if (w->answered[seq])
                w->dups++;
            else {
                w->answered[seq] = 1;
                w->echoed++;
            }
        }
        tern_socket_netbuf_release(w->n.a, nb);
    }
}

static void step(world_t *w, uint32_t until)
{
    uint32_t t = tern_vwire_now(&w->n.wire);
    while (t != until) {
        t++;
        tern_vwire_run(&w->n.wire, t);
        echo_drain(w);
        client_drain(w);
    }
}

typedef struct outcome {
    uint64_t hash;
    unsigned sent, echoed, bad, dups;
    uint32_t drops_a, drops_b, queue_full;
} outcome_t;

static void run(uint64_t seed, const tern_vwire_params_t *p, unsigned count, outcome_t *out)
{
    world_t *w = world_new(seed, p);
    size_t base_a = ledger_bytes(w->n.a), base_b = ledger_bytes(w->n.b);
    uint16_t bufs_a = tern_netbuf_free_count(&w->n.a->netbufs), bufs_b = tern_netbuf_free_count(&w->n.b->netbufs);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = ECHO_PORT};
    uint8_t buf[1472];
    for (unsigned i = 0; i < count; i++) {
        uint16_t size = (uint16_t)(i == 1 ? 1472u : 2u + (i * 131u) % 1471u);
        fill(buf, size, (uint16_t)i);
        w->size[i] = size;
        w->sent++;
        int r = tern_sendto(w->n.a, w->sa, buf, size, TERN_MSG_DONTWAIT, &to);
        assert_int_equal(r, size); /* sent or queued behind ARP */
        step(w, tern_vwire_now(&w->n.wire) + 4u);
    }
    step(w, tern_vwire_now(&w->n.wire) + 5000u);
    /* Everything delivered and consumed: only the sockets are held. */
    assert_int_equal(tern_vwire_pending(&w->n.wire), 0);
    assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), bufs_a);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), bufs_b);
    assert_int_equal(ledger_bytes(w->n.a), base_a);
    assert_int_equal(ledger_bytes(w->n.b), base_b);
    memset(out, 0, sizeof *out);
    out->hash = tern_vwire_trace_hash(&w->n.wire);
    out->sent = w->sent;
    out->echoed = w->echoed;
    out->bad = w->bad;
    out->dups = w->dups;
    const tern_counters_t *ca = tern_stack_counters(w->n.a), *cb = tern_stack_counters(w->n.b);
    out->drops_a = ca->udp_drop_checksum + ca->ipv4_drop_checksum;
    out->drops_b = cb->udp_drop_checksum + cb->ipv4_drop_checksum;
    out->queue_full = ca->udp_drop_queue_full + cb->udp_drop_queue_full;
    fprintf(stderr, "seed %llu: %u sent, %u echoed, %u duplicates, %u bad, %u echo sends failed, checksum drops "
            "A %u B %u, queue-full drops %u\n", (unsigned long long)seed, w->sent, w->echoed, w->dups, w->bad,
            w->echo_fail, out->drops_a, out->drops_b, out->queue_full);
    /* Closing gives back the structures: the ledger is where it started. */
    size_t sock_a = tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)w->sa);
    assert_true(sock_a > 0);
    assert_int_equal(tern_close(w->n.a, w->sa), TERN_OK);
    assert_int_equal(tern_close(w->n.b, w->sb), TERN_OK);
    assert_int_equal(ledger_bytes(w->n.a), base_a - sock_a);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)w->sa), 0);
    assert_int_equal(tern_ledger_verify(&w->n.a->ledger), TERN_OK);
    assert_int_equal(tern_ledger_verify(&w->n.b->ledger), TERN_OK);
    wire2_deinit(&w->n);
    assert_int_equal(w->port_a.asserts + w->port_b.asserts, 0);
    free(w);
}

static void test_perfect_wire(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 1, .bandwidth_bps = 100000000};
    outcome_t o;
    run(11, &p, 300, &o);
    /* The first datagrams wait for ARP (two are queued); none is lost. */
    assert_int_equal(o.echoed, 300);
    assert_int_equal(o.bad, 0);
    assert_int_equal(o.dups, 0);
}

static void test_lossy_wire(void **state)
{
    (void)state;
    tern_vwire_params_t p = {
        .loss_ppm = 100000, .dup_ppm = 20000, .reorder_ppm = 30000, .reorder_ms = 5,
        .corrupt_ppm = 20000, .delay_ms = 2, .jitter_ms = 2, .bandwidth_bps = 10000000,
    };
    outcome_t o1, o2;
    uint64_t seed = tern_test_seed(77);
    run(seed, &p, MAX_DGRAMS, &o1);
    /* About 81% survive two 10% losses; corruption is caught by checksums,
     * never delivered. */
    assert_int_equal(o1.bad, 0);
    assert_true(o1.echoed < o1.sent);
    assert_true(o1.echoed > o1.sent * 6 / 10);
    assert_true(o1.drops_a + o1.drops_b > 0);
    /* Same seed, same run. */
    run(seed, &p, MAX_DGRAMS, &o2);
    assert_int_equal(o1.hash, o2.hash);
    assert_int_equal(o1.echoed, o2.echoed);
    assert_int_equal(o1.dups, o2.dups);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perfect_wire),
        cmocka_unit_test(test_lossy_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
