/* Neighbor Discovery, SLAAC and MLD on the paths test_ipv6.c does not take
 * (issue 17, coverage; the dual-stack variant only: TERN_TEST_IPV6_VARIANT):
 * a full neighbor cache (eviction, then nothing to evict), every branch of
 * NA processing (RFC 4861 7.2.5) with a router losing its flag, MLDv2
 * queries (RFC 3810 5.1.14, 6.2), the prefix option's lifetime rules (RFC
 * 4862 5.5.3), RDNSS removal and expiry, router expiry, and network buffers
 * running out under every ND message we build. */
#include "v6_frames.h"
#include "tern/udp.h"

/* fe80::1:k, a link-local host per k. */
static tern_ip6_t host_ll(unsigned k)
{
    tern_ip6_t a = PEER_LL;
    a.b[13] = 1;
    a.b[14] = (uint8_t)(k >> 8);
    a.b[15] = (uint8_t)k;
    return a;
}

static void host_mac(unsigned k, uint8_t mac[6])
{
    memcpy(mac, FR_OTHER_MAC, 6);
    mac[4] = 0x10;
    mac[5] = (uint8_t)k;
}

static unsigned cache_used(net_fixture_t *f, int state)
{
    unsigned n = 0;
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++)
        n += state < 0 ? f->stack.ipv6.nbr[i].state != TERN_ND_FREE : f->stack.ipv6.nbr[i].state == state;
    return n;
}

/* Host k's solicitation (with its SLLA) for our link-local address. */
static void host_solicits(net_fixture_t *f, unsigned k)
{
    uint8_t m[64], fr[FRAME_MAX], mac[6];
    tern_ip6_t sn, src = host_ll(k);
    host_mac(k, mac);
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp_from(fr, &src, &sn, 255, m, msg_ns(m, &OUR_LL, mac)));
}

/* Host k's echo request to us (no link-layer address: we must resolve). */
static void host_pings(net_fixture_t *f, unsigned k)
{
    uint8_t m[64], fr[FRAME_MAX];
    tern_ip6_t src = host_ll(k);
    fx_rx(f, fr, v6_icmp_from(fr, &src, &OUR_LL, 64, m, msg_echo(m, 1, (uint16_t)k, 8)));
}

/* A full cache gives its least recently changed resolved entry to a new
 * neighbor; when every entry is still resolving there is nothing to give:
 * the packet is dropped and counted, and a learnt address is not kept. */
