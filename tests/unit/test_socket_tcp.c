/* TERN_TEST_STATIC_VARIANT */
/* TCP sockets (include/tern/socket.h) between two tern stacks on the virtual
 * wire, on virtual time. Each stack's port has a wait hook that drives the
 * wire one virtual millisecond at a time until a wake-up or the timeout, so
 * blocking calls block for real (in virtual time) in one thread, and every
 * timeout is exact and repeatable.
 *
 * Covered: listen/accept/connect blocking and non-blocking (POLLOUT on
 * connect, POLLIN on a listener), send/recv with timeouts, recv 0 at EOF,
 * half-close both ways, RST during a transfer, connection refused, backlog
 * full, linger 0, unread data at close, options (ring sizes, Nagle,
 * keep-alive on virtual time), zero-copy spans (and a span that outlives a
 * reset), tern_socket_list, thousands of cycles with the ledger
 * byte-identical to its baseline, and an allocation-failure sweep over every
 * allocation of a connection's life on either side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

/* The static-only variant: the rings this file enlarges with an option
 * come from pools of their size (docs/memory.md, "Static-only build"). */
TERN_STATIC_POOL(test_rx_8000, TERN_MEM_TCP_STREAM_RX, 8000, 1);
TERN_STATIC_POOL(test_tx_6000, TERN_MEM_TCP_STREAM_TX, 6000, 1);

#define PORT 5000u

typedef struct world {
    wire2_vport_t pa, pb; /* A's and B's ports: waits drive the wire */
    wire2_t n;
    int hook_sock;
    uint64_t hook_bytes;
} world_t;

static world_t *world_new(uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    wire2_vport_init(&w->pa, &w->n, seed * 7u + 1u);
    wire2_vport_init(&w->pb, &w->n, seed * 7u + 2u);
    wire2_init(&w->n, seed, NULL, &w->pa.tp.port, &w->pb.tp.port);
    wire2_set_timewait(&w->n, 2000);
    return w;
}

/* Run on every virtual millisecond either stack's wait passes (NULL: none). */
static void world_hook(world_t *w, void (*hook)(void *ctx))
{
    w->pa.hook = w->pb.hook = hook;
    w->pa.hook_ctx = w->pb.hook_ctx = w;
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

static uint32_t vnow(const world_t *w)
{
    return wire2_now(&w->n);
}

/* ---- the ledger, byte for byte ------------------------------------------------ */

typedef struct books {
    size_t cat_bytes[TERN_MEM_CATEGORY_COUNT];
    uint32_t cat_blocks[TERN_MEM_CATEGORY_COUNT];
    size_t owner[TERN_LEDGER_OWNERS + 1];
    size_t overhead, heap_used, netbufs_free;
} books_t;

static void books_take(const tern_stack_t *s, books_t *b)
{
    memset(b, 0, sizeof *b);
    for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        const tern_ledger_category_stats_t *cs = tern_ledger_category(&s->ledger, (tern_mem_category_t)c);
        b->cat_bytes[c] = cs->bytes;
        b->cat_blocks[c] = cs->blocks;
    }
    for (unsigned o = 0; o <= TERN_LEDGER_OWNERS; o++)
        b->owner[o] = tern_ledger_owner_bytes(&s->ledger, o);
    b->overhead = tern_ledger_overhead(&s->ledger);
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&s->ledger, &hs); /* the heap's or the pools' */
    b->heap_used = hs.used;
    b->netbufs_free = tern_netbuf_free_count(&s->netbufs);
}

static void books_assert_same(const tern_stack_t *s, const books_t *base)
{
    books_t now;
    assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
#if !TERN_STATIC_ONLY
    assert_int_equal(tern_heap_check(&s->heap), TERN_OK);
#endif
    books_take(s, &now);
    for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        if (now.cat_bytes[c] != base->cat_bytes[c] || now.cat_blocks[c] != base->cat_blocks[c])
            print_error("category %s: %zu bytes %u blocks, baseline %zu %u\n",
                        tern_mem_category_name((tern_mem_category_t)c), now.cat_bytes[c], now.cat_blocks[c],
                        base->cat_bytes[c], base->cat_blocks[c]);
        assert_int_equal(now.cat_bytes[c], base->cat_bytes[c]);
        assert_int_equal(now.cat_blocks[c], base->cat_blocks[c]);
    }
    for (unsigned o = 0; o <= TERN_LEDGER_OWNERS; o++)
        assert_int_equal(now.owner[o], base->owner[o]);
    assert_int_equal(now.overhead, base->overhead);
    assert_int_equal(now.heap_used, base->heap_used);
    assert_int_equal(now.netbufs_free, base->netbufs_free);
}

/* The shared TCP pools (descriptor pool, TIME-WAIT table) come with the
 * first listen or connect and stay: make them exist before a baseline. */
