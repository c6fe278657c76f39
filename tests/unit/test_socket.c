/* TERN_TEST_STATIC_VARIANT */
/* The sockets API over UDP on one capture interface, single-threaded (the
 * test port has no locks and no wait hook, so nothing blocks): ids and the
 * ledger, every call's error paths, the receive queue bound and overflow,
 * truncation and peek, zero copy both ways, poll over several sockets,
 * shutdown, connect, options, ICMP errors, close and close-all freeing
 * queued datagrams, and allocation failures at creation and at every
 * allocation of a UDP exchange. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "net/net_internal.h"
#include "net/udp_internal.h"
#include "socket/socket_internal.h"
#include "tern/err.h"

static int setup(void **state)
{
    net_fixture_t *f = net_fixture_new(23);
    net_fixture_learn_peer(f);
    *state = f;
    return 0;
}

static tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

static tern_stack_t *S(net_fixture_t *f)
{
    return &f->stack;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A UDP frame from src:sport (MAC FR_PEER_MAC) to dst:dport, checksummed. */
static size_t udp_frame(uint8_t *fr, tern_ip4_t src, tern_ip4_t dst, uint16_t sport, uint16_t dport,
                        const void *data, size_t len)
{
    static uint8_t tmp[12 + FRAME_MAX];
    uint8_t udp[FRAME_MAX];
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    if (len)
        memcpy(udp + 8, data, len);
    put16(tmp, (uint16_t)(src >> 16));
    put16(tmp + 2, (uint16_t)src);
    put16(tmp + 4, (uint16_t)(dst >> 16));
    put16(tmp + 6, (uint16_t)dst);
    tmp[8] = 0;
    tmp[9] = 17;
    put16(tmp + 10, (uint16_t)(8 + len));
    memcpy(tmp + 12, udp, 8 + len);
    uint16_t sum = frame_checksum(tmp, 20 + len);
    put16(udp + 6, sum ? sum : 0xFFFF);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 17, .id = 7};
    int bcast = dst == 0xFFFFFFFFu || dst == FR_SUBNET_BCAST;
    return frame_ip_eth2(fr, bcast ? FR_BCAST_MAC : FR_OUR_MAC, FR_PEER_MAC, &ip, udp, 8 + len);
}

static void rx_from(net_fixture_t *f, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, sport, dport, data, len));
}

/* A socket bound to port (asserts success). */
static int udp_socket(net_fixture_t *f, uint16_t port)
{
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    assert_true(s > 0);
    tern_sockaddr_t l = {.addr = 0, .port = port};
    assert_int_equal(tern_bind(S(f), s, &l), TERN_OK);
    return s;
}

/* ---- the ledger: every figure back, byte for byte -------------------------- */

typedef struct books {
    size_t bytes[TERN_MEM_CATEGORY_COUNT];
    uint32_t blocks[TERN_MEM_CATEGORY_COUNT];
    size_t owner[TERN_LEDGER_OWNERS + 1];
    size_t overhead;
    size_t heap_used;
    size_t heap_blocks;
    uint16_t bufs_free;
} books_t;

static void books_take(const tern_stack_t *s, books_t *b)
{
    memset(b, 0, sizeof *b);
    for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++) {
        b->bytes[c] = tern_ledger_category(&s->ledger, (tern_mem_category_t)c)->bytes;
        b->blocks[c] = tern_ledger_category(&s->ledger, (tern_mem_category_t)c)->blocks;
    }
    for (unsigned o = 0; o <= TERN_LEDGER_OWNERS; o++)
        b->owner[o] = tern_ledger_owner_bytes(&s->ledger, o);
    b->overhead = tern_ledger_overhead(&s->ledger);
    tern_heap_stats_t hs;
    tern_ledger_heap_stats(&s->ledger, &hs); /* the heap's or the pools' */
    b->heap_used = hs.used;
    b->heap_blocks = hs.used_blocks;
    b->bufs_free = tern_netbuf_free_count(&s->netbufs);
    assert_int_equal(tern_ledger_verify(&s->ledger), TERN_OK);
}

static void books_equal(const books_t *a, const books_t *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

static void test_ledger_identical_after_close(void **state)
{
    net_fixture_t *f = *state;
    books_t before, after;
    books_take(S(f), &before);
    int s = udp_socket(f, 7000);
    assert_int_equal(s, 1);
    /* The structure is charged to the socket's id. */
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, (unsigned)s), sizeof(tern_socket_t));
    assert_int_equal(tern_ledger_category(&S(f)->ledger, TERN_MEM_SOCKET)->bytes,
                     before.bytes[TERN_MEM_SOCKET] + sizeof(tern_socket_t));
    /* Queued datagrams too (HEAP buffers; STATIC storage is not on the heap). */
    for (int i = 0; i < 3; i++)
        rx_from(f, 100, 7000, "queued datagram", 15);
    uint32_t q = 0;
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_RXQ_LEN, &q), TERN_OK);
    assert_int_equal(q, 3);
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    size_t per = TERN_NETBUF_FRAME_OFFSET + 14 + 20 + 8 + 15;
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, (unsigned)s), sizeof(tern_socket_t) + 3 * per);
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, 0), before.owner[0]);
#else
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, (unsigned)s), sizeof(tern_socket_t));
#endif
    assert_int_equal(tern_netbuf_free_count(&S(f)->netbufs), before.bufs_free - 3);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    books_take(S(f), &after);
    books_equal(&before, &after);
    /* And after a full send/receive life, too. */
    s = udp_socket(f, 0);
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_sendto(S(f), s, "out", 3, 0, &to), 3);
    tern_sockaddr_t me;
    assert_int_equal(tern_getsockname(S(f), s, &me), TERN_OK);
    rx_from(f, 9, me.port, "in", 2);
    char buf[8];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 2);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    books_take(S(f), &after);
    books_equal(&before, &after);
}

