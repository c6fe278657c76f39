/* IPv6, ICMPv6 and Neighbor Discovery on hand-built frames (the dual-stack
 * variant only: TERN_TEST_IPV6_VARIANT): the link-local address and DAD,
 * echo, every ND message with a bad hop limit / code / length / option
 * length, extension header chains (long, each option action, routing type
 * 0, fragments), ICMPv6 errors never about errors or to groups, the rate
 * limit, DAD conflicts, SLAAC with lifetimes expiring, RDNSS, and the
 * neighbor cache's state transitions. Checksums of the frames we build come
 * from the textbook routine in frames.c, not from the stack. */
#include <string.h>
#include "frames.h"
#include "net/ipv6_internal.h"
#include "tern/plan.h"
#include "tern/err.h"

#if !TERN_IPV6
#error "test_ipv6 runs on the dual-stack variant (TERN_TEST_IPV6_VARIANT, tests/CMakeLists.txt)"
#endif

/* fe80::ff:fe00:2, the EUI-64 link-local of FR_OUR_MAC (02:00:00:00:00:02). */
static const tern_ip6_t OUR_LL = {{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0, 0, 2}};
static const tern_ip6_t PEER_LL = {{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const tern_ip6_t ALL_NODES = {{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const tern_ip6_t ANY6 = {{0}};
/* 2001:db8:1::/64 and our SLAAC address in it. */
static const tern_ip6_t PREFIX = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0}};
static const tern_ip6_t OUR_GLOBAL = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0, 0, 2}};
static const uint8_t OUR_SN_MAC[6] = {0x33, 0x33, 0xFF, 0x00, 0x00, 0x02};

static tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

static void v6_poll(net_fixture_t *f, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 50u) {
        f->now += 50u;
        (void)tern_poll(&f->stack, f->now);
    }
}

static tern_ipv6_if_t *IFS(net_fixture_t *f)
{
    return ipv6_if_of(&f->stack, &f->cn.nif);
}

static unsigned mcast_joins;
static void mcast_hook(tern_netif_t *nif, const uint8_t mac[6], int join)
{
    (void)nif;
    (void)mac;
    if (join)
        mcast_joins++;
}

/* A fixture with IPv6 enabled and its link-local address out of DAD. */
static int setup(void **state)
{
    net_fixture_t *f = net_fixture_new(61);
    mcast_joins = 0;
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, mcast_hook), TERN_OK);
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, NULL), TERN_ERR_INVAL); /* once */
    v6_poll(f, 2500);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    capnet_clear(&f->cn);
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
    mem_snapshot(&f->stack, &f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return net_fixture_teardown(state);
}

/* ---- frame builders ---------------------------------------------------- */

/* Ethernet + IPv6 header + payload; when icmp_off >= 0 the ICMPv6 checksum
 * at payload[icmp_off] is filled (pseudo-header, RFC 8200 8.1). */
static size_t v6_frame(uint8_t *out, const uint8_t dmac[6], const tern_ip6_t *src, const tern_ip6_t *dst,
                       uint8_t next, uint8_t hop, const uint8_t *payload, size_t plen, int icmp_off)
{
    memcpy(out, dmac, 6);
    memcpy(out + 6, FR_PEER_MAC, 6);
    out[12] = 0x86;
    out[13] = 0xDD;
    uint8_t *ip = out + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    be16_put(ip + 4, (uint32_t)plen);
    ip[6] = next;
    ip[7] = hop;
    memcpy(ip + 8, src->b, 16);
    memcpy(ip + 24, dst->b, 16);
    memcpy(ip + 40, payload, plen);
    if (icmp_off >= 0) {
        uint8_t *m = ip + 40 + icmp_off;
        size_t mlen = plen - (size_t)icmp_off;
        static uint8_t buf[FRAME_MAX + 40];
        m[2] = m[3] = 0;
        memcpy(buf, src->b, 16);
        memcpy(buf + 16, dst->b, 16);
        be32_put(buf + 32, (uint32_t)mlen);
        buf[36] = buf[37] = buf[38] = 0;
        buf[39] = 58;
        memcpy(buf + 40, m, mlen);
        be16_put(m + 2, frame_checksum(buf, 40 + mlen));
    }
    return 14 + 40 + plen;
}

/* An ICMPv6 message from the peer's link-local address, hop limit hop. */
static size_t v6_icmp(uint8_t *out, const tern_ip6_t *dst, uint8_t hop, const uint8_t *msg, size_t len)
{
    const uint8_t *dmac = FR_OUR_MAC;
    uint8_t group[6];
    if (dst->b[0] == 0xFF) {
        group[0] = group[1] = 0x33;
        memcpy(group + 2, dst->b + 12, 4);
        dmac = group;
    }
    return v6_frame(out, dmac, &PEER_LL, dst, 58, hop, msg, len, 0);
}

static size_t msg_echo(uint8_t *m, uint16_t id, uint16_t seq, size_t dlen)
{
    memset(m, 0, 8);
    m[0] = 128;
    be16_put(m + 4, id);
    be16_put(m + 6, seq);
    for (size_t i = 0; i < dlen; i++)
        m[8 + i] = (uint8_t)(i * 13 + 5);
    return 8 + dlen;
}

/* NS for target, with our peer's SLLA when slla. */
static size_t msg_ns(uint8_t *m, const tern_ip6_t *target, int slla)
{
    memset(m, 0, 32);
    m[0] = 135;
    memcpy(m + 8, target->b, 16);
    if (!slla)
        return 24;
    m[24] = 1;
    m[25] = 1;
    memcpy(m + 26, FR_PEER_MAC, 6);
    return 32;
}

static size_t msg_na(uint8_t *m, const tern_ip6_t *target, uint8_t flags, const uint8_t *tlla)
{
    memset(m, 0, 32);
    m[0] = 136;
    m[4] = flags;
    memcpy(m + 8, target->b, 16);
    if (tlla == NULL)
        return 24;
    m[24] = 2;
    m[25] = 1;
    memcpy(m + 26, tlla, 6);
    return 32;
}

/* RA: hop limit 64, router lifetime, SLLA, then a prefix option for
 * 2001:db8:1::/64 (flags, lifetimes) and RDNSS 2001:db8:1::53. */
static size_t msg_ra(uint8_t *m, uint16_t router_lifetime, uint8_t pflags, uint32_t valid, uint32_t preferred)
{
    memset(m, 0, 128);
    m[0] = 134;
    m[4] = 64;
    be16_put(m + 6, router_lifetime);
    size_t n = 16;
    m[n] = 1;
    m[n + 1] = 1;
    memcpy(m + n + 2, FR_PEER_MAC, 6);
    n += 8;
    m[n] = 3;
    m[n + 1] = 4;
    m[n + 2] = 64;
    m[n + 3] = pflags;
    be32_put(m + n + 4, valid);
    be32_put(m + n + 8, preferred);
    memcpy(m + n + 16, PREFIX.b, 16);
    n += 32;
    m[n] = 25;
    m[n + 1] = 3;
    be32_put(m + n + 4, 600);
    memcpy(m + n + 8, PREFIX.b, 16);
    m[n + 8 + 15] = 0x53;
    n += 24;
    return n;
}

/* The n-th captured frame as ICMPv6: its type, or -1 when it is not one. */
static int cap_icmp_type(net_fixture_t *f, unsigned i)
{
    size_t len;
    const uint8_t *fr = capnet_frame(&f->cn, i, &len);
    if (len < 14 + 40 + 8 || fr[12] != 0x86 || fr[13] != 0xDD)
        return -1;
    if (fr[14 + 6] == 58)
        return fr[14 + 40];
    if (fr[14 + 6] == 0 && fr[14 + 40] == 58) /* hop-by-hop first (MLD) */
        return fr[14 + 48];
    return -1;
}

