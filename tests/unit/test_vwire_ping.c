/* TERN_TEST_STATIC_VARIANT */
/* Two stacks on the virtual wire: A pings B through loss, duplication,
 * reordering and corruption. Replies are byte-identical, a seed replays
 * exactly, memory returns to its baseline, and deinit empties the ledger.
 * Runs on both variants: zero-copy RX/TX with STATIC buffers, and copy
 * RX/TX with HEAP buffers. */
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"

#define IP_A W2_IP_A
#define IP_B W2_IP_B
#define MAX_PINGS 1024u
#define PRIME_ID 0x5151u /* the ARP-priming ping, not counted */

typedef struct pinger {
    uint16_t id;
    unsigned sent;
    unsigned replies;  /* distinct sequence numbers answered */
    unsigned bad;      /* replies whose data or length differed */
    unsigned dups;
    unsigned foreign;  /* replies not matching a request */
    uint16_t size[MAX_PINGS];
    uint8_t answered[MAX_PINGS];
} pinger_t;

static void fill(uint8_t *buf, size_t len, uint16_t seq)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7u + seq * 13u + 1u);
}

static void on_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                     uint32_t now)
{
    pinger_t *pg = ctx;
    uint8_t expect[1472];
    (void)now;
    if (id == PRIME_ID)
        return;
    if (from != IP_B || id != pg->id || seq >= pg->sent) {
        pg->foreign++;
        return;
    }
    fill(expect, pg->size[seq], seq);
    if (len != pg->size[seq] || memcmp(data, expect, len) != 0)
        pg->bad++;
    if (pg->answered[seq]) {
        pg->dups++;
        return;
    }
    pg->answered[seq] = 1;
    pg->replies++;
}

typedef struct world {
    tern_test_port_t port_a, port_b;
    wire2_t n;
    pinger_t pg;
    size_t heap_free_a, heap_free_b;
    unsigned bufs_a, bufs_b;
} world_t;

static world_t *world_new(uint64_t seed, const tern_vwire_params_t *p)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->port_a, seed * 3u + 1u);
    tern_test_port_init(&w->port_b, seed * 3u + 2u);
    wire2_init(&w->n, seed, p, &w->port_a.port, &w->port_b.port); /* announcements cross, buffers settle */
    w->pg.id = 0x4242;
    tern_ping_set_handler(w->n.a, on_reply, &w->pg);
    /* Resolve B before the measured pings: while ARP resolves, the stack
     * queues only TERN_ARP_QUEUE_LEN packets (by design), which would lose
     * early pings even on a lossless wire. */
    uint8_t mac[6];
    for (int tries = 0; tries < 20 && tern_arp_lookup(w->n.a, IP_B, mac) != TERN_OK; tries++) {
        tern_ping_send(w->n.a, IP_B, PRIME_ID, 0, NULL, 0);
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 200u);
    }
    assert_int_equal(tern_arp_lookup(w->n.a, IP_B, mac), TERN_OK);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 1000u);
    w->heap_free_a = wire_heap_free(w->n.a);
    w->heap_free_b = wire_heap_free(w->n.b);
    w->bufs_a = tern_netbuf_free_count(&w->n.a->netbufs);
    w->bufs_b = tern_netbuf_free_count(&w->n.b->netbufs);
    /* Nothing is held between packets. */
    assert_int_equal(w->bufs_a, TERN_NETBUF_COUNT);
    assert_int_equal(w->bufs_b, TERN_NETBUF_COUNT);
    return w;
}

static int ping(world_t *w, uint16_t size)
{
    uint8_t buf[1472];
    uint16_t seq = (uint16_t)w->pg.sent;
    assert_true(seq < MAX_PINGS);
    fill(buf, size, seq);
    w->pg.size[seq] = size;
    w->pg.sent++;
    return tern_ping_send(w->n.a, IP_B, w->pg.id, seq, buf, size);
}

/* Memory back at its baseline, books consistent. */
static void check_baseline(world_t *w)
{
    assert_int_equal(tern_vwire_pending(&w->n.wire), 0);
    assert_int_equal(tern_ledger_verify(&w->n.a->ledger), TERN_OK);
    assert_int_equal(tern_ledger_verify(&w->n.b->ledger), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), w->bufs_a);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs), w->bufs_b);
    assert_int_equal(wire_heap_free(w->n.a), w->heap_free_a);
    assert_int_equal(wire_heap_free(w->n.b), w->heap_free_b);
    assert_int_equal(w->n.a->netbufs.bad_releases + w->n.b->netbufs.bad_releases, 0);
}