static void test_cache_full(void **state)
{
    net_fixture_t *f = *state;
    for (unsigned k = 0; k < TERN_IPV6_NBR_CACHE_SIZE; k++) {
        host_solicits(f, k);
        f->now += 10; /* each entry a little younger */
        v6_poll(f, 50);
    }
    assert_int_equal(cache_used(f, -1), TERN_IPV6_NBR_CACHE_SIZE);
    tern_ip6_t h0 = host_ll(0), h1 = host_ll(1), h99 = host_ll(99);
    assert_non_null(nbr_entry(f, &h0));
    host_solicits(f, 99);
    assert_non_null(nbr_entry(f, &h99));
    assert_null(nbr_entry(f, &h0)); /* the oldest went */
    assert_non_null(nbr_entry(f, &h1));
    assert_int_equal(C(f)->nd_na_tx, TERN_IPV6_NBR_CACHE_SIZE + 1);
    /* Every slot resolving: pings from new hosts take them all, then one
     * more finds no room. */
    for (unsigned k = 0; k < TERN_IPV6_NBR_CACHE_SIZE; k++)
        host_pings(f, 100 + k);
    assert_int_equal(cache_used(f, TERN_ND_INCOMPLETE), TERN_IPV6_NBR_CACHE_SIZE);
    assert_int_equal(C(f)->nd_cache_full, 0);
    host_pings(f, 200);
    assert_int_equal(C(f)->nd_cache_full, 1);
    assert_int_equal(C(f)->icmp6_tx_err, 1);
    /* A solicitation now: its SLLA finds no slot, and the answer no route. */
    uint32_t na = C(f)->nd_na_tx;
    host_solicits(f, 201);
    tern_ip6_t h201 = host_ll(201);
    assert_null(nbr_entry(f, &h201));
    assert_int_equal(C(f)->nd_cache_full, 2);
    assert_int_equal(C(f)->nd_na_tx, na);
    v6_poll(f, 4000); /* nobody answers: all given up */
    assert_int_equal(cache_used(f, -1), 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* RFC 4861 7.2.5 on an entry in each state, and RFC 4862 5.4.4's "someone
 * else advertises our address". */
static void test_na_processing(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    /* For our preferred address: logged, nothing changes. */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &OUR_LL, 0x20, FR_PEER_MAC)));
    assert_int_equal(C(f)->nd_na_rx, 1);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    assert_int_equal(C(f)->nd_dad_conflicts, 0);
    /* INCOMPLETE and an NA without a target address: still INCOMPLETE. */
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_INCOMPLETE);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0x60, NULL)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_INCOMPLETE);
    assert_int_equal(nbr_entry(f, &PEER_LL)->queued, 1);
    /* Resolved, as a router (R, S). */
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0xC0, FR_PEER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_REACHABLE);
    assert_int_equal(nbr_entry(f, &PEER_LL)->is_router, 1);
    assert_int_equal(f->cn.count, 1); /* the queued reply */
    /* Solicited, override, another address: taken, REACHABLE. */
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0xE0, FR_OTHER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_REACHABLE);
    assert_memory_equal(nbr_entry(f, &PEER_LL)->mac, FR_OTHER_MAC, 6);
    /* Unsolicited, override, another address: taken, STALE. */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_LL, 0xA0, FR_PEER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_STALE);
    assert_memory_equal(nbr_entry(f, &PEER_LL)->mac, FR_PEER_MAC, 6);
    /* An NS from it with another SLLA: STALE at the new address (7.2.3). */
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp(fr, &sn, 255, m, msg_ns(m, &OUR_LL, FR_OTHER_MAC)));
    assert_memory_equal(nbr_entry(f, &PEER_LL)->mac, FR_OTHER_MAC, 6);
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_DELAY); /* our NA went through it */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_LL, 0xA0, FR_PEER_MAC)));
    /* The peer is our default router (an RA), then says it is no router
     * (RFC 4861 7.2.5: remove it from the default router list). */
    uint8_t ra[64];
    size_t n = msg_ra_head(ra, 64, 1800, 0, 0);
    rx_ra(f, ra, n);
    assert_non_null(nd_default_router(&f->stack, IFS(f)));
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_LL, 0x20, FR_PEER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->is_router, 0);
    assert_null(nd_default_router(&f->stack, IFS(f)));
    mem_assert_baseline(&f->stack, &f->base);
}

/* Two routers: the first is resolving, the second known; the known one is
 * the default (RFC 4861 6.3.6). Both expire with their lifetimes. */
static void test_default_router_choice_and_expiry(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    tern_ip6_t r1 = host_ll(1), r2 = host_ll(2);
    /* r1: an RA without SLLA, then an echo from it puts it INCOMPLETE. */
    size_t n = msg_ra_head(m, 64, 30, 0, 0);
    fx_rx(f, fr, v6_icmp_from(fr, &r1, &ALL_NODES, 255, m, n));
    assert_true(ip6_equal(nd_default_router(&f->stack, IFS(f)), &r1)); /* the only one */
    host_pings(f, 1);
    assert_int_equal(nbr_entry(f, &r1)->state, TERN_ND_INCOMPLETE);
    assert_true(ip6_equal(nd_default_router(&f->stack, IFS(f)), &r1));
    /* r2: an RA with SLLA (STALE, a router): it is preferred. */
    uint8_t mac[6];
    host_mac(2, mac);
    n = msg_ra_head(m, 64, 60, 0, 0);
    n = opt_slla(m, n, mac);
    fx_rx(f, fr, v6_icmp_from(fr, &r2, &ALL_NODES, 255, m, n));
    assert_true(ip6_equal(nd_default_router(&f->stack, IFS(f)), &r2));
    /* Off-link traffic goes to r2's MAC. */
    static tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, NULL, NULL);
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, 8, 0);
    memset(nb->data, 0, 8);
    tern_sockaddr_t to = {.family = TERN_FAMILY_IP6, .addr6 = REMOTE, .port = 9};
    capnet_clear(&f->cn);
    assert_int_equal(tern_udp_sendto(&f->stack, &pcb, nb, &to), TERN_OK);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, f->cn.count - 1, &len);
    assert_memory_equal(got, mac, 6);
    tern_udp_unbind(&f->stack, &pcb);
    /* The lifetimes run out: 30 s, then 60 s. */
    v6_poll(f, 31000);
    assert_true(ip6_equal(nd_default_router(&f->stack, IFS(f)), &r2));
    v6_poll(f, 30000);
    assert_null(nd_default_router(&f->stack, IFS(f)));
    mem_assert_baseline(&f->stack, &f->base);
}

