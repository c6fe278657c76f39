/* The memory planner proved on the virtual wire (issue #16): scenarios,
 * each planned with tern_plan_compute() from this build's own size table
 * and then driven to its worst case between two stacks (every connection's
 * rings full both ways, the UDP queues full, the connections closed into
 * TIME-WAIT). For each stack, with its own workload:
 *   measured peak of each ledger category == planned bytes, exactly;
 *   NETWORK_BUFFER (HEAP scheme): exact on the receiver of a UDP-only
 *   scenario (its full queues); elsewhere frames in flight depend on
 *   timing, so the plan is a bound (the pool's other buffers, each with a
 *   largest frame) and measured <= planned;
 *   heap peak in use <= the plan's heap_need, and with the heap grown to
 *   the plan's heap_total, min-ever-free >= the planned margin.
 * A difference prints the per-category table and fails. Runs on both
 * variants (STATIC and HEAP network buffers), and each scenario in
 * zero-copy or copy driver mode.
 *
 * Broken on purpose once: TERN_PLAN_GROSS_X without the header term made
 * every scenario fail its heap_need check (heap peak above plan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/plan.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/tcp.h"
#include "tern_test.h"
#include "wire2.h"

#define PORT 7100u
#define UDP_PORT 7200u

typedef struct scenario {
    const char *name;
    int copy_mode;     /* driver: 0 zero-copy RX/TX, 1 copy */
    uint32_t conns;    /* TCP connections A -> B ... */
    uint32_t rcvbuf, sndbuf; /* ... with these rings (0: the defaults) ... */
    int busy;          /* ... 1: filled both ways, 0: idle */
    uint32_t idle;     /* more connections, idle, default rings */
    uint32_t backlog;  /* B's listener backlog */
    uint32_t udp;      /* UDP sockets on B ... */
    uint32_t udp_depth; /* ... each with a full queue of this many ... */
    uint32_t udp_len;  /* ... datagrams of this size */
    int lossy;         /* 1: loss and reordering while the rings fill (out-of-order ranges in use) */
} scenario_t;

/* The seed's scenarios and the rest (sizes in the host build's layout;
 * ring sizes and counts as the boards use them). */
static const scenario_t scenarios[] = {
    {"seed: web server, 4 connections (mps2 rings 4380)", 0, 4, 4380, 4380, 1, 0, 4, 0, 0, 0, 0},
    {"seed: web server, 4 connections, copy driver", 1, 4, 4380, 4380, 1, 0, 4, 0, 0, 0, 0},
    {"64 KB board: service rings 2048/2920", 0, 3, 2048, 2920, 1, 0, 4, 3, 1, 64, 0},
    {"64 KB board: dashboard rings 1024/1460", 0, 2, 1024, 1460, 1, 0, 2, 0, 0, 0, 0},
    {"64 KB board: services and dashboard, copy driver", 1, 3, 2048, 2920, 1, 2, 4, 3, 1, 64, 0},
    {"many idle connections", 0, 0, 0, 0, 0, 14, 8, 0, 0, 0, 0},
    {"many idle connections, copy driver", 1, 0, 0, 0, 0, 14, 8, 0, 0, 0, 0},
    {"idle and busy mixed", 0, 4, 0, 0, 1, 8, 8, 0, 0, 0, 0},
    {"UDP-heavy: 3 sockets x 4 full-size datagrams", 0, 0, 0, 0, 0, 0, 0, 3, 4, 1472, 0},
    {"UDP-heavy, copy driver", 1, 0, 0, 0, 0, 0, 0, 3, 4, 1472, 0},
    {"UDP: 6 sockets x 2 small datagrams", 0, 0, 0, 0, 0, 0, 0, 6, 2, 32, 0},
    {"UDP: 1 socket x 12 datagrams", 0, 0, 0, 0, 0, 0, 0, 1, 12, 512, 0},
    {"one connection, default rings", 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0},
    {"one connection, small rings 536", 0, 1, 536, 536, 1, 0, 1, 0, 0, 0, 0},
    {"one connection, odd rings 1000/3001", 0, 1, 1000, 3001, 1, 0, 1, 0, 0, 0, 0},
    {"one connection, large rings 16384", 0, 1, 16384, 16384, 1, 0, 1, 0, 0, 0, 0},
    {"two large connections, copy driver", 1, 2, 8192, 8192, 1, 0, 2, 0, 0, 0, 0},
    {"eight busy connections", 0, 8, 2048, 2048, 1, 0, 8, 0, 0, 0, 0},
    {"TCP and UDP together", 0, 4, 2048, 2048, 1, 4, 8, 2, 3, 256, 0},
    {"TCP and UDP together, copy driver", 1, 4, 2048, 2048, 1, 4, 8, 2, 3, 256, 0},
    {"listener only", 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0},
    {"UDP socket, nothing queued", 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
    {"lossy wire: out-of-order ranges in use, 4 connections", 0, 4, 8192, 8192, 1, 0, 4, 0, 0, 0, 1},
    {"lossy wire, copy driver", 1, 2, 4380, 4380, 1, 2, 4, 1, 2, 200, 1},
};

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t n;
    void *extra[2];
} world_t;

