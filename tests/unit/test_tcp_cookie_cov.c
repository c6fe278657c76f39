/* TERN_TEST_STATIC_VARIANT */
/* SYN cookies' last steps (src/net/tcp_cookie.c, RFC 4987 3.6; issue 17,
 * measured coverage), on crafted segments against a listener of backlog 1
 * whose accept callback the test controls:
 *  - a cookie for a SYN with timestamps but no window scale: the SYN-ACK
 *    carries the timestamp and no window scale option; for a listener
 *    with a ring above 64 KB, the scale that ring needs;
 *  - the cookie's ACK while the accept queue is full (accept says
 *    WOULDBLOCK): no room, counted, nothing kept (the peer's retransmitted
 *    ACK tries again);
 *  - an accept callback that aborts the new connection itself: nothing is
 *    counted as accepted and the structure goes.
 * Broken on purpose once: tcp_cookie_settle counting every settled child
 * as accepted (its SYN-RECEIVED test removed) failed test_cookie_no_room. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "tcpseg.h"
#include "net/net_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"

#define CPORT 82u

typedef struct ctl {
    int mode; /* 0: accept, 1: WOULDBLOCK, 2: abort it */
    int calls;
} ctl_t;

static int ctl_accept(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    ctl_t *c = arg;
    (void)l;
    c->calls++;
    if (c->mode == 1)
        return TERN_ERR_WOULDBLOCK;
    if (c->mode == 2)
        tern_tcp_abort(pcb);
    return TERN_OK;
}

static const tern_tcp_callbacks_t ctl_cbs = {.accept = ctl_accept};

typedef struct world {
    tcp_fixture_t *t;
    tern_tcp_pcb_t *l;
    ctl_t ctl;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->t = tcp_fixture_new(211, 80);
    int err = 0;
    w->l = tern_tcp_listen(&w->t->f->stack, CPORT, 1, &ctl_cbs, &w->ctl, &err);
    assert_non_null(w->l);
    /* One half-open child fills the backlog: later SYNs get cookies. */
    tcp_fixture_rx(w->t, 5000, CPORT, 100, 0, TCP_SYN, 1000, NULL, 0, NULL, 0);
    capnet_clear(&w->t->f->cn);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    tern_tcp_abort(w->l);
    tcp_fixture_free(w->t);
    free(w);
    return 0;
}

/* A cookie SYN from sport (options o); the cookie (our ISS). */
static uint32_t cookie_for(world_t *w, uint16_t sport, uint32_t isn, const uint8_t *o, size_t ol, const uint8_t **hdr)
{
    const tern_counters_t *c = &w->t->f->stack.counters;
    uint32_t sent = c->tcp.syncookies_sent;
    capnet_clear(&w->t->f->cn);
    tcp_fixture_rx(w->t, sport, CPORT, isn, 0, TCP_SYN, 2000, o, ol, NULL, 0);
    assert_int_equal(c->tcp.syncookies_sent, sent + 1u);
    assert_int_equal(w->t->f->cn.count, 1);
    const uint8_t *h = tcp_fixture_cap(w->t, 0, NULL);
    assert_int_equal(h[13], TCP_SYN | TCP_ACK);
    if (hdr != NULL)
        *hdr = h;
    return be32_get(h + 4);
}

static void test_cookie_ts_without_wscale(void **state)
{
    world_t *w = *state;
    uint8_t o[24];
    size_t ol = tseg_opt_syn(o, 1, 1, 777, -1);
    const uint8_t *h;
    (void)cookie_for(w, 6001, 9000, o, ol, &h);
    unsigned hl = (unsigned)(h[12] >> 4) * 4u;
    int ts = 0, ws = 0, sack = 0;
    for (unsigned i = 20; i < hl;) {
        if (h[i] == 0)
            break;
        if (h[i] == 1) {
            i++;
            continue;
        }
        ts |= h[i] == 8;
        ws |= h[i] == 3;
        sack |= h[i] == 4;
        if (h[i] == 8)
            assert_int_equal(be32_get(h + i + 6), 777); /* TSecr: the peer's TSval */
        i += h[i + 1];
    }
    assert_true(ts);
    assert_true(sack);
    assert_false(ws);
}