/* ---- ids and bad handles ------------------------------------------------------ */

static void test_ids(void **state)
{
    net_fixture_t *f = *state;
    int ids[TERN_SOCKET_MAX];
    for (int i = 0; i < TERN_SOCKET_MAX; i++) {
        ids[i] = tern_socket(S(f), TERN_SOCK_DGRAM);
        assert_int_equal(ids[i], i + 1);
    }
    uint32_t failures = tern_ledger_category(&S(f)->ledger, TERN_MEM_SOCKET)->failures;
    assert_int_equal(tern_socket(S(f), TERN_SOCK_DGRAM), TERN_ERR_MFILE);
    /* A full table is not a heap failure. */
    assert_int_equal(tern_ledger_category(&S(f)->ledger, TERN_MEM_SOCKET)->failures, failures);
    /* Ids are reused as late as possible: after the last one handed out. */
    assert_int_equal(tern_close(S(f), 3), TERN_OK);
    assert_int_equal(tern_close(S(f), 7), TERN_OK);
    assert_int_equal(tern_close(S(f), 3), TERN_ERR_BADF);
    assert_int_equal(tern_socket(S(f), TERN_SOCK_DGRAM), 3);
    assert_int_equal(tern_close(S(f), 2), TERN_OK);
    assert_int_equal(tern_socket(S(f), TERN_SOCK_DGRAM), 7);
    assert_int_equal(tern_socket(S(f), TERN_SOCK_DGRAM), 2);
    assert_int_equal(tern_socket(S(f), 99), TERN_ERR_INVAL);
    /* Every id is taken: a stream socket cannot be had either. */
    assert_int_equal(tern_socket(S(f), TERN_SOCK_STREAM), TERN_ERR_MFILE);
    assert_int_equal(tern_socket(NULL, TERN_SOCK_DGRAM), TERN_ERR_INVAL);
    tern_socket_close_all(S(f));
    tern_socket_close_all(NULL);
    for (int i = 0; i < TERN_SOCKET_MAX; i++)
        assert_null(S(f)->sockets.slots[i]);
    mem_assert_baseline(S(f), &f->base);
}

