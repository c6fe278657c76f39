/* TERN_TEST_STATIC_VARIANT */
/* TCP sockets' data calls in the states test_socket_tcp*.c leave out
 * (src/socket/socket_tcp_io.c; issue 17, measured coverage), two tern
 * stacks on the virtual wire (wire2.h):
 *  - recv and recv_span on a stream socket that is neither connecting nor
 *    connected (fresh, listening): TERN_ERR_STATE;
 *  - recv of 0 bytes with data waiting returns 0 and takes nothing;
 *  - recv_consume while connecting (STATE) and after a shutdown for
 *    reading (OK: the bytes are dropped already);
 *  - send_span when the send ring cannot be allocated: TERN_ERR_NOMEM, and
 *    the next call gets it;
 *  - send_commit after a shutdown for writing (CLOSED) and of more than
 *    INT_MAX bytes (INVAL);
 *  - the span and listen/accept calls without a stack or span pointer,
 *    PEEK with a span, a netbuf receive on a stream socket (NOTSUP), a destination given
 *    to a connected stream socket (STATE).
 * Broken on purpose once: stcp_recv_state returning WOULDBLOCK for every
 * other state failed test_wrong_states. */
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/tcp.h"
#include "tern_test.h"
#include "wire2.h"

#define PORT 5300u

typedef struct world {
    wire2_vport_t pa, pb;
    wire2_t n;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    wire2_vport_init(&w->pa, &w->n, 51);
    wire2_vport_init(&w->pb, &w->n, 52);
    wire2_init(&w->n, 53, NULL, &w->pa.tp.port, &w->pb.tp.port);
    wire2_set_timewait(&w->n, 2000);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    wire2_deinit(&w->n);
    free(w);
    return 0;
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

static void pair(world_t *w, int l, int *ca, int *cb)
{
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(c > 0);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_OK);
    int s = tern_accept(w->n.b, l, NULL);
    assert_true(s > 0);
    *ca = c;
    *cb = s;
}