/* NETWORK_BUFFER is planned exactly on a side whose buffers are only its
 * full UDP queues (the passive side of a UDP-only scenario); elsewhere the
 * plan is a bound. */
static int netbuf_bound(const scenario_t *sc, int active)
{
    return active || sc->conns + sc->idle != 0u || sc->udp * sc->udp_depth == 0u;
}

/* The plan of one side: active 1 for A (connects, sends), else B. */
static void workload_of(const scenario_t *sc, int active, tern_plan_workload_t *w)
{
    memset(w, 0, sizeof *w);
    unsigned k = 0;
    if (sc->conns) {
        w->tcp[k].count = sc->conns;
        w->tcp[k].rcvbuf = sc->rcvbuf;
        w->tcp[k].sndbuf = sc->sndbuf;
        w->tcp[k].rx = w->tcp[k].tx = (uint8_t)sc->busy;
        k++;
    }
    if (sc->idle)
        w->tcp[k].count = sc->idle;
    if (active) {
        w->udp_sockets = sc->udp ? 1u : 0u; /* the sender */
    } else {
        w->tcp_listeners = sc->backlog ? 1u : 0u;
        w->tcp_backlog = sc->backlog;
        /* Each connection waits alone for tern_accept; the last accept
         * holds the waiting structure and the new socket's block at once. */
        w->tcp_pending = sc->conns + sc->idle ? 1u : 0u;
        w->udp_sockets = sc->udp;
        w->udp_queued = sc->udp * sc->udp_depth;
        w->udp_datagram = sc->udp_len;
    }
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* Frames in flight (segments, a datagram being sent, ARP) depend on
     * timing: the bound, every other buffer holding a largest frame. */
    if (netbuf_bound(sc, active))
        w->netbufs = TERN_NETBUF_COUNT - w->udp_queued;
#endif
}

/* Grow s's heap to the plan's heap_total when the arena is smaller (the
 * test's 48 KB host arena), so the margin check means what it says. */
static void grow_heap(world_t *w, int i, tern_stack_t *s, const tern_plan_t *p)
{
    uint64_t have = TERN_PLAN_HEAP_USABLE(TERN_HEAP_SIZE);
    if (p->heap_total <= have)
        return;
    size_t more = (size_t)(p->heap_total - have) + 2u * TERN_HEAP_HEADER + TERN_HEAP_ALIGN;
    w->extra[i] = calloc(1, more);
    assert_non_null(w->extra[i]);
    assert_int_equal(tern_heap_add_region(&s->heap, w->extra[i], more), TERN_OK);
}