static void test_bad_handles(void **state)
{
    net_fixture_t *f = *state;
    int closed = tern_socket(S(f), TERN_SOCK_DGRAM);
    assert_int_equal(tern_close(S(f), closed), TERN_OK);
    const int bad[] = {0, -1, TERN_SOCKET_MAX + 1, 1000000, closed};
    tern_sockaddr_t a = {.addr = FR_PEER_IP, .port = 9};
    uint8_t buf[16];
    uint32_t v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = bad[i];
        assert_int_equal(tern_bind(S(f), s, &a), TERN_ERR_BADF);
        assert_int_equal(tern_connect(S(f), s, &a), TERN_ERR_BADF);
        assert_int_equal(tern_sendto(S(f), s, "x", 1, 0, &a), TERN_ERR_BADF);
        assert_int_equal(tern_send(S(f), s, "x", 1, 0), TERN_ERR_BADF);
        assert_int_equal(tern_recvfrom(S(f), s, buf, sizeof buf, 0, NULL), TERN_ERR_BADF);
        assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_BADF);
        assert_int_equal(tern_shutdown(S(f), s, TERN_SHUT_RDWR), TERN_ERR_BADF);
        assert_int_equal(tern_close(S(f), s), TERN_ERR_BADF);
        assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_BROADCAST, 1), TERN_ERR_BADF);
        assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_TYPE, &v), TERN_ERR_BADF);
        assert_int_equal(tern_getsockname(S(f), s, &a), TERN_ERR_BADF);
        assert_int_equal(tern_getpeername(S(f), s, &a), TERN_ERR_BADF);
        tern_netbuf_t *nb = (tern_netbuf_t *)1;
        assert_int_equal(tern_recvfrom_netbuf(S(f), s, &nb, 0, NULL), TERN_ERR_BADF);
        assert_null(nb);
        /* The stack takes the buffer even when the socket is bad. */
        nb = tern_socket_netbuf_get(S(f), 4, 0);
        assert_non_null(nb);
        assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &a), TERN_ERR_BADF);
        tern_pollfd_t pfd = {s, TERN_POLLIN | TERN_POLLOUT, 0xFFFF};
        /* A negative id is skipped, any other bad one is invalid. */
        assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 0), s < 0 ? 0 : 1);
        assert_int_equal(pfd.revents, s < 0 ? 0 : TERN_POLLNVAL);
        mem_assert_baseline(S(f), &f->base);
    }
    /* NULL stack: every call refuses it. */
    assert_int_equal(tern_bind(NULL, 1, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_connect(NULL, 1, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_sendto(NULL, 1, "x", 1, 0, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_recvfrom(NULL, 1, buf, 1, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_shutdown(NULL, 1, TERN_SHUT_RD), TERN_ERR_INVAL);
    assert_int_equal(tern_close(NULL, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(NULL, 1, TERN_SO_BROADCAST, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockopt(NULL, 1, TERN_SO_TYPE, &v), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockname(NULL, 1, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_getpeername(NULL, 1, &a), TERN_ERR_INVAL);
    assert_int_equal(tern_socket_poll(NULL, NULL, 0, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_recvfrom_netbuf(NULL, 1, NULL, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_sendto_netbuf(NULL, 1, NULL, 0, NULL), TERN_ERR_INVAL);
    assert_null(tern_socket_netbuf_get(NULL, 1, 0));
    tern_socket_netbuf_release(NULL, NULL);
    tern_socket_netbuf_release(S(f), NULL);
}

static void test_call_errors(void **state)
{
    net_fixture_t *f = *state;
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    int t = udp_socket(f, 7001);
    tern_sockaddr_t peer = {.addr = FR_PEER_IP, .port = 9}, any7001 = {.addr = 0, .port = 7001}, zero_addr = {.addr = 0, .port = 9};
    tern_sockaddr_t not_ours = {.addr = FR_PEER_IP, .port = 1};
    uint8_t buf[16];
    uint32_t v = 0;
    /* Arguments. */
    assert_int_equal(tern_bind(S(f), s, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_bind(S(f), s, &not_ours), TERN_ERR_INVAL);
    assert_int_equal(tern_bind(S(f), s, &any7001), TERN_ERR_ADDRINUSE);
    assert_int_equal(tern_bind(S(f), t, &any7001), TERN_ERR_INVAL); /* bound already */
    assert_int_equal(tern_recvfrom(S(f), s, NULL, 4, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_sendto(S(f), s, NULL, 4, 0, &peer), TERN_ERR_INVAL);
    assert_int_equal(tern_connect(S(f), s, &zero_addr), TERN_ERR_INVAL);
    assert_int_equal(tern_shutdown(S(f), s, 3), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_TYPE, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockname(S(f), s, NULL), TERN_ERR_INVAL);
    tern_netbuf_t *nb;
    assert_int_equal(tern_recvfrom_netbuf(S(f), s, &nb, TERN_MSG_PEEK, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_recvfrom_netbuf(S(f), s, NULL, 0, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_sendto_netbuf(S(f), s, NULL, 0, &peer), TERN_ERR_INVAL);
    tern_pollfd_t pfd = {s, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(S(f), NULL, 1, 0), TERN_ERR_INVAL);
    /* This port cannot wait: a poll timeout is refused, not ignored. */
    assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 10), TERN_ERR_INVAL);
    assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 0), 0);
    /* State. */
    assert_int_equal(tern_getpeername(S(f), s, &peer), TERN_ERR_STATE);
    assert_int_equal(tern_send(S(f), s, "x", 1, 0), TERN_ERR_STATE);
    tern_sockaddr_t name = {.addr = 1, .port = 1};
    assert_int_equal(tern_getsockname(S(f), s, &name), TERN_OK);
    assert_int_equal(name.addr, 0);
    assert_int_equal(name.port, 0);
    /* Nothing queued: a default (blocking) socket on a port that cannot
     * wait says would-block rather than hang. */
    assert_int_equal(tern_recv(S(f), t, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_recv(S(f), t, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);
    /* Sizes. */
    static uint8_t big[TERN_UDP_MAX_PAYLOAD + 1];
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_sendto(S(f), t, big, sizeof big, 0, &to), TERN_ERR_MSGSIZE);
    assert_int_equal(tern_sendto(S(f), t, big, sizeof big - 1, 0, &to), (int)sizeof big - 1);
    assert_null(tern_socket_netbuf_get(S(f), sizeof big, 0));
    /* Routing and broadcast errors come through. */
    tern_sockaddr_t bcast = {.addr = 0xFFFFFFFFu, .port = 9}, loop = {.addr = TERN_IP4(127, 0, 0, 1), .port = 9};
    assert_int_equal(tern_sendto(S(f), t, "b", 1, 0, &bcast), TERN_ERR_INVAL);
    assert_int_equal(tern_sendto(S(f), t, "l", 1, 0, &loop), TERN_ERR_NOROUTE);
    /* Options. */
    assert_int_equal(tern_setsockopt(S(f), s, 999, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_getsockopt(S(f), s, 999, &v), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_TYPE, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_ERROR, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_RXQ_LEN, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_UDP_RXQ, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_UDP_RXQ, TERN_NETBUF_COUNT + 1), TERN_ERR_INVAL);
    static const int tcp_opts[] = {TERN_SO_RCVBUF, TERN_SO_SNDBUF, TERN_SO_TCP_NODELAY, TERN_SO_KEEPALIVE,
                                   TERN_SO_TCP_KEEPIDLE, TERN_SO_TCP_KEEPINTVL, TERN_SO_TCP_KEEPCNT,
                                   TERN_SO_LINGER};
    for (size_t i = 0; i < sizeof tcp_opts / sizeof tcp_opts[0]; i++) {
        assert_int_equal(tern_setsockopt(S(f), s, tcp_opts[i], 1), TERN_ERR_NOTSUP);
        assert_int_equal(tern_getsockopt(S(f), s, tcp_opts[i], &v), TERN_ERR_NOTSUP);
    }
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    assert_int_equal(tern_close(S(f), t), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

static void test_options(void **state)
{
    net_fixture_t *f = *state;
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    uint32_t v = 99;
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_TYPE, &v), TERN_OK);
    assert_int_equal(v, TERN_SOCK_DGRAM);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_UDP_RXQ, &v), TERN_OK);
    assert_int_equal(v, TERN_UDP_RXQ_DEFAULT);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_UDP_RXQ, 2), TERN_OK);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_UDP_RXQ, &v), TERN_OK);
    assert_int_equal(v, 2);
    static const int switches[] = {TERN_SO_BROADCAST, TERN_SO_REUSEADDR, TERN_SO_NONBLOCK};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(tern_getsockopt(S(f), s, switches[i], &v), TERN_OK);
        assert_int_equal(v, TERN_OS ? 0u : switches[i] == TERN_SO_NONBLOCK);
        assert_int_equal(tern_setsockopt(S(f), s, switches[i], 7), TERN_OK);
        assert_int_equal(tern_getsockopt(S(f), s, switches[i], &v), TERN_OK);
        assert_int_equal(v, 1);
        assert_int_equal(tern_setsockopt(S(f), s, switches[i], 0), TERN_OK);
        assert_int_equal(tern_getsockopt(S(f), s, switches[i], &v), TERN_OK);
        assert_int_equal(v, 0);
    }
#if TERN_OS
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_RCVTIMEO, 250), TERN_OK);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_SNDTIMEO, 500), TERN_OK);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_RCVTIMEO, &v), TERN_OK);
    assert_int_equal(v, 250);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_SNDTIMEO, &v), TERN_OK);
    assert_int_equal(v, 500);
    assert_int_equal(tern_socket_set_blocking(S(f), s, 0), TERN_OK);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_NONBLOCK, &v), TERN_OK);
    assert_int_equal(v, 1);
    assert_int_equal(tern_socket_set_blocking(S(f), s, 1), TERN_OK);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_NONBLOCK, &v), TERN_OK);
    assert_int_equal(v, 0);
    assert_int_equal(tern_socket_set_blocking(S(f), 0, 1), TERN_ERR_BADF);
