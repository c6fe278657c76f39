/* UDP over IPv6 on the paths test_udp6.c does not take (issue 17,
 * coverage; the dual-stack variant only: TERN_TEST_IPV6_VARIANT): the
 * demultiplexer's every refusal (a group destination, another family, no
 * callback, another interface, another bound address, another connected
 * peer), UDP length faults and padding, ICMPv6 errors of each type to a
 * connected pcb and quotes that are not ours, and sends refused for want of
 * headroom or a port. Crafted frames in, frames and callbacks out. */
#include "v6_frames.h"
#include "tern/udp.h"

typedef struct rx_log {
    unsigned count;
    size_t len;
    uint16_t from_port;
    int err;
    unsigned errs;
} rx_log_t;

static void log_rx(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                   const tern_udp_rx_info_t *info)
{
    (void)pcb;
    rx_log_t *l = ctx;
    l->count++;
    l->len = nb->len;
    l->from_port = info->from.port;
    tern_netbuf_release(&stack->netbufs, nb);
}

static void log_err(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, int err)
{
    (void)stack;
    (void)pcb;
    rx_log_t *l = ctx;
    l->err = err;
    l->errs++;
}

static tern_sockaddr_t sa6(const tern_ip6_t *a, uint16_t port)
{
    tern_sockaddr_t s = {.family = TERN_FAMILY_IP6, .addr6 = *a, .port = port};
    return s;
}

/* A UDP datagram from src:sport to dst:dport with dlen data bytes; the
 * length field says ulen (0: the real one). */
static size_t udp6_frame(uint8_t *fr, const tern_ip6_t *src, const tern_ip6_t *dst, uint16_t sport, uint16_t dport,
                         size_t dlen, size_t ulen)
{
    uint8_t u[256];
    memset(u, 0x77, sizeof u);
    be16_put(u, sport);
    be16_put(u + 2, dport);
    be16_put(u + 4, (uint32_t)(ulen != 0u ? ulen : 8u + dlen));
    uint8_t group[6];
    size_t n = v6_frame2(fr, v6_dmac(dst, group), src, dst, 17, 64, u, 8 + dlen, -1, 17);
    /* The checksum over the bytes the length field names. */
    size_t cl = ulen != 0u && ulen < 8u + dlen ? ulen : 8u + dlen;
    v6_icmp_csum(fr + 54, cl, src, dst, 17);
    return n;
}

static void bind6(net_fixture_t *f, tern_udp_pcb_t *pcb, rx_log_t *log, const tern_ip6_t *a, uint16_t port)
{
    tern_udp_pcb_init(pcb, log != NULL ? log_rx : NULL, log);
    tern_sockaddr_t s = sa6(a, port);
    assert_int_equal(tern_udp_bind(&f->stack, pcb, &s), TERN_OK);
}