/* MLDv2 queries: too short, from a global source, then valid ones, answered
 * within the maximum response delay with IS_EXCLUDE records (RFC 3810 6.2). */
static void test_mld_query(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    memset(m, 0, sizeof m);
    m[0] = 130;
    be16_put(m + 4, 1000); /* maximum response code: 1000 ms */
    fx_expect_drop(f, fr, v6_icmp(fr, &ALL_NODES, 1, m, 20), &C(f)->icmp6_drop_truncated);
    fx_expect_drop(f, fr, v6_icmp_from(fr, &PEER_GLOBAL, &ALL_NODES, 1, m, 28), &C(f)->nd_drop_invalid);
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 1, m, 28));
    assert_int_equal(C(f)->nd_mld_query_rx, 1);
    assert_int_equal(f->cn.count, 0);
    v6_poll(f, 1100);
    assert_int_equal(cap_count_type(f, 143), 1);
    assert_int_equal(C(f)->nd_mld_tx, 1);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(got[14 + 48 + 8], 2); /* MODE_IS_EXCLUDE, not CHANGE_TO_EXCLUDE */
    /* A code of 32768 and up is a mantissa and exponent: the delay is at
     * least 32.768 s; we answer within that bound. */
    be16_put(m + 4, 0xFFFF);
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 1, m, 28));
    v6_poll(f, 33000);
    assert_int_equal(cap_count_type(f, 143), 1);
    assert_int_equal(C(f)->nd_mld_query_rx, 2);
    /* A code of 0: at once. With a second solicited-node group (an
     * address whose low 24 bits differ), two records. */
    static const tern_ip6_t A5 = {{0x20, 0x01, 0x0D, 0xB8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}};
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &A5, 64), TERN_OK);
    v6_poll(f, 3000);
    be16_put(m + 4, 0);
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 1, m, 28));
    v6_poll(f, 50);
    assert_int_equal(cap_count_type(f, 143), 1);
    got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(be16_get(got + 14 + 48 + 6), 2); /* records */
    assert_int_equal(len, 14 + 48 + 8 + 2 * 20);
}

/* The NS checks that need our own addresses: a target sharing our
 * solicited-node group but not ours; an SLLA behind another option. */
static void test_ns_target_and_options(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    tern_ip6_t sn, target = OUR_LL;
    target.b[9] = 0xAB; /* fe80::ab00:ff:fe00:2: the same low 24 bits */
    ip6_solicited_node(&OUR_LL, &sn);
    fx_expect_drop(f, fr, v6_icmp(fr, &sn, 255, m, msg_ns(m, &target, FR_PEER_MAC)), &C(f)->nd_drop_invalid);
    /* A nonce option (RFC 3971 5.3.2) first, then the SLLA: learnt. */
    size_t n = msg_ns(m, &OUR_LL, NULL);
    m[n] = 14;
    m[n + 1] = 1;
    memset(m + n + 2, 0x5A, 6);
    n = opt_slla(m, n + 8, FR_PEER_MAC);
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &sn, 255, m, n));
    assert_int_equal(C(f)->nd_na_tx, 1);
    assert_non_null(nbr_entry(f, &PEER_LL));
    assert_memory_equal(nbr_entry(f, &PEER_LL)->mac, FR_PEER_MAC, 6);
    /* The same NS for a duplicate address of ours: not answered. */
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &PEER_GLOBAL, 64), TERN_OK);
    ipv6_addr_find(IFS(f), &PEER_GLOBAL)->state = TERN_IP6_ADDR_DUPLICATE;
    ip6_solicited_node(&PEER_GLOBAL, &sn);
    (void)sn;
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_ns(m, &PEER_GLOBAL, FR_PEER_MAC)));
    assert_int_equal(C(f)->nd_na_tx, 1);
    /* An RA whose SLLA has the wrong length. */
    n = msg_ra_head(m, 64, 1800, 0, 0);
    n = opt_slla(m, n, FR_PEER_MAC);
    m[n - 7] = 2;
    memset(m + n, 0, 8);
    uint32_t inval = C(f)->nd_drop_invalid;
    rx_ra(f, m, n + 8);
    assert_int_equal(C(f)->nd_drop_invalid, inval + 1);
    assert_int_equal(C(f)->nd_ra_rx, 0);
    /* One byte after the fixed part: not even an option header (RFC 4861
     * 4.6), the message is dropped. */
    n = msg_ns(m, &OUR_LL, NULL);
    m[n] = 1;
    fx_expect_drop(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, n + 1), &C(f)->nd_drop_opt_len);
}