#endif
    /* BROADCAST and REUSEADDR act on the pcb. */
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_BROADCAST, 1), TERN_OK);
    assert_true(S(f)->sockets.slots[s - 1]->u.udp.pcb.flags & TERN_UDP_F_BROADCAST);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
}

/* ---- receive queue ------------------------------------------------------------ */

static void test_queue_bound_and_order(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 7000);
    uint16_t free0 = tern_netbuf_free_count(&S(f)->netbufs);
    char msg[8];
    for (unsigned i = 0; i < TERN_UDP_RXQ_DEFAULT + 3; i++) {
        msg[0] = (char)('a' + i);
        rx_from(f, (uint16_t)(2000 + i), 7000, msg, 1);
    }
    /* The bound holds: the rest is dropped and counted, the pool keeps the
     * remaining buffers. */
    assert_int_equal(C(f)->udp_drop_queue_full, 3);
    assert_int_equal(C(f)->udp_delivered, TERN_UDP_RXQ_DEFAULT + 3);
    assert_int_equal(tern_netbuf_free_count(&S(f)->netbufs), free0 - TERN_UDP_RXQ_DEFAULT);
    tern_pollfd_t pfd = {s, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, TERN_POLLIN);
    /* FIFO, each with its source. */
    for (unsigned i = 0; i < TERN_UDP_RXQ_DEFAULT; i++) {
        tern_sockaddr_t from = {.addr = 0, .port = 0};
        assert_int_equal(tern_recvfrom(S(f), s, msg, sizeof msg, 0, &from), 1);
        assert_int_equal(msg[0], 'a' + (int)i);
        assert_int_equal(from.addr, FR_PEER_IP);
        assert_int_equal(from.port, 2000 + i);
    }
    assert_int_equal(tern_recv(S(f), s, msg, sizeof msg, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 0), 0);
    assert_int_equal(pfd.revents, 0);
    /* A smaller bound. */
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_UDP_RXQ, 1), TERN_OK);
    rx_from(f, 1, 7000, "1", 1);
    rx_from(f, 1, 7000, "2", 1);
    assert_int_equal(C(f)->udp_drop_queue_full, 4);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

