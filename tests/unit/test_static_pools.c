/* The static-only build (TERN_STATIC_ONLY, issue #16), on its own variant
 * (TERN_TEST_STATIC_ONLY: tern_core_static). Every category is served from
 * the fixed pools each module states (TERN_STATIC_POOL); no heap code is
 * linked at all.
 *
 *  - no tern_heap function in the program (weak references stay NULL);
 *  - the pools: one per allocation kind, carved out of the arena, their
 *    bytes the sum of their slots;
 *  - the ledger's books on pools: bytes, peak, blocks and owners exact,
 *    tern_ledger_verify rebuilding them from the slots, realloc within a
 *    slot and across slots, refusing a foreign pointer;
 *  - the workload the pools are sized for, driven to its worst case on the
 *    virtual wire (every socket slot used by TCP and UDP, every ring full
 *    both ways, TIME-WAIT entries): no allocation fails;
 *  - beyond it (a send ring larger than any slot, a socket block past the
 *    TCP sockets' pool): the call fails with TERN_ERR_NOMEM as on a full
 *    heap, counted in the category's failures, and the stack goes on.
 *
 * Broken on purpose once: pool_pick ignoring the category (any pool with a
 * free slot) made test_ledger_books and test_socket_pool_exhausted fail;
 * heap.c compiled in and the static tern_ledger_heap_stats calling
 * tern_heap_get_stats made test_no_heap_code fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/plan.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

/* TERN_TEST_STATIC_ONLY */

#if !TERN_STATIC_ONLY
#error "test_static_pools.c runs on the static-only variant only"
#endif

#define PORT 7300u
#define UDP_PORT 7400u

/* Linked only if something in the program uses the heap's code. */
extern void tern_heap_init(tern_heap_t *heap, const tern_port_t *port) __attribute__((weak));
extern void *tern_heap_alloc(tern_heap_t *heap, size_t size, uint32_t tag) __attribute__((weak));
extern int tern_heap_free(tern_heap_t *heap, void *ptr) __attribute__((weak));
extern void tern_heap_get_stats(const tern_heap_t *heap, tern_heap_stats_t *out) __attribute__((weak));

static void test_no_heap_code(void **state)
{
    (void)state;
    assert_null((void *)(uintptr_t)tern_heap_init);
    assert_null((void *)(uintptr_t)tern_heap_alloc);
    assert_null((void *)(uintptr_t)tern_heap_free);
    assert_null((void *)(uintptr_t)tern_heap_get_stats);
}

static tern_stack_t *stack_new(tern_test_port_t *tp, uint64_t seed)
{
    tern_test_port_init(tp, seed);
    tp->quiet = 1;
    tern_stack_t *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(tern_stack_init(s, &tp->port), TERN_OK);
    return s;
}

/* The pool serving cat with slots of exactly size bytes, or NULL. */
static const tern_pool_t *pool_find(const tern_stack_t *s, unsigned cat, size_t size)
{
    const tern_pool_t *p;
    for (unsigned i = 0; (p = tern_ledger_pool(&s->ledger, i)) != NULL; i++)
        if (p->cat == cat && p->def->size == size)
            return p;
    return NULL;
}