static uint32_t valid_s(net_fixture_t *f, const tern_ip6_t *a)
{
    tern_ip6_addr_info_t ai;
    for (unsigned k = 0; tern_ipv6_addr_info(&f->stack, k, &ai) == TERN_OK; k++) {
        if (ip6_equal(&ai.addr, a))
            return ai.valid_s;
    }
    fail_msg("address not found");
    return 0;
}

static void ra_prefix(net_fixture_t *f, const tern_ip6_t *prefix, uint8_t plen, uint8_t flags, uint32_t valid,
                      uint32_t preferred)
{
    uint8_t m[128];
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_prefix(m, n, prefix, plen, flags, valid, preferred);
    rx_ra(f, m, n);
}

/* RFC 4862 5.5.3: which prefixes are taken, and how a later RA changes the
 * lifetimes of the address (the two-hour rule in (e)). */
static void test_prefix_lifetimes(void **state)
{
    net_fixture_t *f = *state;
    static const tern_ip6_t LL_PREFIX = {{0xFE, 0x80}};
    /* Refused: longer than 128 bits, link-local, multicast; and a prefix
     * option of the wrong length. */
    ra_prefix(f, &PREFIX, 129, 0xC0, 3600, 1800);
    ra_prefix(f, &LL_PREFIX, 64, 0xC0, 3600, 1800);
    ra_prefix(f, &ALL_NODES, 64, 0xC0, 3600, 1800);
    assert_int_equal(C(f)->nd_prefix_ignored, 3);
    uint8_t m[128];
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_prefix(m, n, &PREFIX, 64, 0xC0, 3600, 1800);
    m[n - 31] = 5; /* 40 bytes */
    memset(m + n, 0, 8);
    rx_ra(f, m, n + 8);
    assert_int_equal(C(f)->nd_prefix_ignored, 4);
    assert_null(ipv6_addr_find(IFS(f), &OUR_GLOBAL));
    /* On-link only, then withdrawn with a valid lifetime of 0. */
    ra_prefix(f, &PREFIX, 64, 0x80, 3600, 1800);
    assert_true(nd_is_onlink(&f->stack, IFS(f), &PEER_GLOBAL));
    ra_prefix(f, &PREFIX, 64, 0x80, 0, 0);
    assert_false(nd_is_onlink(&f->stack, IFS(f), &PEER_GLOBAL));
    /* Autonomous with a valid lifetime of 0 and no address: nothing. */
    ra_prefix(f, &PREFIX, 64, 0x40, 0, 0);
    assert_null(ipv6_addr_find(IFS(f), &OUR_GLOBAL));
    /* Three hours; a lifetime beyond what a uint32 of ms holds is clamped. */
    ra_prefix(f, &PREFIX, 64, 0x40, 10800, 10800);
    v6_poll(f, 2500);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_GLOBAL));
    assert_true(valid_s(f, &OUR_GLOBAL) > 10700);
    /* 60 s now: three hours remain, so only cut to two hours. */
    ra_prefix(f, &PREFIX, 64, 0x40, 60, 60);
    assert_true(valid_s(f, &OUR_GLOBAL) <= 7200 && valid_s(f, &OUR_GLOBAL) > 7190);
    /* Again: two hours remain, nothing shorter is taken. */
    v6_poll(f, 1000);
    uint32_t before = valid_s(f, &OUR_GLOBAL);
    ra_prefix(f, &PREFIX, 64, 0x40, 60, 60);
    assert_int_equal(valid_s(f, &OUR_GLOBAL), before);
    /* Longer than two hours: taken as it is. */
    ra_prefix(f, &PREFIX, 64, 0x40, 9000, 100);
    assert_true(valid_s(f, &OUR_GLOBAL) > 8990 && valid_s(f, &OUR_GLOBAL) <= 9000);
    /* Deprecated once preferred runs out; a new preferred lifetime
     * brings it back. */
    v6_poll(f, 101000);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_DEPRECATED);
    ra_prefix(f, &PREFIX, 64, 0x40, 9000, 600);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_PREFERRED);
    /* Infinite. */
    ra_prefix(f, &PREFIX, 64, 0x40, 0xFFFFFFFFu, 0xFFFFFFFFu);
    assert_int_equal(valid_s(f, &OUR_GLOBAL), UINT32_MAX);
    /* A huge finite lifetime is clamped to TERN_IP6_LIFETIME_MAX_MS. */
    static const tern_ip6_t P2 = {{0x20, 0x01, 0x0D, 0xB8, 0, 7}};
    ra_prefix(f, &P2, 64, 0x80, 0xFFFFFFFEu, 0);
    tern_ipv6_if_t *ifs = IFS(f);
    unsigned found = 0;
    for (unsigned i = 0; i < TERN_IPV6_PREFIXES; i++) {
        if (ifs->prefixes[i].used && ip6_prefix_match(&ifs->prefixes[i].prefix, &P2, 64)) {
            found++;
            assert_int_equal(ifs->prefixes[i].expires - f->stack.now, TERN_IP6_LIFETIME_MAX_MS);
        }
    }
    assert_int_equal(found, 1);
}

