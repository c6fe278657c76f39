/* TERN_TEST_STATIC_VARIANT */
/* TCP sockets, the paths test_socket_tcp.c leaves out (issue 17, measured
 * coverage): a lingering close that completes and one that runs out and
 * aborts, bytes arriving after a shutdown for reading, every option read
 * back, poll events in each socket state, names and calls in the wrong
 * state. Two tern stacks on the virtual wire, on virtual time (wire2.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

#define PORT 5100u

typedef struct world {
    wire2_vport_t pa, pb;
    wire2_t n;
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

static void world_free(world_t *w)
{
    wire2_deinit(&w->n);
    free(w);
}

static int listener(tern_stack_t *s, uint16_t port)
{
    int l = tern_socket(s, TERN_SOCK_STREAM);
    assert_true(l > 0);
    tern_sockaddr_t local = {.addr = 0, .port = port};
    assert_int_equal(tern_bind(s, l, &local), TERN_OK);
    assert_int_equal(tern_listen(s, l, 2), TERN_OK);
    return l;
}

/* A blocking connection A -> B:port, accepted on B (blocking too). */
static void pair(world_t *w, int l, uint16_t port, int *ca, int *cb)
{
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(c > 0);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = port};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_OK);
    int s = tern_accept(w->n.b, l, NULL);
    assert_true(s > 0);
    *ca = c;
    *cb = s;
}

static uint16_t revents(tern_stack_t *st, int sock)
{
    tern_pollfd_t p = {sock, TERN_POLLIN | TERN_POLLOUT, 0};
    assert_true(tern_socket_poll(st, &p, 1, 0) >= 0);
    return p.revents;
}

/* SO_LINGER N with a peer that reads: close blocks until the bytes and the
 * FIN are acknowledged, then returns, and the peer sees every byte and a
 * clean end of stream (no reset). */
static void test_linger_completes(void **state)
{
    (void)state;
    world_t *w = world_new(31);
    int l = listener(w->n.b, PORT);
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_LINGER, 5000), TERN_OK);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(w->n.a, c, TERN_SO_LINGER, &v), TERN_OK);
    assert_int_equal(v, 5000);
    static const char msg[] = "lingering bytes";
    assert_int_equal(tern_send(w->n.a, c, msg, sizeof msg, 0), (int)sizeof msg);
    uint32_t t0 = wire2_now(&w->n);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    /* it waited for the acknowledgment, well within the linger time */
    assert_true(w->pa.waits > 0u);
    assert_true(wire2_now(&w->n) - t0 < 5000u);
    char buf[64];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), (int)sizeof msg);
    assert_memory_equal(buf, msg, sizeof msg);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 0); /* FIN, not RST */
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* SO_LINGER N with a peer whose receive ring is full and who never reads:
 * the FIN cannot go out, so close gives up after N ms and aborts: the peer
 * gets a reset (RFC 9293 3.10.4 ABORT), not a graceful end. */
static void test_linger_runs_out_and_aborts(void **state)
{
    (void)state;
    world_t *w = world_new(32);
    int l = listener(w->n.b, PORT);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_RCVBUF, 1000), TERN_OK);
    int c, s;
    pair(w, l, PORT, &c, &s);
    static uint8_t big[20000];
    memset(big, 0x5a, sizeof big);
    int sent = tern_send(w->n.a, c, big, sizeof big, TERN_MSG_DONTWAIT);
    assert_true(sent > 1000);
    wire2_run(&w->n, 200); /* B's 1000-byte ring fills; the window closes */
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_LINGER, 300), TERN_OK);
    uint32_t t0 = wire2_now(&w->n);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    uint32_t waited = wire2_now(&w->n) - t0;
    assert_true(waited >= 300u && waited <= 311u);
    wire2_run(&w->n, 100);
    /* B sees the reset (its unread bytes go with it, as on Linux) */
    char buf[2048];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_RESET);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* After shutdown(SHUT_RD), bytes the peer sends are taken and dropped (the
 * window stays open, the sender is not stalled) and recv says end of
 * stream. */