static void test_pools_carved(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 1);
    size_t sum = 0;
    const tern_pool_t *p;
    unsigned n = 0;
    for (; (p = tern_ledger_pool(&s->ledger, n)) != NULL; n++) {
        assert_true(p->def->count > 0u);
        assert_int_equal(p->stride % 8u, 0);
        assert_true(p->stride >= p->def->size + 8u);
        assert_int_equal(p->stride, TERN_PLAN_POOL_SLOT(p->def->size));
        sum += (size_t)p->stride * p->def->count;
    }
    assert_true(n >= 8u); /* socket, UDP socket, listen, pcb, TIME-WAIT, rings, ranges, ARP, ... */
    assert_int_equal(sum, tern_ledger_pool_bytes());
    assert_true(sum <= TERN_HEAP_SIZE);
    /* One pool per kind, each at its size and count (config.h's workload). */
    p = pool_find(s, TERN_MEM_TCP_STREAM_RX, TERN_TCP_RCVBUF);
    assert_non_null(p);
    assert_int_equal(p->def->count, TERN_STATIC_TCP_RX_RINGS);
    p = pool_find(s, TERN_MEM_TCP_STREAM_TX, TERN_TCP_SNDBUF);
    assert_non_null(p);
    assert_int_equal(p->def->count, TERN_STATIC_TCP_TX_RINGS);
    p = pool_find(s, TERN_MEM_ARP_CACHE, sizeof(tern_arp_entry_t) * TERN_ARP_CACHE_SIZE);
    assert_non_null(p);
    assert_int_equal(p->used, 1); /* taken at init */
    /* The memory report names the pools, and heap figures are the pools'. */
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&s->ledger, &hs);
    assert_int_equal(hs.total, sum);
    assert_int_equal(hs.used, p->stride);
    assert_int_equal(hs.used_blocks, 1);
    tern_stack_deinit(s);
    tern_ledger_heap_stats(&s->ledger, &hs);
    assert_int_equal(hs.used, 0);
    free(s);
}

static void test_ledger_books(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 2);
    tern_ledger_t *l = &s->ledger;
    const tern_ledger_category_stats_t *rx = tern_ledger_category(l, TERN_MEM_TCP_STREAM_RX);
    void *a = tern_mem_alloc(l, 100, TERN_MEM_TCP_STREAM_RX, 3);
    void *b = tern_mem_alloc(l, TERN_TCP_RCVBUF, TERN_MEM_TCP_STREAM_RX, 4);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(((uintptr_t)a | (uintptr_t)b) & 7u, 0);
    assert_int_equal(rx->bytes, 100u + TERN_TCP_RCVBUF);
    assert_int_equal(rx->blocks, 2);
    assert_int_equal(tern_ledger_owner_bytes(l, 3), 100);
    assert_int_equal(tern_mem_size(l, b), TERN_TCP_RCVBUF);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    /* No pool of the category, or no slot that large: refused, counted. */
    assert_null(tern_mem_alloc(l, 16, TERN_MEM_APPLICATION, 0));
    assert_int_equal(tern_ledger_category(l, TERN_MEM_APPLICATION)->failures, 1);
    assert_null(tern_mem_alloc(l, TERN_TCP_RCVBUF + 1u, TERN_MEM_TCP_STREAM_RX, 0));
    assert_int_equal(rx->failures, 1);
    /* realloc within its slot keeps the pointer; beyond every slot it fails
     * and the block stays as it was. */
    memset(a, 0x5A, 100);
    assert_ptr_equal(tern_mem_realloc(l, a, 200), a);
    assert_int_equal(rx->bytes, 200u + TERN_TCP_RCVBUF);
    assert_null(tern_mem_realloc(l, a, TERN_TCP_RCVBUF + 1u));
    assert_int_equal(rx->failures, 2);
    assert_int_equal(tern_mem_size(l, a), 200);
    assert_int_equal(((uint8_t *)a)[99], 0x5A);
    assert_int_equal(tern_mem_set_owner(l, a, 7), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(l, 7), 200);
    assert_int_equal(tern_ledger_owner_bytes(l, 3), 0);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    /* A pointer that is not a live slot is refused, the books untouched. */
    tern_test_expect_asserts(&tp, 2);
    assert_int_equal(tern_mem_free(l, (uint8_t *)a + 8), TERN_ERR_CORRUPT);
    assert_int_equal(tern_mem_free(l, &tp), TERN_ERR_CORRUPT);
    assert_int_equal(tern_mem_free(l, a), TERN_OK);
    assert_int_equal(tern_mem_free(l, b), TERN_OK);
    assert_int_equal(rx->bytes, 0);
    assert_int_equal(rx->peak_bytes, 200u + TERN_TCP_RCVBUF);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_stack_deinit(s);
    free(s);
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

