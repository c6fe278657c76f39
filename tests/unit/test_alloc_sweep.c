/* TERN_TEST_STATIC_VARIANT */
/* Allocation-failure sweep (SQLite's discipline): run a scenario once to
 * count the allocations each stack makes, then once per allocation with
 * exactly that one failing. Every run must end without a crash, with the
 * error reaching the application where one is due, and with both stacks'
 * memory back at baseline (ledger verified, buffers free, heap as before).
 *
 * Scenario here: two stacks on the virtual wire; A resolves B with ARP and
 * pings it with several sizes (with the HEAP buffer scheme every packet is
 * an allocation; with STATIC there are none after init, and the sweep
 * proves that). Later layers add their scenarios to this file. */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "wire2.h"
#include "frames.h"

#define IP_A TERN_IP4(192, 0, 2, 10)
#define IP_B TERN_IP4(192, 0, 2, 11)
#define MASK TERN_IP4(255, 255, 255, 0)

typedef struct world {
    tern_test_port_t port_a, port_b;
    wire2_t n;
    size_t used_a, used_b;
    unsigned replies;
} world_t;

static void on_reply(void *ctx, tern_ip4_t from, uint16_t id, uint16_t seq, const uint8_t *data, size_t len,
                     uint32_t now)
{
    (void)from, (void)id, (void)seq, (void)data, (void)len, (void)now;
    ((world_t *)ctx)->replies++;
}

static world_t *world_new(void)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->port_a, 11);
    tern_test_port_init(&w->port_b, 12);
    w->port_a.quiet = w->port_b.quiet = 1;
    tern_vwire_params_t p = {.delay_ms = 1};
    wire2_plug(&w->n, 5, &p, &w->port_a.port, &w->port_b.port);
    tern_ping_set_handler(w->n.a, on_reply, w);
    /* Baseline after init, before the scenario's own allocations. */
    w->used_a = wire_heap_used(w->n.a);
    w->used_b = wire_heap_used(w->n.b);
    return w;
}

/* The scenario: addresses (gratuitous ARP), resolution, pings. Returns the
 * number of ping_send calls that reported an error; checks each error is
 * one an application can expect. */
static unsigned scenario(world_t *w)
{
    static const uint16_t sizes[] = {0, 56, 100, 1000, 1472};
    static uint8_t data[1472];
    unsigned errors = 0;
    tern_netif_set_addr(&w->n.nif_a, IP_A, MASK, 0);
    tern_netif_set_addr(&w->n.nif_b, IP_B, MASK, 0);
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 100u);
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(data, (int)i, sizes[i]);
        int r = tern_ping_send(w->n.a, IP_B, 7, (uint16_t)i, data, sizes[i]);
        if (r != TERN_OK) {
            assert_true(r == TERN_ERR_NOBUFS || r == TERN_ERR_NOMEM);
            errors++;
        }
        tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 50u);
    }
    /* Let ARP retries, queued packets and stragglers finish. */
    tern_vwire_run(&w->n.wire, tern_vwire_now(&w->n.wire) + 30000u);
    return errors;
}

static void world_check_and_free(world_t *w)
{
    assert_int_equal(tern_vwire_pending(&w->n.wire), 0);
    for (int i = 0; i < 2; i++) {
        tern_stack_t *s = i ? w->n.b : w->n.a;
        assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
        assert_int_equal(tern_netbuf_free_count(&s->netbufs), TERN_NETBUF_COUNT);
        assert_int_equal(wire_heap_used(s), i ? w->used_b : w->used_a);
        assert_int_equal(s->netbufs.bad_releases, 0);
    }
    assert_int_equal(w->port_a.asserts + w->port_b.asserts, 0);
    tern_ping_set_handler(w->n.a, NULL, NULL);
    wire2_deinit(&w->n);
    free(w);
}