static void test_msgsize_and_peek(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 7000);
    rx_from(f, 5, 7000, "0123456789", 10);
    char buf[16];
    /* Too small: the datagram stays queued. */
    assert_int_equal(tern_recv(S(f), s, buf, 9, 0), TERN_ERR_MSGSIZE);
    assert_int_equal(tern_recv(S(f), s, buf, 0, 0), TERN_ERR_MSGSIZE);
    tern_sockaddr_t from;
    memset(buf, 0, sizeof buf);
    assert_int_equal(tern_recvfrom(S(f), s, buf, 10, TERN_MSG_PEEK, &from), 10);
    assert_memory_equal(buf, "0123456789", 10);
    assert_int_equal(from.port, 5);
    memset(buf, 0, sizeof buf);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 10);
    assert_memory_equal(buf, "0123456789", 10);
    /* A zero-length datagram: 0 bytes, and a NULL buffer is fine. */
    rx_from(f, 5, 7000, NULL, 0);
    assert_int_equal(tern_recv(S(f), s, NULL, 0, 0), 0);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
/* A full-size receive buffer (a zero-copy driver's) holding a 60-byte
 * datagram is cut to its exact size while queued. */
static void test_heap_queue_shrinks(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 7000);
    uint8_t fr[FRAME_MAX], data[60];
    memset(data, 0x3C, sizeof data);
    size_t n = udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 1, 7000, data, sizeof data);
    tern_netbuf_t *nb = tern_netif_rx_buffer_get(&f->cn.nif);
    assert_non_null(nb);
    assert_int_equal(tern_mem_size(&S(f)->ledger, nb->storage), TERN_NETBUF_FRAME_OFFSET + TERN_NETBUF_FRAME_SIZE);
    memcpy(nb->data, fr, n);
    nb->len = (uint16_t)n;
    tern_input(S(f), &f->cn.nif, nb, f->now);
    tern_socket_t *so = S(f)->sockets.slots[s - 1];
    tern_netbuf_t *q = so->u.udp.head;
    assert_ptr_equal(q, nb);
    size_t exact = TERN_NETBUF_FRAME_OFFSET + 14 + 20 + 8 + 60;
    assert_int_equal(tern_mem_size(&S(f)->ledger, q->storage), exact);
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, (unsigned)s), sizeof(tern_socket_t) + exact);
    uint8_t buf[64];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 60);
    assert_memory_equal(buf, data, 60);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}
#endif

/* ---- zero copy ---------------------------------------------------------------- */

static void test_zero_copy(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 7000);
    rx_from(f, 4444, 7000, "zero-copy", 9);
    tern_netbuf_t *nb = NULL;
    tern_sockaddr_t from;
    uint32_t gets = S(f)->netbufs.gets;
    assert_int_equal(tern_recvfrom_netbuf(S(f), s, &nb, 0, &from), 9);
    assert_non_null(nb);
    assert_int_equal(nb->len, 9);
    assert_memory_equal(nb->data, "zero-copy", 9);
    assert_int_equal(from.addr, FR_PEER_IP);
    assert_int_equal(from.port, 4444);
    /* Handed over: no longer the socket's. */
    assert_int_equal(nb->owner, TERN_OWNER_STACK);
    assert_int_equal(tern_ledger_owner_bytes(&S(f)->ledger, (unsigned)s), sizeof(tern_socket_t));
    /* Echo it in place: no new buffer, no copy. */
    memcpy(nb->data, "ZERO-COPY", 9);
    capnet_clear(&f->cn);
    assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &from), 9);
    assert_int_equal(S(f)->netbufs.gets, gets);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(len, 42 + 9);
    assert_memory_equal(got + 42, "ZERO-COPY", 9);
    assert_int_equal(got[34] << 8 | got[35], 7000);
    assert_int_equal(got[36] << 8 | got[37], 4444);
    /* A fresh buffer: headroom reserved, shortened before sending. */
    nb = tern_socket_netbuf_get(S(f), 100, 0);
    assert_non_null(nb);
    assert_int_equal(nb->len, 100);
    memcpy(nb->data, "short", 5);
    assert_int_equal(tern_netbuf_set_len(nb, 5), TERN_OK);
    capnet_clear(&f->cn);
    assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &from), 5);
    got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(len, 42 + 5);
    assert_memory_equal(got + 42, "short", 5);
    /* Received then released without sending. */
    rx_from(f, 4444, 7000, "drop me", 7);
    assert_int_equal(tern_recvfrom_netbuf(S(f), s, &nb, 0, NULL), 7);
    tern_socket_netbuf_release(S(f), nb);
    assert_int_equal(tern_recvfrom_netbuf(S(f), s, &nb, 0, NULL), TERN_ERR_WOULDBLOCK);
    assert_null(nb);
    /* Failing sends still take the buffer. */
    nb = tern_socket_netbuf_get(S(f), 1, 0);
    assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, NULL), TERN_ERR_STATE);
    tern_sockaddr_t bcast = {.addr = 0xFFFFFFFFu, .port = 9};
    nb = tern_socket_netbuf_get(S(f), 1, 0);
    assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &bcast), TERN_ERR_INVAL);
    assert_int_equal(tern_shutdown(S(f), s, TERN_SHUT_WR), TERN_OK);
    nb = tern_socket_netbuf_get(S(f), 1, 0);
    assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &from), TERN_ERR_CLOSED);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