/* A listener whose receive ring is above 64 KB: the cookie's SYN-ACK
 * offers the window scale that ring needs (RFC 7323 2.2), never 0. */
static void test_cookie_large_ring_scale(void **state)
{
    world_t *w = *state;
    assert_int_equal(tern_tcp_set_bufsizes(w->l, 200000u, 0), TERN_OK);
    uint8_t o[24];
    size_t ol = tseg_opt_syn(o, 0, 1, 778, 7);
    const uint8_t *h;
    (void)cookie_for(w, 6004, 9300, o, ol, &h);
    unsigned hl = (unsigned)(h[12] >> 4) * 4u;
    int ws = -1;
    for (unsigned i = 20; i < hl;) {
        if (h[i] == 0)
            break;
        if (h[i] == 1) {
            i++;
            continue;
        }
        if (h[i] == 3)
            ws = h[i + 2];
        i += h[i + 1];
    }
    assert_int_equal(ws, 2); /* 200000 >> 2 fits 16 bits, >> 1 does not */
    assert_int_equal(be16_get(h + 14), 0xFFFF);
}

static void test_cookie_no_room(void **state)
{
    world_t *w = *state;
    const tern_counters_t *c = &w->t->f->stack.counters;
    uint32_t cookie = cookie_for(w, 6002, 9100, NULL, 0, NULL);
    w->ctl.mode = 1;
    uint32_t room = c->tcp.syncookies_no_room, acc = c->tcp.syncookies_accepted;
    unsigned half = w->t->f->stack.tcp.half_open;
    tcp_fixture_rx(w->t, 6002, CPORT, 9101, cookie + 1u, TCP_ACK, 2000, NULL, 0, NULL, 0);
    assert_int_equal(w->ctl.calls, 1);
    assert_int_equal(c->tcp.syncookies_no_room, room + 1u);
    assert_int_equal(c->tcp.syncookies_accepted, acc);
    assert_int_equal(w->t->f->stack.tcp.half_open, half);
    /* Room again: the retransmitted ACK opens it. */
    w->ctl.mode = 0;
    tcp_fixture_rx(w->t, 6002, CPORT, 9101, cookie + 1u, TCP_ACK, 2000, NULL, 0, NULL, 0);
    assert_int_equal(w->ctl.calls, 2);
    assert_int_equal(c->tcp.syncookies_accepted, acc + 1u);
    tern_tcp_pcb_t *conn = NULL;
    for (tern_tcp_pcb_t *p = w->t->f->stack.tcp.pcbs; p != NULL; p = p->next)
        if (p->remote_port == 6002 && p->state == TERN_TCP_ESTABLISHED)
            conn = p;
    assert_non_null(conn);
    tern_tcp_abort(conn);
}

static void test_cookie_accept_aborts(void **state)
{
    world_t *w = *state;
    const tern_counters_t *c = &w->t->f->stack.counters;
    uint32_t cookie = cookie_for(w, 6003, 9200, NULL, 0, NULL);
    w->ctl.mode = 2;
    uint32_t acc = c->tcp.syncookies_accepted, room = c->tcp.syncookies_no_room;
    tcp_fixture_rx(w->t, 6003, CPORT, 9201, cookie + 1u, TCP_ACK, 2000, NULL, 0, NULL, 0);
    assert_int_equal(w->ctl.calls, 1);
    assert_int_equal(c->tcp.syncookies_accepted, acc);
    assert_int_equal(c->tcp.syncookies_no_room, room);
    for (tern_tcp_pcb_t *p = w->t->f->stack.tcp.pcbs; p != NULL; p = p->next)
        assert_false(p->remote_port == 6003 && !(p->flags & TF_DEAD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cookie_ts_without_wscale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_large_ring_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_no_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_accept_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