/* The checksum of a captured ICMPv6 message (no extension headers) verifies. */
static void assert_cap_checksum(net_fixture_t *f, unsigned i)
{
    size_t len;
    const uint8_t *fr = capnet_frame(&f->cn, i, &len);
    static uint8_t buf[FRAME_MAX + 40];
    size_t mlen = len - 54;
    memcpy(buf, fr + 14 + 8, 32);
    be32_put(buf + 32, (uint32_t)mlen);
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = 58;
    memcpy(buf + 40, fr + 54, mlen);
    assert_int_equal(frame_checksum(buf, 40 + mlen), 0);
}

/* The peer answers our solicitation for its link-local address. */
static void peer_answers(net_fixture_t *f, uint8_t flags)
{
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, flags, FR_PEER_MAC));
    fx_rx(f, fr, n);
}

/* Put the peer in the cache, REACHABLE: its solicitation (with SLLA) for
 * our address, then its answer to our probe. Frames cleared. */
static void peer_known(net_fixture_t *f)
{
    uint8_t m[128], fr[FRAME_MAX];
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp(fr, &sn, 255, m, msg_ns(m, &OUR_LL, 1)));
    peer_answers(f, 0x40);
    capnet_clear(&f->cn);
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
}

static const tern_nd_entry_t *peer_entry(net_fixture_t *f)
{
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        const tern_nd_entry_t *e = &f->stack.ipv6.nbr[i];
        if (e->state != TERN_ND_FREE && memcmp(e->ip.b, PEER_LL.b, 16) == 0)
            return e;
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------- */

static void test_link_local_dad_mld_rs(void **state)
{
    (void)state;
    net_fixture_t *f = net_fixture_new(62);
    mcast_joins = 0;
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, mcast_hook), TERN_OK);
    assert_false(ipv6_is_our_addr(IFS(f), &OUR_LL)); /* tentative */
    v6_poll(f, 2500);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    /* all-nodes and the solicited-node group were given to the driver. */
    assert_int_equal(mcast_joins, 2);
    /* MLDv2 report first (hop-by-hop Router Alert, hop limit 1), then the DAD
     * solicitation from :: to the solicited-node group, no options. */
    int mld = -1, dad = -1, rs = -1;
    for (unsigned i = 0; i < f->cn.count; i++) {
        size_t len;
        const uint8_t *fr = capnet_frame(&f->cn, i, &len);
        int t = cap_icmp_type(f, i);
        if (t == 143 && mld < 0) {
            mld = (int)i;
            assert_int_equal(fr[14 + 7], 1);
            assert_int_equal(fr[14 + 40 + 2], 5); /* Router Alert */
        } else if (t == 135 && dad < 0) {
            dad = (int)i;
            assert_memory_equal(fr, OUR_SN_MAC, 6);
            assert_memory_equal(fr + 14 + 8, ANY6.b, 16);
            assert_int_equal(fr[14 + 7], 255);
            assert_memory_equal(fr + 54 + 8, OUR_LL.b, 16);
            assert_int_equal(len, 54 + 24);
            assert_cap_checksum(f, i);
        } else if (t == 133 && rs < 0) {
            rs = (int)i;
            assert_memory_equal(fr + 14 + 8, OUR_LL.b, 16);
        }
    }
    assert_true(mld >= 0 && dad > mld && rs > dad);
    tern_ip6_addr_info_t a;
    assert_int_equal(tern_ipv6_addr_info(&f->stack, 0, &a), TERN_OK);
    assert_int_equal(a.state, TERN_IP6_ADDR_PREFERRED);
    char s[48];
    tern_ip6_to_str(&a.addr, s);
    assert_string_equal(s, "fe80::ff:fe00:2");
    net_fixture_free(f);
}

static void test_to_str_rfc5952(void **state)
{
    (void)state;
    char s[48];
    tern_ip6_t a = {{0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}};
    tern_ip6_to_str(&a, s);
    assert_string_equal(s, "2001:db8:0:1::1"); /* a single 0 group stays */
    tern_ip6_to_str(&ANY6, s);
    assert_string_equal(s, "::");
    tern_ip6_to_str(&ALL_NODES, s);
    assert_string_equal(s, "ff02::1");
    tern_ip6_t b = {{0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}};
    tern_ip6_to_str(&b, s);
    assert_string_equal(s, "2001:db8::1:0:0:1"); /* the first longest run */
}

static void test_echo_resolves_then_replies(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[1500], fr[FRAME_MAX];
    size_t ml = msg_echo(m, 0x1234, 7, 1452);
    size_t n = v6_icmp(fr, &OUR_LL, 64, m, ml);
    fx_rx(f, fr, n);
    /* The peer is unknown: a multicast solicitation, the reply waits. */
    assert_int_equal(f->cn.count, 1);
    assert_int_equal(cap_icmp_type(f, 0), 135);
    assert_int_equal(peer_entry(f)->state, TERN_ND_INCOMPLETE);
    assert_int_equal(C(f)->nd_queued, 1);
    peer_answers(f, 0x40 | 0x20);
    assert_int_equal(peer_entry(f)->state, TERN_ND_REACHABLE);
    assert_int_equal(f->cn.count, 2);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 1, &len);
    assert_int_equal(len, 14 + 40 + ml);
    assert_int_equal(len, 1514); /* a full 1500-byte packet */
    assert_memory_equal(got, FR_PEER_MAC, 6);
    assert_int_equal(got[54], 129);
    assert_memory_equal(got + 54 + 4, m + 4, ml - 4); /* id, seq, data */
    assert_memory_equal(got + 14 + 8, OUR_LL.b, 16);
    assert_memory_equal(got + 14 + 24, PEER_LL.b, 16);
    assert_cap_checksum(f, 1);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_bad_checksum_dropped(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 16));
    fr[n - 1] ^= 0x01;
    fx_expect_drop(f, fr, n, &C(f)->icmp6_drop_checksum);
}

static void test_header_checks(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 16));
    fx_expect_drop(f, fr, 14 + 39, &C(f)->ipv6_drop_truncated);
    fr[14] = 0x40;
    fx_expect_drop(f, fr, n, &C(f)->ipv6_drop_version);
    fr[14] = 0x60;
    fx_expect_drop(f, fr, n - 1, &C(f)->ipv6_drop_len); /* payload length past the frame */
    /* Multicast or loopback source, our own address as the source. */
    uint8_t fr2[FRAME_MAX];
    memcpy(fr2, fr, n);
    memcpy(fr2 + 14 + 8, ALL_NODES.b, 16);
    fx_expect_drop(f, fr2, n, &C(f)->ipv6_drop_bad_src);
    memcpy(fr2 + 14 + 8, OUR_LL.b, 16);
    fx_expect_drop(f, fr2, n, &C(f)->ipv6_drop_bad_src);
    /* Another destination; a group we have not joined; a unicast in a
     * multicast frame. */
    memcpy(fr2, fr, n);
    fr2[14 + 24 + 15] = 9;
    fx_expect_drop(f, fr2, n, &C(f)->ipv6_drop_not_for_us);
    memcpy(fr2, fr, n);
    fr2[14 + 24] = 0xFF;
    fr2[14 + 25] = 0x02;
    fr2[14 + 24 + 15] = 2;
    fx_expect_drop(f, fr2, n, &C(f)->ipv6_drop_not_for_us);
    memcpy(fr2, fr, n);
    memcpy(fr2, OUR_SN_MAC, 6);
    fx_expect_drop(f, fr2, n, &C(f)->ipv6_drop_mcast_mismatch);
    peer_known(f);
    /* Ethernet padding after the payload is trimmed, not a length error. */
    memset(fr + n, 0, 8);
    capnet_clear(&f->cn);
    fx_rx(f, fr, n + 8);
    assert_int_equal(C(f)->icmp6_echo_rx, 1);
}

