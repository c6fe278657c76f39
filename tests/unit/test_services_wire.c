/* echo, discard and chargen (apps/services) on stack B, a client on stack
 * A through tern's API, on the virtual wire (wire2.h) and virtual time:
 * what the system tests see through tern-demo, checked here byte by byte
 * with the services' counters (issue 17, measured coverage). TCP echo
 * with its send ring full (out_blocked), discard, chargen's RFC 864
 * stream, a connection over the bound refused with RST, the peer's reset,
 * stop resetting open connections; UDP echo, discard and chargen; start's
 * argument and port-in-use errors. TERN_TEST_ONE_VARIANT */
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/services.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "wire2.h"

#define BASE 20000u
#define P_ECHO (BASE + 7u)
#define P_DISCARD (BASE + 9u)
#define P_CHARGEN (BASE + 19u)

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t n;
    tern_services_t sv;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    tern_test_port_init(&w->pa, 31);
    tern_test_port_init(&w->pb, 32);
    w->pa.quiet = w->pb.quiet = 1;
    wire2_init(&w->n, 3, NULL, &w->pa.port, &w->pb.port);
    wire2_set_timewait(&w->n, 500);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    tern_services_stop(&w->sv);
    wire2_deinit(&w->n);
    free(w);
    return 0;
}

static void start(world_t *w, unsigned which, unsigned conns, uint32_t ring)
{
    tern_services_cfg_t cfg = {which, conns, ring, ring, BASE};
    assert_int_equal(tern_services_start(&w->sv, w->n.b, &cfg), TERN_OK);
}

/* ms of virtual time, the services polled every millisecond. */
static void run(world_t *w, unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        wire2_run(&w->n, 1);
        (void)tern_services_poll(&w->sv, 0);
    }
}

static int client(world_t *w, uint16_t port, uint32_t rcvbuf)
{
    int s = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_true(s > 0);
    assert_int_equal(tern_setsockopt(w->n.a, s, TERN_SO_NONBLOCK, 1), TERN_OK);
    if (rcvbuf != 0)
        assert_int_equal(tern_setsockopt(w->n.a, s, TERN_SO_RCVBUF, rcvbuf), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = port};
    assert_int_equal(tern_connect(w->n.a, s, &to), TERN_ERR_INPROGRESS);
    run(w, 20);
    uint32_t e = 1;
    assert_int_equal(tern_getsockopt(w->n.a, s, TERN_SO_ERROR, &e), TERN_OK);
    assert_int_equal(e, 0);
    return s;
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 13u + 5u);
}