static void test_sweep_arp_and_ping(void **state)
{
    (void)state;
    /* Count. */
    world_t *w = world_new();
    uint32_t a0 = tern_ledger_attempts(&w->n.a->ledger), b0 = tern_ledger_attempts(&w->n.b->ledger);
    assert_int_equal(scenario(w), 0);
    assert_int_equal(w->replies, 5);
    uint32_t na = tern_ledger_attempts(&w->n.a->ledger) - a0;
    uint32_t nb = tern_ledger_attempts(&w->n.b->ledger) - b0;
    world_check_and_free(w);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    assert_true(na >= 5 && nb >= 5); /* every packet is an allocation */
#else
    assert_int_equal(na + nb, 0); /* STATIC buffers: no allocation after init */
#endif
    print_message("sweep: %u allocations in A, %u in B\n", na, nb);
    /* Fail each one in turn. */
    unsigned failed_sends = 0;
    for (uint32_t side = 0; side < 2; side++) {
        uint32_t n = side ? nb : na;
        for (uint32_t k = 1; k <= n; k++) {
            w = world_new();
            tern_ledger_fail_nth(side ? &w->n.b->ledger : &w->n.a->ledger, k, 0);
            failed_sends += scenario(w);
            /* The failure happened, and only once. */
            const tern_ledger_t *l = side ? &w->n.b->ledger : &w->n.a->ledger;
            uint32_t fails = 0;
            for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
                fails += tern_ledger_category(l, (tern_mem_category_t)c)->failures;
            assert_int_equal(fails, 1);
            world_check_and_free(w);
        }
    }
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* Some of the injected failures hit A's own echo requests: ping_send
     * said so instead of pretending. */
    assert_true(failed_sends >= 1);
#endif
}

#if TERN_IP_REASSEMBLY
/* Reassembly's allocations (a block per datagram, grown per fragment): a
 * 1,208-byte echo in 3 fragments, a 3,008-byte one (answered in fragments)
 * in 3, and one overlapping. Every allocation fails once in turn: the
 * datagram is dropped and counted (reass_nomem), nothing leaks. */
static unsigned frag_scenario(net_fixture_t *f)
{
    static uint8_t data[3000], icmp[3100];
    memset(data, 0x3C, sizeof data);
    static const size_t sizes[] = {1200, 3000};
    unsigned replies = 0;
    for (unsigned s = 0; s < 2; s++) {
        size_t in = frame_icmp(icmp, 8, 0, 0x00090001u + s, data, sizes[s]);
        size_t step = in > 1500u ? 1480u : 400u;
        capnet_clear(&f->cn);
        for (size_t off = 0; off < in; off += step) {
            size_t n = in - off < step ? in - off : step;
            frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1, .id = (uint16_t)(50 + s),
                             .frag = (uint16_t)((off + n < in ? 0x2000u : 0u) | (off / 8u))};
            uint8_t fr[FRAME_MAX];
            size_t len = frame_ip_eth(fr, &ip, icmp + off, n);
            /* HEAP buffers: the frame's own buffer may be the failure. */
            int r = tern_input_copy(&f->stack, &f->cn.nif, fr, len, f->now);
            assert_true(r == TERN_OK || r == TERN_ERR_NOBUFS || r == TERN_ERR_NOMEM);
        }
        replies += f->cn.count != 0u;
    }
    tern_poll(&f->stack, f->now + TERN_IP_REASS_TIMEOUT_MS);
    return replies;
}

static void test_sweep_reassembly(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(21);
    net_fixture_learn_peer(f);
    mem_snapshot(&f->stack, &f->base);
    uint32_t a0 = tern_ledger_attempts(&f->stack.ledger);
    assert_int_equal(frag_scenario(f), 2);
    uint32_t n = tern_ledger_attempts(&f->stack.ledger) - a0;
    mem_assert_baseline(&f->stack, &f->base);
    net_fixture_free(f);
    assert_true(n >= 6); /* one block and a growth per fragment at least */
    print_message("sweep: %u reassembly allocations\n", n);
    for (uint32_t k = 1; k <= n; k++) {
        f = net_fixture_new(21);
        net_fixture_learn_peer(f);
        mem_snapshot(&f->stack, &f->base);
        tern_ledger_fail_nth(&f->stack.ledger, k, 0);
        unsigned replies = frag_scenario(f);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_STATIC
        assert_true(replies <= 1u); /* the failure cost one datagram */
#else
        (void)replies; /* it may hit one fragment of a reply */
#endif
        /* The one failure: in reassembly it drops that datagram (counted);
         * in a network buffer (HEAP) it is the frame's or a reply's. */
        const tern_ledger_t *l = &f->stack.ledger;
        uint32_t fails = 0;
        for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
            fails += tern_ledger_category(l, (tern_mem_category_t)c)->failures;
        assert_int_equal(fails, 1);
        /* (HEAP: the buffer for a complete datagram counts there too.) */
        uint32_t nomem = f->stack.counters.ipv4_reass_nomem;
        assert_true(nomem <= 1u && nomem >= tern_ledger_category(l, TERN_MEM_IP_REASSEMBLY)->failures);
        mem_assert_baseline(&f->stack, &f->base);
        net_fixture_free(f);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_arp_and_ping),
#if TERN_IP_REASSEMBLY
        cmocka_unit_test(test_sweep_reassembly),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
