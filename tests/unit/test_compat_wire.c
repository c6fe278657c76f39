/* The BSD sockets and FreeRTOS+TCP layers (apps/compat) carrying traffic:
 * stack A speaks through the compatibility calls, stack B through tern's
 * own API, on the virtual wire and virtual time (wire2.h), so a blocking
 * call drives the wire. What test_compat.c leaves to the system tests:
 * connect, accept with the peer's address, send and receive both ways,
 * sendto / recvfrom with addresses, getpeername, shutdown, fcntl, poll and
 * select with data, errors and hang-ups, every option translation and its
 * malformed forms, and the FreeRTOS+TCP mapping of each of those results
 * (issue 17, measured coverage). TERN_TEST_ONE_VARIANT */
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

#define TERN_COMPAT_SOCKETS 1
#include "tern/compat/bsd_sockets.h"
#include "tern/compat/freertos_tcp.h"

typedef struct world {
    wire2_vport_t pa, pb;
    wire2_t n;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    wire2_vport_init(&w->pa, &w->n, 71);
    wire2_vport_init(&w->pb, &w->n, 72);
    wire2_init(&w->n, 7, NULL, &w->pa.tp.port, &w->pb.tp.port);
    wire2_set_timewait(&w->n, 500);
    tern_compat_set_stack(w->n.a);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    tern_compat_set_stack(NULL);
    wire2_deinit(&w->n);
    free(w);
    return 0;
}

static unsigned lock_calls, unlock_calls;

static void count_lock(void *ctx)
{
    (void)ctx;
    lock_calls++;
}

static void count_unlock(void *ctx)
{
    (void)ctx;
    unlock_calls++;
}

static struct sockaddr_in sin_of(tern_ip4_t ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip);
    return a;
}

/* A listener on B (tern's API). */
static int b_listener(world_t *w, uint16_t port)
{
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_true(l > 0);
    tern_sockaddr_t local = {.addr = 0, .port = port};
    assert_int_equal(tern_bind(w->n.b, l, &local), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 2), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1), TERN_OK);
    return l;
}

/* BSD TCP client on A against B: connect, names, both directions, peek,
 * select and poll with bytes queued, half-close seen as EOF on B, errors
 * after it, the peer's reset as ECONNRESET. */