static uint32_t failures(const tern_stack_t *s)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < TERN_MEM_CATEGORY_COUNT; i++)
        n += tern_ledger_category(&s->ledger, (tern_mem_category_t)i)->failures;
    return n;
}

/* The worst case the pools are sized for, then one step beyond it. */
static void test_worst_case_and_beyond(void **state)
{
    (void)state;
    tern_test_port_t pa, pb;
    tern_test_port_init(&pa, 11);
    tern_test_port_init(&pb, 12);
    pa.quiet = pb.quiet = 1;
    wire2_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    wire2_init(w, 13, NULL, &pa.port, &pb.port);
    wire2_set_timewait(w, 500);
    tern_stack_t *a = w->a, *b = w->b;
    /* B: a listener and a UDP socket; A: a UDP socket; every other socket
     * slot of both stacks a TCP connection. */
    enum { CONNS = TERN_SOCKET_MAX - 2 };
    int ca[CONNS], cb[CONNS];
    int ua = tern_socket(a, TERN_SOCK_DGRAM), ub = tern_socket(b, TERN_SOCK_DGRAM);
    assert_true(ua > 0 && ub > 0);
    tern_sockaddr_t uat = {.addr = 0, .port = UDP_PORT};
    assert_int_equal(tern_bind(b, ub, &uat), TERN_OK);
    int l = tern_socket(b, TERN_SOCK_STREAM);
    assert_true(l > 0);
    tern_sockaddr_t at = {.addr = 0, .port = PORT};
    assert_int_equal(tern_bind(b, l, &at), TERN_OK);
    assert_int_equal(tern_listen(b, l, TERN_TCP_BACKLOG_MAX), TERN_OK);
    for (int i = 0; i < CONNS; i++) {
        ca[i] = tern_socket(a, TERN_SOCK_STREAM);
        assert_true(ca[i] > 0);
        tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
        assert_int_equal(tern_connect(a, ca[i], &to), TERN_ERR_INPROGRESS);
        wire2_run(w, 20);
        cb[i] = tern_accept(b, l, NULL);
        assert_true(cb[i] > 0);
    }
    /* B's socket table is full. */
    assert_true(tern_socket(b, TERN_SOCK_STREAM) < 0);
    /* Every ring full both ways, datagrams queued on B. */
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < CONNS; i++) {
            fill_send(a, ca[i]);
            fill_send(b, cb[i]);
        }
        static const uint8_t dgram[512];
        tern_sockaddr_t to = {.addr = W2_IP_B, .port = UDP_PORT};
        assert_int_equal(tern_sendto(a, ua, dgram, sizeof dgram, 0, &to), (int)sizeof dgram);
        wire2_run(w, 300);
    }
    const tern_ledger_category_stats_t *rxa = tern_ledger_category(&a->ledger, TERN_MEM_TCP_STREAM_RX);
    const tern_ledger_category_stats_t *txb = tern_ledger_category(&b->ledger, TERN_MEM_TCP_STREAM_TX);
    assert_int_equal(rxa->blocks, CONNS);
    assert_int_equal(rxa->bytes, (size_t)CONNS * TERN_TCP_RCVBUF);
    assert_int_equal(txb->blocks, CONNS);
    assert_int_equal(failures(a), 0);
    assert_int_equal(failures(b), 0);
    assert_int_equal(tern_ledger_verify(&a->ledger), TERN_OK);
    assert_int_equal(tern_ledger_verify(&b->ledger), TERN_OK);

    /* Everything read, A closes first: its connections end in TIME-WAIT,
     * B's close in the background (their blocks outlive the sockets). */
    for (int i = 0; i < CONNS; i++) {
        for (int round = 0; round < 10; round++) {
            drain(a, ca[i]);
            drain(b, cb[i]);
            wire2_run(w, 20);
        }
        assert_int_equal(tern_close(a, ca[i]), TERN_OK);
    }
    wire2_run(w, 200);
    for (int i = 0; i < CONNS; i++)
        assert_int_equal(tern_close(b, cb[i]), TERN_OK);
    wire2_run(w, 1000);
    assert_int_equal(failures(a), 0);
    assert_int_equal(failures(b), 0);

    /* Beyond the plan: a send ring larger than any slot. tern_send fails
     * as on a full heap, TCP_STREAM_TX counts it, the connection lives. */
    int c = tern_socket(a, TERN_SOCK_STREAM);
    assert_true(c > 0);
    assert_int_equal(tern_setsockopt(a, c, TERN_SO_SNDBUF, 2u * TERN_TCP_SNDBUF), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(a, c, &to), TERN_ERR_INPROGRESS);
    wire2_run(w, 20);
    int cc = tern_accept(b, l, NULL);
    assert_true(cc > 0);
    const tern_ledger_category_stats_t *txa = tern_ledger_category(&a->ledger, TERN_MEM_TCP_STREAM_TX);
    uint32_t before = txa->failures;
    static const uint8_t msg[100];
    assert_int_equal(tern_send(a, c, msg, sizeof msg, TERN_MSG_DONTWAIT), TERN_ERR_NOMEM);
    assert_int_equal(txa->failures, before + 1u);
    assert_int_equal(tern_send(b, cc, msg, sizeof msg, TERN_MSG_DONTWAIT), (int)sizeof msg); /* the other way works */
    wire2_run(w, 50);
    uint8_t buf[200];
    assert_int_equal(tern_recv(a, c, buf, sizeof buf, TERN_MSG_DONTWAIT), (int)sizeof msg);
    assert_int_equal(tern_ledger_verify(&a->ledger), TERN_OK);
    wire2_deinit(w);
    free(w);
}