/* A static address where SLAAC would form one (not touched by RAs); no room
 * for a SLAAC address once TERN_IPV6_ADDR_MAX are held. */
static void test_prefix_static_and_full(void **state)
{
    net_fixture_t *f = *state;
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &OUR_GLOBAL, 64), TERN_OK);
    v6_poll(f, 2500);
    ra_prefix(f, &PREFIX, 64, 0x40, 600, 300);
    tern_ip6_addr_t *a = ipv6_addr_find(IFS(f), &OUR_GLOBAL);
    assert_int_equal(a->origin, TERN_IP6_ORIGIN_STATIC);
    assert_int_equal(a->infinite, 1);
    tern_ip6_t s = PEER_GLOBAL;
    for (unsigned k = 2; k < TERN_IPV6_ADDR_MAX; k++) {
        s.b[5] = (uint8_t)(0x10 + k);
        assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &s, 64), TERN_OK);
    }
    uint32_t ignored = C(f)->nd_prefix_ignored;
    static const tern_ip6_t P3 = {{0x20, 0x01, 0x0D, 0xB8, 0, 3}};
    ra_prefix(f, &P3, 64, 0x40, 600, 300);
    assert_int_equal(C(f)->nd_prefix_ignored, ignored + 1);
}

/* RDNSS: a lifetime of 0 removes a server (RFC 8106 5.1); a third server
 * finds no slot; a finite lifetime expires. */
static void test_rdnss_remove_full_expire(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128];
    tern_ip6_t s[3];
    for (unsigned k = 0; k < 3; k++) {
        s[k] = PEER_GLOBAL;
        s[k].b[15] = (uint8_t)(0x50 + k);
    }
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_rdnss(m, n, s, 3, 100);
    rx_ra(f, m, n);
    tern_ip6_t d;
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 0, &d), TERN_OK);
    assert_true(ip6_equal(&d, &s[0]));
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 1, &d), TERN_OK);
    assert_true(ip6_equal(&d, &s[1]));
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 2, &d), TERN_ERR_INVAL); /* TERN_IPV6_DNS_MAX */
    /* Remove the first (and the unknown third: nothing). */
    tern_ip6_t rm[2] = {s[0], s[2]};
    n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_rdnss(m, n, rm, 2, 0);
    rx_ra(f, m, n);
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 0, &d), TERN_OK);
    assert_true(ip6_equal(&d, &s[1]));
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 1, &d), TERN_ERR_INVAL);
    v6_poll(f, 101000);
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 0, &d), TERN_ERR_INVAL);
}

