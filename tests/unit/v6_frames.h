/* Frame builders and a fixture for the IPv6 coverage tests (test_ipv6_cov.c,
 * test_nd_cov.c, test_icmpv6_cov.c, test_udp6_cov.c; the dual-stack variant
 * only). The same shapes as test_ipv6.c's: Ethernet + IPv6 from the peer's
 * link-local address, checksums from the textbook routine in frames.c, so
 * the stack's own checksum code is checked, not trusted. Everything goes in
 * through the driver path (fx_rx) and comes out on the capture interface. */
#ifndef TERN_TEST_V6_FRAMES_H
#define TERN_TEST_V6_FRAMES_H

#include <string.h>
#include "frames.h"
#include "net/ipv6_internal.h"
#include "tern/err.h"

#if !TERN_IPV6
#error "the IPv6 coverage tests run on the dual-stack variant (TERN_TEST_IPV6_VARIANT)"
#endif

#define V6_UNUSED __attribute__((unused))

/* fe80::ff:fe00:2, the EUI-64 link-local of FR_OUR_MAC (02:00:00:00:00:02). */
static const tern_ip6_t OUR_LL = {{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0, 0, 2}};
static const tern_ip6_t PEER_LL = {{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const tern_ip6_t OTHER_LL V6_UNUSED = {{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}};
static const tern_ip6_t ALL_NODES V6_UNUSED = {{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const tern_ip6_t ANY6 V6_UNUSED = {{0}};
/* 2001:db8:1::/64, our SLAAC address in it and a host on it. */
static const tern_ip6_t PREFIX V6_UNUSED = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0}};
static const tern_ip6_t OUR_GLOBAL V6_UNUSED = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0, 0, 2}};
static const tern_ip6_t PEER_GLOBAL V6_UNUSED = {{0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
/* 2001:db8:99::9, off-link (through a default router). */
static const tern_ip6_t REMOTE V6_UNUSED = {{0x20, 0x01, 0x0D, 0xB8, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}};

static V6_UNUSED tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

static V6_UNUSED void v6_poll(net_fixture_t *f, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 50u) {
        f->now += 50u;
        (void)tern_poll(&f->stack, f->now);
    }
}

static V6_UNUSED tern_ipv6_if_t *IFS(net_fixture_t *f)
{
    return ipv6_if_of(&f->stack, &f->cn.nif);
}

/* Driver multicast filter calls (join +1, leave -1 on v6_mcast_net). */
static int v6_mcast_net V6_UNUSED;
static V6_UNUSED void v6_mcast_hook(tern_netif_t *nif, const uint8_t mac[6], int join)
{
    (void)nif;
    (void)mac;
    v6_mcast_net += join ? 1 : -1;
}

/* A fixture with IPv6 enabled (mcast hook) and its link-local address out
 * of DAD; frames and counters cleared, baseline taken. */
static V6_UNUSED net_fixture_t *v6_fixture(uint64_t seed)
{
    net_fixture_t *f = net_fixture_new(seed);
    v6_mcast_net = 0;
    assert_int_equal(tern_ipv6_enable(&f->stack, &f->cn.nif, v6_mcast_hook), TERN_OK);
    v6_poll(f, 2500);
    assert_true(ipv6_is_our_addr(IFS(f), &OUR_LL));
    capnet_clear(&f->cn);
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
    mem_snapshot(&f->stack, &f->base);
    return f;
}

static V6_UNUSED int v6_setup(void **state)
{
    *state = v6_fixture(71);
    return 0;
}

static V6_UNUSED int v6_teardown(void **state)
{
    return net_fixture_teardown(state);
}

/* The ICMPv6 checksum of the message m (mlen bytes) from src to dst. */
static V6_UNUSED void v6_icmp_csum(uint8_t *m, size_t mlen, const tern_ip6_t *src, const tern_ip6_t *dst,
                                   uint8_t next)
{
    static uint8_t buf[8192 + 40];
    size_t at = next == 17 ? 6u : 2u; /* UDP's checksum field, or ICMPv6's */
    m[at] = m[at + 1] = 0;
    memcpy(buf, src->b, 16);
    memcpy(buf + 16, dst->b, 16);
    be32_put(buf + 32, (uint32_t)mlen);
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = next;
    memcpy(buf + 40, m, mlen);
    be16_put(m + at, frame_checksum(buf, 40 + mlen));
}

/* Ethernet + IPv6 header + payload from src (Ethernet source the peer's
 * MAC); when csum_off >= 0 the checksum of the upper-layer message at
 * payload[csum_off] (of the last next header, ICMPv6 or UDP) is filled. */
static V6_UNUSED size_t v6_frame2(uint8_t *out, const uint8_t dmac[6], const tern_ip6_t *src, const tern_ip6_t *dst,
                                  uint8_t next, uint8_t hop, const uint8_t *payload, size_t plen, int csum_off,
                                  uint8_t upper)
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
    memmove(ip + 40, payload, plen);
    if (csum_off >= 0)
        v6_icmp_csum(ip + 40 + csum_off, plen - (size_t)csum_off, src, dst, upper);
    return 14 + 40 + plen;
}

