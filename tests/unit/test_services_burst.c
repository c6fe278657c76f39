/* The TCP echo service (apps/services) under a burst of connections: as
 * many clients as it takes (tcp_conns) send their SYNs at one instant, the
 * way board.tcp's 8 echo threads do when the board is slow to poll. Every
 * one must complete its handshake and get its bytes back; none may be
 * reset. With a listen backlog below tcp_conns, the SYNs past the backlog
 * evicted the oldest half-open children (tcp.syn_evicted), whose clients
 * already held the SYN-ACK: their ACK met the bare listener and drew a RST
 * (board.tcp's intermittent "Broken pipe").
 *
 * The host variants default to 2 connections per service; this test builds
 * the services with 8, the mps2-an500 board's figure (the option is read
 * only by the services and their header), so their own copy is compiled in
 * here. TERN_TEST_ONE_VARIANT */
#define TERN_SOCKET_SERVICE_CONNS 8
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tern/err.h"
#include "tern/services.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "tern_vwire.h"
#include "wire2.h"
#include "../../apps/services/services.c"

#define CONNS 8u
#define BYTES 2000u

static uint8_t pat(unsigned k, unsigned i)
{
    return (uint8_t)(i * 7u + k * 13u + 1u);
}

static void test_echo_burst_of_syns(void **state)
{
    (void)state;
    tern_test_port_t pa, pb;
    wire2_t n;
    memset(&n, 0, sizeof n);
    tern_test_port_init(&pa, 11u);
    tern_test_port_init(&pb, 12u);
    pa.quiet = pb.quiet = 1;
    wire2_init(&n, 5u, NULL, &pa.port, &pb.port);

    tern_services_t sv;
    tern_services_cfg_t cfg = {TERN_SERVICE_ECHO, CONNS, 1024u, 1024u, 0u};
    assert_int_equal(tern_services_start(&sv, n.b, &cfg), TERN_OK);

    /* Every SYN leaves A before B runs at all. */
    int s[CONNS];
    tern_sockaddr_t to = {.addr = W2_IP_B, .port = 7u};
    for (unsigned k = 0; k < CONNS; k++) {
        s[k] = tern_socket(n.a, TERN_SOCK_STREAM);
        assert_true(s[k] > 0);
        assert_int_equal(tern_setsockopt(n.a, s[k], TERN_SO_NONBLOCK, 1), TERN_OK);
        /* Both sides' rings of 8 connections fit the host heap (48 KB). */
        assert_int_equal(tern_setsockopt(n.a, s[k], TERN_SO_RCVBUF, 1024u), TERN_OK);
        assert_int_equal(tern_setsockopt(n.a, s[k], TERN_SO_SNDBUF, 1024u), TERN_OK);
        assert_int_equal(tern_connect(n.a, s[k], &to), TERN_ERR_INPROGRESS);
    }

    unsigned sent[CONNS] = {0}, got[CONNS] = {0}, bad = 0;
    int err[CONNS] = {0};
    uint32_t t = tern_vwire_now(&n.wire);
    for (unsigned ms = 0; ms < 20000u; ms++) {
        tern_vwire_run(&n.wire, ++t);
        (void)tern_services_poll(&sv, 0);
        unsigned done = 0;
        for (unsigned k = 0; k < CONNS; k++) {
            if (err[k] != 0 || got[k] == BYTES) {
                done++;
                continue;
            }
            uint8_t buf[512];
            while (sent[k] < BYTES) {
                unsigned len = BYTES - sent[k] < sizeof buf ? BYTES - sent[k] : (unsigned)sizeof buf;
                for (unsigned i = 0; i < len; i++)
                    buf[i] = pat(k, sent[k] + i);
                int r = tern_send(n.a, s[k], buf, len, TERN_MSG_DONTWAIT);
                if (r == TERN_ERR_WOULDBLOCK || r == TERN_ERR_INPROGRESS || r == TERN_ERR_STATE)
                    break;
                if (r < 0) {
                    err[k] = r;
                    break;
                }
                sent[k] += (unsigned)r;
            }
            for (;;) {
                int r = tern_recv(n.a, s[k], buf, sizeof buf, TERN_MSG_DONTWAIT);
                if (r == TERN_ERR_WOULDBLOCK || r == TERN_ERR_INPROGRESS || r == TERN_ERR_STATE)
                    break;
                if (r <= 0) {
                    err[k] = r < 0 ? r : TERN_ERR_RESET;
                    break;
                }
                for (int i = 0; i < r; i++)
                    bad += buf[i] != pat(k, got[k] + (unsigned)i);
                got[k] += (unsigned)r;
            }
        }
        if (done == CONNS)
            break;
    }
    /* On a failure, what happened: the old backlog of 4 showed B's
     * syn_evicted and rst_tx, A's rst_rx, connections TERN_ERR_RESET. */
    unsigned failed = 0;
    for (unsigned k = 0; k < CONNS; k++) {
        if (err[k] != 0 || got[k] != BYTES) {
            print_message("connection %u: error %d, %u of %u bytes back\n", k, err[k], got[k], BYTES);
            failed++;
        }
    }
    for (int side = 0; side < 2 && failed != 0u; side++) {
        const tern_stack_t *st = side ? n.b : n.a;
        print_message("%c: syn_evicted %u drop_syn_limit %u drop_nomem %u rst_tx %u rst_rx %u drop_no_pcb %u\n",
                      side ? 'B' : 'A', (unsigned)st->counters.tcp.syn_evicted,
                      (unsigned)st->counters.tcp.drop_syn_limit, (unsigned)st->counters.tcp.drop_nomem,
                      (unsigned)st->counters.tcp.rst_tx, (unsigned)st->counters.tcp.rst_rx,
                      (unsigned)st->counters.tcp.drop_no_pcb);
    }
    if (failed != 0u)
        print_message("B services: accepted %u refused %u errors %u\n", (unsigned)sv.stats.accepted,
                      (unsigned)sv.stats.refused, (unsigned)sv.stats.errors);
    for (unsigned k = 0; k < CONNS; k++) {
        assert_int_equal(err[k], 0);
        assert_int_equal(got[k], BYTES);
    }
    assert_int_equal(bad, 0);
    assert_int_equal(n.b->counters.tcp.syn_evicted, 0);
    assert_int_equal(sv.stats.accepted, CONNS);
    assert_int_equal(sv.stats.refused, 0);

    for (unsigned k = 0; k < CONNS; k++)
        assert_int_equal(tern_close(n.a, s[k]), TERN_OK);
    tern_vwire_run(&n.wire, t + 100u);
    (void)tern_services_poll(&sv, 0);
    tern_services_stop(&sv);
    tern_vwire_run(&n.wire, t + 300000u);
    wire2_deinit(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_burst_of_syns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