static void fill_send(tern_stack_t *st, int s)
{
    static const uint8_t junk[1024];
    while (tern_send(st, s, junk, sizeof junk, TERN_MSG_DONTWAIT) > 0)
        ;
}

static void drain(tern_stack_t *st, int s)
{
    uint8_t buf[2048];
    while (tern_recv(st, s, buf, sizeof buf, TERN_MSG_DONTWAIT) > 0)
        ;
}

static void run(world_t *w, uint32_t ms)
{
    wire2_run(&w->n, ms);
}

/* Heap bytes (gross: header, rounding) per ledger category, from the
 * blocks themselves (the tag's category bits, src/mem/ledger.c). */
static int gross_walk(void *ctx, void *payload, size_t gross, int used, uint32_t tag)
{
    (void)payload;
    uint64_t *g = ctx;
    if (used)
        g[(tag >> 8) & 0x3Fu] += gross;
    return 0;
}

/* At the worst case itself, each category's blocks are exactly the plan's
 * blocks (heap sizes, header and rounding included), the waiting
 * connection of an accept aside; 0 when they match. */
static int check_gross(const char *scen, const char *side, const tern_stack_t *st, const scenario_t *sc, int active,
                       const tern_plan_sizes_t *sz)
{
    tern_plan_workload_t w;
    workload_of(sc, active, &w);
    w.tcp_pending = 0;
    tern_plan_t p;
    tern_plan_compute(sz, &w, &p);
    uint64_t g[64];
    memset(g, 0, sizeof g);
    assert_int_equal(tern_heap_walk(&st->heap, gross_walk, g), TERN_OK);
    int bad = 0;
    for (unsigned c = 0; c < TERN_MEM_APP_FIRST; c++)
        if (!(c == TERN_MEM_NETWORK_BUFFER && netbuf_bound(sc, active)) && g[c] != p.cat[c].gross)
            bad = 1;
    if (bad) {
        printf("heap blocks differ from the plan: %s, side %s\n%-16s %9s %9s %9s\n", scen, side, "category",
               "planned", "measured", "diff");
        for (unsigned c = 0; c < TERN_MEM_APP_FIRST; c++)
            printf("%-16s %9llu %9llu %9lld\n", tern_plan_cat_name(c), (unsigned long long)p.cat[c].gross,
                   (unsigned long long)g[c], (long long)g[c] - (long long)p.cat[c].gross);
    }
    return bad;
}

/* Compare one side; 0 when it matches. */
static int check_side(const char *scen, const char *side, const tern_stack_t *st, const tern_plan_t *p,
                      int netbuf_bound)
{
    int bad = 0;
    uint64_t measured[TERN_PLAN_CAT_COUNT];
    memset(measured, 0, sizeof measured);
    for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        const tern_ledger_category_stats_t *k = tern_ledger_category(&st->ledger, (tern_mem_category_t)c);
        unsigned pc = c;
        if (c >= TERN_MEM_APP_FIRST) {
            const char *label = tern_ledger_category_label(&st->ledger, (tern_mem_category_t)c);
            for (pc = TERN_MEM_APP_FIRST; pc < TERN_PLAN_CAT_COUNT; pc++)
                if (strcmp(label, tern_plan_cat_name(pc)) == 0)
                    break;
            if (pc == TERN_PLAN_CAT_COUNT) {
                if (k->peak_bytes != 0u)
                    bad = 1;
                continue;
            }
        }
        measured[pc] = k->peak_bytes;
    }
    for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++) {
        if (c == TERN_MEM_NETWORK_BUFFER && netbuf_bound) {
            if (measured[c] > p->cat[c].bytes)
                bad = 1;
        } else if (measured[c] != p->cat[c].bytes) {
            bad = 1;
        }
    }
    tern_heap_stats_t hs;
    tern_heap_get_stats(&st->heap, &hs);
    uint64_t peak = hs.total - hs.min_free;
    if (peak > p->heap_need)
        bad = 1;
    if (p->heap_total <= hs.total && hs.min_free < hs.total - p->heap_total + p->margin)
        bad = 1;
    if (bad) {
        printf("plan mismatch: %s, side %s\n%-16s %9s %9s %9s\n", scen, side, "category", "planned", "measured",
               "diff");
        for (unsigned c = 0; c < TERN_PLAN_CAT_COUNT; c++)
            printf("%-16s %9llu %9llu %9lld%s\n", tern_plan_cat_name(c), (unsigned long long)p->cat[c].bytes,
                   (unsigned long long)measured[c], (long long)measured[c] - (long long)p->cat[c].bytes,
                   c == TERN_MEM_NETWORK_BUFFER && netbuf_bound ? " (bound)" : "");
        printf("%-16s %9llu %9llu %9lld\n", "heap in use", (unsigned long long)p->heap_need,
               (unsigned long long)peak, (long long)peak - (long long)p->heap_need);
        printf("%-16s %9llu %9llu (heap %llu)\n", "margin/min free", (unsigned long long)p->margin,
               (unsigned long long)hs.min_free, (unsigned long long)hs.total);
    }
    return bad;
}