static void test_bsd_tcp_client(void **state)
{
    world_t *w = *state;
    int l = b_listener(w, 7000);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s > 0);
    assert_int_equal(socket(AF_INET, 3, 0), -1); /* neither stream nor datagram */
    assert_int_equal(errno, EINVAL);

    struct sockaddr_in to = sin_of(W2_IP_B, 7000);
    assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof to - 1), -1); /* short address */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(connect(s, NULL, sizeof to), -1);
    assert_int_equal(errno, EINVAL);
    struct sockaddr_in bad = to;
    bad.sin_family = AF_INET + 8;
    assert_int_equal(connect(s, (struct sockaddr *)&bad, sizeof bad), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    assert_int_equal(getpeername(s, (struct sockaddr *)&peer, &len), -1); /* not connected */
    assert_int_equal(errno, ENOTCONN);

    assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof to), 0); /* blocking: drives the wire */
    assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof to), -1);
    assert_int_equal(errno, ENOTCONN); /* TERN_ERR_STATE: already connected */
    tern_sockaddr_t from_b;
    int c = tern_accept(w->n.b, l, &from_b);
    assert_true(c > 0);
    assert_int_equal(from_b.addr, W2_IP_A);

    len = sizeof peer;
    assert_int_equal(getpeername(s, (struct sockaddr *)&peer, &len), 0);
    assert_int_equal(len, sizeof peer);
    assert_int_equal(peer.sin_family, AF_INET);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), W2_IP_B);
    assert_int_equal(ntohs(peer.sin_port), 7000);
    /* a short buffer gets the head of the address and the full length */
    uint8_t head[4] = {0xee, 0xee, 0xee, 0xee};
    len = 2;
    assert_int_equal(getpeername(s, (struct sockaddr *)head, &len), 0);
    assert_int_equal(len, sizeof peer);
    assert_int_equal(head[2], 0xee);
    assert_int_equal(getpeername(s, NULL, NULL), 0); /* nothing to write: fine */
    struct sockaddr_in me;
    len = sizeof me;
    assert_int_equal(getsockname(s, (struct sockaddr *)&me, &len), 0);
    assert_int_equal(ntohs(me.sin_port), from_b.port);
    assert_int_equal(getsockname(99, (struct sockaddr *)&me, &len), -1);
    assert_int_equal(errno, EBADF);

    /* options on a connected TCP socket */
    int one = 1, v = 0;
    assert_int_equal(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    len = sizeof v;
    assert_int_equal(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    assert_int_equal(v, 1);
    assert_int_equal(setsockopt(s, IPPROTO_TCP, 99, &one, sizeof one), -1); /* unknown TCP option */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(setsockopt(s, IPPROTO_UDP, TCP_NODELAY, &one, sizeof one), -1); /* unknown level */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), 0);
    len = sizeof v;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
    assert_int_equal(v, 1);
    /* SO_REUSEADDR on TCP is accepted and changes nothing */
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    int minus = -1;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &minus, sizeof minus), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &one, 2), -1); /* short int */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDBUF, NULL, sizeof one), -1);
    assert_int_equal(errno, EINVAL);
    len = sizeof v;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    assert_int_equal(v, 0);
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    assert_int_equal(v, SOCK_STREAM);
    len = 2;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), -1); /* short int */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(getsockopt(s, SOL_SOCKET, 0x7777, &v, &len), -1);
    assert_int_equal(errno, EINVAL);
    len = sizeof v;
    assert_int_equal(getsockopt(99, SOL_SOCKET, SO_TYPE, &v, &len), -1);
    assert_int_equal(errno, EBADF);

    /* timeval options: sub-millisecond is 1 ms, negative and short are EINVAL */
    struct timeval tv = {0, 10}, back;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    len = sizeof back;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &back, &len), 0);
    assert_int_equal(back.tv_sec, 0);
    assert_int_equal(back.tv_usec, 1000);
    len = sizeof back - 1;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &back, &len), -1);
    assert_int_equal(errno, EINVAL);
    tv.tv_usec = -1;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), -1);
    assert_int_equal(errno, EINVAL);
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv - 1), -1);
    assert_int_equal(errno, EINVAL);
    tv.tv_sec = 0;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0); /* 0: forever */

    /* A -> B */
    assert_int_equal(send(s, "hello", 5, 0), 5);
    wire2_run(&w->n, 50);
    char buf[32];
    assert_int_equal(tern_recv(w->n.b, c, buf, sizeof buf, TERN_MSG_DONTWAIT), 5);
    assert_memory_equal(buf, "hello", 5);

    /* fcntl: non-blocking, read back, and an unknown command */
    assert_int_equal(fcntl(s, F_GETFL, 0), 0);
    assert_int_equal(fcntl(s, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fcntl(s, F_GETFL, 0), O_NONBLOCK);
    assert_int_equal(fcntl(s, 77, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fcntl(99, F_GETFL, 0), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(recv(s, buf, sizeof buf, 0), -1); /* non-blocking now */
    assert_int_equal(errno, EWOULDBLOCK);

    /* B -> A: select and poll see it, a peek leaves it, a read takes it */
    assert_int_equal(tern_send(w->n.b, c, "world", 5, 0), 5);
    fd_set r, x;
    FD_ZERO(&r);
    FD_ZERO(&x);
    FD_SET(s, &r);
    FD_SET(s, &x);
    struct timeval wait = {1, 0};
    assert_int_equal(select(s + 1, &r, NULL, &x, &wait), 1); /* blocks until the bytes arrive */
    assert_true(FD_ISSET(s, &r));
    assert_false(FD_ISSET(s, &x));
    struct pollfd p = {s, POLLIN, 0};
    assert_int_equal(poll(&p, 1, -1), 1);
    assert_int_equal(p.revents, POLLIN);
    assert_int_equal(recv(s, buf, sizeof buf, MSG_PEEK), 5);
    assert_int_equal(recv(s, buf, 2, 0), 2);
    assert_memory_equal(buf, "wo", 2);
    struct sockaddr_in src;
    len = sizeof src;
    assert_int_equal(recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&src, &len), 3);
    assert_memory_equal(buf, "rld", 3);
    assert_int_equal(recvfrom(s, buf, sizeof buf, 0, NULL, NULL), -1);
    assert_int_equal(errno, EWOULDBLOCK);

    /* shutdown: a bad "how", then a half-close B reads as the end */
    assert_int_equal(shutdown(s, 7), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(shutdown(s, -1), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(shutdown(s, SHUT_WR), 0);
    wire2_run(&w->n, 50);
    assert_int_equal(tern_recv(w->n.b, c, buf, sizeof buf, TERN_MSG_DONTWAIT), 0);
    assert_int_equal(send(s, "x", 1, 0), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(shutdown(s, SHUT_RD), 0);
    assert_int_equal(shutdown(99, SHUT_RDWR), -1);
    assert_int_equal(errno, EBADF);

    /* B aborts: A's select reports it readable and in error, recv ECONNRESET */
    assert_int_equal(tern_setsockopt(w->n.b, c, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, c), TERN_OK);
    wire2_run(&w->n, 50);
    FD_ZERO(&r);
    FD_ZERO(&x);
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(s, &r);
    FD_SET(s, &wr);
    FD_SET(s, &x);
    struct timeval zero = {0, 0};
    int n = select(s + 1, &r, &wr, &x, &zero);
    assert_true(n >= 1);
    assert_true(FD_ISSET(s, &r));
    len = sizeof v;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    assert_true(v == ECONNRESET || v == 0);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* BSD listener on A: accept with nothing queued (non-blocking), then a
 * connection from B with the peer's address filled in; listen errors. */
static void test_bsd_tcp_server(void **state)
{
    world_t *w = *state;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin_of(0, 7100);
    assert_int_equal(bind(l, (struct sockaddr *)&any, sizeof any), 0);
    assert_int_equal(listen(l, 2), 0);
    assert_int_equal(listen(99, 2), -1);
    assert_int_equal(errno, EBADF);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(listen(u, 1), -1);
    assert_int_equal(errno, EOPNOTSUPP);
    assert_int_equal(closesocket(u), 0);
    assert_int_equal(fcntl(l, F_SETFL, O_NONBLOCK), 0);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    assert_int_equal(accept(l, (struct sockaddr *)&peer, &len), -1);
    assert_int_equal(errno, EWOULDBLOCK);

    int c = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.b, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_A, .port = 7100};
    assert_int_equal(tern_connect(w->n.b, c, &to), TERN_ERR_INPROGRESS);
    /* select on the listener blocks until the connection is queued */
    fd_set r;
    FD_ZERO(&r);
    FD_SET(l, &r);
    assert_int_equal(select(l + 1, &r, NULL, NULL, NULL), 1);
    assert_true(FD_ISSET(l, &r));
    len = sizeof peer;
    int a = accept(l, (struct sockaddr *)&peer, &len);
    assert_true(a > 0);
    assert_int_equal(len, sizeof peer);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), W2_IP_B);
    tern_sockaddr_t bname;
    assert_int_equal(tern_getsockname(w->n.b, c, &bname), TERN_OK);
    assert_int_equal(ntohs(peer.sin_port), bname.port);
    assert_int_equal(closesocket(a), 0);
    assert_int_equal(closesocket(l), 0);
    assert_int_equal(accept(l, NULL, NULL), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(tern_close(w->n.b, c), TERN_OK);
    wire2_run(&w->n, 100);
}

/* BSD UDP between the stacks: sendto with an address, recvfrom fills the
 * sender in, connected send, the malformed forms of each. */
static void test_bsd_udp_traffic(void **state)
{
    world_t *w = *state;
    int ub = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    tern_sockaddr_t lb = {.addr = 0, .port = 7200};
    assert_int_equal(tern_bind(w->n.b, ub, &lb), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, ub, TERN_SO_NONBLOCK, 1), TERN_OK);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = sin_of(W2_IP_B, 7200);
    assert_int_equal(sendto(s, "ab", 2, 0, NULL, 0), -1); /* no address and not connected */
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(sendto(s, "ab", 2, 0, (struct sockaddr *)&to, 3), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sendto(s, "ab", 2, 0, (struct sockaddr *)&to, sizeof to), 2);
    wire2_run(&w->n, 50);
    char buf[16];
    tern_sockaddr_t from;
    assert_int_equal(tern_recvfrom(w->n.b, ub, buf, sizeof buf, 0, &from), 2);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(from.addr, W2_IP_A);
    assert_int_equal(tern_sendto(w->n.b, ub, "cde", 3, 0, &from), 3);

    struct pollfd p[2] = {{s, POLLIN, 0}, {77, POLLIN, 0}};
    assert_int_equal(poll(p, 1, 1000), 1); /* blocks until the answer is queued */
    assert_int_equal(p[0].revents, POLLIN);
    assert_int_equal(poll(p, TERN_SOCKET_MAX + 1, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(poll(NULL, 1, 0), -1);
    assert_int_equal(errno, EINVAL);
    struct sockaddr_in src;
    socklen_t len = sizeof src;
    assert_int_equal(recvfrom(s, buf, 1, 0, (struct sockaddr *)&src, &len), -1); /* too small: kept */
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&src, &len), 3);
    assert_memory_equal(buf, "cde", 3);
    assert_int_equal(ntohl(src.sin_addr.s_addr), W2_IP_B);
    assert_int_equal(ntohs(src.sin_port), 7200);

    /* connected: send without an address; SO_BROADCAST and SO_RCVBUF pass through */
    assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof to), 0);
    assert_int_equal(send(s, "f", 1, 0), 1);
    assert_int_equal(sendto(s, "g", 1, 0, NULL, 0), 1);
    wire2_run(&w->n, 50);
    assert_int_equal(tern_recv(w->n.b, ub, buf, sizeof buf, 0), 1);
    assert_int_equal(tern_recv(w->n.b, ub, buf, sizeof buf, 0), 1);
    assert_int_equal(buf[0], 'g');
    int one = 1, v = 0;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one), 0);
    len = sizeof v;
    assert_int_equal(getsockopt(s, SOL_SOCKET, SO_BROADCAST, &v, &len), 0);
    assert_int_equal(v, 1);
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);

    /* select: out of range, a negative timeout, a closed socket (EBADF) */
    fd_set r;
    FD_ZERO(&r);
    assert_int_equal(select(-1, &r, NULL, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(select(TERN_FD_SETSIZE + 1, &r, NULL, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    struct timeval neg = {-1, 0};
    assert_int_equal(select(s + 1, &r, NULL, NULL, &neg), -1);
    assert_int_equal(errno, EINVAL);
    /* fd_set bounds: out-of-range descriptors are ignored and never set */
    FD_SET(-1, &r);
    FD_SET(TERN_FD_SETSIZE, &r);
    assert_false(FD_ISSET(-1, &r));
    assert_false(FD_ISSET(TERN_FD_SETSIZE, &r));
    FD_SET(s, &r);
    FD_CLR(s, &r);
    assert_false(FD_ISSET(s, &r));
    int gone = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(closesocket(gone), 0);
    FD_SET(gone, &r);
    struct timeval zero = {0, 0};
    assert_int_equal(select(gone + 1, &r, NULL, NULL, &zero), -1);
    assert_int_equal(errno, EBADF);
    fd_set x;
    FD_ZERO(&x);
    FD_SET(s, &x); /* only in the exception set: polled, nothing pending */
    assert_int_equal(select(s + 1, NULL, NULL, &x, &zero), 0);
    assert_false(FD_ISSET(s, &x));

    assert_int_equal(closesocket(s), 0);
    assert_int_equal(tern_close(w->n.b, ub), TERN_OK);
}

/* FreeRTOS+TCP on A: TCP connect, send, recv, the peer's FIN as ENOTCONN,
 * accept of an incoming connection, every option and shutdown form. */
static void test_freertos_tcp_traffic(void **state)
{
    world_t *w = *state;
    int l = b_listener(w, 7300);
    assert_ptr_equal(FreeRTOS_socket(FREERTOS_AF_INET + 1, FREERTOS_SOCK_STREAM, 0), FREERTOS_INVALID_SOCKET);
    assert_ptr_equal(FreeRTOS_socket(FREERTOS_AF_INET, 99, 0), FREERTOS_INVALID_SOCKET);
    Socket_t s = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    assert_ptr_not_equal(s, FREERTOS_INVALID_SOCKET);
    struct freertos_sockaddr to = {0};
    to.sin_port = FreeRTOS_htons(7300);
    to.sin_addr = FreeRTOS_inet_addr_quick(192, 0, 2, 2);
    assert_int_equal(FreeRTOS_connect(s, NULL, sizeof to), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_connect(FREERTOS_INVALID_SOCKET, &to, sizeof to), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_connect(s, &to, sizeof to), 0);
    assert_int_equal(FreeRTOS_connect(s, &to, sizeof to), -pdFREERTOS_ERRNO_EISCONN);
    int c = tern_accept(w->n.b, l, NULL);
    assert_true(c > 0);

    /* options: timeouts in ticks, buffer sizes, malformed forms */
    TickType_t ticks = 0;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_RCVTIMEO, &ticks, sizeof ticks), 0);
    ticks = portMAX_DELAY;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_SNDTIMEO, &ticks, sizeof ticks), 0);
    ticks = 20;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_RCVTIMEO, &ticks, sizeof ticks), 0);
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_RCVTIMEO, &ticks, 1), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_RCVTIMEO, NULL, sizeof ticks), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_setsockopt(FREERTOS_INVALID_SOCKET, 0, FREERTOS_SO_RCVTIMEO, &ticks, sizeof ticks),
                     -pdFREERTOS_ERRNO_EINVAL);
    int32_t sz = 0;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_SNDBUF, &sz, sizeof sz), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_SNDBUF, &sz, 1), -pdFREERTOS_ERRNO_EINVAL);
    sz = 4;
    /* a UDP queue length on a TCP socket: not supported there */
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_UDP_MAX_RX_PACKETS, &sz, sizeof sz),
                     -pdFREERTOS_ERRNO_ENOPROTOOPT);

    /* data both ways; a receive that times out is 0 bytes */
    char buf[16];
    assert_int_equal(FreeRTOS_recv(s, buf, sizeof buf, 0), 0); /* 20 ticks pass, nothing came */
    assert_int_equal(FreeRTOS_recv(s, buf, 0, 0), 0);
    assert_int_equal(FreeRTOS_recv(s, buf, sizeof buf, FREERTOS_ZERO_COPY), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_recv(FREERTOS_INVALID_SOCKET, buf, sizeof buf, 0), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_send(s, "xy", 2, FREERTOS_ZERO_COPY), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_send(s, "xyz", 3, 0), 3);
    wire2_run(&w->n, 50);
    assert_int_equal(tern_recv(w->n.b, c, buf, sizeof buf, 0), 3);
    assert_memory_equal(buf, "xyz", 3);
    assert_int_equal(tern_send(w->n.b, c, "pq", 2, 0), 2);
    assert_int_equal(FreeRTOS_recv(s, buf, sizeof buf, FREERTOS_MSG_PEEK), 2);
    assert_int_equal(FreeRTOS_recv(s, buf, sizeof buf, 0), 2);
    assert_memory_equal(buf, "pq", 2);

    /* shutdown forms; the peer's FIN is ENOTCONN */
    assert_int_equal(FreeRTOS_shutdown(s, 9), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_shutdown(FREERTOS_INVALID_SOCKET, FREERTOS_SHUT_RDWR), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_shutdown(s, FREERTOS_SHUT_WR), 0);
    assert_int_equal(tern_shutdown(w->n.b, c, TERN_SHUT_WR), TERN_OK);
    wire2_run(&w->n, 50);
    assert_int_equal(FreeRTOS_recv(s, buf, sizeof buf, 0), -pdFREERTOS_ERRNO_ENOTCONN);
    assert_int_equal(FreeRTOS_send(s, "z", 1, 0), -pdFREERTOS_ERRNO_ENOTCONN); /* shut down for writing */
    assert_int_equal(FreeRTOS_shutdown(s, FREERTOS_SHUT_RD), 0);
    assert_int_equal(FreeRTOS_closesocket(s), 1);
    assert_int_equal(tern_close(w->n.b, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);

    /* A listens (FreeRTOS), B connects: accept gives the peer */
    Socket_t fl = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    struct freertos_sockaddr any = {0};
    any.sin_port = FreeRTOS_htons(7400);
    assert_int_equal(FreeRTOS_bind(FREERTOS_INVALID_SOCKET, &any, sizeof any), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_bind(fl, &any, sizeof any), 0);
    assert_int_equal(FreeRTOS_listen(FREERTOS_INVALID_SOCKET, 1), -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_listen(fl, 5000), 0); /* an absurd backlog is clamped */
    ticks = 0;
    assert_int_equal(FreeRTOS_setsockopt(fl, 0, FREERTOS_SO_RCVTIMEO, &ticks, sizeof ticks), 0);
    assert_null(FreeRTOS_accept(fl, NULL, NULL)); /* nothing queued: NULL, not invalid */
    assert_ptr_equal(FreeRTOS_accept(FREERTOS_INVALID_SOCKET, NULL, NULL), FREERTOS_INVALID_SOCKET);
    int bc = tern_socket(w->n.b, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.b, bc, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t ta = {.addr = W2_IP_A, .port = 7400};
    assert_int_equal(tern_connect(w->n.b, bc, &ta), TERN_ERR_INPROGRESS);
    wire2_run(&w->n, 50);
    struct freertos_sockaddr from;
    socklen_t len = 0;
    Socket_t a = FreeRTOS_accept(fl, &from, &len);
    assert_non_null(a);
    assert_ptr_not_equal(a, FREERTOS_INVALID_SOCKET);
    assert_int_equal(len, sizeof from);
    assert_int_equal(from.sin_family, FREERTOS_AF_INET);
    assert_int_equal(FreeRTOS_ntohl(from.sin_addr), W2_IP_B);
    assert_int_equal(FreeRTOS_closesocket(a), 1);
    assert_int_equal(FreeRTOS_closesocket(fl), 1);
    assert_int_equal(tern_close(w->n.b, bc), TERN_OK);
    wire2_run(&w->n, 100);
}

/* FreeRTOS+TCP UDP: sendto and recvfrom with addresses, a datagram longer
 * than the buffer cut to it (FreeRTOS+TCP's rule, not tern's), failures as
 * 0 bytes sent. */
static void test_freertos_udp_traffic(void **state)
{
    world_t *w = *state;
    int ub = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    tern_sockaddr_t lb = {.addr = 0, .port = 7500};
    assert_int_equal(tern_bind(w->n.b, ub, &lb), TERN_OK);
    Socket_t s = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_DGRAM, FREERTOS_IPPROTO_UDP);
    assert_int_equal(FreeRTOS_bind(s, NULL, 0), 0); /* an ephemeral port */
    struct freertos_sockaddr to = {0};
    to.sin_port = FreeRTOS_htons(7500);
    to.sin_addr = FreeRTOS_inet_addr("192.0.2.2");
    assert_int_equal(FreeRTOS_sendto(s, "abc", 3, 0, &to, sizeof to), 3);
    assert_int_equal(FreeRTOS_sendto(s, "abc", 3, FREERTOS_ZERO_COPY, &to, sizeof to), 0);
    assert_int_equal(FreeRTOS_sendto(FREERTOS_INVALID_SOCKET, "abc", 3, 0, &to, sizeof to), 0);
    assert_int_equal(FreeRTOS_sendto(s, "abc", 3, 0, NULL, 0), 0); /* not connected: nothing sent */
    wire2_run(&w->n, 50);
    char buf[16];
    tern_sockaddr_t from;
    assert_int_equal(tern_recvfrom(w->n.b, ub, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), 3);
    assert_int_equal(tern_recvfrom(w->n.b, ub, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_sendto(w->n.b, ub, "0123456789", 10, 0, &from), 10);
    assert_int_equal(tern_sendto(w->n.b, ub, "k", 1, 0, &from), 1);
    wire2_run(&w->n, 50);

    struct freertos_sockaddr src;
    socklen_t len = 0;
    memset(buf, 0, sizeof buf);
    assert_int_equal(FreeRTOS_recvfrom(s, buf, 4, FREERTOS_MSG_DONTWAIT, &src, &len), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(buf[4], 0);
    assert_int_equal(len, sizeof src);
    assert_int_equal(FreeRTOS_ntohs(src.sin_port), 7500);
    assert_int_equal(FreeRTOS_recvfrom(s, buf, sizeof buf, FREERTOS_MSG_DONTWAIT, NULL, NULL), 1); /* the rest was dropped */
    assert_int_equal(buf[0], 'k');
    assert_int_equal(FreeRTOS_recvfrom(FREERTOS_INVALID_SOCKET, buf, sizeof buf, 0, NULL, NULL),
                     -pdFREERTOS_ERRNO_EINVAL);
    assert_int_equal(FreeRTOS_shutdown(s, FREERTOS_SHUT_RD), 0);
    assert_int_equal(FreeRTOS_recvfrom(s, buf, sizeof buf, FREERTOS_MSG_DONTWAIT, NULL, NULL),
                     -pdFREERTOS_ERRNO_ENOTCONN); /* TERN_ERR_CLOSED */
    assert_int_equal(FreeRTOS_closesocket(s), 1);
    assert_int_equal(tern_close(w->n.b, ub), TERN_OK);

    /* no stack set: the heap figures are 0 */
    tern_compat_set_stack(NULL);
    assert_int_equal(xPortGetFreeHeapSize(), 0);
    assert_int_equal(xPortGetMinimumEverFreeHeapSize(), 0);
    assert_int_equal(FreeRTOS_gethostbyname(NULL), 0);
    tern_compat_set_stack(w->n.a);
    assert_true(xPortGetFreeHeapSize() > 0);

    /* the heap figures are read under the port's memory lock when it has one */
    lock_calls = unlock_calls = 0;
    w->pa.tp.port.mem_lock = count_lock;
    w->pa.tp.port.mem_unlock = count_unlock;
    size_t free_now = xPortGetFreeHeapSize();
    w->pa.tp.port.mem_lock = NULL;
    w->pa.tp.port.mem_unlock = NULL;
    assert_int_equal(lock_calls, 1);
    assert_int_equal(unlock_calls, 1);
    assert_int_equal(free_now, xPortGetFreeHeapSize());
}

/* The FreeRTOS+TCP error mapping as calls meet it on the wire: a refused
 * connect, an address nobody answers, a stale socket handle, a full send
 * ring (ENOSPC, FreeRTOS+TCP's word for it), the peer's reset. */
static void test_freertos_errors(void **state)
{
    world_t *w = *state;
    Socket_t s = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    struct freertos_sockaddr to = {0};
    to.sin_port = FreeRTOS_htons(7600); /* nobody listens: B answers RST */
    to.sin_addr = FreeRTOS_inet_addr_quick(192, 0, 2, 2);
    assert_int_equal(FreeRTOS_connect(s, &to, sizeof to), -pdFREERTOS_ERRNO_ECONNREFUSED);
    assert_int_equal(FreeRTOS_closesocket(s), 1);

    /* a closed socket's handle: EBADF from every call that reaches tern */
    assert_int_equal(FreeRTOS_bind(s, NULL, 0), -pdFREERTOS_ERRNO_EBADF);
    assert_int_equal(FreeRTOS_send(s, "x", 1, 0), -pdFREERTOS_ERRNO_EBADF);
    assert_int_equal(FreeRTOS_listen(s, 1), -pdFREERTOS_ERRNO_EBADF);
    assert_int_equal(FreeRTOS_shutdown(s, FREERTOS_SHUT_RDWR), -pdFREERTOS_ERRNO_EBADF);
    assert_int_equal(FreeRTOS_closesocket(s), 0);
    int32_t sz = 1024;
    assert_int_equal(FreeRTOS_setsockopt(s, 0, FREERTOS_SO_RCVBUF, &sz, sizeof sz), -pdFREERTOS_ERRNO_EBADF);
    assert_ptr_equal(FreeRTOS_accept(s, NULL, NULL), FREERTOS_INVALID_SOCKET);
    assert_ptr_equal(FreeRTOS_accept((Socket_t)(uintptr_t)(TERN_SOCKET_MAX + 1), NULL, NULL),
                     FREERTOS_INVALID_SOCKET); /* past the table: not a handle */

    /* an on-link address that never answers ARP: the connect gives up */
    Socket_t q = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    TickType_t ticks = 3000 / TERN_FREERTOS_TICK_MS;
    assert_int_equal(FreeRTOS_setsockopt(q, 0, FREERTOS_SO_SNDTIMEO, &ticks, sizeof ticks), 0);
    struct freertos_sockaddr nobody = to;
    nobody.sin_addr = FreeRTOS_inet_addr_quick(192, 0, 2, 99);
    BaseType_t r = FreeRTOS_connect(q, &nobody, sizeof nobody);
    assert_true(r == -pdFREERTOS_ERRNO_ETIMEDOUT || r == -pdFREERTOS_ERRNO_EIO);
    assert_int_equal(FreeRTOS_closesocket(q), 1);

    /* a full send ring with a 0-tick timeout: ENOSPC; then the peer's reset */
    int l = b_listener(w, 7700);
    Socket_t c = FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    assert_int_equal(FreeRTOS_setsockopt(c, 0, FREERTOS_SO_SNDBUF, &sz, sizeof sz), 0);
    to.sin_port = FreeRTOS_htons(7700);
    assert_int_equal(FreeRTOS_connect(c, &to, sizeof to), 0);
    int b = tern_accept(w->n.b, l, NULL);
    assert_true(b > 0);
    ticks = 0;
    assert_int_equal(FreeRTOS_setsockopt(c, 0, FREERTOS_SO_SNDTIMEO, &ticks, sizeof ticks), 0);
    static uint8_t big[8192];
    BaseType_t sent = 0, n = 0;
    for (int i = 0; i < 64 && (n = FreeRTOS_send(c, big, sizeof big, 0)) > 0; i++)
        sent += n;
    assert_int_equal(n, -pdFREERTOS_ERRNO_ENOSPC);
    assert_true(sent >= 1024);
    assert_int_equal(tern_setsockopt(w->n.b, b, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, b), TERN_OK);
    wire2_run(&w->n, 50);
    char buf[8];
    assert_int_equal(FreeRTOS_recv(c, buf, sizeof buf, 0), -pdFREERTOS_ERRNO_ENOTCONN); /* reset */
    assert_int_equal(FreeRTOS_closesocket(c), 1);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* The BSD names of the same failures: a refused connect, a stale socket. */
static void test_bsd_errors(void **state)
{
    world_t *w = *state;
    (void)w;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = sin_of(W2_IP_B, 7800);
    assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof to), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(closesocket(s), 0);
    assert_int_equal(send(s, "x", 1, 0), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(getpeername(s, NULL, NULL), -1);
    assert_int_equal(errno, EBADF);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(bind(u, NULL, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(closesocket(u), 0);
    int t = socket(AF_INET, SOCK_STREAM, 0); /* ring sizes: a TCP socket's */
    int sz = 2048, back = 0;
    socklen_t len = sizeof back;
    assert_int_equal(setsockopt(t, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz), 0);
    assert_int_equal(getsockopt(t, SOL_SOCKET, SO_RCVBUF, &back, &len), 0);
    assert_int_equal(back, 2048);
    assert_int_equal(closesocket(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bsd_tcp_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bsd_tcp_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bsd_udp_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freertos_tcp_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freertos_udp_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freertos_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bsd_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