static void warm_pools(world_t *w)
{
    tern_stack_t *st[2] = {w->n.a, w->n.b};
    for (int i = 0; i < 2; i++) {
        int s = tern_socket(st[i], TERN_SOCK_STREAM);
        assert_true(s > 0);
        assert_int_equal(tern_listen(st[i], s, 1), TERN_OK);
        assert_int_equal(tern_close(st[i], s), TERN_OK);
    }
}

/* ---- helpers ------------------------------------------------------------------ */

static uint8_t pat(uint32_t stream, uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + stream * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17));
}

static int listener(tern_stack_t *s, uint16_t port, int backlog)
{
    int l = tern_socket(s, TERN_SOCK_STREAM);
    assert_true(l > 0);
    tern_sockaddr_t local = {.addr = 0, .port = port};
    assert_int_equal(tern_bind(s, l, &local), TERN_OK);
    assert_int_equal(tern_listen(s, l, backlog), TERN_OK);
    return l;
}

/* A non-blocking connection A -> B:port, accepted on B: *ca, *cb. */
static void pair(world_t *w, int l, uint16_t port, int *ca, int *cb)
{
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(c > 0);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = port};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    tern_sockaddr_t from;
    int s = tern_accept(w->n.b, l, &from);
    assert_true(s > 0);
    assert_int_equal(from.addr, W2_IP_A);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_NONBLOCK, 1), TERN_OK);
    *ca = c;
    *cb = s;
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_nonblocking_life(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    warm_pools(w);
    books_t base_a, base_b;
    books_take(w->n.a, &base_a);
    books_take(w->n.b, &base_b);

    int l = listener(w->n.b, PORT, 4);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_pollfd_t pl = {l, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(w->n.b, &pl, 1, 0), 0);

    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS); /* EALREADY */
    tern_pollfd_t pc = {c, TERN_POLLOUT, 0};
    assert_int_equal(tern_socket_poll(w->n.a, &pc, 1, 0), 0);
    assert_int_equal(tern_accept(w->n.b, l, NULL), TERN_ERR_WOULDBLOCK);
    run(w, 50);
    assert_int_equal(tern_socket_poll(w->n.a, &pc, 1, 0), 1);
    assert_int_equal(pc.revents, TERN_POLLOUT);
    uint32_t v = 99;
    assert_int_equal(tern_getsockopt(w->n.a, c, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal(v, 0);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_STATE); /* EISCONN */
    assert_int_equal(tern_socket_poll(w->n.b, &pl, 1, 0), 1);
    assert_int_equal(pl.revents, TERN_POLLIN);
    tern_sockaddr_t from;
    int s = tern_accept(w->n.b, l, &from);
    assert_true(s > 0);
    assert_int_equal(from.addr, W2_IP_A);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t name, peer;
    assert_int_equal(tern_getsockname(w->n.a, c, &name), TERN_OK);
    assert_int_equal(tern_getpeername(w->n.b, s, &peer), TERN_OK);
    assert_int_equal(name.addr, peer.addr);
    assert_int_equal(name.port, peer.port);
    assert_int_equal(from.port, name.port);
    assert_int_equal(tern_getsockname(w->n.b, l, &name), TERN_OK);
    assert_int_equal(name.port, PORT);
    assert_int_equal(tern_getpeername(w->n.b, l, &peer), TERN_ERR_STATE);
    uint32_t type = 0;
    assert_int_equal(tern_getsockopt(w->n.b, s, TERN_SO_TYPE, &type), TERN_OK);
    assert_int_equal(type, TERN_SOCK_STREAM);

    /* A -> B, then B -> A */
    char buf[64];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_send(w->n.a, c, "hello", 5, 0), 5);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.b, s, buf, 2, TERN_MSG_PEEK), 2);
    assert_memory_equal(buf, "he", 2);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(tern_send(w->n.b, s, "world!", 6, 0), 6);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 6);
    assert_memory_equal(buf, "world!", 6);

    /* half-close A -> B: B reads 0, can still send; A cannot */
    assert_int_equal(tern_shutdown(w->n.a, c, TERN_SHUT_WR), TERN_OK);
    assert_int_equal(tern_send(w->n.a, c, "x", 1, 0), TERN_ERR_CLOSED);
    run(w, 50);
    tern_pollfd_t ps = {s, TERN_POLLIN | TERN_POLLOUT, 0};
    assert_int_equal(tern_socket_poll(w->n.b, &ps, 1, 0), 1);
    assert_int_equal(ps.revents, TERN_POLLIN | TERN_POLLOUT);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_send(w->n.b, s, "late", 4, 0), 4);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    /* and B -> A */
    assert_int_equal(tern_shutdown(w->n.b, s, TERN_SHUT_WR), TERN_OK);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_socket_poll(w->n.b, &ps, 1, 0), 1);
    assert_true(ps.revents & TERN_POLLHUP);
    pc.events = TERN_POLLIN;
    assert_int_equal(tern_socket_poll(w->n.a, &pc, 1, 0), 1);
    assert_true(pc.revents & TERN_POLLHUP);

    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_ERR_BADF);
    run(w, 3000); /* past TIME-WAIT */
    books_assert_same(w->n.a, &base_a);
    books_assert_same(w->n.b, &base_b);
    world_free(w);
}