static void test_wrong_states(void **state)
{
    world_t *w = *state;
    tern_stack_t *a = w->n.a;
    char buf[8];
    const uint8_t *span = NULL;
    int fresh = tern_socket(a, TERN_SOCK_STREAM);
    assert_true(fresh > 0);
    assert_int_equal(tern_recv(a, fresh, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_STATE);
    assert_int_equal(tern_recv_span(a, fresh, &span, TERN_MSG_DONTWAIT), TERN_ERR_STATE);
    int l = listener(a, 5301);
    assert_int_equal(tern_recv(a, l, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_STATE);
    assert_int_equal(tern_close(a, l), TERN_OK);
    assert_int_equal(tern_close(a, fresh), TERN_OK);
}

static void test_recv_zero_and_consume(void **state)
{
    world_t *w = *state;
    int l = listener(w->n.b, PORT);
    int c, s;
    pair(w, l, &c, &s);
    assert_int_equal(tern_send(w->n.a, c, "hello", 5, 0), 5);
    wire2_run(&w->n, 50);
    char buf[16];
    assert_int_equal(tern_recv(w->n.b, s, buf, 0, TERN_MSG_DONTWAIT), 0);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), 5);
    assert_memory_equal(buf, "hello", 5);
    /* Consume after a shutdown for reading: nothing left to take, OK. */
    assert_int_equal(tern_send(w->n.a, c, "more", 4, 0), 4);
    wire2_run(&w->n, 50);
    const uint8_t *span;
    assert_int_equal(tern_recv_span(w->n.b, s, &span, TERN_MSG_DONTWAIT), 4);
    assert_int_equal(tern_shutdown(w->n.b, s, TERN_SHUT_RD), TERN_OK);
    assert_int_equal(tern_recv_consume(w->n.b, s, 4), TERN_OK);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, TERN_MSG_DONTWAIT), 0);
    /* A nonblocking connect still in progress: nothing to consume. */
    int c2 = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(c2 > 0);
    assert_int_equal(tern_socket_set_blocking(w->n.a, c2, 0), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = 5399};
    assert_int_equal(tern_connect(w->n.a, c2, &to), TERN_ERR_INPROGRESS);
    assert_int_equal(tern_recv_consume(w->n.a, c2, 1), TERN_ERR_STATE);
    assert_int_equal(tern_recv(w->n.a, c2, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(w->n.a, c2), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

static void test_send_span_edges(void **state)
{
    world_t *w = *state;
    int l = listener(w->n.b, PORT);
    int c, s;
    pair(w, l, &c, &s);
    uint8_t *span = NULL;
    /* The send ring is allocated on first use: refused here. */
    tern_ledger_fail_nth(&w->n.a->ledger, 1, 1);
    assert_int_equal(tern_send_span(w->n.a, c, &span, TERN_MSG_DONTWAIT), TERN_ERR_NOMEM);
    assert_int_equal(tern_send(w->n.a, c, "x", 1, TERN_MSG_DONTWAIT), TERN_ERR_NOMEM);
    tern_ledger_fail_nth(&w->n.a->ledger, 0, 0);
    int room = tern_send_span(w->n.a, c, &span, TERN_MSG_DONTWAIT);
    assert_true(room > 4);
    memcpy(span, "span", 4);
    assert_int_equal(tern_send_commit(w->n.a, c, (size_t)0x80000000u), TERN_ERR_INVAL);
    assert_int_equal(tern_send_commit(w->n.a, c, 4), 4);
    assert_true(tern_send_span(w->n.a, c, &span, TERN_MSG_DONTWAIT) > 0);
    assert_int_equal(tern_shutdown(w->n.a, c, TERN_SHUT_WR), TERN_OK);
    assert_int_equal(tern_send_commit(w->n.a, c, 1), TERN_ERR_CLOSED);
    wire2_run(&w->n, 50);
    char buf[16];
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "span", 4);
    assert_int_equal(tern_recv(w->n.b, s, buf, sizeof buf, 0), 0);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* The socket calls' own refusals: no stack, no span pointer, PEEK with a
 * span, a netbuf receive on a stream socket (TERN_ERR_NOTSUP), a
 * destination with a connected stream socket (TERN_ERR_STATE). */
static void test_argument_errors(void **state)
{
    world_t *w = *state;
    uint8_t *tx = (uint8_t *)&tx;
    const uint8_t *rx = (const uint8_t *)&rx;
    assert_int_equal(tern_listen(NULL, 1, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_accept(NULL, 1, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_recv_span(NULL, 1, &rx, 0), TERN_ERR_INVAL);
    assert_null(rx);
    assert_int_equal(tern_recv_consume(NULL, 1, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_send_span(NULL, 1, &tx, 0), TERN_ERR_INVAL);
    assert_null(tx);
    assert_int_equal(tern_send_span(w->n.a, 1, NULL, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_send_commit(NULL, 1, 1), TERN_ERR_INVAL);
    int l = listener(w->n.b, PORT);
    int c, s;
    pair(w, l, &c, &s);
    assert_int_equal(tern_recv_span(w->n.b, s, &rx, TERN_MSG_PEEK), TERN_ERR_INVAL);
    char buf[8];
    tern_netbuf_t *nb = NULL;
    assert_int_equal(tern_recvfrom_netbuf(w->n.b, s, &nb, TERN_MSG_DONTWAIT, NULL), TERN_ERR_NOTSUP);
    assert_null(nb);
    tern_sockaddr_t to = {.addr = W2_IP_A, .port = 1};
    assert_int_equal(tern_sendto(w->n.b, s, "x", 1, 0, &to), TERN_ERR_STATE);
    /* Nothing was sent by the refused calls. */
    wire2_run(&w->n, 50);
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    assert_int_equal(tern_close(w->n.b, s), TERN_OK);
    assert_int_equal(tern_close(w->n.b, l), TERN_OK);
}

/* Stream-socket calls refused by socket_tcp.c: an IPv6 local address in
 * an IPv4-only build (TERN_IPV6 builds take it: test_tcp6.c), connect on a bound socket, listen
 * on a port a raw-API listener took after the bind, an unknown option,
 * ring sizes on a dead connection. */
static void test_socket_tcp_refusals(void **state)
{
    world_t *w = *state;
    tern_stack_t *a = w->n.a;
    int s1 = tern_socket(a, TERN_SOCK_STREAM);
    assert_true(s1 > 0);
#if !TERN_IPV6
    tern_sockaddr_t six = {.family = TERN_FAMILY_IP6, .port = 5310};
    assert_int_equal(tern_bind(a, s1, &six), TERN_ERR_NOTSUP);
#endif
    tern_sockaddr_t local = {.addr = 0, .port = 5311};
    assert_int_equal(tern_bind(a, s1, &local), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = PORT};
    assert_int_equal(tern_connect(a, s1, &to), TERN_ERR_NOTSUP);
    /* The raw API takes the port between the bind and the listen. */
    int err = 0;
    tern_tcp_pcb_t *raw = tern_tcp_listen(a, 5311, 1, NULL, NULL, &err);
    assert_non_null(raw);
    size_t bytes = tern_ledger_total_bytes(&a->ledger);
    assert_int_equal(tern_listen(a, s1, 1), TERN_ERR_ADDRINUSE);
    assert_int_equal(tern_ledger_total_bytes(&a->ledger), bytes);
    tern_tcp_abort(raw);
    assert_int_equal(tern_setsockopt(a, s1, 0x7777, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_close(a, s1), TERN_OK);
    /* A connection refused (no listener): dead, its rings cannot change. */
    int s2 = tern_socket(a, TERN_SOCK_STREAM);
    assert_true(s2 > 0);
    assert_int_equal(tern_socket_set_blocking(a, s2, 0), TERN_OK);
    tern_sockaddr_t closed = {.addr = W2_IP_B, .port = 5398};
    assert_int_equal(tern_connect(a, s2, &closed), TERN_ERR_INPROGRESS);
    wire2_run(&w->n, 100);
    assert_int_equal(tern_setsockopt(a, s2, TERN_SO_RCVBUF, 4096), TERN_ERR_STATE);
    assert_int_equal(tern_close(a, s2), TERN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wrong_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_zero_and_consume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_span_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argument_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_tcp_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