static int run_scenario(const tern_plan_sizes_t *sz, const scenario_t *sc, unsigned idx)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->pa, 100 + idx);
    tern_test_port_init(&w->pb, 200 + idx);
    w->pa.quiet = w->pb.quiet = 1;
    wire2_plug(&w->n, 300 + idx, NULL, &w->pa.port, &w->pb.port);
    if (sc->copy_mode)
        w->n.nif_a.caps = w->n.nif_b.caps = 0;
    tern_plan_workload_t wa, wb;
    tern_plan_t pa, pb;
    workload_of(sc, 1, &wa);
    workload_of(sc, 0, &wb);
    tern_plan_compute(sz, &wa, &pa);
    tern_plan_compute(sz, &wb, &pb);
    grow_heap(w, 0, w->n.a, &pa);
    grow_heap(w, 1, w->n.b, &pb);
    tern_netif_set_addr(&w->n.nif_a, W2_IP_A, W2_MASK, 0);
    tern_netif_set_addr(&w->n.nif_b, W2_IP_B, W2_MASK, 0);
    run(w, 1000);
    wire2_set_timewait(&w->n, 500);

    tern_stack_t *a = w->n.a, *b = w->n.b;
    int ca[32], cb[32], us[16];
    uint32_t n = sc->conns + sc->idle;
    int l = 0;
    /* Every socket exists at once at the worst case: the UDP ones first. */
    for (uint32_t i = 0; i < sc->udp; i++) {
        us[i] = tern_socket(b, TERN_SOCK_DGRAM);
        assert_true(us[i] > 0);
        tern_sockaddr_t at = {.addr = 0, .port = (uint16_t)(UDP_PORT + i)};
        assert_int_equal(tern_bind(b, us[i], &at), TERN_OK);
        if (sc->udp_depth)
            assert_int_equal(tern_setsockopt(b, us[i], TERN_SO_UDP_RXQ, sc->udp_depth), TERN_OK);
    }
    if (sc->backlog) {
        l = tern_socket(b, TERN_SOCK_STREAM);
        assert_true(l > 0);
        tern_sockaddr_t at = {.addr = 0, .port = PORT};
        assert_int_equal(tern_bind(b, l, &at), TERN_OK);
        /* Accepted connections take their ring sizes from the listener. */
        if (sc->rcvbuf) {
            assert_int_equal(tern_setsockopt(b, l, TERN_SO_RCVBUF, sc->rcvbuf), TERN_OK);
            assert_int_equal(tern_setsockopt(b, l, TERN_SO_SNDBUF, sc->sndbuf), TERN_OK);
        }
        assert_int_equal(tern_listen(b, l, (int)sc->backlog), TERN_OK);
    }
    for (uint32_t i = 0; i < n; i++) {
        ca[i] = tern_socket(a, TERN_SOCK_STREAM);
        assert_true(ca[i] > 0);
        if (i < sc->conns && sc->rcvbuf) {
            assert_int_equal(tern_setsockopt(a, ca[i], TERN_SO_RCVBUF, sc->rcvbuf), TERN_OK);
            assert_int_equal(tern_setsockopt(a, ca[i], TERN_SO_SNDBUF, sc->sndbuf), TERN_OK);
        }
        tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
        assert_int_equal(tern_connect(a, ca[i], &to), TERN_ERR_INPROGRESS);
        run(w, 20);
        cb[i] = tern_accept(b, l, NULL);
        assert_true(cb[i] > 0);
    }
    /* Full rings both ways: each side writes until nothing more fits and
     * nobody reads. */
    /* A lossy, reordering wire while they fill: receivers hold
     * out-of-order ranges (descriptors from the preallocated pool). */
    tern_vwire_params_t lossy = {.loss_ppm = 30000, .reorder_ppm = 100000, .reorder_ms = 5, .delay_ms = 1};
    if (sc->lossy)
        w->n.wire.side[0].params = w->n.wire.side[1].params = lossy;
    unsigned ooo_seen = 0;
    for (uint32_t i = 0; i < sc->conns && sc->busy; i++) {
        fill_send(a, ca[i]);
        fill_send(b, cb[i]);
    }
    for (int round = 0; round < 8 && sc->busy; round++) {
        for (int step = 0; step < 60; step++) {
            run(w, 5);
            tern_tcp_range_usage_t ua, ub;
            tern_tcp_range_usage(a, &ua);
            tern_tcp_range_usage(b, &ub);
            if (ua.in_use + ub.in_use > ooo_seen)
                ooo_seen = ua.in_use + ub.in_use;
        }
        for (uint32_t i = 0; i < sc->conns; i++) {
            fill_send(a, ca[i]);
            fill_send(b, cb[i]);
        }
    }
    if (sc->lossy) {
        assert_true(ooo_seen > 0u);
        memset(&w->n.wire.side[0].params, 0, sizeof lossy);
        memset(&w->n.wire.side[1].params, 0, sizeof lossy);
        run(w, 3000); /* the losses repaired */
    }
    /* Full UDP queues on B. */
    int s = 0;
    if (sc->udp) {
        s = tern_socket(a, TERN_SOCK_DGRAM);
        assert_true(s > 0);
        static const uint8_t payload[1472];
        for (uint32_t i = 0; i < sc->udp; i++)
            for (uint32_t d = 0; d < sc->udp_depth; d++) {
                tern_sockaddr_t to = {.addr = W2_IP_B, .port = (uint16_t)(UDP_PORT + i)};
                assert_int_equal(tern_sendto(a, s, payload, sc->udp_len, 0, &to), (int)sc->udp_len);
                run(w, 5);
            }
        run(w, 50);
        for (uint32_t i = 0; i < sc->udp; i++) {
            uint32_t q = 0;
            assert_int_equal(tern_getsockopt(b, us[i], TERN_SO_RXQ_LEN, &q), TERN_OK);
            assert_int_equal(q, sc->udp_depth);
        }
    }
    /* The worst case, now: every block as planned. */
    int bad = check_gross(sc->name, "A (active)", a, sc, 1, sz);
    bad |= check_gross(sc->name, "B (passive)", b, sc, 0, sz);
    if (s > 0)
        assert_int_equal(tern_close(a, s), TERN_OK);
    /* Then everything read, A closes first: TIME-WAIT entries on A. */
    for (uint32_t i = 0; i < n; i++) {
        for (int round = 0; round < 20; round++) {
            drain(a, ca[i]);
            drain(b, cb[i]);
            run(w, 20);
        }
        assert_int_equal(tern_close(a, ca[i]), TERN_OK);
    }
    run(w, 200);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(tern_close(b, cb[i]), TERN_OK);
    run(w, 100);

    bad |= check_side(sc->name, "A (active)", a, &pa, netbuf_bound(sc, 1));
    bad |= check_side(sc->name, "B (passive)", b, &pb, netbuf_bound(sc, 0));
    assert_int_equal(tern_ledger_verify(&a->ledger), TERN_OK);
    assert_int_equal(tern_ledger_verify(&b->ledger), TERN_OK);

    wire2_deinit(&w->n);
    free(w->extra[0]);
    free(w->extra[1]);
    free(w);
    return bad;
}