static void test_blocking_and_timeouts(void **state)
{
    (void)state;
    world_t *w = world_new(2);
    int l = listener(w->n.b, PORT, 2);
    /* accept with nothing coming: the receive timeout, exactly */
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVTIMEO, 300), TERN_OK);
    uint32_t t0 = vnow(w);
    assert_int_equal(tern_accept(w->n.b, l, NULL), TERN_ERR_TIMEOUT);
    assert_true(vnow(w) - t0 >= 300u && vnow(w) - t0 <= 301u);

    /* blocking connect: returns once established */
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_OK);
    assert_true(w->pa.waits > 0u);
    /* blocking accept: there already */
    int s = tern_accept(w->n.b, l, NULL);
    assert_true(s > 0);
    /* blocking recv with a timeout */
    char buf[16];
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_RCVTIMEO, 250), TERN_OK);
    t0 = vnow(w);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), TERN_ERR_TIMEOUT);
    assert_true(vnow(w) - t0 >= 250u && vnow(w) - t0 <= 251u);
    /* a blocking recv woken by data: A sends, B's wait drives the wire */
    assert_int_equal(tern_send(w->n.a, c, "abc", 3, 0), 3);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 3);
    /* DONTWAIT on a blocking socket */
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);

    /* blocking send into a peer that does not read: the send timeout ends
     * it with the count taken so far */
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = pat(1, i);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_SNDTIMEO, 400), TERN_OK);
    t0 = vnow(w);
    int n = tern_send(w->n.a, c, big, sizeof big, 0);
    assert_true(n > 0 && (size_t)n < sizeof big);
    assert_true(vnow(w) - t0 >= 400u);
    /* the ring is full now: another timed send takes nothing */
    assert_int_equal(tern_send(w->n.a, c, big, sizeof big, 0), TERN_ERR_TIMEOUT);
    assert_int_equal(tern_send(w->n.a, c, big, 10, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);
    /* B reads all of it, in order */
    size_t got = 0;
    while (got < (size_t)n) {
        int k = tern_recv(w->n.b, s, buf, sizeof buf, 0);
        assert_true(k > 0);
        for (int i = 0; i < k; i++)
            assert_int_equal((uint8_t)buf[i], pat(1, got + (size_t)i));
        got += (size_t)k;
    }
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    world_free(w);
}

/* B drains w->hook_sock as "another thread" while A blocks. */
static void drain_hook(void *ctx)
{
    world_t *w = ctx;
    static uint8_t buf[4096];
    for (;;) {
        int k = tern_recv(w->n.b, w->hook_sock, buf, sizeof buf, TERN_MSG_DONTWAIT);
        if (k <= 0)
            return;
        for (int i = 0; i < k; i++)
            assert_int_equal(buf[i], pat(2, w->hook_bytes + (uint64_t)i));
        w->hook_bytes += (uint64_t)k;
    }
}

static void test_blocking_bulk(void **state)
{
    (void)state;
    world_t *w = world_new(3);
    int l = listener(w->n.b, PORT, 2);
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 0), TERN_OK);
    world_hook(w, drain_hook);
    w->hook_sock = s;
    static uint8_t big[1u << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = pat(2, i);
    /* one call takes the whole megabyte, waiting for space as B reads */
    assert_int_equal(tern_send(w->n.a, c, big, sizeof big, 0), (int)sizeof big);
    assert_int_equal(tern_shutdown(w->n.a, c, TERN_SHUT_WR), TERN_OK);
    for (int t = 0; t < 2000 && w->hook_bytes < sizeof big; t++) {
        run(w, 1);
        drain_hook(w);
    }
    world_hook(w, NULL);
    assert_int_equal(w->hook_bytes, sizeof big);
    assert_int_equal(tern_recv(w->n.b, s, big, 16, 0), 0);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    world_free(w);
}

