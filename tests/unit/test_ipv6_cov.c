/* IPv6 input, output, routing and the public API on the paths test_ipv6.c
 * does not take (issue 17, coverage; the dual-stack variant only:
 * TERN_TEST_IPV6_VARIANT): prefixes that are not a whole number of bytes,
 * the longest-match source rule, a destination with no route, a link MTU
 * lowered by an RA, the argument checks of every public call, the reports
 * with neighbors and DNS servers, an option cut off at the end of its
 * header. Frames in through the driver path, frames and counters out. */
#include "v6_frames.h"
#include "tern/udp.h"

/* 2001:db8:2::2, a static address in a second /64. */
static const tern_ip6_t STATIC2 = {{0x20, 0x01, 0x0D, 0xB8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
static const tern_ip6_t STATIC2_PEER = {{0x20, 0x01, 0x0D, 0xB8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

static tern_sockaddr_t to6(const tern_ip6_t *a, uint16_t port)
{
    tern_sockaddr_t s = {.family = TERN_FAMILY_IP6, .addr6 = *a, .port = port};
    return s;
}

/* Send len bytes from pcb to dst:port; the result of tern_udp_sendto. */
static int udp_out(net_fixture_t *f, tern_udp_pcb_t *pcb, const tern_ip6_t *dst, uint16_t port, size_t len)
{
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, len, 0);
    assert_non_null(nb);
    memset(nb->data, 0xA5, len);
    tern_sockaddr_t to = to6(dst, port);
    return tern_udp_sendto(&f->stack, pcb, nb, &to);
}

static void ignore_rx(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                      const tern_udp_rx_info_t *info)
{
    (void)ctx;
    (void)pcb;
    (void)info;
    tern_netbuf_release(&stack->netbufs, nb);
}

/* The source address of captured frame i. */
static void cap_src(net_fixture_t *f, unsigned i, tern_ip6_t *out)
{
    size_t len;
    const uint8_t *fr = capnet_frame(&f->cn, i, &len);
    assert_true(len >= 54);
    memcpy(out->b, fr + 14 + 8, 16);
}

/* An on-link prefix of 60 bits (RFC 4861 6.3.4): inside it by the half
 * byte, a destination is resolved on the link; outside it (by the half
 * byte, or by a whole byte) and without a default router there is no route. */
static void test_onlink_prefix_bits(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[256];
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_prefix(m, n, &PREFIX, 60, 0x80, 3600, 1800);
    rx_ra(f, m, n);
    assert_int_equal(C(f)->nd_ra_rx, 1);
    static tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, ignore_rx, NULL);
    tern_ip6_t in = PREFIX, out_nibble = PREFIX, out_byte = PREFIX;
    in.b[7] = 0x05; /* 2001:db8:1:5::7 */
    in.b[15] = 7;
    out_nibble.b[7] = 0x15; /* 2001:db8:1:15::7 */
    out_nibble.b[15] = 7;
    out_byte.b[5] = 2; /* 2001:db8:2::7 */
    out_byte.b[15] = 7;
    capnet_clear(&f->cn);
    assert_int_equal(udp_out(f, &pcb, &in, 7, 16), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    assert_int_equal(cap_icmp_type(f, 0), 135); /* resolution on the link */
    assert_non_null(nbr_entry(f, &in));
    assert_int_equal(C(f)->nd_queued, 1);
    assert_int_equal(udp_out(f, &pcb, &out_nibble, 7, 16), TERN_ERR_NOROUTE);
    assert_int_equal(udp_out(f, &pcb, &out_byte, 7, 16), TERN_ERR_NOROUTE);
    assert_int_equal(C(f)->ipv6_tx_noroute, 2);
    assert_int_equal(f->cn.count, 1);
    /* Nobody answers: the queued datagram goes with the entry. */
    v6_poll(f, 4000);
    assert_null(nbr_entry(f, &in));
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* RFC 6724 rule 8: of two preferred global addresses, the one sharing the
 * destination's /64 is the source, whichever slot it is in; a static
 * address's prefix is on-link (RFC 4861 5.2). */
static void test_source_longest_match_and_static_onlink(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[256], fr[FRAME_MAX];
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &STATIC2, 64), TERN_OK);
    v6_poll(f, 2500);
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_prefix(m, n, &PREFIX, 64, 0xC0, 3600, 1800);
    rx_ra(f, m, n);
    v6_poll(f, 2500);
    assert_true(ipv6_is_our_addr(IFS(f), &STATIC2));
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_GLOBAL));
    /* The peer's global address is known (its solicitation with SLLA). */
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_GLOBAL, &sn);
    fx_rx(f, fr, v6_icmp_from(fr, &PEER_GLOBAL, &sn, 255, m, msg_ns(m, &OUR_GLOBAL, FR_PEER_MAC)));
    /* Learnt STALE; our answer through it started DELAY (RFC 4861 7.3.3). */
    assert_int_equal(nbr_entry(f, &PEER_GLOBAL)->state, TERN_ND_DELAY);
    static tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, ignore_rx, NULL);
    capnet_clear(&f->cn);
    assert_int_equal(udp_out(f, &pcb, &PEER_GLOBAL, 9, 20), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    tern_ip6_t src;
    cap_src(f, 0, &src);
    assert_memory_equal(src.b, OUR_GLOBAL.b, 16);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_memory_equal(got, FR_PEER_MAC, 6);
    assert_int_equal(got[14 + 6], 17);
    assert_cap_checksum(f, 0);
    /* In the static address's /64: on-link, from the static address. */
    capnet_clear(&f->cn);
    assert_int_equal(udp_out(f, &pcb, &STATIC2_PEER, 9, 20), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    assert_int_equal(cap_icmp_type(f, 0), 135);
    cap_src(f, 0, &src);
    assert_memory_equal(src.b, STATIC2.b, 16);
    v6_poll(f, 4000);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* An RA's MTU option lowers the link MTU (RFC 4861 4.6.4) within bounds;
 * a packet over it is refused with MSGSIZE and counted. */
static void test_ra_mtu_and_msgsize(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[256];
    peer_known(f);
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_mtu(m, n, 1000); /* below the IPv6 minimum: ignored */
    rx_ra(f, m, n);
    assert_int_equal(IFS(f)->mtu, 1500);
    n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_mtu(m, n, 9000); /* above the link's: ignored */
    rx_ra(f, m, n);
    assert_int_equal(IFS(f)->mtu, 1500);
    n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_mtu(m, n, 1280);
    m[n - 7] = 2; /* 16 bytes: a bad length, ignored */
    memset(m + n, 0, 8);
    rx_ra(f, m, n + 8);
    assert_int_equal(IFS(f)->mtu, 1500);
    n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_mtu(m, n, 1280);
    rx_ra(f, m, n);
    assert_int_equal(IFS(f)->mtu, 1280);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1280);
    static tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, ignore_rx, NULL);
    capnet_clear(&f->cn);
    assert_int_equal(udp_out(f, &pcb, &PEER_LL, 9, 1280 - 48), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    assert_int_equal(udp_out(f, &pcb, &PEER_LL, 9, 1280 - 47), TERN_ERR_MSGSIZE);
    assert_int_equal(C(f)->ipv6_tx_msgsize, 1);
    assert_int_equal(f->cn.count, 1);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Routing refuses ::, ::1 and our own addresses as destinations, a source
 * that is not ours, and everything while the interface has no usable
 * source address. */
static void test_route_refusals(void **state)
{
    net_fixture_t *f = *state;
    tern_ip6_t src;
    static const tern_ip6_t LOOP = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    assert_null(ipv6_route(&f->stack, &ANY6, &ANY6, &src));
    assert_null(ipv6_route(&f->stack, &ANY6, &LOOP, &src));
    assert_null(ipv6_route(&f->stack, &ANY6, &OUR_LL, &src));
    assert_null(ipv6_route(&f->stack, &PEER_LL, &OTHER_LL, &src)); /* not our source */
    assert_true(ipv6_route(&f->stack, &OUR_LL, &PEER_LL, &src) == IFS(f));
    assert_memory_equal(src.b, OUR_LL.b, 16);
    /* Off-link without a router: the interface anyway (ipv6_output says
     * NOROUTE), with the link-local source. */
    assert_true(ipv6_route(&f->stack, &ANY6, &REMOTE, &src) == IFS(f));
    assert_memory_equal(src.b, OUR_LL.b, 16);
    /* Through sockets' UDP: the same refusals. */
    static tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, ignore_rx, NULL);
    assert_int_equal(udp_out(f, &pcb, &LOOP, 9, 4), TERN_ERR_NOROUTE);
    assert_int_equal(udp_out(f, &pcb, &OUR_LL, 9, 4), TERN_ERR_NOROUTE);
    /* The link-local address back in DAD: no source for anything. */
    tern_ip6_addr_t *ll = ipv6_addr_find(IFS(f), &OUR_LL);
    ll->state = TERN_IP6_ADDR_TENTATIVE;
    assert_null(ipv6_route(&f->stack, &ANY6, &PEER_LL, &src));
    assert_int_equal(udp_out(f, &pcb, &PEER_LL, 9, 4), TERN_ERR_NOROUTE);
    ll->state = TERN_IP6_ADDR_PREFERRED;
    /* A disabled interface (duplicate link-local) routes nothing. */
    IFS(f)->disabled = 1;
    assert_null(ipv6_route(&f->stack, &ANY6, &PEER_LL, &src));
    IFS(f)->disabled = 0;
    assert_int_equal(f->cn.count, 0);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Every argument check of the public calls. */
static void test_api_arguments(void **state)
{
    net_fixture_t *f = *state;
    tern_stack_t *s = &f->stack;
    tern_netif_t *nif = &f->cn.nif;
    /* tern_ipv6_enable: no stack, a second interface (one IPv6 interface
     * in this configuration), a link without Ethernet. */
    assert_int_equal(tern_ipv6_enable(NULL, nif, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_enable(s, NULL, NULL), TERN_ERR_INVAL);
    static capnet_t cn2, cn3;
    capnet_setup(&cn2, s, "eth1", FR_OTHER_MAC);
    assert_int_equal(tern_ipv6_enable(s, &cn2.nif, NULL), TERN_ERR_INVAL); /* TERN_IPV6_NETIF_MAX is 1 */
    capnet_setup_caps(&cn3, s, "ip0", FR_OTHER_MAC, TERN_NETIF_CAPS_DEFAULT, TERN_LINK_IP);
    assert_int_equal(tern_ipv6_enable(s, &cn3.nif, NULL), TERN_ERR_INVAL);
    /* tern_ipv6_add_addr. */
    assert_int_equal(tern_ipv6_add_addr(NULL, nif, &STATIC2, 64), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, nif, NULL, 64), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, nif, &STATIC2, 0), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, nif, &STATIC2, 129), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, nif, &ALL_NODES, 64), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, nif, &ANY6, 64), TERN_ERR_INVAL);
    static const tern_ip6_t LOOP = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    assert_int_equal(tern_ipv6_add_addr(s, nif, &LOOP, 128), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_add_addr(s, &cn2.nif, &STATIC2, 64), TERN_ERR_INVAL); /* IPv6 off there */
    assert_int_equal(tern_ipv6_add_addr(s, nif, &OUR_LL, 64), TERN_ERR_INVAL);       /* already ours */
    /* TERN_IPV6_ADDR_MAX addresses, then no room. */
    tern_ip6_t a = STATIC2;
    for (unsigned k = 1; k < TERN_IPV6_ADDR_MAX; k++) {
        a.b[15] = (uint8_t)(0x10 + k);
        assert_int_equal(tern_ipv6_add_addr(s, nif, &a, 64), TERN_OK);
    }
    a.b[15] = 0x30;
    assert_int_equal(tern_ipv6_add_addr(s, nif, &a, 64), TERN_ERR_NOMEM);
    assert_int_equal(C(f)->nd_addr_added, TERN_IPV6_ADDR_MAX - 1);
    /* The RFC 7217 secret. */
    uint8_t key[16];
    for (unsigned k = 0; k < 16; k++)
        key[k] = (uint8_t)k;
    assert_int_equal(tern_ipv6_set_iid_secret(NULL, key), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_set_iid_secret(s, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_set_iid_secret(s, key), TERN_OK);
    assert_int_equal(s->ipv6.iid_key[0], 0x00010203u);
    assert_int_equal(s->ipv6.iid_key[3], 0x0C0D0E0Fu);
    assert_int_equal(s->ipv6.iid_key_set, 1);
    /* The readers: no stack; out NULL only asks whether entry n exists. */
    tern_ip6_addr_info_t ai;
    tern_nd_info_t ni;
    tern_ip6_t dns;
    assert_int_equal(tern_ipv6_addr_info(NULL, 0, &ai), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_nbr_info(NULL, 0, &ni), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_dns_server(NULL, 0, &dns), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_addr_info(s, 0, NULL), TERN_OK);
    assert_int_equal(tern_ipv6_addr_info(s, TERN_IPV6_ADDR_MAX, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_ipv6_nbr_info(s, 0, NULL), TERN_ERR_INVAL); /* no neighbors */
    peer_known(f);
    assert_int_equal(tern_ipv6_nbr_info(s, 0, NULL), TERN_OK);
    assert_int_equal(tern_ipv6_dns_server(s, 0, NULL), TERN_ERR_INVAL);
    tern_netif_remove(s, &cn2.nif);
    tern_netif_remove(s, &cn3.nif);
    mem_assert_baseline(&f->stack, &f->base);
}

static const tern_ip6_t DNS1 = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
static const tern_ip6_t DNS2 = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x54}};