/* ---- poll ------------------------------------------------------------------------ */

static void test_poll_several(void **state)
{
    net_fixture_t *f = *state;
    int a = udp_socket(f, 7001), b = udp_socket(f, 7002), c = udp_socket(f, 7003);
    tern_pollfd_t fds[5] = {
        {a, TERN_POLLIN, 0}, {b, TERN_POLLIN, 0}, {c, TERN_POLLIN | TERN_POLLOUT, 0}, {-1, TERN_POLLIN, 0xFF},
        {b, 0, 0},
    };
    /* Only c is ready (writable). */
    assert_int_equal(tern_socket_poll(S(f), fds, 5, 0), 1);
    assert_int_equal(fds[0].revents, 0);
    assert_int_equal(fds[1].revents, 0);
    assert_int_equal(fds[2].revents, TERN_POLLOUT);
    assert_int_equal(fds[3].revents, 0); /* negative: ignored */
    /* Data for b: b readable. */
    rx_from(f, 1, 7002, "b", 1);
    assert_int_equal(tern_socket_poll(S(f), fds, 5, 0), 2);
    assert_int_equal(fds[1].revents, TERN_POLLIN);
    assert_int_equal(fds[4].revents, 0); /* not asked for */
    /* No free buffer: not writable. */
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned k = 0;
    while (k < TERN_NETBUF_COUNT && (held[k] = tern_netbuf_get(&S(f)->netbufs, 64, 0)) != NULL)
        k++;
    assert_int_equal(tern_socket_poll(S(f), fds, 5, 0), 1);
    assert_int_equal(fds[2].revents, 0);
    /* ... and a send says so, without blocking on this port. */
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_sendto(S(f), c, "x", 1, 0, &to), TERN_ERR_NOBUFS);
    assert_int_equal(tern_sendto(S(f), c, "x", 1, TERN_MSG_DONTWAIT, &to), TERN_ERR_NOBUFS);
    assert_null(tern_socket_netbuf_get(S(f), 1, 1000));
    while (k > 0)
        tern_netbuf_release(&S(f)->netbufs, held[--k]);
    /* Shut down both ways: readable (recv returns at once) and hung up. */
    assert_int_equal(tern_shutdown(S(f), a, TERN_SHUT_RDWR), TERN_OK);
    assert_int_equal(tern_socket_poll(S(f), fds, 1, 0), 1);
    assert_int_equal(fds[0].revents, TERN_POLLIN | TERN_POLLHUP);
    /* Closed: invalid. */
    assert_int_equal(tern_close(S(f), c), TERN_OK);
    assert_int_equal(tern_socket_poll(S(f), fds, 5, 0), 3);
    assert_int_equal(fds[2].revents, TERN_POLLNVAL);
    assert_int_equal(tern_socket_poll(S(f), fds, 0, 0), 0);
    tern_socket_close_all(S(f));
    mem_assert_baseline(S(f), &f->base);
}

/* ---- shutdown, connect, broadcast, errors ----------------------------------- */

static void test_shutdown(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 7000);
    rx_from(f, 1, 7000, "queued", 6);
    rx_from(f, 1, 7000, "queued", 6);
    uint16_t free_queued = tern_netbuf_free_count(&S(f)->netbufs);
    /* RD: the queue is dropped at once, later datagrams too. */
    assert_int_equal(tern_shutdown(S(f), s, TERN_SHUT_RD), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&S(f)->netbufs), free_queued + 2);
    char buf[8];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_CLOSED);
    rx_from(f, 1, 7000, "late", 4);
    assert_int_equal(C(f)->udp_drop_shut_rd, 1);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_CLOSED);
    /* Sending still works until WR. */
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_sendto(S(f), s, "x", 1, 0, &to), 1);
    assert_int_equal(tern_shutdown(S(f), s, TERN_SHUT_WR), TERN_OK);
    assert_int_equal(tern_sendto(S(f), s, "x", 1, 0, &to), TERN_ERR_CLOSED);
    /* The port stays taken until close. */
    int t = tern_socket(S(f), TERN_SOCK_DGRAM);
    tern_sockaddr_t l = {.addr = 0, .port = 7000};
    assert_int_equal(tern_bind(S(f), t, &l), TERN_ERR_ADDRINUSE);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    assert_int_equal(tern_bind(S(f), t, &l), TERN_OK);
    assert_int_equal(tern_close(S(f), t), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

static void test_connect(void **state)
{
    net_fixture_t *f = *state;
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    tern_sockaddr_t peer = {.addr = FR_PEER_IP, .port = 5353}, got;
    assert_int_equal(tern_connect(S(f), s, &peer), TERN_OK);
    assert_int_equal(tern_getpeername(S(f), s, &got), TERN_OK);
    assert_int_equal(got.addr, FR_PEER_IP);
    assert_int_equal(got.port, 5353);
    /* Implicitly bound to an ephemeral port. */
    tern_sockaddr_t me;
    assert_int_equal(tern_getsockname(S(f), s, &me), TERN_OK);
    assert_true(me.port >= TERN_UDP_EPHEMERAL_FIRST);
    /* send() goes to the peer. */
    capnet_clear(&f->cn);
    assert_int_equal(tern_send(S(f), s, "hello", 5, 0), 5);
    const uint8_t *fr = capnet_frame(&f->cn, 0, NULL);
    assert_int_equal(fr[36] << 8 | fr[37], 5353);
    assert_int_equal(fr[34] << 8 | fr[35], me.port);
    /* Only the peer's datagrams arrive; others get port unreachable. */
    rx_from(f, 5353, me.port, "from peer", 9);
    rx_from(f, 5354, me.port, "from other", 10);
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    char buf[16];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 9);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    /* Disconnect: from anyone again. */
    assert_int_equal(tern_connect(S(f), s, NULL), TERN_OK);
    assert_int_equal(tern_getpeername(S(f), s, &got), TERN_ERR_STATE);
    rx_from(f, 5354, me.port, "from other", 10);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 10);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    mem_assert_baseline(S(f), &f->base);
}