static void test_plan_scenarios(void **state)
{
    (void)state;
    tern_plan_sizes_t sz;
    assert_true(tern_plan_sizes_self(&sz) > 20u);
    /* The table is this build's: spot checks against the public headers. */
    assert_int_equal(sz.heap_header, TERN_HEAP_HEADER);
    assert_int_equal(sz.heap_min_block, TERN_HEAP_MIN_BLOCK);
    assert_int_equal(sz.heap_size, TERN_HEAP_SIZE);
    assert_int_equal(sz.stack, sizeof(tern_stack_t));
    assert_int_equal(sz.netbuf_scheme, TERN_NETBUF_SCHEME);
    unsigned count = (unsigned)(sizeof scenarios / sizeof scenarios[0]);
    assert_true(count >= 20u);
    int failed = 0;
    for (unsigned i = 0; i < count; i++)
        failed += run_scenario(&sz, &scenarios[i], i);
    assert_int_equal(failed, 0);
}

/* The compile-time form and the run-time one agree, and the heap's own
 * rounding is the plan's (a block of every size from 1 to 600). */
static void test_plan_gross_matches_heap(void **state)
{
    (void)state;
    static uint8_t arena[4096];
    for (size_t n = 1; n <= 600u; n++) {
        tern_heap_t h;
        tern_heap_init(&h, NULL);
        assert_int_equal(tern_heap_add_region(&h, arena, sizeof arena), TERN_OK);
        void *p = tern_heap_alloc(&h, n, 1);
        assert_non_null(p);
        assert_int_equal(tern_heap_block_size(&h, p), TERN_PLAN_GROSS(n));
    }
}