/* An RA's reachable time and retransmission timer: taken within bounds. */
static void test_ra_timers(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64];
    uint32_t reach = IFS(f)->reachable_ms;
    rx_ra(f, m, msg_ra_head(m, 0, 0, 3600001u, 60000u)); /* reachable too long: kept */
    assert_int_equal(IFS(f)->reachable_ms, reach);
    assert_int_equal(IFS(f)->retrans_ms, 10000); /* clamped */
    assert_int_equal(IFS(f)->hop_limit, TERN_IP_DEFAULT_TTL); /* 0: unspecified */
    rx_ra(f, m, msg_ra_head(m, 32, 0, 20000u, 500u));
    assert_true(IFS(f)->reachable_ms >= 10000 && IFS(f)->reachable_ms < 30000);
    assert_int_equal(IFS(f)->retrans_ms, 500);
    assert_int_equal(IFS(f)->hop_limit, 32);
}

/* Hold every free network buffer but keep: returns how many were taken. */
static unsigned hold_buffers(net_fixture_t *f, tern_netbuf_t **held, unsigned keep)
{
    unsigned n = 0;
    while (tern_netbuf_free_count(&f->stack.netbufs) > keep) {
        held[n] = tern_netbuf_get(&f->stack.netbufs, 64, 0);
        assert_non_null(held[n]);
        n++;
    }
    return n;
}

static void release_buffers(net_fixture_t *f, tern_netbuf_t **held, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tern_netbuf_release(&f->stack.netbufs, held[i]);
}

/* No network buffer for an NS, an NA, an MLD report or an RS: nothing is
 * sent, nothing leaks, the protocol carries on once buffers are back. */
static void test_no_buffers(void **state)
{
    net_fixture_t *f = *state;
    static tern_netbuf_t *held[TERN_NETBUF_COUNT];
    uint8_t m[64], fr[FRAME_MAX];
    /* A neighbor resolving: its retransmissions find no buffer. */
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8)));
    assert_int_equal(C(f)->nd_ns_tx, 1);
    unsigned n = hold_buffers(f, held, 0);
    capnet_clear(&f->cn);
    v6_poll(f, 1000);
    assert_int_equal(f->cn.count, 0);
    assert_int_equal(C(f)->nd_ns_tx, 1);
    assert_int_equal(nbr_entry(f, &PEER_LL)->probes, 2); /* counted as sent: it gives up in time */
    /* One buffer left: the solicitation takes it, the answer finds none. */
    release_buffers(f, held, 1);
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp_from(fr, &OTHER_LL, &sn, 255, m, msg_ns(m, &OUR_LL, FR_OTHER_MAC)));
    assert_int_equal(C(f)->nd_ns_rx, 1);
    assert_int_equal(C(f)->nd_na_tx, 0);
    assert_int_equal(f->cn.count, 0);
    held[0] = tern_netbuf_get(&f->stack.netbufs, 64, 0); /* the one the solicitation gave back */
    assert_non_null(held[0]);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), 0);
    /* An MLD report due (a query) and a router solicitation due (link
     * down and up): no buffer for either. */
    IFS(f)->rs_left = 1;
    IFS(f)->rs_deadline = f->stack.now;
    IFS(f)->mld_left = 1;
    IFS(f)->mld_deadline = f->stack.now;
    v6_poll(f, 100);
    assert_int_equal(C(f)->nd_mld_tx, 0);
    assert_int_equal(C(f)->nd_rs_tx, 0);
    assert_int_equal(f->cn.count, 0);
    release_buffers(f, held, n);
    v6_poll(f, 4000);
    assert_null(nbr_entry(f, &PEER_LL)); /* gave up */
    mem_assert_baseline(&f->stack, &f->base);
}

/* A probe due while our link-local address is tentative again: there is no
 * source for it, so nothing goes out (RFC 4861 7.2.2 needs one). */