static void test_refused(void **state)
{
    (void)state;
    world_t *w = world_new(4);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = 4242};
    /* blocking */
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_REFUSED);
    char buf[4];
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), TERN_ERR_REFUSED);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_STATE);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    /* non-blocking: POLLOUT with POLLERR, the error in SO_ERROR once */
    c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    tern_pollfd_t p = {c, TERN_POLLOUT, 0};
    assert_int_equal(tern_socket_poll(w->n.a, &p, 1, 0), 1);
    assert_int_equal(p.revents, TERN_POLLOUT | TERN_POLLERR | TERN_POLLHUP);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(w->n.a, c, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal((int32_t)v, TERN_ERR_REFUSED);
    assert_int_equal(tern_getsockopt(w->n.a, c, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal(v, 0);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    /* connect without a route, to nowhere */
    c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    tern_sockaddr_t far = {.addr = TERN_IP4(203, 0, 113, 9), .port = 80};
    assert_int_equal(tern_connect(w->n.a, c, &far), TERN_ERR_NOROUTE);
    tern_sockaddr_t zero = {.addr = 0, .port = 80};
    assert_int_equal(tern_connect(w->n.a, c, &zero), TERN_ERR_INVAL);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    world_free(w);
}

static void test_reset_and_linger0(void **state)
{
    (void)state;
    world_t *w = world_new(5);
    int l = listener(w->n.b, PORT, 2);
    int c, s;
    pair(w, l, PORT, &c, &s);
    static uint8_t data[3000];
    assert_int_equal(tern_send(w->n.a, c, data, sizeof data, 0), (int)sizeof data);
    run(w, 5);
    /* B aborts (linger 0) mid-transfer: RST, memory back at once */
    size_t held = tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s);
    assert_true(held > 0u);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s), 0);
    run(w, 50);
    char buf[16];
    int r;
    /* bytes B sent before? none; A sees the reset */
    r = tern_recv(w->n.a, c, buf, sizeof buf, 0);
    assert_int_equal(r, TERN_ERR_RESET);
    assert_int_equal(tern_send(w->n.a, c, data, 10, 0), TERN_ERR_RESET);
    tern_pollfd_t p = {c, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(w->n.a, &p, 1, 0), 1);
    assert_true(p.revents & TERN_POLLHUP);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);

    /* unread data at close: RST (RFC 2525 2.17) */
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_send(w->n.a, c, "unread", 6, 0), 6);
    run(w, 50);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* The listener's queue full: the handshake's last ACK is dropped, not
 * answered with a reset; the connection stays half-open on our side (open
 * on the client's) and is offered again by the SYN-ACK retransmission once
 * tern_accept made room. */
static int accept_within(world_t *w, int l, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 50u) {
        int s = tern_accept(w->n.b, l, NULL);
        if (s != TERN_ERR_WOULDBLOCK)
            return s;
        run(w, 50);
    }
    return TERN_ERR_WOULDBLOCK;
}

