/* TERN_TEST_STATIC_VARIANT */
/* What an idle established TCP connection costs on the sockets API (issue
 * #5), read from the ledger and the heap: active (tern_socket +
 * tern_connect) and passive (accepted from a listener). Each must be one
 * block, charged to the socket's id in the SOCKET category, of exactly
 * sizeof(struct tern_tcp_pcb) + SOCKET_SIZE_TCP bytes (the layout's formula
 * on this host) and the heap's per-block overhead on top, so that a new
 * field or an extra allocation shows here; socket_internal.h asserts the
 * same formula within 256 bytes on 32-bit targets. Also: where the block
 * goes over a connection's life (graceful close to owner 0, freed at the
 * end; a reset leaves it to the socket), and allocation failures at
 * tern_socket, tern_listen and tern_accept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"
#include "socket/socket_internal.h"

#define PORT 7000u

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t n;
} world_t;

static world_t *world_new(void)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->pa, 11);
    tern_test_port_init(&w->pb, 12);
    wire2_init(&w->n, 5, NULL, &w->pa.port, &w->pb.port);
    wire2_set_timewait(&w->n, 1000);
    return w;
}

static void world_free(world_t *w)
{
    wire2_deinit(&w->n);
    free(w);
}

static void run(world_t *w, uint32_t ms)
{
    wire2_run(&w->n, ms);
}

/* The layout's formula on this host. */
static size_t block_bytes(void)
{
    return sizeof(struct tern_tcp_pcb) + SOCKET_SIZE_TCP;
}

static size_t block_gross(void)
{
    return ((block_bytes() + TERN_HEAP_ALIGN - 1u) & ~(size_t)(TERN_HEAP_ALIGN - 1u)) + TERN_HEAP_HEADER;
}

typedef struct snap {
    size_t socket_bytes, rx, tx, overhead, heap_used;
    uint32_t socket_blocks;
} snap_t;

static void snap(const tern_stack_t *st, snap_t *s)
{
    const tern_ledger_category_stats_t *c = tern_ledger_category(&st->ledger, TERN_MEM_SOCKET);
    s->socket_bytes = c->bytes;
    s->socket_blocks = c->blocks;
    s->rx = tern_ledger_category(&st->ledger, TERN_MEM_TCP_STREAM_RX)->bytes;
    s->tx = tern_ledger_category(&st->ledger, TERN_MEM_TCP_STREAM_TX)->bytes;
    s->overhead = tern_ledger_overhead(&st->ledger);
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&st->ledger, &hs); /* the heap's or the pools' */
    s->heap_used = hs.used;
    assert_int_equal(tern_ledger_verify(&st->ledger), TERN_OK);
}

/* One more block of the formula's size than at base, nothing else. */
static void assert_one_block_more(const tern_stack_t *st, const snap_t *base)
{
    snap_t now;
    snap(st, &now);
    assert_int_equal(now.socket_blocks, base->socket_blocks + 1u);
    assert_int_equal(now.socket_bytes, base->socket_bytes + block_bytes());
    assert_int_equal(now.overhead, base->overhead + (block_gross() - block_bytes()));
    assert_int_equal(now.heap_used, base->heap_used + block_gross());
    assert_int_equal(now.rx, base->rx);
    assert_int_equal(now.tx, base->tx);
}

static int sock_state(tern_stack_t *st, int id)
{
    tern_socket_info_t rows[8];
    size_t n = tern_socket_list(st, rows, 8);
    for (size_t i = 0; i < n && i < 8u; i++)
        if (rows[i].id == id)
            return rows[i].state;
    return -1;
}

/* The pools, ARP entries and TIME-WAIT table a first connection brings,
 * made to exist before a baseline: one connection, closed both ways, run
 * past TIME-WAIT. Returns B's listener. */
static int warm(world_t *w)
{
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_true(l > 0);
    tern_sockaddr_t at = {.addr = 0, .port = PORT};
    assert_int_equal(tern_bind(w->n.b, l, &at), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 2), TERN_OK);
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    int p = tern_accept(w->n.b, l, NULL);
    assert_true(p > 0);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, p), TERN_OK);
    run(w, 3000);
    return l;
}

/* Active and passive: an idle established connection is one block of the
 * formula's size, all of it charged to the socket's id. */
static void test_idle_connection_cost(void **state)
{
    (void)state;
    world_t *w = world_new();
    int l = warm(w);
    snap_t a0, b0;
    snap(w->n.a, &a0);
    snap(w->n.b, &b0);
    size_t l_owner = tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l);

    /* Active: the block exists from tern_socket on (SOCKET, owner = id). */
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(c > 0);
    assert_one_block_more(w->n.a, &a0);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)c), block_bytes());
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    assert_int_equal(sock_state(w->n.a, c), TERN_TCP_ESTABLISHED);
    assert_one_block_more(w->n.a, &a0);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)c), block_bytes());

    /* Passive: while queued, a bare connection structure is the
     * listener's; tern_accept moves it into the new socket's block. */
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l), l_owner + sizeof(struct tern_tcp_pcb));
    tern_sockaddr_t peer;
    int p = tern_accept(w->n.b, l, &peer);
    assert_true(p > 0);
    assert_int_equal(peer.addr, W2_IP_A);
    assert_int_equal(sock_state(w->n.b, p), TERN_TCP_ESTABLISHED);
    assert_one_block_more(w->n.b, &b0);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)p), block_bytes());
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l), l_owner);

    /* Idle for a while (keep-alive off): nothing grows. */
    run(w, 5000);
    assert_one_block_more(w->n.a, &a0);
    assert_one_block_more(w->n.b, &b0);
    print_message("idle TCP socket on this host: %zu bytes (%zu gross), pcb %zu + socket %zu\n", block_bytes(),
                  block_gross(), sizeof(struct tern_tcp_pcb), (size_t)SOCKET_SIZE_TCP);
    world_free(w);
}