static V6_UNUSED size_t v6_frame(uint8_t *out, const uint8_t dmac[6], const tern_ip6_t *src, const tern_ip6_t *dst,
                                 uint8_t next, uint8_t hop, const uint8_t *payload, size_t plen, int icmp_off)
{
    return v6_frame2(out, dmac, src, dst, next, hop, payload, plen, icmp_off, 58);
}

/* The Ethernet group address of dst, or our MAC for a unicast. */
static V6_UNUSED const uint8_t *v6_dmac(const tern_ip6_t *dst, uint8_t group[6])
{
    if (dst->b[0] != 0xFF)
        return FR_OUR_MAC;
    group[0] = group[1] = 0x33;
    memcpy(group + 2, dst->b + 12, 4);
    return group;
}

/* An ICMPv6 message from src to dst (group MAC for a group), hop limit hop. */
static V6_UNUSED size_t v6_icmp_from(uint8_t *out, const tern_ip6_t *src, const tern_ip6_t *dst, uint8_t hop,
                                     const uint8_t *msg, size_t len)
{
    uint8_t group[6];
    return v6_frame(out, v6_dmac(dst, group), src, dst, 58, hop, msg, len, 0);
}

static V6_UNUSED size_t v6_icmp(uint8_t *out, const tern_ip6_t *dst, uint8_t hop, const uint8_t *msg, size_t len)
{
    return v6_icmp_from(out, &PEER_LL, dst, hop, msg, len);
}

static V6_UNUSED size_t msg_echo(uint8_t *m, uint16_t id, uint16_t seq, size_t dlen)
{
    memset(m, 0, 8);
    m[0] = 128;
    be16_put(m + 4, id);
    be16_put(m + 6, seq);
    for (size_t i = 0; i < dlen; i++)
        m[8 + i] = (uint8_t)(i * 13 + 5);
    return 8 + dlen;
}

/* NS for target, with the SLLA mac when mac != NULL. */
static V6_UNUSED size_t msg_ns(uint8_t *m, const tern_ip6_t *target, const uint8_t *mac)
{
    memset(m, 0, 32);
    m[0] = 135;
    memcpy(m + 8, target->b, 16);
    if (mac == NULL)
        return 24;
    m[24] = 1;
    m[25] = 1;
    memcpy(m + 26, mac, 6);
    return 32;
}

static V6_UNUSED size_t msg_na(uint8_t *m, const tern_ip6_t *target, uint8_t flags, const uint8_t *tlla)
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

/* An RA header (hop limit, router lifetime, reachable, retrans), no options. */
static V6_UNUSED size_t msg_ra_head(uint8_t *m, uint8_t hop, uint16_t lifetime, uint32_t reachable, uint32_t retrans)
{
    memset(m, 0, 16);
    m[0] = 134;
    m[4] = hop;
    be16_put(m + 6, lifetime);
    be32_put(m + 8, reachable);
    be32_put(m + 12, retrans);
    return 16;
}