/* The adversary of the two-ended bound (docs/memory.md, "The fragmentation
 * bound"): a workload of 2k blocks of r bytes and one of L (r just over L/2,
 * both large: placed from the top) and an order chosen to fragment the
 * large side as badly as tern_heap allows. Each round takes an L block and a
 * separator below it, frees the L block and puts an r block in its hole:
 * the hole's rest, L - r, is too small for an r or an L block, and a
 * separator keeps it from joining the next hole. After k rounds the last L
 * block finds no hole and goes below them all. Returns the lowest address
 * a large block reached, from the top (the large side's footprint), or 0
 * when an allocation failed. */
static uint64_t adversary_run(const tern_plan_t *p, size_t l_req, size_t r_req, uint32_t k, size_t small_req)
{
    size_t arena_len = (size_t)p->heap_total + TERN_HEAP_HEADER;
    uint8_t *arena = aligned_alloc(TERN_HEAP_ALIGN, (arena_len + 7u) & ~(size_t)7u);
    assert_non_null(arena);
    tern_heap_t h;
    tern_heap_init(&h, NULL);
    assert_int_equal(tern_heap_add_region(&h, arena, arena_len), TERN_OK);
    uint8_t *top = arena + arena_len - TERN_HEAP_HEADER, *lowest = top;
    int ok = tern_heap_alloc(&h, small_req, 1) != NULL; /* the ARP cache, at init */
    for (uint32_t i = 0; i < k && ok; i++) {
        uint8_t *big = tern_heap_alloc(&h, l_req, 2);
        uint8_t *sep = tern_heap_alloc(&h, r_req, 3);
        ok = big != NULL && sep != NULL;
        if (!ok)
            break;
        if (sep - TERN_HEAP_HEADER < lowest)
            lowest = sep - TERN_HEAP_HEADER;
        assert_int_equal(tern_heap_free(&h, big), TERN_OK);
        uint8_t *ruin = tern_heap_alloc(&h, r_req, 4);
        assert_ptr_equal(ruin + r_req, big + l_req); /* the top of the hole */
    }
    uint8_t *last = ok ? tern_heap_alloc(&h, l_req, 5) : NULL;
    if (last != NULL && last - TERN_HEAP_HEADER < lowest)
        lowest = last - TERN_HEAP_HEADER;
    ok = ok && last != NULL;
    assert_int_equal(tern_heap_check(&h), TERN_OK);
    uint64_t footprint = ok ? (uint64_t)(top - lowest) : 0u;
    free(arena);
    return footprint;
}