/* A socket block past its pool: the SOCKET pools exhausted directly (the
 * socket table stops tern_socket first), refused and counted. */
static void test_socket_pool_exhausted(void **state)
{
    (void)state;
    tern_test_port_t tp;
    tern_stack_t *s = stack_new(&tp, 3);
    tern_ledger_t *l = &s->ledger;
    const tern_ledger_category_stats_t *sock = tern_ledger_category(l, TERN_MEM_SOCKET);
    /* The largest SOCKET slot: the TCP socket block. */
    size_t big = 0;
    uint32_t slots = 0;
    const tern_pool_t *p;
    for (unsigned i = 0; (p = tern_ledger_pool(l, i)) != NULL; i++)
        if (p->cat == TERN_MEM_SOCKET && p->def->size >= big) {
            slots = p->def->size == big ? slots + p->def->count : p->def->count;
            big = p->def->size;
        }
    void *held[TERN_SOCKET_MAX + TERN_STATIC_TCP_CLOSING + 8];
    assert_true(slots <= sizeof held / sizeof held[0]);
    for (uint32_t i = 0; i < slots; i++)
        assert_non_null(held[i] = tern_mem_alloc(l, big, TERN_MEM_SOCKET, 1));
    assert_null(tern_mem_alloc(l, big, TERN_MEM_SOCKET, 1));
    assert_int_equal(sock->failures, 1);
    assert_int_equal(sock->blocks, slots);
    for (uint32_t i = 0; i < slots; i++)
        assert_int_equal(tern_mem_free(l, held[i]), TERN_OK);
    assert_non_null(held[0] = tern_mem_alloc(l, big, TERN_MEM_SOCKET, 1));
    assert_int_equal(tern_mem_free(l, held[0]), TERN_OK);
    assert_int_equal(tern_ledger_verify(l), TERN_OK);
    tern_stack_deinit(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_heap_code),
        cmocka_unit_test(test_pools_carved),
        cmocka_unit_test(test_ledger_books),
        cmocka_unit_test(test_socket_pool_exhausted),
        cmocka_unit_test(test_worst_case_and_beyond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
