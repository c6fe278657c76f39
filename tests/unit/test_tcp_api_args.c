/* TERN_TEST_STATIC_VARIANT */
/* The raw TCP API's argument and state checks (src/net/tcp_api.c; issue
 * 17, measured coverage): each wrong call returns its error and changes
 * nothing, through the capture driver (tcpseg.h fixture: a stack at
 * FR_OUR_IP with a listener on LPORT). */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define LPORT 80u
#define SPORT 42000u

typedef tcp_fixture_t tfix_t;

static int setup(void **state)
{
    *state = tcp_fixture_new(95, LPORT);
    return 0;
}

static int teardown(void **state)
{
    tcp_fixture_free(*state);
    return 0;
}

static void test_listen_arguments(void **state)
{
    tfix_t *t = *state;
    tern_stack_t *s = &t->f->stack;
    int err = 0;
    assert_null(tern_tcp_listen(NULL, 81, 1, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_listen(s, 0, 1, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_listen(s, 81, 0, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_listen(s, LPORT, 1, NULL, NULL, &err)); /* the fixture's */
    assert_int_equal(err, TERN_ERR_ADDRINUSE);
    assert_null(tern_tcp_listen(s, LPORT, 1, NULL, NULL, NULL)); /* err may be NULL */
    int tag = 7;
    tern_tcp_pcb_t *l = tern_tcp_listen(s, 81, 100000, &tcp_fixture_cbs, &tag, NULL);
    assert_non_null(l);
    assert_ptr_equal(tern_tcp_arg(l), &tag);
    assert_int_equal(l->backlog, 0xFFFF); /* clamped to its field */
    assert_int_equal(tern_tcp_state(l), TERN_TCP_LISTEN);
    assert_int_equal(tern_tcp_shutdown(l), TERN_ERR_CLOSED); /* nothing to half-close */
    assert_int_equal(tern_tcp_write(l, "x", 1), TERN_ERR_CLOSED);
    assert_int_equal(tern_tcp_close(l), TERN_OK);
}

static void test_connect_arguments(void **state)
{
    tfix_t *t = *state;
    tern_stack_t *s = &t->f->stack;
    int err = 0;
    assert_null(tern_tcp_connect(NULL, FR_PEER_IP, 80, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_connect(s, FR_PEER_IP, 0, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_connect(s, TERN_IP4_BROADCAST, 80, NULL, NULL, &err));
    assert_int_equal(err, TERN_ERR_INVAL);
    assert_null(tern_tcp_connect(s, 0, 80, NULL, NULL, NULL));
    /* A SYN-SENT connection: shutdown ends it quietly, close frees it. */
    capnet_clear(&t->f->cn);
    tern_tcp_pcb_t *c = tern_tcp_connect(s, FR_PEER_IP, 80, &tcp_fixture_cbs, t, &err);
    assert_non_null(c);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_SYN_SENT);
    assert_int_equal(t->f->cn.count, 1); /* the SYN */
    assert_int_equal(tern_tcp_set_bufsizes(c, 100, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_tcp_set_bufsizes(c, 0, 100), TERN_ERR_INVAL);
    assert_int_equal(tern_tcp_set_bufsizes(c, 0, 0x40000000u), TERN_ERR_INVAL);
    assert_int_equal(tern_tcp_shutdown(c), TERN_OK);
    assert_int_equal(tern_tcp_write(c, "x", 1), TERN_ERR_STATE); /* FIN queued */
    assert_int_equal(tern_tcp_write_commit(c, 1), TERN_ERR_STATE);
    assert_int_equal(t->f->cn.count, 1); /* nothing more on the wire */
    assert_int_equal(tern_tcp_close(c), TERN_OK);
}

/* Passive handshake without options. */
static tern_tcp_pcb_t *establish(tfix_t *t)
{
    capnet_clear(&t->f->cn);
    tcp_fixture_rx(t, SPORT, LPORT, 1000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
    const uint8_t *h = tcp_fixture_cap(t, 0, NULL);
    t->iss = be32_get(h + 4);
    tcp_fixture_rx(t, SPORT, LPORT, 1001, t->iss + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(tern_tcp_state(t->conn), TERN_TCP_ESTABLISHED);
    return t->conn;
}

static void test_established_misuse(void **state)
{
    tfix_t *t = *state;
    tern_tcp_pcb_t *c = establish(t);
    /* No send ring yet: nothing to commit into. */
    assert_int_equal(tern_tcp_write_commit(c, 1), TERN_ERR_INVAL);
    assert_int_equal(tern_tcp_write(c, "", 0), 0);
    /* The ring exists once written to: too late to resize it. */
    assert_int_equal(tern_tcp_write(c, "abc", 3), 3);
    assert_int_equal(tern_tcp_set_bufsizes(c, 0, 4000), TERN_ERR_STATE);
    assert_int_equal(tern_tcp_set_bufsizes(c, 4000, 0), TERN_ERR_STATE);
    assert_int_equal(tern_tcp_write_commit(c, c->sbuf_size), TERN_ERR_INVAL); /* more than the room */
    /* The peer closes: CLOSE-WAIT; our shutdown makes it LAST-ACK; a
     * second one does nothing. */
    tcp_fixture_rx(t, SPORT, LPORT, 1001, t->iss + 4, TCP_ACK | TCP_FIN, 65535, NULL, 0, NULL, 0);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_CLOSE_WAIT);
    assert_int_equal(tern_tcp_shutdown(c), TERN_OK);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_LAST_ACK);
    assert_int_equal(tern_tcp_shutdown(c), TERN_OK);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_LAST_ACK);
    assert_int_equal(tern_tcp_write(c, "x", 1), TERN_ERR_STATE);
    assert_int_equal(tern_tcp_close(c), TERN_OK);
    assert_int_equal(tern_tcp_close(c), TERN_ERR_STATE); /* closed already */
    assert_string_equal(tern_tcp_state_name(TERN_TCP_LAST_ACK), "LAST-ACK");
    assert_string_equal(tern_tcp_state_name(-1), "?");
    assert_string_equal(tern_tcp_state_name(11), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listen_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_established_misuse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