static void world_free(world_t *w)
{
    tern_ping_set_handler(w->n.a, NULL, NULL);
    wire2_deinit(&w->n);
    assert_int_equal(w->port_a.asserts + w->port_b.asserts, 0);
    free(w);
}

typedef struct outcome {
    uint64_t hash;
    unsigned replies, bad, dups, foreign;
    uint8_t answered[MAX_PINGS];
    tern_vwire_stats_t st[2];
} outcome_t;

/* count pings of sizes sweeping 0..1472, one every gap ms. */
static void run_pings(uint64_t seed, const tern_vwire_params_t *p, unsigned count, uint32_t gap, outcome_t *out)
{
    world_t *w = world_new(seed, p);
    uint32_t t = tern_vwire_now(&w->n.wire);
    for (unsigned i = 0; i < count; i++) {
        uint16_t size = (uint16_t)(i == 1 ? 1472u : (i * 131u) % 1473u);
        int rc = ping(w, size);
        /* Sent, or queued behind ARP; never a buffer shortage at this rate. */
        assert_int_equal(rc, TERN_OK);
        t += gap;
        tern_vwire_run(&w->n.wire, t);
    }
    tern_vwire_run(&w->n.wire, t + 10000u); /* stragglers, ARP retries, aging */
    check_baseline(w);
    memset(out, 0, sizeof *out);
    out->hash = tern_vwire_trace_hash(&w->n.wire);
    out->replies = w->pg.replies;
    out->bad = w->pg.bad;
    out->dups = w->pg.dups;
    out->foreign = w->pg.foreign;
    memcpy(out->answered, w->pg.answered, sizeof out->answered);
    out->st[0] = *tern_vwire_stats(&w->n.wire, 0);
    out->st[1] = *tern_vwire_stats(&w->n.wire, 1);
    world_free(w);
}

static void test_perfect_wire_answers_every_ping(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 1, .bandwidth_bps = 100000000};
    outcome_t *o = calloc(1, sizeof *o);
    run_pings(1, &p, 300, 5, o);
    assert_int_equal(o->replies, 300);
    assert_int_equal(o->bad + o->dups + o->foreign, 0);
    free(o);
}

static void test_reordering_and_duplicates_without_loss(void **state)
{
    (void)state;
    /* No loss and no corruption: every ping is answered however the frames
     * are shuffled or doubled. */
    tern_vwire_params_t p = {.delay_ms = 2, .jitter_ms = 6, .reorder_ppm = 100000, .reorder_ms = 15,
                             .dup_ppm = 50000, .bandwidth_bps = 10000000};
    outcome_t *o = calloc(1, sizeof *o);
    run_pings(tern_test_seed(77), &p, 400, 3, o);
    assert_int_equal(o->replies, 400);
    assert_int_equal(o->bad + o->foreign, 0);
    assert_true(o->st[0].reordered + o->st[1].reordered > 0);
    assert_true(o->st[0].duplicated + o->st[1].duplicated > 0);
    assert_int_equal(o->st[0].lost + o->st[1].lost, 0);
    free(o);
}

static void test_lossy_wire_is_deterministic(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.loss_ppm = 80000, .dup_ppm = 20000, .reorder_ppm = 50000, .reorder_ms = 20,
                             .corrupt_ppm = 30000, .delay_ms = 3, .jitter_ms = 3, .bandwidth_bps = 10000000,
                             .queue_limit = 20000};
    uint64_t seed = tern_test_seed(2024);
    outcome_t *o1 = calloc(1, sizeof *o1), *o2 = calloc(1, sizeof *o2);
    assert_true(o1 && o2);
    run_pings(seed, &p, 400, 4, o1);
    run_pings(seed, &p, 400, 4, o2);
    /* Every reply that arrived is byte-identical to its request, even with
     * bits flipped on the wire: the checksums caught those frames. */
    assert_int_equal(o1->bad, 0);
    assert_int_equal(o1->foreign, 0);
    print_message("lossy run: %u of 400 answered, %u duplicates\n", o1->replies, o1->dups);
    assert_true(o1->replies > 250 && o1->replies < 400);
    assert_true(o1->st[0].lost > 0 && o1->st[0].corrupted > 0);
    /* Same seed, same inputs: the same events and the same outcome. */
    assert_true(o1->hash == o2->hash);
    assert_int_equal(o1->replies, o2->replies);
    assert_int_equal(o1->dups, o2->dups);
    assert_memory_equal(o1->answered, o2->answered, sizeof o1->answered);
    assert_memory_equal(&o1->st, &o2->st, sizeof o1->st);
    free(o1);
    free(o2);
}