/* The text and JSON reports with two addresses, a resolved router, an
 * incomplete neighbor and two DNS servers; the info calls behind them. */
static void test_reports_full(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[256], fr[FRAME_MAX];
    peer_known(f);
    /* An RA from the peer (SLLA: it is a router) with a prefix whose
     * preferred lifetime is 10 s, and two DNS servers. */
    size_t n = msg_ra_head(m, 64, 1800, 0, 0);
    n = opt_slla(m, n, FR_PEER_MAC);
    n = opt_prefix(m, n, &PREFIX, 64, 0xC0, 3600, 10);
    tern_ip6_t servers[2] = {DNS1, DNS2};
    n = opt_rdnss(m, n, servers, 2, 600);
    rx_ra(f, m, n);
    v6_poll(f, 11000); /* DAD done, then the preferred lifetime over */
    tern_ip6_addr_info_t ai;
    assert_int_equal(tern_ipv6_addr_info(&f->stack, 1, &ai), TERN_OK);
    assert_memory_equal(ai.addr.b, OUR_GLOBAL.b, 16);
    assert_int_equal(ai.state, TERN_IP6_ADDR_DEPRECATED);
    assert_int_equal(ai.preferred_s, 0);
    assert_true(ai.valid_s > 3500 && ai.valid_s < 3600);
    assert_int_equal(ai.origin, TERN_IP6_ORIGIN_SLAAC);
    /* An echo from another link-local host: its entry is INCOMPLETE. */
    fx_rx(f, fr, v6_icmp_from(fr, &OTHER_LL, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8)));
    tern_nd_info_t ni;
    unsigned incomplete = 0, routers = 0;
    for (unsigned k = 0; tern_ipv6_nbr_info(&f->stack, k, &ni) == TERN_OK; k++) {
        if (ni.state == TERN_ND_INCOMPLETE) {
            incomplete++;
            assert_memory_equal(ni.ip.b, OTHER_LL.b, 16);
            assert_int_equal(ni.queued, 1);
        } else {
            assert_memory_equal(ni.mac, FR_PEER_MAC, 6);
            routers += ni.is_router;
        }
        assert_string_equal(ni.ifname, f->cn.nif.name);
    }
    assert_int_equal(incomplete, 1);
    assert_int_equal(routers, 1);
    tern_ip6_t dns;
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 1, &dns), TERN_OK);
    assert_memory_equal(dns.b, DNS2.b, 16);
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_ipv6_report_text(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "2001:db8:1::ff:fe00:2/64"));
    assert_non_null(strstr(sink.text, "deprecated"));
    assert_non_null(strstr(sink.text, "(incomplete)"));
    assert_non_null(strstr(sink.text, "02:00:00:00:00:01"));
    assert_non_null(strstr(sink.text, "yes\n"));
    assert_non_null(strstr(sink.text, "no\n"));
    assert_non_null(strstr(sink.text, "dns 2001:db8:1::53\ndns 2001:db8:1::54\n"));
    assert_null(strstr(sink.text, "(no neighbors)"));
    tern_test_sink_reset(&sink);
    tern_ipv6_report_json(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "},{\"addr\":\"2001:db8:1::ff:fe00:2\""));
    assert_non_null(strstr(sink.text, "\"incomplete\":1"));
    assert_non_null(strstr(sink.text, "\"dns\":[\"2001:db8:1::53\",\"2001:db8:1::54\"]"));
    v6_poll(f, 4000); /* the incomplete entry gives up */
    mem_assert_baseline(&f->stack, &f->base);
}