static void test_shut_rd_drops_late_bytes(void **state)
{
    (void)state;
    world_t *w = world_new(33);
    int l = listener(w->n.b, PORT);
    int c, s;
    pair(w, l, PORT, &c, &s);
    assert_int_equal(tern_shutdown(w->n.b, s, TERN_SHUT_RD), TERN_OK);
    assert_true(revents(w->n.b, s) & TERN_POLLIN);
    static uint8_t big[30000];
    memset(big, 0xa5, sizeof big);
    size_t off = 0;
    /* More than B's receive ring: only possible if B drops as it goes. */
    for (int i = 0; i < 100 && off < sizeof big; i++) {
        int k = tern_send(w->n.a, c, big + off, sizeof big - off, TERN_MSG_DONTWAIT);
        if (k > 0)
            off += (size_t)k;
        wire2_run(&w->n, 20);
    }
    assert_int_equal(off, sizeof big);
    char buf[16];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), 0);
    tern_socket_info_t row;
    assert_int_equal(tern_socket_info(w->n.b, s, &row), TERN_OK);
    assert_int_equal(row.state, TERN_TCP_ESTABLISHED);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* Every option reads back what was set; the UDP-only ones are NOTSUP and
 * unknown ones INVAL, as for setsockopt. */
static void test_options_read_back(void **state)
{
    (void)state;
    world_t *w = world_new(34);
    tern_stack_t *st = w->n.a;
    int c = tern_socket(st, TERN_SOCK_STREAM);
    uint32_t v = 0;
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_SNDBUF, 3000), TERN_OK);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_SNDBUF, &v), TERN_OK);
    assert_int_equal(v, 3000);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_KEEPALIVE, 1), TERN_OK);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_KEEPALIVE, &v), TERN_OK);
    assert_int_equal(v, 1);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_KEEPALIVE, 0), TERN_OK);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_KEEPALIVE, &v), TERN_OK);
    assert_int_equal(v, 0);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_TCP_KEEPIDLE, 7000), TERN_OK);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_TCP_KEEPINTVL, 900), TERN_OK);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_TCP_KEEPCNT, 4), TERN_OK);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_TCP_KEEPIDLE, &v), TERN_OK);
    assert_int_equal(v, 7000);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_TCP_KEEPINTVL, &v), TERN_OK);
    assert_int_equal(v, 900);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_TCP_KEEPCNT, &v), TERN_OK);
    assert_int_equal(v, 4);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_BROADCAST, &v), TERN_ERR_NOTSUP);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_REUSEADDR, &v), TERN_ERR_NOTSUP);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_UDP_RXQ, &v), TERN_ERR_NOTSUP);
    assert_int_equal(tern_getsockopt(st, c, TERN_SO_RXQ_LEN, &v), TERN_ERR_NOTSUP);
    assert_int_equal(tern_getsockopt(st, c, 999, &v), TERN_ERR_INVAL);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_REUSEADDR, 1), TERN_ERR_NOTSUP);
    assert_int_equal(tern_setsockopt(st, c, TERN_SO_SNDBUF, 0x40000000u), TERN_ERR_INVAL);
    assert_int_equal(tern_close(st, c), TERN_OK);
    world_free(w);
}

/* Poll events and names through a socket's life: new (HUP, as Linux),
 * listening (IN once a connection waits), connected, dead (IN|OUT|HUP). */