/* Every pcb the demultiplexer must pass over, then the one it takes. */
static void test_demux_refusals(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[256], fr[FRAME_MAX];
    peer_known(f);
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &OUR_GLOBAL, 64), TERN_OK);
    v6_poll(f, 2500);
    static tern_udp_pcb_t p_v4, p_norecv, p_nif, p_global, p_conn, p_any;
    static rx_log_t l_v4, l_nif, l_global, l_conn, l_any;
    static capnet_t cn2;
    memset(&l_v4, 0, sizeof l_v4);
    memset(&l_nif, 0, sizeof l_nif);
    memset(&l_global, 0, sizeof l_global);
    memset(&l_conn, 0, sizeof l_conn);
    memset(&l_any, 0, sizeof l_any);
    capnet_setup(&cn2, &f->stack, "eth1", FR_OTHER_MAC);
    /* IPv4 only, no callback, another interface, another address, a
     * connected pcb for another peer port. */
    tern_udp_pcb_init(&p_v4, log_rx, &l_v4);
    p_v4.flags |= TERN_UDP_F_REUSEADDR;
    tern_sockaddr_t s4 = {.family = TERN_FAMILY_IP4, .addr = 0, .port = 5000};
    assert_int_equal(tern_udp_bind(&f->stack, &p_v4, &s4), TERN_OK);
    tern_udp_pcb_init(&p_norecv, NULL, NULL);
    p_norecv.flags |= TERN_UDP_F_REUSEADDR;
    tern_sockaddr_t s6 = sa6(&ANY6, 5000);
    tern_udp_pcb_init(&p_nif, log_rx, &l_nif);
    p_nif.nif = &cn2.nif;
    p_nif.flags |= TERN_UDP_F_REUSEADDR;
    assert_int_equal(tern_udp_bind(&f->stack, &p_nif, &s6), TERN_OK);
    tern_udp_pcb_init(&p_global, log_rx, &l_global);
    p_global.flags |= TERN_UDP_F_REUSEADDR;
    tern_sockaddr_t sg = sa6(&OUR_GLOBAL, 5000);
    assert_int_equal(tern_udp_bind(&f->stack, &p_global, &sg), TERN_OK);
    tern_udp_pcb_init(&p_conn, log_rx, &l_conn);
    p_conn.remote = sa6(&PEER_LL, 4001);
    p_conn.flags |= TERN_UDP_F_REUSEADDR;
    tern_sockaddr_t sll = sa6(&OUR_LL, 5000);
    assert_int_equal(tern_udp_bind(&f->stack, &p_conn, &sll), TERN_OK);
    /* To a group: nobody (sockets join no IPv6 group), no error either. */
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &ALL_NODES, 4000, 5000, 4, 0));
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    assert_int_equal(C(f)->icmp6_err_suppressed, 1);
    /* To OUR_LL:5000 from port 4000: every pcb refuses it. */
    capnet_clear(&f->cn);
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5000, 4, 0));
    assert_int_equal(C(f)->udp_drop_no_port, 2);
    assert_int_equal(cap_icmp_type(f, 0), 1); /* port unreachable */
    assert_int_equal(l_v4.count + l_nif.count + l_global.count + l_conn.count, 0);
    /* The connected pcb's peer: taken by it. */
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_LL, 4001, 5000, 4, 0));
    assert_int_equal(l_conn.count, 1);
    /* The same port from another host: refused by the connected pcb. */
    v6_poll(f, 1000);
    fx_rx(f, fr, udp6_frame(fr, &OTHER_LL, &OUR_LL, 4001, 5000, 4, 0));
    assert_int_equal(l_conn.count, 1);
    assert_int_equal(C(f)->udp_drop_no_port, 3);
    /* A :: pcb with a callback (REUSEADDR): the rest goes to it. */
    tern_udp_pcb_init(&p_any, log_rx, &l_any);
    p_any.flags |= TERN_UDP_F_REUSEADDR | TERN_UDP_F_V6ONLY;
    p_conn.flags |= TERN_UDP_F_REUSEADDR;
    tern_udp_unbind(&f->stack, &p_nif);
    assert_int_equal(tern_udp_bind(&f->stack, &p_any, &s6), TERN_OK);
    assert_int_equal(tern_udp_bind(&f->stack, &p_norecv, &s6), TERN_OK);
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5000, 4, 0));
    assert_int_equal(l_any.count, 1);
    assert_int_equal(l_any.len, 4);
    /* To the global address: the pcb bound there wins. */
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_GLOBAL, 4000, 5000, 4, 0));
    assert_int_equal(l_global.count, 1);
    (void)m;
    tern_udp_unbind(&f->stack, &p_v4);
    tern_udp_unbind(&f->stack, &p_norecv);
    tern_udp_unbind(&f->stack, &p_global);
    tern_udp_unbind(&f->stack, &p_conn);
    tern_udp_unbind(&f->stack, &p_any);
    tern_netif_remove(&f->stack, &cn2.nif);
    v6_poll(f, 4000); /* the unreachable for OTHER_LL waited for its address */
    mem_assert_baseline(&f->stack, &f->base);
}

/* RFC 768 lengths over IPv6: shorter than a header, a length beyond the
 * payload (dropped), one short of it (the rest is padding: delivered). */