static void test_backlog_full(void **state)
{
    (void)state;
    world_t *w = world_new(6);
    int l = listener(w->n.b, PORT, 1);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    int c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = tern_socket(w->n.a, TERN_SOCK_STREAM);
        assert_int_equal(tern_setsockopt(w->n.a, c[i], TERN_SO_NONBLOCK, 1), TERN_OK);
        assert_int_equal(tern_connect(w->n.a, c[i], &to), TERN_ERR_INPROGRESS);
        run(w, 20);
    }
    run(w, 100);
    /* the first waits in the queue; the second completed its handshake and
     * is deferred, not reset; the third's SYN is dropped (the only
     * half-open child is a deferred one, no victim) and it retransmits */
    uint32_t v;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tern_getsockopt(w->n.a, c[i], TERN_SO_ERROR, &v), TERN_OK);
        assert_int_equal(v, 0);
    }
    assert_int_equal(w->n.b->counters.tcp.rst_tx, 0);
    assert_true(w->n.b->counters.tcp.accept_deferred >= 1u);
    assert_true(w->n.b->counters.tcp.drop_syn_limit >= 1u);
    assert_int_equal(w->n.b->counters.tcp.syn_evicted, 0);
    assert_int_equal(w->n.b->tcp.half_open, 1);
    /* the queued connection costs the listener; rows in tern_tcp_list */
    size_t before = tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l);
    assert_int_equal(tern_send(w->n.a, c[0], "queued", 6, 0), 6);
    run(w, 50);
    assert_true(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l) > before); /* its receive ring */
    int s[3];
    s[0] = tern_accept(w->n.b, l, NULL);
    assert_true(s[0] > 0);
    /* accepted: the connection and its ring move to the new socket */
    assert_true(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l) < before);
    assert_true(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s[0]) > TERN_TCP_RCVBUF);
    char buf[8];
    assert_int_equal(tern_recv(w->n.b, s[0], buf, sizeof buf, TERN_MSG_DONTWAIT), 6);
    assert_memory_equal(buf, "queued", 6);
    /* the other two come in one by one as the queue empties, and work */
    for (int i = 1; i < 3; i++) {
        s[i] = accept_within(w, l, 8000);
        assert_true(s[i] > 0);
        assert_int_equal(tern_send(w->n.a, c[i], "late", 4, 0), 4);
        run(w, 50);
        assert_int_equal(tern_recv(w->n.b, s[i], buf, sizeof buf, TERN_MSG_DONTWAIT), 4);
        assert_memory_equal(buf, "late", 4);
    }
    assert_int_equal(w->n.b->counters.tcp.rst_tx, 0);
    assert_int_equal(w->n.b->tcp.half_open, 0);
    /* closing a listener resets what waits in its queue */
    int q = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, q, TERN_SO_NONBLOCK, 1), TERN_OK);
    assert_int_equal(tern_connect(w->n.a, q, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    run(w, 50);
    assert_int_equal(tern_recv(w->n.a, q, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_int_equal(tern_close(w->n.a, q), TERN_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tern_close(w->n.a, c[i]), TERN_OK);
        assert_int_equal(tern_close(w->n.b, s[i]), TERN_OK);
    }
    world_free(w);
}

/* Never accepted: the deferred connection gives up after the SYN-ACK
 * retries and its memory returns; the client learns by a reset at its next
 * segment at the latest. */
static void test_backlog_full_never_accepted(void **state)
{
    (void)state;
    world_t *w = world_new(7);
    int l = listener(w->n.b, PORT, 1);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    int c[2];
    for (int i = 0; i < 2; i++) {
        c[i] = tern_socket(w->n.a, TERN_SOCK_STREAM);
        assert_int_equal(tern_setsockopt(w->n.a, c[i], TERN_SO_NONBLOCK, 1), TERN_OK);
        assert_int_equal(tern_connect(w->n.a, c[i], &to), TERN_ERR_INPROGRESS);
        run(w, 20);
    }
    run(w, 100);
    assert_int_equal(w->n.b->tcp.half_open, 1);
    size_t one = tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l);
    run(w, 30000); /* past every SYN-ACK retry */
    assert_int_equal(w->n.b->tcp.half_open, 0);
    assert_true(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)l) < one);
    char buf[4];
    assert_int_equal(tern_send(w->n.a, c[1], "x", 1, 0), 1);
    run(w, 2000);
    assert_int_equal(tern_recv(w->n.a, c[1], buf, sizeof buf, 0), TERN_ERR_RESET);
    /* the queued one is still fine */
    int s = tern_accept(w->n.b, l, NULL);
    assert_true(s > 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tern_close(w->n.a, c[i]), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

static void test_options(void **state)
{
    (void)state;
    world_t *w = world_new(7);
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    uint32_t v;
    assert_int_equal(tern_getsockopt(w->n.b, l, TERN_SO_RCVBUF, &v), TERN_OK);
    assert_int_equal(v, TERN_TCP_RCVBUF);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVBUF, 100), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVBUF, 8000), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_SNDBUF, 6000), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_TCP_NODELAY, 1), TERN_OK);
    assert_int_equal(tern_getsockopt(w->n.b, l, TERN_SO_TCP_NODELAY, &v), TERN_OK);
    assert_int_equal(v, 1);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_TCP_KEEPCNT, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_TCP_KEEPCNT, 33), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_BROADCAST, 1), TERN_ERR_NOTSUP);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_UDP_RXQ, 2), TERN_ERR_NOTSUP);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_TYPE, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockopt(w->n.b, l, TERN_SO_LINGER, &v), TERN_OK);
    assert_int_equal(v, UINT32_MAX);
    tern_sockaddr_t local = {.addr = 0, .port = PORT};
    assert_int_equal(tern_bind(w->n.b, l, &local), TERN_OK);
    assert_int_equal(tern_bind(w->n.b, l, &local), TERN_ERR_INVAL);
    int other = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_int_equal(tern_bind(w->n.b, other, &local), TERN_ERR_ADDRINUSE);
    tern_sockaddr_t notours = {.addr = TERN_IP4(192, 0, 2, 77), .port = PORT + 1};
    assert_int_equal(tern_bind(w->n.b, other, &notours), TERN_ERR_INVAL);
    assert_int_equal(tern_close(w->n.b, other), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 100), TERN_OK); /* clamped */

    /* the accepted connection's rings have the listener's sizes */
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_getsockopt(w->n.b, s, TERN_SO_RCVBUF, &v), TERN_OK);
    assert_int_equal(v, 8000);
    assert_int_equal(tern_getsockopt(w->n.b, s, TERN_SO_TCP_NODELAY, &v), TERN_OK);
    assert_int_equal(v, 1);
    size_t rx0 = tern_ledger_category(&w->n.b->ledger, TERN_MEM_TCP_STREAM_RX)->bytes;
    size_t tx0 = tern_ledger_category(&w->n.b->ledger, TERN_MEM_TCP_STREAM_TX)->bytes;
    size_t own0 = tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s);
    assert_int_equal(tern_send(w->n.a, c, "x", 1, 0), 1);
    run(w, 50);
    assert_int_equal(tern_ledger_category(&w->n.b->ledger, TERN_MEM_TCP_STREAM_RX)->bytes - rx0, 8000);
    assert_int_equal(tern_send(w->n.b, s, "y", 1, 0), 1);
    assert_int_equal(tern_ledger_category(&w->n.b->ledger, TERN_MEM_TCP_STREAM_TX)->bytes - tx0, 6000);
    assert_int_equal(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s) - own0, 14000);
    /* too late for the rings now */
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_RCVBUF, 9000), TERN_ERR_STATE);
    /* a client's send ring before connect */
    int c2 = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, c2, TERN_SO_SNDBUF, 2000), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c2, &to), TERN_OK);
    size_t atx0 = tern_ledger_category(&w->n.a->ledger, TERN_MEM_TCP_STREAM_TX)->bytes;
    assert_int_equal(tern_send(w->n.a, c2, "z", 1, 0), 1);
    assert_int_equal(tern_ledger_category(&w->n.a->ledger, TERN_MEM_TCP_STREAM_TX)->bytes - atx0, 2000);
    assert_int_equal(tern_close(w->n.a, c2), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* Keep-alive kills a silent peer after idle + count * interval. */
static void test_keepalive(void **state)
{
    (void)state;
    world_t *w = world_new(8);
    int l = listener(w->n.b, PORT, 2);
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_TCP_KEEPIDLE, 1000), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_TCP_KEEPINTVL, 500), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_TCP_KEEPCNT, 3), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_KEEPALIVE, 1), TERN_OK);
    /* A answers probes while the wire works: the connection lives */
    run(w, 5000);
    char buf[4];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    /* now A falls silent: everything it sends is lost */
    tern_vwire_params_t dead = {0};
    dead.loss_ppm = 1000000u;
    tern_vwire_set_params(&w->n.wire, 0, &dead);
    uint32_t t0 = vnow(w);
    /* blocking recv: the keep-alive verdict ends it */
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_NONBLOCK, 0), TERN_OK);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), TERN_ERR_TIMEOUT);
    uint32_t took = vnow(w) - t0;
    /* the last segment from A came up to the last probe answer (<= 500 ms
     * before t0); death at idle + count * interval after it */
    assert_true(took >= 1000u + 3u * 500u - 500u && took <= 1000u + 3u * 500u + 50u);
    assert_true(tern_tcp_stats(w->n.b)->keepalive_probes >= 3u);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