/* An option type in the last byte of its header, with no room for its
 * length: dropped as a bad option length (RFC 8200 4.2). */
static void test_option_cut_off(void **state)
{
    net_fixture_t *f = *state;
    uint8_t p[128], fr[FRAME_MAX];
    peer_known(f);
    memset(p, 0, sizeof p);
    p[0] = 58;               /* destination options, then ICMPv6 */
    p[2] = IPV6_OPT_PADN;    /* PadN of 3 bytes */
    p[3] = 3;
    p[7] = 0x1E;             /* an option type, cut off */
    size_t ml = msg_echo(p + 8, 1, 1, 8);
    size_t n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 8 + ml, 8);
    fx_expect_drop(f, fr, n, &C(f)->ipv6_drop_option_len);
    /* Pad1 options walk to the end of the header: delivered. */
    memset(p + 2, IPV6_OPT_PAD1, 6);
    n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 8 + ml, 8);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 1);
}

/* IPv6 on an interface where it is not enabled, and after the interface
 * disabled it: dropped and counted. */
static void test_input_disabled(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8));
    IFS(f)->disabled = 1;
    fx_expect_drop(f, fr, n, &C(f)->ipv6_drop_disabled);
    IFS(f)->disabled = 0;
    net_fixture_t *g = net_fixture_new(72); /* IPv6 never enabled */
    memset(&g->stack.counters, 0, sizeof g->stack.counters);
    fx_expect_drop(g, fr, n, &g->stack.counters.ipv6_drop_disabled);
    net_fixture_free(g);
}