static void test_lengths(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    static tern_udp_pcb_t pcb;
    static rx_log_t log;
    memset(&log, 0, sizeof log);
    bind6(f, &pcb, &log, &ANY6, 5001);
    size_t n = udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5001, 8, 0);
    be16_put(fr + 14 + 4, 6);
    fx_expect_drop(f, fr, 14 + 40 + 6, &C(f)->udp_drop_truncated);
    n = udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5001, 8, 24);
    fx_expect_drop(f, fr, n, &C(f)->udp_drop_len);
    n = udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5001, 8, 12);
    fx_rx(f, fr, n);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.len, 4);
    assert_int_equal(log.from_port, 4000);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* An ICMPv6 error from the peer quoting a datagram of ours (fixed header
 * from src to dst, UDP sport -> dport). */
static size_t icmp_err(uint8_t *fr, uint8_t type, uint8_t code, const tern_ip6_t *src, const tern_ip6_t *dst,
                       uint16_t sport, uint16_t dport, uint8_t qnext, uint8_t qversion)
{
    uint8_t m[8 + 48];
    memset(m, 0, sizeof m);
    m[0] = type;
    m[1] = code;
    if (type == 2)
        be32_put(m + 4, 1400);
    uint8_t *q = m + 8;
    q[0] = (uint8_t)(qversion << 4);
    be16_put(q + 4, 16);
    q[6] = qnext;
    q[7] = 64;
    memcpy(q + 8, src->b, 16);
    memcpy(q + 24, dst->b, 16);
    be16_put(q + 40, sport);
    be16_put(q + 42, dport);
    be16_put(q + 44, 16);
    return v6_icmp(fr, &OUR_LL, 64, m, sizeof m);
}

/* RFC 4443 2.4 (a): each error type reaches the connected pcb it quotes
 * with its own error; quotes that are not UDP, not IPv6, for another
 * pcb, or too short reach nobody. */
static void test_icmp_errors(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    peer_known(f);
    static tern_udp_pcb_t pcb, other;
    static rx_log_t log;
    memset(&log, 0, sizeof log);
    tern_udp_pcb_init(&pcb, log_rx, &log);
    tern_udp_set_error_fn(&pcb, log_err);
    pcb.remote = sa6(&PEER_LL, 53);
    tern_sockaddr_t s = sa6(&OUR_LL, 5002);
    assert_int_equal(tern_udp_bind(&f->stack, &pcb, &s), TERN_OK);
    /* An IPv4 pcb on the same ports is never matched. */
    tern_udp_pcb_init(&other, log_rx, &log);
    other.remote.family = TERN_FAMILY_IP4;
    other.remote.addr = FR_PEER_IP;
    other.remote.port = 53;
    tern_sockaddr_t s4 = {.family = TERN_FAMILY_IP4, .addr = 0, .port = 5003};
    assert_int_equal(tern_udp_bind(&f->stack, &other, &s4), TERN_OK);
    fx_rx(f, fr, icmp_err(fr, 1, 0, &OUR_LL, &PEER_LL, 5002, 53, 17, 6)); /* no route */
    assert_int_equal(log.err, TERN_ERR_UNREACH);
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5002, 53, 17, 6)); /* port */
    assert_int_equal(log.err, TERN_ERR_REFUSED);
    /* Packet Too Big goes to the path MTU (RFC 8201), not to the pcb. */
    fx_rx(f, fr, icmp_err(fr, 2, 0, &OUR_LL, &PEER_LL, 5002, 53, 17, 6));
    assert_int_equal(log.errs, 2);
    assert_int_equal(C(f)->icmp6_ptb_rx, 1);
    fx_rx(f, fr, icmp_err(fr, 3, 0, &OUR_LL, &PEER_LL, 5002, 53, 17, 6)); /* time exceeded */
    assert_int_equal(log.err, TERN_ERR_UNREACH);
    fx_rx(f, fr, icmp_err(fr, 4, 0, &OUR_LL, &PEER_LL, 5002, 53, 17, 6)); /* parameter problem */
    assert_int_equal(log.errs, 4);
    assert_int_equal(C(f)->udp_icmp_err_rx, 4);
    /* Not ours: another source address, another peer port, ICMPv6 quoted,
     * version 4 quoted, the IPv4 pcb's ports. */
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_GLOBAL, &PEER_LL, 5002, 53, 17, 6));
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5002, 54, 17, 6));
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5002, 53, 58, 6));
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5002, 53, 17, 4));
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5003, 53, 17, 6));
    /* Too short to quote a UDP header. */
    uint8_t m[8 + 44];
    memset(m, 0, sizeof m);
    m[0] = 1;
    m[8] = 0x60;
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, sizeof m));
    assert_int_equal(log.errs, 4);
    assert_int_equal(C(f)->udp_icmp_err_rx, 4);
    assert_int_equal(C(f)->icmp6_err_rx, 11);
    tern_udp_unbind(&f->stack, &pcb);
    tern_udp_unbind(&f->stack, &other);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Sends refused: no room for the headers, and an implicit bind to a port
 * someone holds. Bind clashes between two specific IPv6 addresses. */