static void test_broadcast_option(void **state)
{
    net_fixture_t *f = *state;
    int s = udp_socket(f, 67);
    uint8_t fr[FRAME_MAX];
    tern_sockaddr_t bcast = {.addr = 0xFFFFFFFFu, .port = 68};
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, 0xFFFFFFFFu, 68, 67, "b", 1));
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    assert_int_equal(tern_sendto(S(f), s, "b", 1, 0, &bcast), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(S(f), s, TERN_SO_BROADCAST, 1), TERN_OK);
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, 0xFFFFFFFFu, 68, 67, "b", 1));
    char buf[4];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), 1);
    capnet_clear(&f->cn);
    assert_int_equal(tern_sendto(S(f), s, "b", 1, 0, &bcast), 1);
    assert_memory_equal(capnet_frame(&f->cn, 0, NULL), FR_BCAST_MAC, 6);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
}

/* An ICMP port unreachable quoting a datagram the connected socket sent. */
static void test_icmp_error_pending(void **state)
{
    net_fixture_t *f = *state;
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    tern_sockaddr_t peer = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_connect(S(f), s, &peer), TERN_OK);
    capnet_clear(&f->cn);
    assert_int_equal(tern_send(S(f), s, "knock", 5, 0), 5);
    size_t len;
    const uint8_t *sent = capnet_frame(&f->cn, 0, &len);
    uint8_t icmp[128];
    size_t in = frame_icmp(icmp, 3, 3, 0, sent + 14, 28);
    udp_icmp_error(S(f), icmp, in);
    assert_int_equal(C(f)->udp_icmp_err_rx, 1);
    tern_pollfd_t pfd = {s, TERN_POLLIN, 0};
    assert_int_equal(tern_socket_poll(S(f), &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, TERN_POLLIN | TERN_POLLERR);
    /* Reported once by recv, then gone. */
    char buf[8];
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_REFUSED);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    /* Or by SO_ERROR. Other codes map to other errors. */
    icmp[1] = 4; /* fragmentation needed */
    udp_icmp_error(S(f), icmp, in);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal((int32_t)v, TERN_ERR_MSGSIZE);
    assert_int_equal(tern_getsockopt(S(f), s, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal(v, 0);
    icmp[0] = 11;
    icmp[1] = 0;
    udp_icmp_error(S(f), icmp, in);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_UNREACH);
    /* About another peer port: not ours. */
    icmp[0] = 3;
    icmp[8 + 20 + 3] ^= 1;
    udp_icmp_error(S(f), icmp, in);
    assert_int_equal(tern_recv(S(f), s, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
}

/* tern_stack_deinit closes what the application left open. */
static void test_deinit_closes_sockets(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(5);
    int s = udp_socket(f, 7000);
    (void)s;
    rx_from(f, 1, 7000, "left behind", 11);
    (void)udp_socket(f, 7001);
    tern_stack_deinit(S(f));
    assert_int_equal(tern_ledger_total_bytes(&S(f)->ledger), 0);
    assert_int_equal(tern_ledger_verify(&S(f)->ledger), TERN_OK);
    assert_int_equal(tern_netbuf_free_count(&S(f)->netbufs), TERN_NETBUF_COUNT);
    assert_null(S(f)->udp.pcbs);
    free(f);
}

/* ---- allocation failures -------------------------------------------------------- */

#if TERN_FAULT_INJECTION
static void test_alloc_failure_create(void **state)
{
    net_fixture_t *f = *state;
    books_t before, after;
    books_take(S(f), &before);
    tern_ledger_fail_nth(&S(f)->ledger, 1, 0);
    assert_int_equal(tern_socket(S(f), TERN_SOCK_DGRAM), TERN_ERR_NOMEM);
    tern_ledger_fail_nth(&S(f)->ledger, 0, 0);
    books_take(S(f), &after);
    books_equal(&before, &after);
    for (int i = 0; i < TERN_SOCKET_MAX; i++)
        assert_null(S(f)->sockets.slots[i]);
    /* The id is free for the next try. */
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    assert_true(s > 0);
    assert_int_equal(tern_close(S(f), s), TERN_OK);
}

/* One UDP exchange: create, bind, receive two datagrams, read one by copy
 * and one zero-copy, echo both, close. Every step either works or fails
 * with a clean error; returns how many steps failed. */
static unsigned exchange(net_fixture_t *f)
{
    unsigned failed = 0;
    int s = tern_socket(S(f), TERN_SOCK_DGRAM);
    if (s < 0) {
        assert_int_equal(s, TERN_ERR_NOMEM);
        return 1;
    }
    tern_sockaddr_t l = {.addr = 0, .port = 7000};
    assert_int_equal(tern_bind(S(f), s, &l), TERN_OK);
    uint8_t fr[FRAME_MAX];
    size_t n = udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 99, 7000, "ping", 4);
    for (int i = 0; i < 2; i++) {
        if (f->cn.nif.caps & TERN_NETIF_CAP_ZERO_COPY_RX) {
            fx_rx(f, fr, n);
            continue;
        }
        int r = tern_input_copy(S(f), &f->cn.nif, fr, n, f->now);
        if (r != TERN_OK) {
            assert_int_equal(r, TERN_ERR_NOBUFS);
            failed++;
        }
    }
    char buf[8];
    tern_sockaddr_t from;
    int r = tern_recvfrom(S(f), s, buf, sizeof buf, 0, &from);
    if (r == 4) {
        r = tern_sendto(S(f), s, buf, 4, 0, &from);
        if (r != 4) {
            assert_int_equal(r, TERN_ERR_NOBUFS);
            failed++;
        }
    } else {
        assert_int_equal(r, TERN_ERR_WOULDBLOCK);
    }
    tern_netbuf_t *nb;
    r = tern_recvfrom_netbuf(S(f), s, &nb, 0, &from);
    if (r == 4) {
        assert_int_equal(tern_sendto_netbuf(S(f), s, nb, 0, &from), 4);
    } else {
        assert_int_equal(r, TERN_ERR_WOULDBLOCK);
    }
    nb = tern_socket_netbuf_get(S(f), 10, 0);
    if (nb != NULL)
        tern_socket_netbuf_release(S(f), nb);
    else
        failed++;
    assert_int_equal(tern_close(S(f), s), TERN_OK);
    return failed;
}

static void test_alloc_failure_every_step(void **state)
{
    net_fixture_t *f = *state;
    books_t before, after;
    books_take(S(f), &before);
    uint32_t a0 = tern_ledger_attempts(&S(f)->ledger);
    assert_int_equal(exchange(f), 0);
    uint32_t attempts = tern_ledger_attempts(&S(f)->ledger) - a0;
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
    /* The socket, two received buffers (plus their shrinks), the echo and
     * the spare buffer. */
    assert_true(attempts >= 5);
#else
    assert_int_equal(attempts, 1); /* the socket only: buffers are static */
#endif
    books_take(S(f), &after);
    assert_memory_equal(before.bytes, after.bytes, sizeof before.bytes);
    assert_memory_equal(before.owner, after.owner, sizeof before.owner);
    for (uint32_t k = 1; k <= attempts; k++) {
        uint32_t fails = 0;
        for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
            fails += tern_ledger_category(&S(f)->ledger, (tern_mem_category_t)c)->failures;
        tern_ledger_fail_nth(&S(f)->ledger, k, 0);
        capnet_clear(&f->cn);
        (void)exchange(f);
        tern_ledger_fail_nth(&S(f)->ledger, 0, 0);
        uint32_t fails_after = 0;
        for (int c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
            fails_after += tern_ledger_category(&S(f)->ledger, (tern_mem_category_t)c)->failures;
        assert_int_equal(fails_after, fails + 1); /* the injected failure happened */
        books_take(S(f), &after);
        assert_memory_equal(before.bytes, after.bytes, sizeof before.bytes);
        assert_memory_equal(before.owner, after.owner, sizeof before.owner);
        assert_int_equal(before.bufs_free, after.bufs_free);
        assert_null(S(f)->udp.pcbs);
    }
    mem_assert_baseline(S(f), &f->base);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ledger_identical_after_close, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ids, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_handles, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_call_errors, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_options, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound_and_order, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_msgsize_and_peek, setup, net_fixture_teardown),
#if TERN_NETBUF_SCHEME == TERN_NETBUF_HEAP
        cmocka_unit_test_setup_teardown(test_heap_queue_shrinks, setup, net_fixture_teardown),
#endif
        cmocka_unit_test_setup_teardown(test_zero_copy, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_poll_several, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connect, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_option, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_error_pending, setup, net_fixture_teardown),
        cmocka_unit_test(test_deinit_closes_sockets),
#if TERN_FAULT_INJECTION
        cmocka_unit_test_setup_teardown(test_alloc_failure_create, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failure_every_step, setup, net_fixture_teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