static void test_probe_without_source(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8)));
    tern_ip6_addr_t *ll = ipv6_addr_find(IFS(f), &OUR_LL);
    ll->state = TERN_IP6_ADDR_TENTATIVE;
    ll->dad_deadline = f->stack.now + 100000u;
    capnet_clear(&f->cn);
    v6_poll(f, 1000);
    assert_int_equal(cap_count_type(f, 135), 0);
    assert_int_equal(C(f)->nd_ns_tx, 1);
    ll->state = TERN_IP6_ADDR_PREFERRED;
    v6_poll(f, 3000);
    assert_null(nbr_entry(f, &PEER_LL));
    mem_assert_baseline(&f->stack, &f->base);
}

/* The rarer branches of NS/NA processing. */
static void test_ns_na_odds(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    /* A resolution (not DAD) for a tentative address of ours: ignored
     * (RFC 4862 5.4.3), the address stays tentative. */
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &PEER_GLOBAL, 64), TERN_OK);
    tern_ip6_t sn;
    ip6_solicited_node(&PEER_GLOBAL, &sn);
    fx_rx(f, fr, v6_icmp(fr, &sn, 255, m, msg_ns(m, &PEER_GLOBAL, FR_PEER_MAC)));
    assert_int_equal(ipv6_addr_find(IFS(f), &PEER_GLOBAL)->state, TERN_IP6_ADDR_TENTATIVE);
    assert_int_equal(C(f)->nd_na_tx, 0);
    /* A unicast NS without SLLA: answered through the cache (resolved). */
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_ns(m, &OUR_LL, NULL)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_INCOMPLETE);
    /* INCOMPLETE, then an unsolicited NA with its address: STALE. */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_LL, 0x20, FR_PEER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_STALE);
    assert_int_equal(C(f)->nd_na_tx, 1); /* the queued answer went */
    /* STALE, no override, another address: kept, still STALE. */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_LL, 0x00, FR_OTHER_MAC)));
    assert_int_equal(nbr_entry(f, &PEER_LL)->state, TERN_ND_STALE);
    assert_memory_equal(nbr_entry(f, &PEER_LL)->mac, FR_PEER_MAC, 6);
    /* NA with a group as target; NA for a duplicate address of ours. */
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &ALL_NODES, 0x20, FR_PEER_MAC)),
                   &C(f)->nd_drop_invalid);
    ipv6_addr_find(IFS(f), &PEER_GLOBAL)->state = TERN_IP6_ADDR_DUPLICATE;
    uint32_t conflicts = C(f)->nd_dad_conflicts;
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &PEER_GLOBAL, 0x20, FR_PEER_MAC)));
    assert_int_equal(C(f)->nd_dad_conflicts, conflicts);
    mem_assert_baseline(&f->stack, &f->base);
}

/* The driver refusing every frame: NS, NA, RS and MLD reports are not
 * counted as sent. */