/* Every ND message type with each of the four generic faults. */
static void test_nd_generic_validation(void **state)
{
    net_fixture_t *f = *state;
    static const uint8_t types[] = {133, 134, 135, 136, 137};
    static const size_t fixed[] = {8, 16, 24, 24, 40};
    for (unsigned k = 0; k < sizeof types; k++) {
        uint8_t m[128], fr[FRAME_MAX];
        memset(m, 0, sizeof m);
        m[0] = types[k];
        memcpy(m + 8, OUR_LL.b, 16);   /* NS/NA target, redirect target */
        memcpy(m + 24, PEER_LL.b, 16); /* redirect destination */
        size_t len = fixed[k] + 8;
        m[fixed[k]] = 1; /* SLLA/TLLA-shaped option, valid length */
        m[fixed[k] + 1] = 1;
        memcpy(m + fixed[k] + 2, FR_OTHER_MAC, 6);
        if (types[k] == 136)
            m[fixed[k]] = 2;
        size_t n = v6_icmp(fr, &OUR_LL, 254, m, len);
        fx_expect_drop(f, fr, n, &C(f)->nd_drop_hop_limit);
        m[1] = 1;
        n = v6_icmp(fr, &OUR_LL, 255, m, len);
        fx_expect_drop(f, fr, n, &C(f)->nd_drop_code);
        m[1] = 0;
        n = v6_icmp(fr, &OUR_LL, 255, m, fixed[k] - 1u);
        if (fixed[k] - 1u >= 8u)
            fx_expect_drop(f, fr, n, &C(f)->nd_drop_len);
        m[fixed[k] + 1] = 0; /* option length 0 */
        n = v6_icmp(fr, &OUR_LL, 255, m, len);
        fx_expect_drop(f, fr, n, &C(f)->nd_drop_opt_len);
        m[fixed[k] + 1] = 2; /* past the end */
        n = v6_icmp(fr, &OUR_LL, 255, m, len);
        fx_expect_drop(f, fr, n, &C(f)->nd_drop_opt_len);
    }
    /* Well-formed RS and redirects: ignored by a host, counted. */
    uint8_t m[128], fr[FRAME_MAX];
    memset(m, 0, sizeof m);
    m[0] = 133;
    fx_expect_drop(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, 8), &C(f)->nd_drop_rs);
    m[0] = 137;
    memcpy(m + 8, PEER_LL.b, 16);
    memcpy(m + 24, PEER_LL.b, 16);
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 255, m, 40), &C(f)->nd_drop_redirect);
}

static void test_nd_specific_validation(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    /* NS: multicast target; from :: with an SLLA; from :: to a unicast. */
    size_t ml = msg_ns(m, &ALL_NODES, 1);
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 255, m, ml), &C(f)->nd_drop_invalid);
    ml = msg_ns(m, &OUR_LL, 1);
    size_t n = v6_frame(fr, FR_OUR_MAC, &ANY6, &OUR_LL, 58, 255, m, ml, 0);
    fx_expect_drop(f, fr, n, &C(f)->nd_drop_invalid);
    ml = msg_ns(m, &OUR_LL, 0);
    n = v6_frame(fr, FR_OUR_MAC, &ANY6, &OUR_LL, 58, 255, m, ml, 0);
    fx_expect_drop(f, fr, n, &C(f)->nd_drop_invalid);
    /* NA: solicited flag to a group; an SLLA of the wrong length. */
    ml = msg_na(m, &PEER_LL, 0x40, FR_PEER_MAC);
    fx_expect_drop(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, ml), &C(f)->nd_drop_invalid);
    ml = msg_na(m, &PEER_LL, 0x20, FR_PEER_MAC);
    m[25] = 2;
    memset(m + 32, 0, 8);
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 255, m, ml + 8), &C(f)->nd_drop_invalid);
    /* NA for nobody we resolve. */
    ml = msg_na(m, &PEER_LL, 0x20, FR_PEER_MAC);
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 255, m, ml), &C(f)->nd_drop_na_unsolicited);
    /* RA from a global source. */
    ml = msg_ra(m, 1800, 0xC0, 3600, 1800);
    n = v6_frame(fr, FR_OUR_MAC, &OUR_GLOBAL, &OUR_LL, 58, 255, m, ml, 0);
    fr[14 + 8 + 15] = 1; /* 2001:db8:1::ff:fe00:1, not us */
    n = v6_frame(fr, FR_OUR_MAC, &(tern_ip6_t){{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, &OUR_LL,
                 58, 255, m, ml, 0);
    fx_expect_drop(f, fr, n, &C(f)->nd_drop_invalid);
    /* RDNSS with an even length. */
    ml = msg_ra(m, 0, 0, 0, 0);
    m[ml - 24 + 1] = 2;
    fx_expect_drop(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, ml - 8), &C(f)->nd_drop_invalid);
}