/* Options appended at m + n; each returns the new length. */
static V6_UNUSED size_t opt_slla(uint8_t *m, size_t n, const uint8_t mac[6])
{
    m[n] = 1;
    m[n + 1] = 1;
    memcpy(m + n + 2, mac, 6);
    return n + 8;
}

static V6_UNUSED size_t opt_prefix(uint8_t *m, size_t n, const tern_ip6_t *prefix, uint8_t plen, uint8_t flags,
                                   uint32_t valid, uint32_t preferred)
{
    memset(m + n, 0, 32);
    m[n] = 3;
    m[n + 1] = 4;
    m[n + 2] = plen;
    m[n + 3] = flags;
    be32_put(m + n + 4, valid);
    be32_put(m + n + 8, preferred);
    memcpy(m + n + 16, prefix->b, 16);
    return n + 32;
}

static V6_UNUSED size_t opt_mtu(uint8_t *m, size_t n, uint32_t mtu)
{
    memset(m + n, 0, 8);
    m[n] = 5;
    m[n + 1] = 1;
    be32_put(m + n + 4, mtu);
    return n + 8;
}

/* RDNSS with count addresses from addrs, lifetime in seconds. */
static V6_UNUSED size_t opt_rdnss(uint8_t *m, size_t n, const tern_ip6_t *addrs, unsigned count, uint32_t lifetime)
{
    memset(m + n, 0, 8);
    m[n] = 25;
    m[n + 1] = (uint8_t)(1u + 2u * count);
    be32_put(m + n + 4, lifetime);
    for (unsigned k = 0; k < count; k++)
        memcpy(m + n + 8 + 16u * k, addrs[k].b, 16);
    return n + 8 + 16u * count;
}

/* An RA from the peer's link-local address to all nodes. */
static V6_UNUSED void rx_ra(net_fixture_t *f, const uint8_t *m, size_t len)
{
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 255, m, len));
}

/* The i-th captured frame as ICMPv6: its type, or -1 when it is not one. */
static V6_UNUSED int cap_icmp_type(net_fixture_t *f, unsigned i)
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

/* How many captured frames are ICMPv6 of type t. */
static V6_UNUSED unsigned cap_count_type(net_fixture_t *f, int t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->cn.count; i++)
        n += cap_icmp_type(f, i) == t;
    return n;
}

/* The checksum of a captured ICMPv6 message (no extension headers) verifies. */
static V6_UNUSED void assert_cap_checksum(net_fixture_t *f, unsigned i)
{
    size_t len;
    const uint8_t *fr = capnet_frame(&f->cn, i, &len);
    static uint8_t buf[FRAME_MAX + 40];
    size_t mlen = len - 54;
    memcpy(buf, fr + 14 + 8, 32);
    be32_put(buf + 32, (uint32_t)mlen);
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = fr[14 + 6];
    memcpy(buf + 40, fr + 54, mlen);
    assert_int_equal(frame_checksum(buf, 40 + mlen), 0);
}

/* Put the peer (PEER_LL, FR_PEER_MAC) in the cache, REACHABLE: its
 * solicitation for our address, then its answer to our probe. */
static V6_UNUSED void peer_known(net_fixture_t *f)
{
    uint8_t m[128], fr[FRAME_MAX];
    tern_ip6_t sn;
    ip6_solicited_node(&OUR_LL, &sn);
    fx_rx(f, fr, v6_icmp(fr, &sn, 255, m, msg_ns(m, &OUR_LL, FR_PEER_MAC)));
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 255, m, msg_na(m, &PEER_LL, 0x40, FR_PEER_MAC)));
    capnet_clear(&f->cn);
    memset(&f->stack.counters, 0, sizeof f->stack.counters);
}

static V6_UNUSED const tern_nd_entry_t *nbr_entry(net_fixture_t *f, const tern_ip6_t *ip)
{
    for (unsigned i = 0; i < TERN_IPV6_NBR_CACHE_SIZE; i++) {
        const tern_nd_entry_t *e = &f->stack.ipv6.nbr[i];
        if (e->state != TERN_ND_FREE && memcmp(e->ip.b, ip->b, 16) == 0)
            return e;
    }
    return NULL;
}

#endif