static void test_plan_adversary(void **state)
{
    (void)state;
    tern_plan_sizes_t sz;
    tern_plan_sizes_self(&sz);
    assert_int_equal(sz.heap_large, TERN_HEAP_LARGE_BLOCK);
    if (sz.heap_large == 0u) /* plain first fit: the one-ended bound only */
        return;
    const uint32_t k = 8;
    size_t l_req = 4u * sz.heap_large - TERN_HEAP_HEADER;        /* gross 4T */
    size_t r_req = 2u * sz.heap_large + 8u - TERN_HEAP_HEADER;   /* gross 2T + 8: just over L / 2 */
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    w.app_blocks = 2u * k;
    w.app_block_bytes = (uint32_t)r_req;
    w.http_docs = 1;
    w.http_doc_bytes = (uint32_t)l_req;
    tern_plan_t p;
    tern_plan_compute(&sz, &w, &p);
    assert_int_equal(p.side_blocks[1], 2u * k + 1u);
    assert_int_equal(p.side_margin[1], (uint64_t)(2u * k) * (4u * sz.heap_large - 8u));
    assert_true(p.margin < p.margin_one_ended);
    size_t arp = (size_t)sz.arp_entry * sz.arp_cache_size;

    /* The bound holds: in a heap of the plan's total, nothing fails. */
    uint64_t footprint = adversary_run(&p, l_req, r_req, k, arp);
    assert_true(footprint > 0u);
    uint64_t frag = footprint - p.side_need[1];
    printf("adversary: large side %llu bytes for %llu planned: fragmentation %llu of the margin's %llu (%.0f%%)\n",
           (unsigned long long)footprint, (unsigned long long)p.side_need[1], (unsigned long long)frag,
           (unsigned long long)p.side_margin[1], 100.0 * (double)frag / (double)p.side_margin[1]);
    assert_true(footprint <= p.side_need[1] + p.side_margin[1]);
    /* ... and is not far from tight: this order wastes more than a fifth
     * of it (first fit's own limit for this shape is a quarter: each
     * wasted hole, L - r < r, needs two live r blocks). */
    assert_true(5u * frag > p.side_margin[1]);
    /* Without the margin the same order fails: the margin is needed. */
    tern_plan_t bare = p;
    bare.heap_total = p.heap_need;
    assert_int_equal(adversary_run(&bare, l_req, r_req, k, arp), 0u);
}

/* The HEAP scheme's bound (TERN_PLAN_NETBUF_BOUND, workload netbuf_bound):
 * with every buffer taken at a full frame, NETWORK_BUFFER holds exactly
 * the planned bytes and blocks, at the peak too; with the STATIC scheme the
 * category is empty and so is the plan's. */