static void test_driver_refuses(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[64], fr[FRAME_MAX];
    f->cn.output_result = TERN_ERR_NOBUFS;
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8))); /* NS for the peer */
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp_from(fr, &OTHER_LL, &sn, 255, m, msg_ns(m, &OUR_LL, FR_OTHER_MAC))); /* NA */
    IFS(f)->rs_left = 1;
    IFS(f)->rs_deadline = f->stack.now;
    IFS(f)->mld_left = 1;
    IFS(f)->mld_deadline = f->stack.now;
    v6_poll(f, 100);
    assert_int_equal(C(f)->nd_ns_tx, 0);
    assert_int_equal(C(f)->nd_na_tx, 0);
    assert_int_equal(C(f)->nd_rs_tx, 0);
    assert_int_equal(C(f)->nd_mld_tx, 0);
    f->cn.output_result = TERN_OK;
    v6_poll(f, 4000);
    capnet_tx_complete(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Lists that fill up (TERN_IPV6_ROUTERS routers, TERN_IPV6_PREFIXES
 * prefixes), infinite lifetimes that never expire, short RDNSS options,
 * routers that are not resolved, and nothing done while the link is down. */
static void test_lists_and_infinite(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    /* TERN_IPV6_ROUTERS + 1 routers, none resolved: the first stays the
     * default, the last is not kept. */
    for (unsigned k = 0; k <= TERN_IPV6_ROUTERS; k++) {
        tern_ip6_t r = host_ll(k);
        size_t n = msg_ra_head(m, 64, 600, 0, 0);
        fx_rx(f, fr, v6_icmp_from(fr, &r, &ALL_NODES, 255, m, n));
    }
    tern_ip6_t r0 = host_ll(0), rlast = host_ll(TERN_IPV6_ROUTERS);
    assert_true(ip6_equal(nd_default_router(&f->stack, IFS(f)), &r0));
    unsigned kept = 0;
    for (unsigned i = 0; i < TERN_IPV6_ROUTERS; i++)
        kept += IFS(f)->routers[i].used && ip6_equal(&IFS(f)->routers[i].addr, &rlast);
    assert_int_equal(kept, 0);
    /* TERN_IPV6_PREFIXES + 1 on-link prefixes, infinite: the last is not
     * kept; the same prefix with another length is another prefix. */
    for (unsigned k = 0; k <= TERN_IPV6_PREFIXES; k++) {
        tern_ip6_t p = PREFIX;
        p.b[5] = (uint8_t)(0x20 + k);
        size_t n = msg_ra_head(m, 64, 0, 0, 0);
        n = opt_prefix(m, n, &p, k == 1 ? 48 : 64, 0x80, 0xFFFFFFFFu, 0xFFFFFFFFu);
        rx_ra(f, m, n);
    }
    tern_ip6_t last = PEER_GLOBAL;
    last.b[5] = (uint8_t)(0x20 + TERN_IPV6_PREFIXES);
    assert_false(nd_is_onlink(&f->stack, IFS(f), &last));
    tern_ip6_t first = PEER_GLOBAL;
    first.b[5] = 0x20;
    assert_true(nd_is_onlink(&f->stack, IFS(f), &first));
    /* RDNSS: 8 bytes (too short); an infinite lifetime. */
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    memset(m + n, 0, 8);
    m[n] = 25;
    m[n + 1] = 1;
    uint32_t inval = C(f)->nd_drop_invalid;
    rx_ra(f, m, n + 8);
    assert_int_equal(C(f)->nd_drop_invalid, inval + 1);
    n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_rdnss(m, n, &PEER_GLOBAL, 1, 0xFFFFFFFFu);
    rx_ra(f, m, n);
    /* Link down: nothing runs (no router expiry) until it is back. */
    tern_netif_set_link(&f->cn.nif, 0);
    v6_poll(f, 700000);
    assert_non_null(nd_default_router(&f->stack, IFS(f)));
    tern_netif_set_link(&f->cn.nif, 1);
    /* An RA before DAD is over: no solicitations wanted once ready. */
    rx_ra(f, m, msg_ra_head(m, 64, 0, 0, 0));
    assert_int_equal(IFS(f)->rs_left, 0);
    capnet_clear(&f->cn);
    v6_poll(f, 3000);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    assert_int_equal(cap_count_type(f, 133), 0);
    /* Infinite prefixes and DNS servers outlive everything else. */
    v6_poll(f, 1000);
    assert_null(nd_default_router(&f->stack, IFS(f)));
    assert_true(nd_is_onlink(&f->stack, IFS(f), &first));
    tern_ip6_t d;
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 0, &d), TERN_OK);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A SLAAC address whose preferred lifetime is 0 is deprecated as soon as
 * DAD is over, and an RA with preferred 0 leaves it so (RFC 4862 5.5.3). */
static void test_slaac_born_deprecated(void **state)
{
    net_fixture_t *f = *state;
    ra_prefix(f, &PREFIX, 64, 0x40, 600, 0);
    v6_poll(f, 2500);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_DEPRECATED);
    ra_prefix(f, &PREFIX, 64, 0x40, 600, 0);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_DEPRECATED);
    /* Deprecated addresses are used when nothing better exists. */
    tern_ip6_t src;
    assert_true(ipv6_route(&f->stack, &ANY6, &REMOTE, &src) == IFS(f));
    assert_memory_equal(src.b, OUR_GLOBAL.b, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_full, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_na_processing, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_default_router_choice_and_expiry, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_mld_query, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_ns_target_and_options, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_lifetimes, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_static_and_full, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_rdnss_remove_full_expire, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_ra_timers, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_no_buffers, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_probe_without_source, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_ns_na_odds, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_driver_refuses, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_infinite, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_slaac_born_deprecated, v6_setup, v6_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* TERN_TEST_IPV6_VARIANT */
