/* TERN_TEST_STATIC_VARIANT */
/* Segment arrival in the states the other tests leave out
 * (src/net/tcp_in.c, RFC 9293 3.10.7.4; issue 17, measured coverage), on
 * hand-built segments through the capture driver:
 *  - SYN-RECEIVED (passive): an ACK that does not acknowledge our SYN is
 *    answered with a reset at its acknowledgment number, the child stays;
 *  - a segment from or to port 0 is dropped as matching no connection;
 *  - simultaneous open (RFC 9293 figure 8): a reset in SYN-RECEIVED refuses
 *    the connection; the ACK completing it calls connected, and an
 *    application aborting there stops the processing;
 *  - a listener whose accept callback fails: the child is reset;
 *  - simultaneous close (figure 13): FIN-WAIT-1, the peer's FIN, CLOSING,
 *    then the ACK of our FIN: TIME-WAIT.
 * Broken on purpose once: tcp_sync_synrcvd_ack without the reset for a bad
 * ACK failed test_synrcvd_bad_ack; CLOSING not moving to TIME-WAIT on the
 * ACK of its FIN (in tcp_process_ack and in the backstop of tcp_sync_fin)
 * failed test_simultaneous_close. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define LPORT 80u
#define SPORT 42000u
#define PEER_PORT 8082u
#define PEER_ISN 555000u

static int setup(void **state)
{
    *state = tcp_fixture_new(201, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

/* The peer's SYN to the listener; our SYN-ACK's ISS. */
static uint32_t peer_syn(tcp_fixture_t *t)
{
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    capnet_clear(&t->f->cn);
    return be32_get(h + 4);
}

static void test_synrcvd_bad_ack(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_counters_t *c = &t->f->stack.counters;
    uint32_t iss = peer_syn(t);
    uint32_t bad = c->tcp.drop_bad_ack;
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1u, iss + 7u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(c->tcp.drop_bad_ack, bad + 1u);
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_RST);
    assert_int_equal(be32_get(h + 4), iss + 7u);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->f->stack.tcp.half_open, 1);
    /* The right ACK still completes it. */
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1u, iss + 1u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
}

static void test_port_zero(void **state)
{
    tcp_fixture_t *t = *state;
    const tern_counters_t *c = &t->f->stack.counters;
    uint32_t nopcb = c->tcp.drop_no_pcb;
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, 0, LPORT, PEER_ISN, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    tcp_fixture_rx(t, SPORT, 0, PEER_ISN, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    assert_int_equal(c->tcp.drop_no_pcb, nopcb + 2u);
    assert_int_equal(t->f->cn.count, 0); /* no reset to port 0 either */
    assert_int_equal(t->f->stack.tcp.half_open, 0);
}

typedef struct active {
    int connected, errors, last_err, abort_on_connect;
} active_t;

static void on_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    active_t *a = arg;
    a->connected++;
    if (a->abort_on_connect)
        tern_tcp_abort(pcb);
}

static void on_error(void *arg, tern_tcp_pcb_t *pcb, int err)
{
    (void)pcb;
    ((active_t *)arg)->errors++;
    ((active_t *)arg)->last_err = err;
}

static const tern_tcp_callbacks_t active_cbs = {.connected = on_connected, .error = on_error};

/* Connect, then the peer's own SYN crosses ours: SYN-RECEIVED. */
static tern_tcp_pcb_t *simultaneous_open(tcp_fixture_t *t, active_t *a, uint32_t *iss, uint16_t *lport)
{
    int err = 0;
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *pcb = tern_tcp_connect(&t->f->stack, FR_PEER_IP, PEER_PORT, &active_cbs, a, &err);
    assert_non_null(pcb);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    *iss = be32_get(h + 4);
    *lport = (uint16_t)be16_get(h);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, PEER_PORT, *lport, PEER_ISN, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    assert_int_equal(tern_tcp_state(pcb), TERN_TCP_SYN_RECEIVED);
    assert_int_equal(t->f->cn.count, 1);
    h = tcp_fixture_cap(t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    assert_int_equal(be32_get(h + 4), *iss);
    capnet_clear(&t->f->cn);
    return pcb;
}

static void test_simultaneous_open_reset(void **state)
{
    tcp_fixture_t *t = *state;
    active_t a = {0};
    uint32_t iss;
    uint16_t lport;
    (void)simultaneous_open(t, &a, &iss, &lport);
    tcp_fixture_rx(t, PEER_PORT, lport, PEER_ISN + 1u, 0, TCP_RST, 0, NULL, 0, NULL, 0);
    assert_int_equal(a.errors, 1);
    assert_int_equal(a.last_err, TERN_ERR_REFUSED);
    assert_int_equal(a.connected, 0);
}

static void test_simultaneous_open_abort_on_connect(void **state)
{
    tcp_fixture_t *t = *state;
    active_t a = {.abort_on_connect = 1};
    uint32_t iss;
    uint16_t lport;
    (void)simultaneous_open(t, &a, &iss, &lport);
    tcp_fixture_rx(t, PEER_PORT, lport, PEER_ISN + 1u, iss + 1u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(a.connected, 1);
    assert_int_equal(a.errors, 0);
    /* The abort's reset is all that went out. */
    assert_int_equal(t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    assert_true(h[13] & TCP_RST);
}

static int accept_fails(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    (void)l;
    (void)pcb;
    (*(int *)arg)++;
    return TERN_ERR_NOMEM;
}

static const tern_tcp_callbacks_t failing_listener = {.accept = accept_fails};

static void test_accept_fails(void **state)
{
    tcp_fixture_t *t = *state;
    int calls = 0, err = 0;
    tern_tcp_pcb_t *l = tern_tcp_listen(&t->f->stack, 81, 2, &failing_listener, &calls, &err);
    assert_non_null(l);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, 81, PEER_ISN, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    uint32_t iss = be32_get(h + 4);
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, 81, PEER_ISN + 1u, iss + 1u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(calls, 1);
    assert_int_equal(t->f->cn.count, 1);
    h = tcp_fixture_cap(t, 0, NULL);
    assert_true(h[13] & TCP_RST);
    assert_int_equal(t->f->stack.tcp.half_open, 0);
    tern_tcp_abort(l);
}

static void test_simultaneous_close(void **state)
{
    tcp_fixture_t *t = *state;
    uint32_t iss = peer_syn(t);
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1u, iss + 1u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    tern_tcp_pcb_t *pcb = t->conn;
    assert_non_null(pcb);
    capnet_clear(&t->f->cn);
    assert_int_equal(tern_tcp_close(pcb), TERN_OK);
    assert_int_equal(tern_tcp_state(pcb), TERN_TCP_FIN_WAIT_1);
    /* The peer's FIN crosses ours: it does not acknowledge our FIN. */
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 1u, iss + 1u, TCP_FIN | TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_int_equal(tern_tcp_state(pcb), TERN_TCP_CLOSING);
    tcp_fixture_rx(t, SPORT, LPORT, PEER_ISN + 2u, iss + 2u, TCP_ACK, 65535, NULL, 0, NULL, 0);
    unsigned tw = 0;
    for (unsigned i = 0; i < TERN_TCP_TIMEWAIT_MAX; i++)
        if (t->f->stack.tcp.tw[i].remote_port == SPORT && t->f->stack.tcp.tw[i].local_port == LPORT)
            tw++;
    assert_int_equal(tw, 1);
    t->conn = NULL; /* it lives on in TIME-WAIT, not as the pcb */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_synrcvd_bad_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_open_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_open_abort_on_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