static void test_send_and_bind_refusals(void **state)
{
    net_fixture_t *f = *state;
    peer_known(f);
    static tern_udp_pcb_t a, b, c;
    tern_udp_pcb_init(&a, NULL, NULL);
    tern_netbuf_t *nb = tern_netbuf_get(&f->stack.netbufs, 16, 0); /* no headroom */
    assert_non_null(nb);
    tern_sockaddr_t to = sa6(&PEER_LL, 9);
    assert_int_equal(tern_udp_sendto(&f->stack, &a, nb, &to), TERN_ERR_INVAL);
    /* Bound to OUR_LL:6000; the same again clashes, :: too. */
    tern_sockaddr_t at = sa6(&OUR_LL, 6000);
    assert_int_equal(tern_udp_bind(&f->stack, &a, &at), TERN_OK);
    tern_udp_pcb_init(&b, NULL, NULL);
    assert_int_equal(tern_udp_bind(&f->stack, &b, &at), TERN_ERR_ADDRINUSE);
    /* An unbound pcb whose port (set by hand) is held: its implicit bind
     * at the send fails, the buffer goes. */
    tern_udp_pcb_init(&c, NULL, NULL);
    c.local.port = 6000;
    nb = tern_udp_netbuf_get(&f->stack, 8, 0);
    assert_non_null(nb);
    assert_int_equal(tern_udp_sendto(&f->stack, &c, nb, &to), TERN_ERR_ADDRINUSE);
    assert_int_equal(f->cn.count, 0);
    tern_udp_unbind(&f->stack, &a);
    mem_assert_baseline(&f->stack, &f->base);
}

/* The smaller refusals of binding and sending over IPv6, ties between
 * equal pcbs, two pcbs on one port split by interface, an error to a pcb
 * without an error callback. */