static void test_plan_netbuf_bound(void **state)
{
    (void)state;
    tern_plan_sizes_t sz;
    tern_plan_sizes_self(&sz);
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    w.netbuf_bound = 1;
    w.udp_queued = 3; /* ignored: the bound covers the UDP queues too */
    w.udp_datagram = 100;
    tern_plan_t p;
    tern_plan_compute(&sz, &w, &p);
    const tern_plan_cat_t *pc = &p.cat[TERN_MEM_NETWORK_BUFFER];
    static tern_stack_t st;
    tern_test_port_t tp;
    tern_test_port_init(&tp, 1);
    assert_int_equal(tern_stack_init(&st, &tp.port), TERN_OK);
    static tern_netbuf_t *held[TERN_NETBUF_COUNT];
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++) {
        held[i] = tern_netbuf_get(&st.netbufs, TERN_NETBUF_FRAME_SIZE, 0);
        assert_non_null(held[i]);
    }
    const tern_ledger_category_stats_t *c = tern_ledger_category(&st.ledger, TERN_MEM_NETWORK_BUFFER);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    assert_int_equal(pc->bytes, TERN_PLAN_NETBUF_BOUND((uint64_t)TERN_NETBUF_FRAME_OFFSET, TERN_NETBUF_FRAME_SIZE,
                                                       (uint64_t)TERN_NETBUF_COUNT));
    assert_int_equal(pc->blocks, TERN_NETBUF_COUNT);
#else
    assert_int_equal(pc->bytes, 0);
#endif
    if (c->bytes != pc->bytes || c->peak_bytes != pc->bytes || c->blocks != pc->blocks)
        print_error("NETWORK_BUFFER: planned %llu bytes in %u blocks, measured %zu (peak %zu) in %u\n",
                    (unsigned long long)pc->bytes, pc->blocks, c->bytes, c->peak_bytes, c->blocks);
    assert_int_equal(c->bytes, pc->bytes);
    assert_int_equal(c->peak_bytes, pc->bytes);
    assert_int_equal(c->blocks, pc->blocks);
    /* Nothing more can be held: the bound is the pool's own limit. */
    assert_null(tern_netbuf_get(&st.netbufs, 64, 0));
    for (unsigned i = 0; i < TERN_NETBUF_COUNT; i++)
        tern_netbuf_release(&st.netbufs, held[i]);
    assert_int_equal(c->bytes, 0);
    tern_stack_deinit(&st);
}

/* The inverse question is the largest count that fits. */
static void test_plan_fit(void **state)
{
    (void)state;
    tern_plan_sizes_t sz;
    tern_plan_sizes_self(&sz);
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    w.tcp_listeners = 1;
    w.tcp_backlog = 4;
    tern_plan_tcp_shape_t sh = {0, 4380, 4380, 1, 1};
    uint32_t n = tern_plan_fit_connections(&sz, &w, &sh, 320u * 1024u, 1);
    assert_true(n > 0u);
    tern_plan_t p;
    w.tcp[0] = sh;
    w.tcp[0].count = n;
    tern_plan_compute(&sz, &w, &p);
    assert_true(p.heap_total <= 320u * 1024u);
    w.tcp[0].count = n + 1u;
    tern_plan_compute(&sz, &w, &p);
    assert_true(p.heap_total > 320u * 1024u);
    /* Without the margin, more fit, and the same way. */
    memset(&w.tcp[0], 0, sizeof w.tcp[0]);
    uint32_t m = tern_plan_fit_connections(&sz, &w, &sh, 320u * 1024u, 0);
    assert_true(m > n);
    w.tcp[0] = sh;
    w.tcp[0].count = m;
    tern_plan_compute(&sz, &w, &p);
    assert_true(p.heap_need <= 320u * 1024u);
    w.tcp[0].count = m + 1u;
    tern_plan_compute(&sz, &w, &p);
    assert_true(p.heap_need > 320u * 1024u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_gross_matches_heap),
        cmocka_unit_test(test_plan_fit),
        cmocka_unit_test(test_plan_netbuf_bound),
        cmocka_unit_test(test_plan_adversary),
        cmocka_unit_test(test_plan_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