static void test_ns_answered_with_na(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    size_t n = v6_icmp(fr, &sn, 255, m, msg_ns(m, &OUR_LL, 1));
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->nd_ns_rx, 1);
    assert_int_equal(f->cn.count, 1);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_memory_equal(got, FR_PEER_MAC, 6); /* unicast, the SLLA learnt */
    assert_int_equal(got[54], 136);
    assert_int_equal(got[54 + 4], 0x60); /* solicited, override */
    assert_int_equal(got[14 + 7], 255);
    assert_memory_equal(got + 54 + 8, OUR_LL.b, 16);
    assert_int_equal(got[54 + 24], 2); /* TLLA */
    assert_memory_equal(got + 54 + 26, FR_OUR_MAC, 6);
    assert_cap_checksum(f, 0);
    /* The sender entered the cache STALE (7.2.3), then DELAY as we used it. */
    assert_int_equal(peer_entry(f)->state, TERN_ND_DELAY);
    /* A DAD probe (from ::) is answered to all nodes, not solicited. */
    capnet_clear(&f->cn);
    n = v6_frame(fr, OUR_SN_MAC, &ANY6, &sn, 58, 255, m, msg_ns(m, &OUR_LL, 0), 0);
    fx_rx(f, fr, n);
    assert_int_equal(f->cn.count, 1);
    got = capnet_frame(&f->cn, 0, &len);
    assert_memory_equal(got + 14 + 24, ALL_NODES.b, 16);
    assert_int_equal(got[54 + 4], 0x20);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_neighbor_state_transitions(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8));
    fx_rx(f, fr, n);
    peer_answers(f, 0x40);
    const tern_nd_entry_t *e = peer_entry(f);
    assert_int_equal(e->state, TERN_ND_REACHABLE);
    /* REACHABLE -> STALE after ReachableTime (at most 45 s). */
    v6_poll(f, 46000);
    assert_int_equal(e->state, TERN_ND_STALE);
    /* Sending to STALE: DELAY; 5 s later PROBE with a unicast NS. */
    fx_rx(f, fr, n);
    assert_int_equal(e->state, TERN_ND_DELAY);
    capnet_clear(&f->cn);
    v6_poll(f, 5050);
    assert_int_equal(e->state, TERN_ND_PROBE);
    assert_int_equal(cap_icmp_type(f, 0), 135);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_memory_equal(got, FR_PEER_MAC, 6);
    /* A solicited NA confirms it: REACHABLE again. */
    peer_answers(f, 0x40);
    assert_int_equal(e->state, TERN_ND_REACHABLE);
    /* An NA without override and another MAC only makes it STALE. */
    n = v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0x40, FR_OTHER_MAC));
    fx_rx(f, fr, n);
    assert_int_equal(e->state, TERN_ND_STALE);
    assert_memory_equal(e->mac, FR_PEER_MAC, 6);
    /* With override it takes the new MAC. */
    n = v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0x60, FR_OTHER_MAC));
    fx_rx(f, fr, n);
    assert_int_equal(e->state, TERN_ND_REACHABLE);
    assert_memory_equal(e->mac, FR_OTHER_MAC, 6);
    /* No answer to the probes: the entry goes after 3 unicast NS. */
    v6_poll(f, 46000);
    n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 2, 8));
    fx_rx(f, fr, n);
    capnet_clear(&f->cn);
    v6_poll(f, 5000 + 4000);
    assert_null(peer_entry(f));
    assert_int_equal(C(f)->nd_resolve_failed, 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_incomplete_gives_up_and_frees_queue(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    for (uint16_t s = 0; s < 4; s++) {
        size_t n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, s, 8));
        fx_rx(f, fr, n);
    }
    assert_int_equal(peer_entry(f)->queued, TERN_IPV6_NBR_QUEUE_LEN);
    assert_int_equal(C(f)->nd_queue_overflow, 4 - TERN_IPV6_NBR_QUEUE_LEN);
    v6_poll(f, 4000);
    assert_null(peer_entry(f));
    assert_int_equal(C(f)->nd_ns_tx, 3); /* MAX_MULTICAST_SOLICIT */
    assert_int_equal(C(f)->nd_resolve_failed, 1);
    mem_assert_baseline(&f->stack, &f->base);
}

/* An echo request behind a chain of extension headers. */
static size_t chain_frame(uint8_t *fr, const tern_ip6_t *dst, const uint8_t *chain, size_t clen, uint8_t first)
{
    uint8_t p[512];
    memcpy(p, chain, clen);
    size_t ml = msg_echo(p + clen, 9, 9, 8);
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    const uint8_t *dmac = dst->b[0] == 0xFF ? all_nodes_mac : FR_OUR_MAC;
    return v6_frame(fr, dmac, &PEER_LL, dst, first, 64, p, clen + ml, (int)clen);
}

/* A destination options header (8 bytes) holding one option of type t
 * with 4 data bytes, followed by next. */
static void dest_opt(uint8_t *h, uint8_t next, uint8_t t)
{
    h[0] = next;
    h[1] = 0;
    h[2] = t;
    h[3] = 4;
    memset(h + 4, 0, 4);
}

static void test_ext_option_actions(void **state)
{
    net_fixture_t *f = *state;
    uint8_t h[8], fr[FRAME_MAX];
    peer_known(f);
    /* 00: skipped, the echo is answered. */
    dest_opt(h, 58, 0x1E);
    capnet_clear(&f->cn);
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, h, 8, 60));
    assert_int_equal(C(f)->icmp6_echo_rx, 1);
    assert_int_equal(f->cn.count, 1);
    /* 01: discarded silently. */
    dest_opt(h, 58, 0x5E);
    fx_expect_drop(f, fr, chain_frame(fr, &OUR_LL, h, 8, 60), &C(f)->ipv6_drop_option);
    /* 10: discarded, Parameter Problem code 2 pointing at the option, even
     * for a multicast destination. */
    for (int mc = 0; mc < 2; mc++) {
        dest_opt(h, 58, 0x9E);
        capnet_clear(&f->cn);
        uint32_t before = C(f)->ipv6_drop_option;
        fx_rx(f, fr, chain_frame(fr, mc ? &ALL_NODES : &OUR_LL, h, 8, 60));
        assert_int_equal(C(f)->ipv6_drop_option, before + 1);
        assert_int_equal(f->cn.count, 1);
        size_t len;
        const uint8_t *got = capnet_frame(&f->cn, 0, &len);
        assert_int_equal(got[54], 4);
        assert_int_equal(got[55], 2);
        assert_int_equal(be32_get(got + 54 + 4), 42);
        assert_memory_equal(got + 54 + 8, fr + 14, 40); /* the invoking packet */
        assert_cap_checksum(f, 0);
    }
    /* 11: the same to a unicast destination, nothing to a group. */
    dest_opt(h, 58, 0xDE);
    capnet_clear(&f->cn);
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, h, 8, 60));
    assert_int_equal(f->cn.count, 1);
    uint32_t supp = C(f)->icmp6_err_suppressed;
    fx_expect_drop(f, fr, chain_frame(fr, &ALL_NODES, h, 8, 60), &C(f)->ipv6_drop_option);
    assert_int_equal(C(f)->icmp6_err_suppressed, supp + 1);
    /* An option running past its header. */
    dest_opt(h, 58, 0x1E);
    h[3] = 5;
    fx_expect_drop(f, fr, chain_frame(fr, &OUR_LL, h, 8, 60), &C(f)->ipv6_drop_option_len);
}

static void test_ext_chains(void **state)
{
    net_fixture_t *f = *state;
    uint8_t c[256], fr[FRAME_MAX];
    peer_known(f);
    /* TERN_IPV6_EXT_HDR_MAX destination options headers are walked; one
     * more is too many. */
    for (unsigned k = 0; k <= TERN_IPV6_EXT_HDR_MAX; k++)
        dest_opt(c + 8 * k, k == TERN_IPV6_EXT_HDR_MAX ? 58 : 60, IPV6_OPT_PADN);
    fx_expect_drop(f, fr, chain_frame(fr, &OUR_LL, c, 8 * (TERN_IPV6_EXT_HDR_MAX + 1), 60),
                   &C(f)->ipv6_drop_ext_chain);
    dest_opt(c + 8 * (TERN_IPV6_EXT_HDR_MAX - 1), 58, IPV6_OPT_PADN);
    capnet_clear(&f->cn);
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 8 * TERN_IPV6_EXT_HDR_MAX, 60));
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 1);
    /* Hop-by-hop after another header: Parameter Problem code 1. */
    dest_opt(c, 0, IPV6_OPT_PADN);
    dest_opt(c + 8, 58, IPV6_OPT_PADN);
    capnet_clear(&f->cn);
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 16, 60));
    assert_int_equal(C(f)->ipv6_drop_hbh_position, 1);
    assert_int_equal(f->cn.count, 1);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(got[55], 1);
    assert_int_equal(be32_get(got + 54 + 4), 40); /* the next header field that named it */
    /* Routing type 0 with segments left: Parameter Problem code 0 at the
     * type (RFC 5095); with none left it is skipped. */
    memset(c, 0, 24);
    c[0] = 58;
    c[1] = 2;
    c[2] = 0;
    c[3] = 1;
    f->now += 1000; /* a fresh token */
    capnet_clear(&f->cn);
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 24, 43));
    assert_int_equal(C(f)->ipv6_drop_routing, 1);
    got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(got[55], 0);
    assert_int_equal(be32_get(got + 54 + 4), 42);
    c[3] = 0;
    uint32_t replies = C(f)->icmp6_echo_reply_tx;
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 24, 43));
    assert_int_equal(C(f)->icmp6_echo_reply_tx, replies + 1);
    /* Fragments: an atomic one is the whole packet (RFC 6946); others
     * wait for the rest, held until the reassembly timeout. */
    memset(c, 0, 8);
    c[0] = 58;
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 8, 44));
    assert_int_equal(C(f)->icmp6_echo_reply_tx, replies + 2);
    assert_int_equal(C(f)->ipv6_frag_rx, 0);
    c[3] = 1; /* M */
    fx_rx(f, fr, chain_frame(fr, &OUR_LL, c, 8, 44));
    assert_int_equal(C(f)->ipv6_frag_rx, 1);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(C(f)->ipv6_reass_timeout, 1);
    /* A header running past the payload; no next header. */
    dest_opt(c, 58, IPV6_OPT_PADN);
    c[1] = 200;
    fx_expect_drop(f, fr, chain_frame(fr, &OUR_LL, c, 8, 60), &C(f)->ipv6_drop_ext_len);
    dest_opt(c, 59, IPV6_OPT_PADN);
    fx_expect_drop(f, fr, chain_frame(fr, &OUR_LL, c, 8, 60), &C(f)->ipv6_drop_no_next);
    mem_assert_baseline(&f->stack, &f->base);
}