/* Smaller checks: a netif that is not the stack's, no netif, a source of
 * ::1, a site-scope group routed like a global destination, an address
 * too long for the report's column. */
static void test_small_checks(void **state)
{
    net_fixture_t *f = *state;
    static tern_netif_t loose;
    memset(&loose, 0, sizeof loose);
    loose.link = TERN_LINK_ETHERNET;
    assert_int_equal(tern_ipv6_enable(&f->stack, &loose, NULL), TERN_ERR_INVAL); /* not added */
    assert_int_equal(tern_ipv6_add_addr(&f->stack, NULL, &STATIC2, 64), TERN_ERR_INVAL);
    uint8_t m[64], fr[FRAME_MAX];
    static const tern_ip6_t LOOP = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    fx_expect_drop(f, fr, v6_icmp_from(fr, &LOOP, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8)), &C(f)->ipv6_drop_bad_src);
    /* ff05::2: not link scope, so a global source when there is one. */
    static const tern_ip6_t SITE = {{0xFF, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
    static const tern_ip6_t LONG = {{0x20, 0x01, 0x0D, 0xB8, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55,
                                     0x55, 0x66, 0x66}};
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &LONG, 128), TERN_OK);
    v6_poll(f, 2500);
    tern_ip6_t src;
    assert_true(ipv6_route(&f->stack, &ANY6, &SITE, &src) == IFS(f));
    assert_memory_equal(src.b, LONG.b, 16);
    assert_true(ipv6_route(&f->stack, &ANY6, &ALL_NODES, &src) == IFS(f));
    assert_memory_equal(src.b, OUR_LL.b, 16);
    /* fec0::1 (the old site-local prefix) is not link-local: global source. */
    static const tern_ip6_t FEC0 = {{0xFE, 0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    assert_true(ipv6_route(&f->stack, &ANY6, &FEC0, &src) == IFS(f));
    assert_memory_equal(src.b, LONG.b, 16);
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    tern_ipv6_report_text(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "2001:db8:1111:2222:3333:4444:5555:6666/128 preferred"));
    /* A port without a log hook: the warning about another node claiming
     * our address goes nowhere, quietly. */
    unsigned logs = f->tp.logs;
    f->tp.port.log = NULL;
    uint8_t na[32];
    memset(na, 0, sizeof na);
    na[0] = 136;
    na[4] = 0x20;
    memcpy(na + 8, OUR_LL.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, na, 24));
    assert_int_equal(C(f)->nd_na_rx, 1);
    assert_int_equal(f->tp.logs, logs);
    mem_assert_baseline(&f->stack, &f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_onlink_prefix_bits, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_source_longest_match_and_static_onlink, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_ra_mtu_and_msgsize, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_route_refusals, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_api_arguments, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_reports_full, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_option_cut_off, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_input_disabled, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_small_checks, v6_setup, v6_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* TERN_TEST_IPV6_VARIANT */