/* The block's life: the socket's while open; owner 0 from a graceful
 * close until the connection ends (TIME-WAIT is a table entry); freed then. */
static void test_life_cycle(void **state)
{
    (void)state;
    world_t *w = world_new();
    int l = warm(w);
    snap_t a0, b0;
    snap(w->n.a, &a0);
    snap(w->n.b, &b0);
    size_t a_stack = tern_ledger_owner_bytes(&w->n.a->ledger, TERN_OWNER_STACK);
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    int p = tern_accept(w->n.b, l, NULL);
    assert_true(p > 0);
    /* Data both ways brings the rings, charged to the same owner. */
    assert_int_equal(tern_send(w->n.a, c, "ping", 4, 0), 4);
    run(w, 50);
    char buf[8];
    assert_int_equal(tern_recv(w->n.b, p, buf, sizeof buf, 0), 4);
    snap_t now;
    snap(w->n.a, &now);
    assert_int_equal(now.tx, a0.tx + TERN_TCP_SNDBUF);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)c), block_bytes() + TERN_TCP_SNDBUF);
    /* A closes first: its block is the stack's until TIME-WAIT, where only
     * the table entry remains. */
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)c), 0);
    assert_true(tern_ledger_owner_bytes(&w->n.a->ledger, TERN_OWNER_STACK) >= a_stack + block_bytes());
    run(w, 50);
    assert_int_equal(tern_recv(w->n.b, p, buf, sizeof buf, 0), 0); /* EOF */
    assert_int_equal(tern_close(w->n.b, p), TERN_OK);
    run(w, 50);
    snap(w->n.a, &now);
    assert_int_equal(now.socket_bytes, a0.socket_bytes);
    assert_int_equal(now.heap_used, a0.heap_used);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, TERN_OWNER_STACK), a_stack);
    snap(w->n.b, &now);
    assert_int_equal(now.socket_bytes, b0.socket_bytes);
    assert_int_equal(now.heap_used, b0.heap_used);

    /* Reset under the socket: the block stays the socket's (its state says
     * why), without rings; tern_close frees it. */
    c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    p = tern_accept(w->n.b, l, NULL);
    assert_true(p > 0);
    assert_int_equal(tern_send(w->n.a, c, "x", 1, 0), 1);
    assert_int_equal(tern_setsockopt(w->n.b, p, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, p), TERN_OK); /* RST */
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_one_block_more(w->n.a, &a0);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.a->ledger, (unsigned)c), block_bytes());
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    snap(w->n.a, &now);
    assert_int_equal(now.socket_bytes, a0.socket_bytes);
    assert_int_equal(now.heap_used, a0.heap_used);
    world_free(w);
}

/* Every allocation of tern_socket, tern_listen and tern_accept failing in
 * turn: the call reports TERN_ERR_NOMEM, nothing leaks, and a retry works
 * (a connection waiting for accept stays queued). */
static void test_alloc_failures(void **state)
{
    (void)state;
    world_t *w = world_new();
    int l0 = warm(w);
    assert_int_equal(tern_close(w->n.b, l0), TERN_OK);
    snap_t b0;
    snap(w->n.b, &b0);
    /* tern_socket: one allocation. */
    tern_ledger_fail_nth(&w->n.b->ledger, 1, 0);
    assert_int_equal(tern_socket(w->n.b, TERN_SOCK_STREAM), TERN_ERR_NOMEM);
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_true(l > 0);
    /* tern_listen: the queue. */
    tern_ledger_fail_nth(&w->n.b->ledger, 1, 0);
    assert_int_equal(tern_listen(w->n.b, l, 1), TERN_ERR_NOMEM);
    assert_one_block_more(w->n.b, &b0);
    tern_sockaddr_t at = {.addr = 0, .port = PORT};
    assert_int_equal(tern_bind(w->n.b, l, &at), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 1), TERN_OK);
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    /* tern_accept: the new socket's block; the connection stays queued. */
    tern_ledger_fail_nth(&w->n.b->ledger, 1, 0);
    assert_int_equal(tern_accept(w->n.b, l, NULL), TERN_ERR_NOMEM);
    tern_ledger_fail_nth(&w->n.b->ledger, 0, 0);
    tern_pollfd_t pf = {l, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(w->n.b, &pf, 1, 0), 1);
    int p = tern_accept(w->n.b, l, NULL);
    assert_true(p > 0);
    assert_int_equal(sock_state(w->n.b, p), TERN_TCP_ESTABLISHED);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)p), block_bytes());
    assert_int_equal(tern_send(w->n.b, p, "ok", 2, 0), 2);
    run(w, 50);
    char buf[4];
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 2);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_connection_cost),
        cmocka_unit_test(test_life_cycle),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