/* ---- fragments and path MTU ------------------------------------------ */

/* Fill the checksum of the ICMPv6 message m (ml bytes) from PEER_LL to dst. */
static void icmp_csum(uint8_t *m, size_t ml, const tern_ip6_t *dst)
{
    static uint8_t buf[8192];
    m[2] = m[3] = 0;
    memcpy(buf, PEER_LL.b, 16);
    memcpy(buf + 16, dst->b, 16);
    be32_put(buf + 32, (uint32_t)ml);
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = 58;
    memcpy(buf + 40, m, ml);
    be16_put(m + 2, frame_checksum(buf, 40 + ml));
}

/* One fragment from the peer to OUR_LL: a fragment header (next header
 * next, identification id) and len bytes of data at offset. */
static size_t frag_frame(uint8_t *fr, uint32_t id, size_t offset, int more, uint8_t next, const uint8_t *data,
                         size_t len)
{
    uint8_t p[1600];
    p[0] = next;
    p[1] = 0;
    be16_put(p + 2, (uint32_t)(offset | (more ? 1u : 0u)));
    be32_put(p + 4, id);
    memcpy(p + 8, data, len);
    return v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 44, 64, p, 8 + len, -1);
}

/* Put the fragments captured from i on back together: the ICMPv6 message
 * into out, its length returned; every one must be a fragment. */
static size_t cap_defrag(net_fixture_t *f, unsigned i, uint8_t *out)
{
    size_t total = 0;
    for (; i < f->cn.count; i++) {
        size_t len;
        const uint8_t *fr = capnet_frame(&f->cn, i, &len);
        assert_int_equal(fr[14 + 6], 44);
        assert_true(len <= 14 + 1500);
        size_t off = (size_t)(fr[54 + 2] << 8 | fr[54 + 3]) & 0xFFF8u;
        memcpy(out + off, fr + 62, len - 62);
        if ((fr[54 + 3] & 1u) == 0u)
            total = off + len - 62;
    }
    return total;
}

/* The planner's IPv6 reassembly term (TERN_PLAN_REASS6, tern/plan.h):
 * two datagrams in progress, each announced whole by its last fragment,
 * hold exactly the planned IP_REASSEMBLY bytes and blocks, and the
 * category's peak is the plan's; both then complete and free it all. */
static void test_reassembly_plan(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t m[2][512];
    uint8_t fr[FRAME_MAX];
    peer_known(f);
    tern_plan_sizes_t sz;
    (void)tern_plan_sizes_self(&sz);
    assert_true(sz.ip6_reass > 0u);
    const tern_ledger_category_stats_t *c = tern_ledger_category(&f->stack.ledger, TERN_MEM_IP_REASSEMBLY);
    assert_int_equal(c->bytes, 0);
    size_t ml = 0;
    for (unsigned k = 0; k < 2u; k++) {
        ml = msg_echo(m[k], (uint16_t)(10u + k), 1, 300);
        icmp_csum(m[k], ml, &OUR_LL);
        fx_rx(f, fr, frag_frame(fr, 20u + k, 104, 0, 58, m[k] + 104, ml - 104));
    }
    tern_plan_workload_t w;
    memset(&w, 0, sizeof w);
    w.reass6_datagrams = 2;
    w.reass6_bytes = (uint32_t)ml;
    tern_plan_t p;
    tern_plan_compute(&sz, &w, &p);
    const tern_plan_cat_t *pc = &p.cat[TERN_MEM_IP_REASSEMBLY];
    if (c->bytes != pc->bytes || c->peak_bytes != pc->bytes || c->blocks != pc->blocks)
        print_error("IP_REASSEMBLY: planned %llu bytes in %u blocks, measured %zu (peak %zu) in %u\n",
                    (unsigned long long)pc->bytes, pc->blocks, c->bytes, c->peak_bytes, c->blocks);
    assert_int_equal(c->bytes, pc->bytes);
    assert_int_equal(c->peak_bytes, pc->bytes);
    assert_int_equal(c->blocks, pc->blocks);
    for (unsigned k = 0; k < 2u; k++)
        fx_rx(f, fr, frag_frame(fr, 20u + k, 0, 1, 58, m[k], 104));
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 2);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Echo requests in fragments, in and out of order, one beyond a buffer
 * (answered in fragments); RFC 8200 4.5's checks; RFC 5722 overlaps; RFC
 * 7112 incomplete chains; the timeout's Time Exceeded; RFC 6980. */