static void test_spans(void **state)
{
    (void)state;
    world_t *w = world_new(9);
    warm_pools(w);
    books_t base_a, base_b;
    books_take(w->n.a, &base_a);
    books_take(w->n.b, &base_b);
    int l = listener(w->n.b, PORT, 2);
    int c, s;
    pair(w, l, PORT, &c, &s);
    const uint8_t *rspan;
    uint8_t *wspan;
    assert_int_equal(tern_recv_span(w->n.b, s, &rspan, 0), TERN_ERR_WOULDBLOCK);
    /* A writes in place */
    int n = tern_send_span(w->n.a, c, &wspan, 0);
    assert_true(n >= 100);
    for (int i = 0; i < 100; i++)
        wspan[i] = pat(3, (uint64_t)i);
    assert_int_equal(tern_send_commit(w->n.a, c, 100), 100);
    run(w, 50);
    /* B reads in place, in two pieces */
    n = tern_recv_span(w->n.b, s, &rspan, 0);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++)
        assert_int_equal(rspan[i], pat(3, (uint64_t)i));
    assert_int_equal(tern_recv_consume(w->n.b, s, 40), TERN_OK);
    n = tern_recv_span(w->n.b, s, &rspan, 0);
    assert_int_equal(n, 60);
    assert_int_equal(rspan[0], pat(3, 40));
    assert_int_equal(tern_recv_consume(w->n.b, s, 61), TERN_ERR_INVAL);
    assert_int_equal(tern_recv_consume(w->n.b, s, 60), TERN_OK);
    /* everything acknowledged while A holds a send span: the raw ring
     * restarts at 0 under it; the committed bytes still go out right */
    assert_int_equal(tern_send(w->n.a, c, "abc", 3, 0), 3);
    n = tern_send_span(w->n.a, c, &wspan, 0);
    assert_true(n >= 3);
    run(w, 1000);
    memcpy(wspan, "XYZ", 3);
    assert_int_equal(tern_send_commit(w->n.a, c, 3), 3);
    run(w, 50);
    {
        char six[8];
        assert_int_equal(tern_recv(w->n.b, s, six, sizeof six, 0), 6);
        assert_memory_equal(six, "abcXYZ", 6);
    }
    /* UDP sockets have no spans */
    int u = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    assert_int_equal(tern_recv_span(w->n.b, u, &rspan, 0), TERN_ERR_NOTSUP);
    assert_int_equal(tern_close(w->n.b, u), TERN_OK);

    /* A span outlives a reset: B holds a receive span, A holds a send span,
     * A aborts; both rings stay valid until consumed / committed */
    assert_int_equal(tern_send(w->n.a, c, "held bytes", 10, 0), 10);
    run(w, 50);
    n = tern_recv_span(w->n.b, s, &rspan, 0);
    assert_int_equal(n, 10);
    n = tern_send_span(w->n.b, s, &wspan, 0);
    assert_true(n > 0);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    run(w, 50);
    assert_memory_equal(rspan, "held bytes", 10); /* still ours */
    memset(wspan, 0x5a, (size_t)n);             /* still ours to write */
    assert_true(tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)s) > 0u);
    char buf[4];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_int_equal(tern_recv_consume(w->n.b, s, 10), TERN_OK);
    assert_int_equal(tern_send_commit(w->n.b, s, (size_t)n), TERN_ERR_RESET);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    run(w, 3000);
    books_assert_same(w->n.a, &base_a);
    books_assert_same(w->n.b, &base_b);
    world_free(w);
}