static void test_states_poll_and_names(void **state)
{
    (void)state;
    world_t *w = world_new(35);
    int n = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(revents(w->n.a, n), TERN_POLLHUP);
    tern_sockaddr_t name;
    assert_int_equal(tern_getpeername(w->n.a, n, &name), TERN_ERR_STATE);
    assert_int_equal(tern_shutdown(w->n.a, n, TERN_SHUT_RDWR), TERN_ERR_STATE);
    tern_sockaddr_t bad = {.addr = W2_IP_B, .port = 0};
    assert_int_equal(tern_connect(w->n.a, n, &bad), TERN_ERR_INVAL);
    assert_int_equal(tern_connect(w->n.a, n, NULL), TERN_ERR_INVAL);

    int l = listener(w->n.b, PORT);
    assert_int_equal(tern_listen(w->n.b, l, 5), TERN_OK); /* again: no change */
    assert_int_equal(revents(w->n.b, l), 0);
    assert_int_equal(tern_shutdown(w->n.b, l, TERN_SHUT_WR), TERN_ERR_STATE);
    assert_int_equal(tern_getsockname(w->n.b, l, &name), TERN_OK);
    assert_int_equal(name.port, PORT);
    assert_int_equal(name.addr, 0);

    assert_int_equal(tern_setsockopt(w->n.a, n, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, n, &to), TERN_ERR_INPROGRESS);
    assert_int_equal(tern_connect(w->n.a, n, &to), TERN_ERR_INPROGRESS); /* still under way */
    assert_int_equal(revents(w->n.a, n), 0);
    wire2_run(&w->n, 50);
    assert_int_equal(revents(w->n.b, l), TERN_POLLIN);
    assert_int_equal(tern_listen(w->n.a, n, 1), TERN_ERR_STATE);
    assert_int_equal(tern_connect(w->n.a, n, &to), TERN_ERR_STATE); /* EISCONN */
    int s = tern_accept(w->n.b, l, NULL);
    assert_true(s > 0);
    assert_int_equal(revents(w->n.a, n), TERN_POLLOUT);
    assert_int_equal(tern_getpeername(w->n.a, n, &name), TERN_OK);
    assert_int_equal(name.addr, W2_IP_B);
    assert_int_equal(name.port, PORT);

    /* B resets: A's socket is dead */
    assert_int_equal(tern_setsockopt(w->n.b, s, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    wire2_run(&w->n, 50);
    assert_int_equal(revents(w->n.a, n) & (TERN_POLLIN | TERN_POLLOUT | TERN_POLLHUP),
                     TERN_POLLIN | TERN_POLLOUT | TERN_POLLHUP);
    assert_int_equal(tern_getsockname(w->n.a, n, &name), TERN_OK);
    assert_int_equal(name.port, 0);
    tern_socket_info_t row;
    assert_int_equal(tern_socket_info(w->n.a, n, &row), TERN_OK);
    assert_int_equal(row.state, TERN_TCP_CLOSED);
    assert_int_equal(row.local.port, 0);
    assert_int_equal(tern_close(w->n.a, n), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

/* A connection waiting in the accept queue that the peer resets leaves the
 * queue, and the others keep their order: three queued, the middle one
 * reset, accept returns the first and then the third. */
static void test_queued_connection_reset(void **state)
{
    (void)state;
    world_t *w = world_new(36);
    int l = tern_socket(w->n.b, TERN_SOCK_STREAM);
    tern_sockaddr_t local = {.addr = 0, .port = PORT};
    assert_int_equal(tern_bind(w->n.b, l, &local), TERN_OK);
    assert_int_equal(tern_listen(w->n.b, l, 3), TERN_OK);
    assert_int_equal(tern_setsockopt(w->n.b, l, TERN_SO_NONBLOCK, 1), TERN_OK);
    int c[3];
    tern_sockaddr_t name[3];
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    for (int i = 0; i < 3; i++) {
        c[i] = tern_socket(w->n.a, TERN_SOCK_STREAM);
        assert_int_equal(tern_connect(w->n.a, c[i], &to), TERN_OK);
        assert_int_equal(tern_getsockname(w->n.a, c[i], &name[i]), TERN_OK);
    }
    wire2_run(&w->n, 50);
    assert_int_equal(tern_setsockopt(w->n.a, c[1], TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c[1]), TERN_OK); /* RST */
    wire2_run(&w->n, 50);
    tern_sockaddr_t from;
    int s0 = tern_accept(w->n.b, l, &from);
    assert_true(s0 > 0);
    assert_int_equal(from.port, name[0].port);
    int s2 = tern_accept(w->n.b, l, &from);
    assert_true(s2 > 0);
    assert_int_equal(from.port, name[2].port);
    assert_int_equal(tern_accept(w->n.b, l, &from), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(w->n.a, c[0]), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c[2]), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s0), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s2), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linger_completes),
        cmocka_unit_test(test_linger_runs_out_and_aborts),
        cmocka_unit_test(test_shut_rd_drops_late_bytes),
        cmocka_unit_test(test_options_read_back),
        cmocka_unit_test(test_states_poll_and_names),
        cmocka_unit_test(test_queued_connection_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