static void test_reassembly(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t m[4096], got[4096];
    uint8_t fr[FRAME_MAX];
    peer_known(f);
    /* 200 bytes of echo in two fragments, the last one first. */
    size_t ml = msg_echo(m, 1, 1, 200);
    icmp_csum(m, ml, &OUR_LL);
    fx_rx(f, fr, frag_frame(fr, 7, 104, 0, 58, m + 104, ml - 104));
    assert_int_equal(f->cn.count, 0);
    fx_rx(f, fr, frag_frame(fr, 7, 0, 1, 58, m, 104));
    assert_int_equal(C(f)->ipv6_reass_ok, 1);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 1);
    assert_int_equal(f->cn.count, 1);
    size_t len;
    const uint8_t *r = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(len, 54 + ml);
    assert_int_equal(r[54], 129);
    assert_memory_equal(r + 58, m + 4, ml - 4);
    assert_cap_checksum(f, 0);
    mem_assert_baseline(&f->stack, &f->base);

    /* 3000 bytes: beyond one buffer, answered in fragments of <= 1500. */
    capnet_clear(&f->cn);
    ml = msg_echo(m, 2, 2, 3000);
    icmp_csum(m, ml, &OUR_LL);
    for (size_t off = 0; off < ml; off += 1448)
        fx_rx(f, fr, frag_frame(fr, 8, off, off + 1448 < ml, 58, m + off, ml - off < 1448 ? ml - off : 1448));
    assert_int_equal(C(f)->ipv6_reass_ok, 2);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 2);
    assert_int_equal(f->cn.count, 3);
    assert_int_equal(cap_defrag(f, 0, got), ml);
    assert_int_equal(got[0], 129);
    assert_memory_equal(got + 4, m + 4, ml - 4);
    assert_int_equal(C(f)->ipv6_frag_tx, 3);
    mem_assert_baseline(&f->stack, &f->base);

    /* RFC 5722: an overlap drops the datagram, and what comes after it,
     * silently; the entry holds no data meanwhile. */
    capnet_clear(&f->cn);
    ml = msg_echo(m, 3, 3, 200);
    icmp_csum(m, ml, &OUR_LL);
    fx_rx(f, fr, frag_frame(fr, 9, 0, 1, 58, m, 104));
    fx_rx(f, fr, frag_frame(fr, 9, 96, 1, 58, m + 96, 8));
    assert_int_equal(C(f)->ipv6_reass_overlap, 1);
    assert_int_equal(f->stack.ipv4.reass_bytes, 0);
    fx_rx(f, fr, frag_frame(fr, 9, 104, 0, 58, m + 104, ml - 104));
    assert_int_equal(C(f)->ipv6_reass_overlap, 2);
    assert_int_equal(C(f)->ipv6_reass_ok, 2);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(C(f)->ipv6_reass_timeout, 1);
    for (unsigned i = 0; i < f->cn.count; i++)
        assert_int_not_equal(cap_icmp_type(f, i), 3); /* no Time Exceeded for it */
    mem_assert_baseline(&f->stack, &f->base);

    /* RFC 8200 4.5: a middle fragment not a multiple of 8 (pointer at the
     * payload length); beyond 65535 (pointer at the fragment offset). */
    peer_known(f);
    f->now += 1000;
    fx_rx(f, fr, frag_frame(fr, 10, 0, 1, 58, m, 100));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 1);
    r = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(r[54], 4);
    assert_int_equal(r[55], 0);
    assert_int_equal(be32_get(r + 58), 4);
    f->now += 1000;
    fx_rx(f, fr, frag_frame(fr, 10, 65528, 0, 58, m, 16));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 2);
    r = capnet_frame(&f->cn, 1, &len);
    assert_int_equal(be32_get(r + 58), 42);
    /* RFC 7112: fragment zero without the whole chain (a destination
     * options header running past it): code 3, pointer 0. */
    uint8_t c[16];
    memset(c, 0, sizeof c);
    c[0] = 58;
    c[1] = 1; /* 16 bytes, 8 present */
    f->now += 1000;
    fx_rx(f, fr, frag_frame(fr, 11, 0, 1, 60, c, 8));
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    r = capnet_frame(&f->cn, 2, &len);
    assert_int_equal(r[54], 4);
    assert_int_equal(r[55], 3);
    assert_int_equal(be32_get(r + 58), 0);
    mem_assert_baseline(&f->stack, &f->base);

    /* Timeout after fragment zero: Time Exceeded code 1, quoting it. */
    capnet_clear(&f->cn);
    fx_rx(f, fr, frag_frame(fr, 12, 0, 1, 58, m, 104));
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(C(f)->ipv6_reass_timeout, 1);
    unsigned te = f->cn.count;
    for (unsigned i = 0; i < f->cn.count; i++) {
        if (cap_icmp_type(f, i) == 3)
            te = i;
    }
    assert_true(te < f->cn.count);
    r = capnet_frame(&f->cn, te, &len);
    assert_int_equal(r[54], 3);
    assert_int_equal(r[55], 1);
    assert_int_equal(r[62 + 6], 44);          /* the quote: fragment zero's header */
    assert_int_equal(be32_get(r + 62 + 44), 12); /* its identification */
    mem_assert_baseline(&f->stack, &f->base);

    /* RFC 6980: a Neighbor Solicitation in fragments is ignored. */
    uint8_t ns[64];
    size_t nl = msg_ns(ns, &OUR_LL, 1);
    icmp_csum(ns, nl, &OUR_LL);
    fx_rx(f, fr, frag_frame(fr, 13, 0, 1, 58, ns, 16));
    fx_rx(f, fr, frag_frame(fr, 13, 16, 0, 58, ns + 16, nl - 16));
    assert_int_equal(C(f)->icmp6_drop_frag_nd, 1);
    assert_int_equal(C(f)->nd_ns_rx, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* One frame in, as fx_rx, but the frame's own buffer may be the injected
 * failure (HEAP buffers). */
static void sweep_rx(net_fixture_t *f, const uint8_t *fr, size_t len)
{
    int r = tern_input_copy(&f->stack, &f->cn.nif, fr, len, f->now);
    assert_true(r == TERN_OK || r == TERN_ERR_NOBUFS || r == TERN_ERR_NOMEM);
}

/* Two echo requests in fragments (200 bytes out of order, 3000 bytes
 * beyond a buffer); the replies counted. */
static unsigned frag6_scenario(net_fixture_t *f)
{
    static uint8_t m[3100];
    uint8_t fr[FRAME_MAX];
    uint32_t before = C(f)->icmp6_echo_reply_tx;
    size_t ml = msg_echo(m, 1, 1, 200);
    icmp_csum(m, ml, &OUR_LL);
    sweep_rx(f, fr, frag_frame(fr, 7, 104, 0, 58, m + 104, ml - 104));
    sweep_rx(f, fr, frag_frame(fr, 7, 0, 1, 58, m, 104));
    ml = msg_echo(m, 2, 2, 3000);
    icmp_csum(m, ml, &OUR_LL);
    for (size_t off = 0; off < ml; off += 1448)
        sweep_rx(f, fr, frag_frame(fr, 8, off, off + 1448 < ml, 58, m + off, ml - off < 1448 ? ml - off : 1448));
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    return (unsigned)(C(f)->icmp6_echo_reply_tx - before);
}

/* The allocation-failure sweep over IPv6 reassembly: every allocation of
 * the scenario fails once in turn; the stack drops that datagram (or a
 * buffer), counts it and returns to its baseline. */
static void test_sweep_reassembly6(void **state)
{
    (void)state;
    uint32_t n = 0;
    for (uint32_t k = 0; k == 0 || k <= n; k++) {
        net_fixture_t *f = NULL;
        assert_int_equal(setup((void **)&f), 0);
        peer_known(f);
        mem_snapshot(&f->stack, &f->base);
        uint32_t a0 = tern_ledger_attempts(&f->stack.ledger);
        if (k != 0u)
            tern_ledger_fail_nth(&f->stack.ledger, k, 0);
        unsigned replies = frag6_scenario(f);
        if (k == 0u) {
            assert_int_equal(replies, 2);
            n = tern_ledger_attempts(&f->stack.ledger) - a0;
            assert_true(n >= 5); /* a block and a growth per datagram at least */
            print_message("sweep: %u IPv6 reassembly allocations\n", n);
        } else {
            assert_true(replies <= 2u);
            const tern_ledger_t *l = &f->stack.ledger;
            uint32_t fails = 0;
            for (unsigned c = 0; c < TERN_MEM_CATEGORY_COUNT; c++)
                fails += tern_ledger_category(l, (tern_mem_category_t)c)->failures;
            assert_int_equal(fails, 1);
            uint32_t nomem = C(f)->ipv6_reass_nomem;
            assert_true(nomem <= 1u && nomem >= tern_ledger_category(l, TERN_MEM_IP_REASSEMBLY)->failures);
        }
        mem_assert_baseline(&f->stack, &f->base);
        void *st = f;
        assert_int_equal(teardown(&st), 0);
    }
}

/* A full table evicts the oldest datagram; the byte budget is shared with
 * IPv4 and bounds it. */
static void test_reassembly_bounds(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t m[TERN_IP_REASS_MAX_BYTES + 64];
    uint8_t fr[FRAME_MAX];
    memset(m, 0x5A, sizeof m);
    for (uint32_t id = 0; id <= TERN_IP_REASS_MAX_DATAGRAMS; id++) {
        fx_rx(f, fr, frag_frame(fr, 100 + id, 8, 1, 58, m, 8));
        f->now += 10;
    }
    assert_int_equal(C(f)->ipv6_reass_evicted, 1);
    assert_true(f->stack.ipv4.reass_bytes <= TERN_IP_REASS_MAX_BYTES);
    /* Past the budget in one datagram. */
    fx_rx(f, fr, frag_frame(fr, 200, (TERN_IP_REASS_MAX_BYTES + 8u) & ~7u, 1, 58, m, 8));
    assert_int_equal(C(f)->ipv6_reass_too_big, 1);
    assert_true(f->stack.ipv4.reass_bytes <= TERN_IP_REASS_MAX_BYTES);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(f->stack.ipv4.reass_bytes, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A Packet Too Big about our packet lowers the path MTU (RFC 8201 4), never
 * below 1280, never up; echo replies beyond it go in fragments; the
 * estimate ages out. */
static void test_packet_too_big(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t m[1600];
    uint8_t fr[FRAME_MAX];
    peer_known(f);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1500);
    /* The quoted packet: ours, from OUR_LL to PEER_LL. */
    uint8_t ptb[8 + 48];
    memset(ptb, 0, sizeof ptb);
    ptb[0] = 2;
    be32_put(ptb + 4, 1400);
    ptb[8] = 0x60;
    ptb[8 + 6] = 58;
    memcpy(ptb + 8 + 8, OUR_LL.b, 16);
    memcpy(ptb + 8 + 24, PEER_LL.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(C(f)->icmp6_ptb_rx, 1);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1400);
    /* Not lower: ignored (up), clamped (below 1280). */
    be32_put(ptb + 4, 1450);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(C(f)->icmp6_drop_ptb, 1);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1400);
    be32_put(ptb + 4, 600);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1280);
    /* About a packet that was not ours: dropped. */
    memcpy(ptb + 8 + 8, PEER_LL.b, 16);
    be32_put(ptb + 4, 1300);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(C(f)->icmp6_drop_ptb, 2);
    /* A 1452-byte echo: the reply goes in fragments of at most 1280. */
    capnet_clear(&f->cn);
    size_t ml = msg_echo(m, 5, 5, 1452);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, ml));
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 1);
    assert_int_equal(f->cn.count, 2);
    static uint8_t got[1600];
    for (unsigned i = 0; i < 2; i++) {
        size_t len;
        (void)capnet_frame(&f->cn, i, &len);
        assert_true(len - 14 <= 1280);
    }
    assert_int_equal(cap_defrag(f, 0, got), ml);
    assert_int_equal(got[0], 129);
    assert_memory_equal(got + 4, m + 4, ml - 4);
    /* RFC 8201 5.3: back to the link MTU after TERN_IPV6_PMTU_AGE_MS. */
    f->now += TERN_IPV6_PMTU_AGE_MS;
    v6_poll(f, 100);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1500);
    mem_assert_baseline(&f->stack, &f->base);
}