/* The buffer ownership rules of netif.h, observed from outside. */
static void test_buffer_ownership_in_flight(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 50};
    world_t *w = world_new(5, &p);
    assert_int_equal(ping(w, 32), TERN_OK);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 500u);
    assert_int_equal(w->pg.replies, 1);

    assert_int_equal(ping(w, 1000), TERN_OK);
    assert_int_equal(tern_vwire_pending(&w->n.wire), 1);
    int zc_a = (w->n.nif_a.caps & TERN_NETIF_CAP_ZERO_COPY_TX) != 0;
    int zc_b = (w->n.nif_b.caps & TERN_NETIF_CAP_ZERO_COPY_TX) != 0;
    if (zc_a) {
        /* Zero-copy: the wire holds A's buffer until delivery. */
        assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), TERN_NETBUF_COUNT - 1);
    } else {
        /* Copy: the wire copied the frame; A released its buffer already. */
        assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), TERN_NETBUF_COUNT);
        assert_int_equal(wire_heap_free(w->n.a), w->heap_free_a);
    }
    /* Delivered to B at +50: A's buffer is back, B's reply is in flight. */
    tern_vwire_advance(&w->n.wire, tern_vwire_now(&w->n.wire) + 50u);
    assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_netbuf_free_count(&w->n.b->netbufs),
                     zc_b ? TERN_NETBUF_COUNT - 1 : TERN_NETBUF_COUNT);
    tern_vwire_advance(&w->n.wire, tern_vwire_now(&w->n.wire) + 50u);
    assert_int_equal(w->pg.replies, 2);
    check_baseline(w);

    /* Removing an interface with its frames on the wire gives them back. */
    assert_int_equal(ping(w, 500), TERN_OK);
    assert_int_equal(tern_vwire_pending(&w->n.wire), 1);
    tern_netif_remove(w->n.a, &w->n.nif_a);
    assert_int_equal(tern_vwire_pending(&w->n.wire), 0);
    assert_int_equal(tern_netbuf_free_count(&w->n.a->netbufs), TERN_NETBUF_COUNT);
    assert_int_equal(tern_ledger_verify(&w->n.a->ledger), TERN_OK);
    world_free(w);
}

static void test_receiver_without_buffers_drops(void **state)
{
    (void)state;
    tern_vwire_params_t p = {.delay_ms = 1};
    world_t *w = world_new(6, &p);
    assert_int_equal(ping(w, 64), TERN_OK);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 100u);
    assert_int_equal(w->pg.replies, 1);

    /* Take every buffer B has. */
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned n = 0;
    while (n < TERN_NETBUF_COUNT && (held[n] = tern_netbuf_get(&w->n.b->netbufs, 64, 0)) != NULL)
        n++;
    assert_int_equal(n, TERN_NETBUF_COUNT);
    uint32_t nobufs = tern_stack_counters(w->n.b)->eth_rx_nobufs;
    assert_int_equal(ping(w, 64), TERN_OK);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 100u);
    assert_int_equal(w->pg.replies, 1);
    assert_int_equal(tern_vwire_stats(&w->n.wire, 0)->rx_nobufs, 1);
    assert_int_equal(tern_stack_counters(w->n.b)->eth_rx_nobufs, nobufs + 1u);
    for (unsigned i = 0; i < n; i++)
        tern_netbuf_release(&w->n.b->netbufs, held[i]);

    assert_int_equal(ping(w, 64), TERN_OK);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 100u);
    assert_int_equal(w->pg.replies, 2);
    check_baseline(w);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perfect_wire_answers_every_ping),
        cmocka_unit_test(test_reordering_and_duplicates_without_loss),
        cmocka_unit_test(test_lossy_wire_is_deterministic),
        cmocka_unit_test(test_buffer_ownership_in_flight),
        cmocka_unit_test(test_receiver_without_buffers_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