/* start's arguments; a port in use closes what was opened and fails. */
static void test_start_errors(void **state)
{
    world_t *w = *state;
    tern_services_cfg_t cfg = {TERN_SERVICE_ALL, 0, 0, 0, BASE};
    assert_int_equal(tern_services_start(NULL, w->n.b, &cfg), TERN_ERR_INVAL);
    assert_int_equal(tern_services_start(&w->sv, NULL, &cfg), TERN_ERR_INVAL);
    assert_int_equal(tern_services_start(&w->sv, w->n.b, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_services_poll(NULL, 0), TERN_ERR_INVAL);
    tern_services_stop(NULL); /* harmless */

    /* chargen's UDP port taken: start fails, echo's and discard's sockets
     * are closed again, and the table is as before */
    int u = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    tern_sockaddr_t taken = {.addr = 0, .port = P_CHARGEN};
    assert_int_equal(tern_bind(w->n.b, u, &taken), TERN_OK);
    tern_services_t sv;
    assert_int_equal(tern_services_start(&sv, w->n.b, &cfg), TERN_ERR_ADDRINUSE);
    for (unsigned k = 0; k < TERN_SERVICES_COUNT; k++) {
        assert_int_equal(sv.listen[k], 0);
        assert_int_equal(sv.udp[k], 0);
    }
    /* every socket id but u is free again: the table fills to the last */
    int ids[TERN_SOCKET_MAX];
    int got = 0;
    for (int i = 0; i < TERN_SOCKET_MAX - 1; i++) {
        ids[i] = tern_socket(w->n.b, TERN_SOCK_DGRAM);
        assert_true(ids[i] > 0);
        got++;
    }
    assert_int_equal(tern_socket(w->n.b, TERN_SOCK_DGRAM), TERN_ERR_MFILE);
    /* with the table full, start fails at the first socket */
    assert_int_equal(tern_services_start(&sv, w->n.b, &cfg), TERN_ERR_MFILE);
    for (int i = 0; i < got; i++)
        assert_int_equal(tern_close(w->n.b, ids[i]), TERN_OK);
    assert_int_equal(tern_close(w->n.b, u), TERN_OK);
    /* a listener but no room left for its UDP socket */
    for (int i = 0; i < TERN_SOCKET_MAX - 1; i++)
        ids[i] = tern_socket(w->n.b, TERN_SOCK_DGRAM);
    cfg.which = TERN_SERVICE_ECHO;
    assert_int_equal(tern_services_start(&sv, w->n.b, &cfg), TERN_ERR_MFILE);
    assert_int_equal(sv.listen[0], 0);
    for (int i = 0; i < TERN_SOCKET_MAX - 1; i++)
        assert_int_equal(tern_close(w->n.b, ids[i]), TERN_OK);
    /* a ring size tern refuses: start fails with its error, nothing open */
    cfg.rcvbuf = UINT32_MAX;
    int r = tern_services_start(&sv, w->n.b, &cfg);
    assert_true(r < 0);
    assert_int_equal(sv.listen[0], 0);
    cfg.rcvbuf = 0;
    /* an over-large connection count is clamped to the build's bound */
    cfg.tcp_conns = 1000;
    assert_int_equal(tern_services_start(&w->sv, w->n.b, &cfg), TERN_OK);
    assert_int_equal(w->sv.cfg.tcp_conns, TERN_SOCKET_SERVICE_CONNS);
}

/* TCP echo through a small ring the client does not read: the service
 * stops at a full send ring (out_blocked) and resumes; every byte comes
 * back in order; the client's FIN closes the service's side. */
static void test_tcp_echo_blocked(void **state)
{
    world_t *w = *state;
    start(w, TERN_SERVICE_ECHO, 1, 1024);
    int s = client(w, P_ECHO, 1024);
    assert_int_equal(w->sv.stats.accepted, 1);
    enum { TOTAL = 6000 };
    static uint8_t out[TOTAL], in[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = pat(i);
    size_t sent = 0, got = 0;
    int saw_blocked = 0;
    /* send everything first, reading nothing: both rings fill */
    for (unsigned ms = 0; ms < 3000 && sent < TOTAL; ms++) {
        int n = tern_send(w->n.a, s, out + sent, TOTAL - sent, 0);
        if (n > 0)
            sent += (size_t)n;
        run(w, 1);
        saw_blocked |= w->sv.conns[0][0].out_blocked;
        if (n == TERN_ERR_WOULDBLOCK && saw_blocked)
            break;
    }
    assert_true(saw_blocked);
    for (unsigned ms = 0; ms < 10000 && got < TOTAL; ms++) {
        int n = tern_send(w->n.a, s, out + sent, TOTAL - sent, 0);
        if (n > 0)
            sent += (size_t)n;
        n = tern_recv(w->n.a, s, in + got, TOTAL - got, 0);
        if (n > 0)
            got += (size_t)n;
        run(w, 1);
    }
    assert_int_equal(got, TOTAL);
    assert_memory_equal(in, out, TOTAL);
    assert_int_equal(w->sv.stats.tcp_in, TOTAL);
    assert_int_equal(w->sv.stats.tcp_out, TOTAL);
    assert_int_equal(w->sv.conns[0][0].out_blocked, 0);

    assert_int_equal(tern_shutdown(w->n.a, s, TERN_SHUT_WR), TERN_OK);
    run(w, 50);
    assert_int_equal(w->sv.stats.closed, 1);
    assert_int_equal(w->sv.stats.errors, 0);
    assert_int_equal(w->sv.conns[0][0].sock, 0);
    uint8_t b;
    assert_int_equal(tern_recv(w->n.a, s, &b, 1, 0), 0); /* the service's FIN */
    assert_int_equal(tern_close(w->n.a, s), TERN_OK);
    run(w, 20);
}

/* discard takes bytes and sends none; chargen sends the RFC 864 stream
 * from its start and takes what comes; the client's reset is an error. */
static void test_tcp_discard_chargen(void **state)
{
    world_t *w = *state;
    start(w, TERN_SERVICE_DISCARD | TERN_SERVICE_CHARGEN, 2, 0);
    int d = client(w, P_DISCARD, 0);
    uint8_t buf[600];
    for (size_t i = 0; i < 500; i++)
        buf[i] = pat(i);
    assert_int_equal(tern_send(w->n.a, d, buf, 500, 0), 500);
    run(w, 50);
    assert_int_equal(w->sv.stats.tcp_in, 500);
    assert_int_equal(w->sv.stats.tcp_out, 0);
    assert_int_equal(tern_recv(w->n.a, d, buf, sizeof buf, 0), TERN_ERR_WOULDBLOCK);

    int c = client(w, P_CHARGEN, 2048);
    assert_int_equal(w->sv.stats.accepted, 2);
    size_t got = 0;
    static uint8_t in[4000];
    for (unsigned ms = 0; ms < 2000 && got < sizeof in; ms++) {
        int n = tern_recv(w->n.a, c, in + got, sizeof in - got, 0);
        if (n > 0)
            got += (size_t)n;
        run(w, 1);
    }
    assert_int_equal(got, sizeof in);
    for (size_t i = 0; i < sizeof in; i++)
        assert_int_equal(in[i], tern_chargen_byte((uint32_t)i));
    assert_true(w->sv.stats.tcp_out >= sizeof in);
    assert_int_equal(tern_send(w->n.a, c, "ignored", 7, 0), 7);
    run(w, 20);
    assert_int_equal(w->sv.stats.tcp_in, 507);

    /* the client aborts: the service counts an error and frees the slot */
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_LINGER, 0), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    run(w, 20);
    assert_int_equal(w->sv.stats.errors, 1);
    assert_int_equal(w->sv.stats.closed, 1);
    assert_int_equal(w->sv.conns[2][0].sock, 0);

    /* stop resets the discard connection still open */
    tern_services_stop(&w->sv);
    wire2_run(&w->n, 20);
    assert_int_equal(tern_recv(w->n.a, d, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_int_equal(tern_close(w->n.a, d), TERN_OK);
}

/* tcp_conns 1: a second connection is refused with RST (refused), the
 * first keeps working. */
static void test_tcp_over_the_bound(void **state)
{
    world_t *w = *state;
    start(w, TERN_SERVICE_ECHO, 1, 0);
    int a = client(w, P_ECHO, 0);
    int b = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, b, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = P_ECHO};
    assert_int_equal(tern_connect(w->n.a, b, &to), TERN_ERR_INPROGRESS);
    run(w, 50);
    assert_int_equal(w->sv.stats.refused, 1);
    assert_int_equal(w->sv.stats.accepted, 1);
    char buf[8];
    assert_int_equal(tern_recv(w->n.a, b, buf, sizeof buf, 0), TERN_ERR_RESET);
    assert_int_equal(tern_send(w->n.a, a, "ok", 2, 0), 2);
    run(w, 20);
    assert_int_equal(tern_recv(w->n.a, a, buf, sizeof buf, 0), 2);
    assert_memory_equal(buf, "ok", 2);
    assert_int_equal(tern_close(w->n.a, b), TERN_OK);
    assert_int_equal(tern_close(w->n.a, a), TERN_OK);
    run(w, 20);
}

/* UDP: echo returns the datagram, discard answers nothing, chargen
 * answers 0..512 characters continuing the RFC 864 stream. */
static void test_udp_services(void **state)
{
    world_t *w = *state;
    start(w, TERN_SERVICE_ALL, 0, 0);
    int u = tern_socket(w->n.a, TERN_SOCK_DGRAM);
    assert_int_equal(tern_setsockopt(w->n.a, u, TERN_SO_NONBLOCK, 1), TERN_OK);
    uint8_t buf[600];
    tern_sockaddr_t from;
    tern_sockaddr_t echo = {.addr = W2_IP_B, .port = P_ECHO}, discard = {.addr = W2_IP_B, .port = P_DISCARD}, chargen = {.addr = W2_IP_B, .port = P_CHARGEN};

    assert_int_equal(tern_sendto(w->n.a, u, "ping", 4, 0, &echo), 4);
    run(w, 20);
    assert_int_equal(tern_recvfrom(w->n.a, u, buf, sizeof buf, 0, &from), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(from.port, P_ECHO);
    assert_int_equal(w->sv.stats.udp_echoed, 1);

    assert_int_equal(tern_sendto(w->n.a, u, "void", 4, 0, &discard), 4);
    run(w, 20);
    assert_int_equal(tern_recvfrom(w->n.a, u, buf, sizeof buf, 0, &from), TERN_ERR_WOULDBLOCK);
    assert_int_equal(w->sv.stats.udp_in, 2);
    assert_int_equal(w->sv.stats.udp_out, 1);

    uint32_t pos = 0;
    unsigned answers = 0;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(tern_sendto(w->n.a, u, "?", 1, 0, &chargen), 1);
        run(w, 20);
        int n = tern_recvfrom(w->n.a, u, buf, sizeof buf, 0, &from);
        assert_true(n >= 0 && n <= 512); /* 0 characters is still an answer */
        assert_int_equal(from.port, P_CHARGEN);
        for (int k = 0; k < n; k++)
            assert_int_equal(buf[k], tern_chargen_byte(pos + (uint32_t)k));
        pos += (uint32_t)n;
        answers++;
    }
    assert_int_equal(answers, 6);
    assert_int_equal(w->sv.stats.udp_in, 8);
    assert_int_equal(w->sv.stats.udp_out, 7);
    assert_int_equal(tern_close(w->n.a, u), TERN_OK);
}

/* A connection arrives while B's socket table is full: accept fails with
 * TERN_ERR_MFILE (counted as an error, the connection stays queued) and is
 * taken at the first poll after a socket is freed. */
static void test_accept_table_full(void **state)
{
    world_t *w = *state;
    start(w, TERN_SERVICE_ECHO, 1, 0);
    int ids[TERN_SOCKET_MAX];
    int n = 0;
    int id;
    while ((id = tern_socket(w->n.b, TERN_SOCK_DGRAM)) > 0)
        ids[n++] = id;
    assert_int_equal(id, TERN_ERR_MFILE);
    int c = tern_socket(w->n.a, TERN_SOCK_STREAM);
    assert_int_equal(tern_setsockopt(w->n.a, c, TERN_SO_NONBLOCK, 1), TERN_OK);
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = P_ECHO};
    assert_int_equal(tern_connect(w->n.a, c, &to), TERN_ERR_INPROGRESS);
    run(w, 20);
    assert_true(w->sv.stats.errors >= 1);
    assert_int_equal(w->sv.stats.accepted, 0);
    assert_int_equal(tern_close(w->n.b, ids[--n]), TERN_OK);
    run(w, 5);
    assert_int_equal(w->sv.stats.accepted, 1);
    assert_int_equal(tern_send(w->n.a, c, "late", 4, 0), 4);
    run(w, 20);
    char buf[8];
    assert_int_equal(tern_recv(w->n.a, c, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "late", 4);
    while (n > 0)
        assert_int_equal(tern_close(w->n.b, ids[--n]), TERN_OK);
    assert_int_equal(tern_close(w->n.a, c), TERN_OK);
    run(w, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_echo_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_discard_chargen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_over_the_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_table_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