/* RFC 7217 identifiers: stable for a prefix and interface, different
 * across prefixes, interfaces and secrets, nothing of the MAC in them. */
static void test_stable_iid(void **state)
{
    (void)state;
    const uint32_t key[4] = {1, 2, 3, 4}, key2[4] = {1, 2, 3, 5};
    const tern_ip6_t ll = {{0xFE, 0x80}};
    const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, mac2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
    uint8_t a[8], b[8], e[8];
    ipv6_iid_stable(key, &ll, mac, a);
    ipv6_iid_stable(key, &ll, mac, b);
    assert_memory_equal(a, b, 8);
    ipv6_iid_eui64(mac, e);
    assert_memory_not_equal(a, e, 8);
    ipv6_iid_stable(key, &PREFIX, mac, b);
    assert_memory_not_equal(a, b, 8);
    ipv6_iid_stable(key, &ll, mac2, b);
    assert_memory_not_equal(a, b, 8);
    ipv6_iid_stable(key2, &ll, mac, b);
    assert_memory_not_equal(a, b, 8);
    /* The host part of the prefix does not matter, only its /64. */
    tern_ip6_t g = PREFIX;
    g.b[15] = 9;
    ipv6_iid_stable(key, &g, mac, b);
    ipv6_iid_stable(key, &PREFIX, mac, e);
    assert_memory_equal(b, e, 8);
}

static void test_errors_never_about_errors_or_groups(void **state)
{
    net_fixture_t *f = *state;
    uint8_t p[128], fr[FRAME_MAX];
    peer_known(f);
    /* SCTP (not spoken) to us: Parameter Problem code 1. */
    memset(p, 0, 16);
    size_t n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 132, 64, p, 16, -1);
    capnet_clear(&f->cn);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->ipv6_drop_proto, 1);
    assert_int_equal(C(f)->icmp6_err_tx, 1);
    assert_int_equal(capnet_frame(&f->cn, 0, &(size_t){0})[55], 1);
    /* The same to all nodes: suppressed. */
    n = v6_frame(fr, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, &PEER_LL, &ALL_NODES, 132, 64, p, 16, -1);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_tx, 1);
    assert_int_equal(C(f)->icmp6_err_suppressed, 1);
    /* An ICMPv6 error behind an option of action 11: no error about it,
     * but an echo request there gets one. */
    dest_opt(p, 58, 0xDE);
    memset(p + 8, 0, 8);
    p[8] = 1; /* destination unreachable */
    n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 16, 8);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_suppressed, 2);
    assert_int_equal(C(f)->icmp6_err_tx, 1);
    p[8] = 128;
    n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 16, 8);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_tx, 2);
    /* From ::, no error either. */
    n = v6_frame(fr, FR_OUR_MAC, &ANY6, &OUR_LL, 132, 64, p, 16, -1);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_suppressed, 3);
    /* An error received is counted, never answered. */
    memset(p, 0, 48);
    p[0] = 1;
    n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 58, 64, p, 48, 0);
    capnet_clear(&f->cn);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_rx, 1);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_error_rate_limit(void **state)
{
    net_fixture_t *f = *state;
    uint8_t p[16], fr[FRAME_MAX];
    peer_known(f);
    memset(p, 0, sizeof p);
    size_t n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 132, 64, p, 16, -1);
    f->now += 2000;
    for (int i = 0; i < 3 * TERN_ICMP_ERROR_RATE; i++)
        fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_tx, TERN_ICMP_ERROR_RATE);
    assert_int_equal(C(f)->icmp6_err_rate_limited, 2 * TERN_ICMP_ERROR_RATE);
    f->now += 1000 / TERN_ICMP_ERROR_RATE;
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp6_err_tx, TERN_ICMP_ERROR_RATE + 1);
}