static void test_socket_list(void **state)
{
    (void)state;
    world_t *w = world_new(10);
    int l = listener(w->n.b, PORT, 2);
    int u = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    tern_sockaddr_t ul = {.addr = 0, .port = 7};
    assert_int_equal(tern_bind(w->n.b, u, &ul), TERN_OK);
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_send(w->n.a, c, "12345", 5, 0), 5);
    run(w, 50);
    tern_socket_info_t rows[8];
    assert_int_equal(tern_socket_list(w->n.b, NULL, 0), 3);
    assert_int_equal(tern_socket_list(w->n.b, rows, 2), 3);
    size_t n = tern_socket_list(w->n.b, rows, 8);
    assert_int_equal(n, 3);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        const tern_socket_info_t *r = &rows[i];
        assert_int_equal(r->bytes_held, tern_ledger_owner_bytes(&w->n.b->ledger, (unsigned)r->id));
        assert_true(r->bytes_held > 0u);
        if (r->id == l) {
            assert_int_equal(r->type, TERN_SOCK_STREAM);
            assert_int_equal(r->state, TERN_TCP_LISTEN);
            assert_int_equal(r->local.port, PORT);
            seen |= 1;
        } else if (r->id == s) {
            assert_int_equal(r->type, TERN_SOCK_STREAM);
            assert_int_equal(r->state, TERN_TCP_ESTABLISHED);
            assert_int_equal(r->local.addr, W2_IP_B);
            assert_int_equal(r->local.port, PORT);
            assert_int_equal(r->remote.addr, W2_IP_A);
            assert_int_equal(r->recv_queue, 5);
            assert_int_equal(r->send_queue, 0);
            seen |= 2;
        } else if (r->id == u) {
            assert_int_equal(r->type, TERN_SOCK_DGRAM);
            assert_int_equal(r->state, 0);
            assert_int_equal(r->local.port, 7);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    /* (the virtual wire polls a stack at its last announced deadline, so a
     * delayed ACK may take up to a second of virtual time) */
    run(w, 1000);
    /* A: unacknowledged bytes show in send_queue while the wire is cut */
    tern_vwire_params_t dead = {0};
    dead.loss_ppm = 1000000u;
    tern_vwire_set_params(&w->n.wire, 0, &dead);
    assert_int_equal(tern_send(w->n.a, c, "678", 3, 0), 3);
    n = tern_socket_list(w->n.a, rows, 8);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].send_queue, 3);
    assert_int_equal(rows[0].remote.port, PORT);
    tern_vwire_set_params(&w->n.wire, 0, NULL);
    world_free(w);
}

/* Thousands of connect/accept/transfer/close cycles: the ledger is
 * byte-identical to its baseline afterwards. */
static void test_cycles_ledger_identical(void **state)
{
    (void)state;
    world_t *w = world_new(11);
    warm_pools(w);
    books_t base_a, base_b;
    books_take(w->n.a, &base_a);
    books_take(w->n.b, &base_b);
    int l = listener(w->n.b, PORT, 4);
    static uint8_t buf[3000];
    unsigned cycles = 2000;
    for (unsigned i = 0; i < cycles; i++) {
        int c, s;
        pair(w, l, PORT, &c, &s);
        size_t len = 1 + (i * 997u) % sizeof buf;
        for (size_t k = 0; k < len; k++)
            buf[k] = pat(i, k);
        assert_int_equal(tern_send(w->n.a, c, buf, len, 0), (int)len);
        size_t got = 0;
        for (int t = 0; t < 1000 && got < len; t++) {
            run(w, 1);
            int k = tern_recv(w->n.b, s, buf + got, sizeof buf - got, 0);
            assert_true(k > 0 || k == TERN_ERR_WOULDBLOCK);
            if (k > 0)
                got += (size_t)k;
        }
        assert_int_equal(got, len);
        for (size_t k = 0; k < len; k++)
            assert_int_equal(buf[k], pat(i, k));
        assert_int_equal(tern_send(w->n.b, s, buf, 100, 0), 100);
        /* alternate who closes first, and sometimes abort */
        if (i % 3u == 0u) {
            assert_int_equal(tern_close(w->n.a, c), TERN_OK);
            run(w, 20);
            assert_int_equal(tern_close(w->n.b, s), TERN_OK);
        } else if (i % 3u == 1u) {
            assert_int_equal(tern_close(w->n.b, s), TERN_OK);
            run(w, 20);
            assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 0), TERN_OK);
            assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 100);
            assert_int_equal(tern_close(w->n.a, c), TERN_OK);
        } else {
            assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_LINGER, 0), TERN_OK);
            assert_int_equal(tern_close(w->n.a, c), TERN_OK);
            run(w, 20);
            assert_int_equal(tern_close(w->n.b, s), TERN_OK);
        }
        run(w, 20);
    }
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    run(w, 3000);
    books_assert_same(w->n.a, &base_a);
    books_assert_same(w->n.b, &base_b);
    world_free(w);
}

/* ---- allocation failure ------------------------------------------------------------ */

/* One connection's life, robust to any failure: listen, connect, accept,
 * 20 KB each way, close. Returns 1 when it went all the way. */