static void test_udp6_odds(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    peer_known(f);
    tern_udp_set_error_fn(NULL, log_err); /* no pcb: nothing to do */
    static tern_udp_pcb_t a, b, c, d;
    static rx_log_t la, lb;
    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    static capnet_t cn2;
    capnet_setup(&cn2, &f->stack, "eth1", FR_OTHER_MAC);
    tern_udp_pcb_init(&a, log_rx, &la);
    tern_sockaddr_t bad = {.family = 77, .port = 5100};
    assert_int_equal(tern_udp_bind(&f->stack, &a, &bad), TERN_ERR_INVAL);
    /* Two pcbs on :: port 5100, one per interface: no clash. */
    a.nif = &f->cn.nif;
    a.flags |= TERN_UDP_F_V6ONLY;
    tern_sockaddr_t any = sa6(&ANY6, 5100);
    assert_int_equal(tern_udp_bind(&f->stack, &a, &any), TERN_OK);
    tern_udp_pcb_init(&b, log_rx, &lb);
    b.nif = &cn2.nif;
    b.flags |= TERN_UDP_F_V6ONLY;
    assert_int_equal(tern_udp_bind(&f->stack, &b, &any), TERN_OK);
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5100, 4, 0));
    assert_int_equal(la.count, 1);
    assert_int_equal(lb.count, 0);
    tern_udp_unbind(&f->stack, &b);
    /* Two equal pcbs (REUSEADDR, no interface): the first bound keeps it. */
    tern_udp_pcb_init(&c, log_rx, &lb);
    c.flags |= TERN_UDP_F_REUSEADDR | TERN_UDP_F_V6ONLY;
    tern_sockaddr_t any2 = sa6(&ANY6, 5101);
    assert_int_equal(tern_udp_bind(&f->stack, &c, &any2), TERN_OK);
    tern_udp_pcb_init(&d, log_rx, &la);
    d.flags |= TERN_UDP_F_REUSEADDR | TERN_UDP_F_V6ONLY;
    assert_int_equal(tern_udp_bind(&f->stack, &d, &any2), TERN_OK);
    unsigned before = la.count + lb.count;
    fx_rx(f, fr, udp6_frame(fr, &PEER_LL, &OUR_LL, 4000, 5101, 4, 0));
    assert_int_equal(la.count + lb.count, before + 1);
    /* Sends: port 0, to ::, an IPv4-bound pcb to IPv6, a pcb tied to an
     * interface without IPv6. */
    tern_sockaddr_t to0 = sa6(&PEER_LL, 0), toany = sa6(&ANY6, 9), to = sa6(&PEER_LL, 9);
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    assert_int_equal(tern_udp_sendto(&f->stack, &c, nb, &to0), TERN_ERR_INVAL);
    nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    assert_int_equal(tern_udp_sendto(&f->stack, &c, nb, &toany), TERN_ERR_INVAL);
    static tern_udp_pcb_t v4, tied;
    tern_udp_pcb_init(&v4, NULL, NULL);
    tern_sockaddr_t s4 = {.family = TERN_FAMILY_IP4, .addr = 0, .port = 5102};
    assert_int_equal(tern_udp_bind(&f->stack, &v4, &s4), TERN_OK);
    nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    assert_int_equal(tern_udp_sendto(&f->stack, &v4, nb, &to), TERN_ERR_INVAL);
    tern_udp_pcb_init(&tied, NULL, NULL);
    tied.nif = &cn2.nif;
    nb = tern_udp_netbuf_get(&f->stack, 4, 0);
    uint32_t noroute = C(f)->ipv6_tx_noroute;
    assert_int_equal(tern_udp_sendto(&f->stack, &tied, nb, &to), TERN_ERR_NOROUTE);
    assert_int_equal(C(f)->ipv6_tx_noroute, noroute + 1);
    /* A connected pcb without an error callback: the error is counted. */
    static tern_udp_pcb_t quiet;
    tern_udp_pcb_init(&quiet, log_rx, &la);
    quiet.remote = sa6(&PEER_LL, 53);
    tern_sockaddr_t sq = sa6(&ANY6, 5103);
    quiet.flags |= TERN_UDP_F_V6ONLY;
    assert_int_equal(tern_udp_bind(&f->stack, &quiet, &sq), TERN_OK);
    fx_rx(f, fr, icmp_err(fr, 1, 4, &OUR_LL, &PEER_LL, 5103, 53, 17, 6));
    assert_int_equal(C(f)->udp_icmp_err_rx, 1);
    tern_udp_unbind(&f->stack, &a);
    tern_udp_unbind(&f->stack, &c);
    tern_udp_unbind(&f->stack, &d);
    tern_udp_unbind(&f->stack, &v4);
    tern_udp_unbind(&f->stack, &quiet);
    tern_netif_remove(&f->stack, &cn2.nif);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demux_refusals, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_lengths, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_errors, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_send_and_bind_refusals, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_udp6_odds, v6_setup, v6_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* TERN_TEST_IPV6_VARIANT */