static void test_dad_conflicts(void **state)
{
    (void)state;
    /* An NS from :: for our tentative link-local: a duplicate, IPv6 stops. */
    net_fixture_t *f = net_fixture_new(63);
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, NULL), TERN_OK);
    uint8_t m[128], fr[FRAME_MAX];
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    size_t n = v6_frame(fr, OUR_SN_MAC, &ANY6, &sn, 58, 255, m, msg_ns(m, &OUR_LL, 0), 0);
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.nd_dad_conflicts, 1);
    v6_poll(f, 3000);
    assert_false(ipv6_is_our_addr(IFS(f), &OUR_LL));
    tern_ip6_addr_info_t a;
    assert_int_equal(tern_ipv6_addr_info(&f->stack, 0, &a), TERN_OK);
    assert_int_equal(a.state, TERN_IP6_ADDR_DUPLICATE);
    assert_true(IFS(f)->disabled);
    n = v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 1, 1, 8));
    uint32_t before = f->stack.counters.ipv6_drop_disabled;
    fx_rx(f, fr, n);
    assert_int_equal(f->stack.counters.ipv6_drop_disabled, before + 1);
    net_fixture_free(f);

    /* An NA for a tentative SLAAC address: refused, the link-local stays. */
    f = net_fixture_new(64);
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, NULL), TERN_OK);
    v6_poll(f, 2500);
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0xC0, 3600, 1800));
    fx_rx(f, fr, n);
    assert_non_null(ipv6_addr_find(IFS(f), &OUR_GLOBAL));
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_na(m, &OUR_GLOBAL, 0x20, FR_OTHER_MAC));
    fx_rx(f, fr, n);
    v6_poll(f, 3000);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_DUPLICATE);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    assert_false(IFS(f)->disabled);
    /* The next RA does not bring it back. */
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0xC0, 3600, 1800));
    fx_rx(f, fr, n);
    v6_poll(f, 3000);
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_GLOBAL)->state, TERN_IP6_ADDR_DUPLICATE);
    net_fixture_free(f);
}

static void test_slaac_lifetimes_rdnss_router(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0xC0, 10, 5));
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->nd_ra_rx, 1);
    tern_ip6_addr_t *a = ipv6_addr_find(IFS(f), &OUR_GLOBAL);
    assert_non_null(a);
    assert_int_equal(a->state, TERN_IP6_ADDR_TENTATIVE);
    tern_ip6_t dns;
    assert_int_equal(tern_ipv6_dns_server(&f->stack, 0, &dns), TERN_OK);
    assert_int_equal(dns.b[15], 0x53);
    assert_memory_equal(nd_default_router(&f->stack, IFS(f))->b, PEER_LL.b, 16);
    assert_true(nd_is_onlink(&f->stack, IFS(f), &OUR_GLOBAL));
    v6_poll(f, 2500);
    assert_int_equal(a->state, TERN_IP6_ADDR_PREFERRED);
    tern_ip6_t src;
    assert_int_equal(ipv6_select_src(IFS(f), &PREFIX, &src), 0);
    assert_memory_equal(src.b, OUR_GLOBAL.b, 16);
    /* Preferred lifetime 5 s: deprecated; valid lifetime 10 s: gone. */
    v6_poll(f, 3000);
    assert_int_equal(a->state, TERN_IP6_ADDR_DEPRECATED);
    v6_poll(f, 5000);
    assert_null(ipv6_addr_find(IFS(f), &OUR_GLOBAL));
    assert_int_equal(C(f)->nd_addr_expired, 1);
    /* RetransTimer: taken, but at most 10 s (the fuzzer found a 60 s one
     * holding buffers for three minutes). */
    size_t ml = msg_ra(m, 1800, 0, 0, 0);
    be32_put(m + 12, 60000);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, ml));
    assert_int_equal(IFS(f)->retrans_ms, 10000);
    be32_put(m + 12, 2000);
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, ml));
    assert_int_equal(IFS(f)->retrans_ms, 2000);
    /* Router lifetime 0: no default router any more. */
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 0, 0, 0, 0));
    fx_rx(f, fr, n);
    assert_null(nd_default_router(&f->stack, IFS(f)));
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_slaac_two_hour_rule_and_limits(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    size_t n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0xC0, 86400, 3600));
    fx_rx(f, fr, n);
    tern_ip6_addr_t *a = ipv6_addr_find(IFS(f), &OUR_GLOBAL);
    assert_non_null(a);
    /* RFC 4862 5.5.3 (e): a spoofed 10 s valid lifetime only cuts it to 2 h. */
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0xC0, 10, 5));
    fx_rx(f, fr, n);
    assert_int_equal(a->valid_until - f->now, 7200000u);
    /* Preferred above valid, or not a /64: ignored. */
    uint32_t ign = C(f)->nd_prefix_ignored;
    n = v6_icmp(fr, &ALL_NODES, 255, m, msg_ra(m, 1800, 0x40, 10, 20));
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->nd_prefix_ignored, ign + 1);
    size_t ml = msg_ra(m, 1800, 0x40, 100, 50);
    m[16 + 8 + 2] = 48;
    n = v6_icmp(fr, &ALL_NODES, 255, m, ml);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->nd_prefix_ignored, ign + 2);
    /* Static addresses up to TERN_IPV6_ADDR_MAX (link-local + SLAAC here). */
    tern_ip6_t s = OUR_GLOBAL;
    unsigned added = 0;
    for (uint8_t k = 1; k < 10; k++) {
        s.b[15] = (uint8_t)(0x10 + k);
        if (tern_ipv6_add_addr(&f->stack, &f->cn.nif, &s, 64) == TERN_OK)
            added++;
    }
    assert_int_equal(added, TERN_IPV6_ADDR_MAX - 2);
    assert_int_equal(tern_ipv6_add_addr(&f->stack, &f->cn.nif, &ALL_NODES, 64), TERN_ERR_INVAL);
}

static void test_link_down_up(void **state)
{
    net_fixture_t *f = *state;
    peer_known(f);
    assert_non_null(peer_entry(f));
    tern_netif_set_link(&f->cn.nif, 0);
    assert_null(peer_entry(f)); /* another network, maybe: forgotten */
    tern_netif_set_link(&f->cn.nif, 1);
    /* Every address goes through DAD again, routers are solicited. */
    assert_int_equal(ipv6_addr_find(IFS(f), &OUR_LL)->state, TERN_IP6_ADDR_TENTATIVE);
    capnet_clear(&f->cn);
    v6_poll(f, 3000);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    int rs = 0;
    for (unsigned i = 0; i < f->cn.count; i++)
        rs += cap_icmp_type(f, i) == 133;
    assert_true(rs >= 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_report_text_and_json(void **state)
{
    net_fixture_t *f = *state;
    static tern_test_sink_t sink;
    tern_test_sink_reset(&sink);
    peer_answers(f, 0x40);
    tern_ipv6_report_json(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "{\"addrs\":[{\"addr\":\"fe80::ff:fe00:2\",\"prefix\":64,\"state\":\"preferred\""));
    tern_test_sink_reset(&sink);
    tern_ipv6_report_text(&f->stack, tern_test_sink_write, &sink);
    assert_non_null(strstr(sink.text, "fe80::ff:fe00:2/64"));
    assert_non_null(strstr(sink.text, "(no neighbors)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_local_dad_mld_rs),
        cmocka_unit_test(test_to_str_rfc5952),
        cmocka_unit_test_setup_teardown(test_echo_resolves_then_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nd_generic_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nd_specific_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ns_answered_with_na, setup, teardown),
        cmocka_unit_test_setup_teardown(test_neighbor_state_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_gives_up_and_frees_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ext_option_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ext_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_never_about_errors_or_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_rate_limit, setup, teardown),
        cmocka_unit_test(test_dad_conflicts),
        cmocka_unit_test_setup_teardown(test_slaac_lifetimes_rdnss_router, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slaac_two_hour_rule_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_text_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reassembly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reassembly_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reassembly_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packet_too_big, setup, teardown),
        cmocka_unit_test(test_sweep_reassembly6),
        cmocka_unit_test(test_stable_iid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