static int scenario(world_t *w)
{
    static uint8_t out[20000], in[20000];
    for (size_t k = 0; k < sizeof out; k++)
        out[k] = pat(9, k);
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    int s = -1, ok = 0;
    tern_sockaddr_t local = {.addr = 0, .port = PORT}, to = {.addr = W2_IP_B, .port = PORT};
    if (l < 0 || c < 0 || tern_bind(w->n.b, l, &local) != TERN_OK || tern_listen(w->n.b, l, 2) != TERN_OK)
        goto out;
    (void)tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1);
    (void)tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1);
    if (tern_connect(w->n.a, c, &to) != TERN_ERR_INPROGRESS)
        goto out;
    size_t sent_a = 0, sent_b = 0, got_a = 0, got_b = 0;
    int shut_a = 0, shut_b = 0, eof_a = 0, eof_b = 0;
    for (unsigned t = 0; t < 20000u && !(eof_a && eof_b); t++) {
        run(w, 1);
        if (s < 0) {
            s = tern_accept(w->n.b, l, NULL);
            if (s < 0 && s != TERN_ERR_WOULDBLOCK && s != TERN_ERR_NOMEM && s != TERN_ERR_MFILE)
                break;
            if (s > 0)
                (void)tern_setsockopt(w->n.b, s, TERN_SO_NONBLOCK, 1);
            continue;
        }
        int r;
        if (sent_a < sizeof out && (r = tern_send(w->n.a, c, out + sent_a, sizeof out - sent_a, 0)) > 0)
            sent_a += (size_t)r;
        else if (sent_a < sizeof out && r != TERN_ERR_WOULDBLOCK)
            break;
        if (sent_a == sizeof out && !shut_a) {
            (void)tern_shutdown(w->n.a, c, TERN_SHUT_WR);
            shut_a = 1;
        }
        if (sent_b < sizeof out && (r = tern_send(w->n.b, s, out + sent_b, sizeof out - sent_b, 0)) > 0)
            sent_b += (size_t)r;
        else if (sent_b < sizeof out && r != TERN_ERR_WOULDBLOCK)
            break;
        if (sent_b == sizeof out && !shut_b) {
            (void)tern_shutdown(w->n.b, s, TERN_SHUT_WR);
            shut_b = 1;
        }
        while (!eof_b && (r = tern_recv(w->n.b, s, in, sizeof in, 0)) > 0) {
            assert_memory_equal(in, out + got_b, (size_t)r);
            got_b += (size_t)r;
        }
        if (r == 0)
            eof_b = 1;
        else if (r != TERN_ERR_WOULDBLOCK && !eof_b)
            break;
        while (!eof_a && (r = tern_recv(w->n.a, c, in, sizeof in, 0)) > 0) {
            assert_memory_equal(in, out + got_a, (size_t)r);
            got_a += (size_t)r;
        }
        if (r == 0)
            eof_a = 1;
        else if (r != TERN_ERR_WOULDBLOCK && !eof_a)
            break;
    }
    ok = eof_a && eof_b && got_a == sizeof out && got_b == sizeof out;
out:
    if (s > 0)
        assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    if (c > 0)
        assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    if (l > 0)
        assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    run(w, 900000); /* retransmissions give up (12 with backoff), TIME-WAIT and orphans end */
    return ok;
}

static void test_alloc_failure_sweep(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        world_t *w = world_new(12);
        warm_pools(w);
        tern_stack_t *st = side == 0 ? w->n.a : w->n.b;
        books_t base_a, base_b;
        books_take(w->n.a, &base_a);
        books_take(w->n.b, &base_b);
        uint32_t a0 = tern_ledger_attempts(&st->ledger);
        assert_true(scenario(w));
        uint32_t attempts = tern_ledger_attempts(&st->ledger) - a0;
        books_assert_same(w->n.a, &base_a);
        books_assert_same(w->n.b, &base_b);
        assert_true(attempts >= 3u);
        unsigned failed_runs = 0;
        for (uint32_t nth = 1; nth <= attempts; nth++) {
            for (int every = 0; every < 2; every++) {
                tern_ledger_fail_nth(&st->ledger, nth, every);
                if (!scenario(w))
                    failed_runs++;
                tern_ledger_fail_nth(&st->ledger, 0, 0);
                books_assert_same(w->n.a, &base_a);
                books_assert_same(w->n.b, &base_b);
            }
        }
        print_message("side %c: %u allocation attempts in a socket connection's life; %u of %u runs ended in an error\n",
                      side == 0 ? 'A' : 'B', attempts, failed_runs, 2u * attempts);
        assert_true(failed_runs > 0u);
        /* and it works again */
        assert_true(scenario(w));
        world_free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonblocking_life),
        cmocka_unit_test(test_blocking_and_timeouts),
        cmocka_unit_test(test_blocking_bulk),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_reset_and_linger0),
        cmocka_unit_test(test_backlog_full),
        cmocka_unit_test(test_backlog_full_never_accepted),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_socket_list),
        cmocka_unit_test(test_cycles_ledger_identical),
        cmocka_unit_test(test_alloc_failure_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
