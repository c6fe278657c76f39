/* ICMPv6, IPv6 fragments and path MTU on the paths test_ipv6.c does not
 * take (issue 17, coverage; the dual-stack variant only:
 * TERN_TEST_IPV6_VARIANT): errors and echo replies that find no source, no
 * buffer or no route; messages too short, of unknown types, echo replies;
 * echo requests beyond one buffer with a bad checksum, of another type, to
 * a group; malformed Packet Too Big; a full path MTU cache; RFC 8200 4.5's
 * length checks and RFC 7112's chain check on fragments; the byte budget
 * across datagrams; fragments left at stack teardown. */
#include "v6_frames.h"

/* One fragment from the peer to dst: a fragment header (next header next,
 * identification id) and len bytes of data at offset. */
static size_t frag_to(uint8_t *fr, const tern_ip6_t *dst, uint32_t id, size_t offset, int more, uint8_t next,
                      const uint8_t *data, size_t len)
{
    static uint8_t p[1600];
    p[0] = next;
    p[1] = 0;
    be16_put(p + 2, (uint32_t)(offset | (more ? 1u : 0u)));
    be32_put(p + 4, id);
    memcpy(p + 8, data, len);
    uint8_t group[6];
    return v6_frame(fr, v6_dmac(dst, group), &PEER_LL, dst, 44, 64, p, 8 + len, -1);
}

static size_t frag_frame(uint8_t *fr, uint32_t id, size_t offset, int more, uint8_t next, const uint8_t *data,
                         size_t len)
{
    return frag_to(fr, &OUR_LL, id, offset, more, next, data, len);
}

/* Send message m (ml bytes) to dst in fragments of 1448 bytes. */
static void send_in_fragments(net_fixture_t *f, const tern_ip6_t *dst, uint32_t id, const uint8_t *m, size_t ml)
{
    uint8_t fr[FRAME_MAX];
    for (size_t off = 0; off < ml; off += 1448)
        fx_rx(f, fr, frag_to(fr, dst, id, off, off + 1448 < ml, 58, m + off, ml - off < 1448 ? ml - off : 1448));
}

static tern_netbuf_t *held[TERN_NETBUF_COUNT];

static unsigned hold_buffers(net_fixture_t *f, unsigned keep)
{
    unsigned n = 0;
    while (tern_netbuf_free_count(&f->stack.netbufs) > keep) {
        held[n] = tern_netbuf_get(&f->stack.netbufs, 64, 0);
        assert_non_null(held[n]);
        n++;
    }
    return n;
}

static void release_buffers(net_fixture_t *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tern_netbuf_release(&f->stack.netbufs, held[i]);
}

/* A UDP datagram from src to dst port 9 (nobody listens: port unreachable). */
static size_t udp_frame(uint8_t *fr, const tern_ip6_t *src, const tern_ip6_t *dst)
{
    uint8_t u[16];
    memset(u, 0, sizeof u);
    be16_put(u, 4000);
    be16_put(u + 2, 9);
    be16_put(u + 4, sizeof u);
    uint8_t group[6];
    return v6_frame2(fr, v6_dmac(dst, group), src, dst, 17, 64, u, sizeof u, 0, 17);
}

/* RFC 4443 errors and echo replies that cannot go: no source address for
 * a group's sender, no buffer, no route back. Counted, nothing leaks. */
static void test_errors_and_replies_that_cannot_go(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[1600], fr[FRAME_MAX];
    peer_known(f);
    /* An option of action 10 to a group asks for an error (RFC 8200 4.2),
     * from our address for the sender's scope: none while ours is tentative. */
    uint8_t p[64];
    memset(p, 0, sizeof p);
    p[0] = 58;
    p[2] = 0x9E;
    p[3] = 4;
    size_t ml = msg_echo(p + 8, 1, 1, 8);
    size_t n = v6_frame(fr, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, &PEER_LL, &ALL_NODES, 60, 64, p, 8 + ml, 8);
    tern_ip6_addr_t *ll = ipv6_addr_find(IFS(f), &OUR_LL);
    ll->state = TERN_IP6_ADDR_TENTATIVE;
    ll->dad_deadline = f->stack.now + 100000u;
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->ipv6_drop_option, 1);
    assert_int_equal(C(f)->icmp6_tx_err, 1);
    assert_int_equal(f->cn.count, 0);
    ll->state = TERN_IP6_ADDR_PREFERRED;
    /* Port unreachable with no buffer left for it. */
    v6_poll(f, 1000); /* a fresh error token */
    unsigned h = hold_buffers(f, 1);
    fx_rx(f, fr, udp_frame(fr, &PEER_LL, &OUR_LL));
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    assert_int_equal(C(f)->icmp6_tx_err, 2);
    assert_int_equal(f->cn.count, 0);
    release_buffers(f, h);
    /* An off-link sender and no default router: no route back, for the
     * error and for an echo reply. */
    v6_poll(f, 1000); /* a fresh error token */
    fx_rx(f, fr, udp_frame(fr, &REMOTE, &OUR_LL));
    assert_int_equal(C(f)->icmp6_tx_err, 3);
    assert_int_equal(C(f)->ipv6_tx_noroute, 1);
    fx_rx(f, fr, v6_icmp_from(fr, &REMOTE, &OUR_LL, 64, m, msg_echo(m, 2, 2, 16)));
    assert_int_equal(C(f)->icmp6_echo_rx, 1);
    assert_int_equal(C(f)->icmp6_tx_err, 4);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 0);
    /* An echo request to a group: not answered (TERN_ICMP_ECHO_BROADCAST 0). */
    fx_rx(f, fr, v6_icmp(fr, &ALL_NODES, 64, m, msg_echo(m, 3, 3, 16)));
    assert_int_equal(C(f)->icmp6_drop_mcast_echo, 1);
    /* A reply that must go in fragments (a PTB lowered the path) and
     * finds no buffer for them. */
    uint8_t ptb[8 + 48];
    memset(ptb, 0, sizeof ptb);
    ptb[0] = 2;
    be32_put(ptb + 4, 1280);
    ptb[8] = 0x60;
    ptb[8 + 6] = 58;
    memcpy(ptb + 8 + 8, OUR_LL.b, 16);
    memcpy(ptb + 8 + 24, PEER_LL.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1280);
    h = hold_buffers(f, 1);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, msg_echo(m, 4, 4, 1400)));
    assert_int_equal(C(f)->icmp6_tx_err, 5);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 0);
    assert_int_equal(f->cn.count, 0);
    release_buffers(f, h);
    /* The same towards an off-link sender with no route back: the first
     * fragment fails, the reply with it. */
    memcpy(ptb + 8 + 24, REMOTE.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(ipv6_path_mtu(&f->stack, &REMOTE), 1280);
    uint32_t noroute = C(f)->ipv6_tx_noroute;
    fx_rx(f, fr, v6_icmp_from(fr, &REMOTE, &OUR_LL, 64, m, msg_echo(m, 5, 5, 1400)));
    assert_int_equal(C(f)->icmp6_tx_err, 6);
    assert_int_equal(C(f)->ipv6_tx_noroute, noroute + 1);
    assert_int_equal(C(f)->ipv6_frag_tx, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* ICMPv6 input: too short for a header, an echo reply, an unknown
 * informational type (RFC 4443 2.4 (b)), Packet Too Big too short or
 * quoting something that is not IPv6, ND in fragments (RFC 6980). */
static void test_input_kinds(void **state)
{
    net_fixture_t *f = *state;
    uint8_t m[128], fr[FRAME_MAX];
    memset(m, 0, sizeof m);
    m[0] = 128;
    fx_expect_drop(f, fr, v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 58, 64, m, 3, -1), &C(f)->icmp6_drop_truncated);
    size_t ml = msg_echo(m, 1, 1, 8);
    m[0] = 129;
    capnet_clear(&f->cn);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, m, ml));
    assert_int_equal(C(f)->icmp6_echo_reply_rx, 1);
    assert_int_equal(f->cn.count, 0);
    m[0] = 200;
    fx_expect_drop(f, fr, v6_icmp(fr, &OUR_LL, 64, m, ml), &C(f)->icmp6_drop_type);
    /* PTB: 8 + 39 bytes, then a quote of version 4. */
    uint8_t ptb[8 + 48];
    memset(ptb, 0, sizeof ptb);
    ptb[0] = 2;
    be32_put(ptb + 4, 1300);
    ptb[8] = 0x60;
    memcpy(ptb + 8 + 8, OUR_LL.b, 16);
    memcpy(ptb + 8 + 24, PEER_LL.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, 8 + 39));
    assert_int_equal(C(f)->icmp6_drop_ptb, 1);
    ptb[8] = 0x40;
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(C(f)->icmp6_drop_ptb, 2);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1500);
    /* An NA in two fragments: reassembled, then dropped (RFC 6980 5). */
    size_t nl = msg_na(m, &PEER_LL, 0x20, FR_PEER_MAC);
    v6_icmp_csum(m, nl, &PEER_LL, &OUR_LL, 58);
    fx_rx(f, fr, frag_frame(fr, 5, 0, 1, 58, m, 16));
    fx_rx(f, fr, frag_frame(fr, 5, 16, 0, 58, m + 16, nl - 16));
    assert_int_equal(C(f)->ipv6_reass_ok, 1);
    assert_int_equal(C(f)->icmp6_drop_frag_nd, 1);
    assert_int_equal(C(f)->nd_na_rx, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Messages beyond one buffer, put together in the reassembly block: only an
 * echo request to us with a good checksum is answered. */
static void test_large_messages(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t m[3100];
    peer_known(f);
    size_t ml = msg_echo(m, 7, 7, 3000);
    v6_icmp_csum(m, ml, &PEER_LL, &OUR_LL, 58);
    m[100] ^= 1; /* checksum now wrong */
    send_in_fragments(f, &OUR_LL, 1, m, ml);
    assert_int_equal(C(f)->ipv6_reass_ok, 1);
    assert_int_equal(C(f)->icmp6_drop_checksum, 1);
    m[100] ^= 1;
    m[0] = 129; /* an echo reply: no use */
    v6_icmp_csum(m, ml, &PEER_LL, &OUR_LL, 58);
    send_in_fragments(f, &OUR_LL, 2, m, ml);
    assert_int_equal(C(f)->icmp6_drop_type, 1);
    m[0] = 128; /* to a group: not answered */
    v6_icmp_csum(m, ml, &PEER_LL, &ALL_NODES, 58);
    send_in_fragments(f, &ALL_NODES, 3, m, ml);
    assert_int_equal(C(f)->icmp6_drop_mcast_echo, 1);
    assert_int_equal(C(f)->ipv6_reass_ok, 3);
    assert_int_equal(C(f)->icmp6_echo_reply_tx, 0);
    assert_int_equal(f->cn.count, 0);
    /* UDP beyond one buffer: too big to deliver. */
    static uint8_t u[3100];
    memset(u, 0x33, sizeof u);
    be16_put(u, 4000);
    be16_put(u + 2, 9);
    be16_put(u + 4, 3000);
    v6_icmp_csum(u, 3000, &PEER_LL, &OUR_LL, 17);
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, frag_frame(fr, 4, 0, 1, 17, u, 1448));
    fx_rx(f, fr, frag_frame(fr, 4, 1448, 1, 17, u + 1448, 1448));
    fx_rx(f, fr, frag_frame(fr, 4, 2896, 0, 17, u + 2896, 104));
    assert_int_equal(C(f)->ipv6_reass_too_big, 1);
    assert_int_equal(C(f)->udp_rx, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* Packet Too Big for more destinations than TERN_IPV6_PMTU_CACHE holds:
 * the entry nearest its end makes room; entries age out on their own. */
static void test_pmtu_cache_full(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    uint8_t ptb[8 + 48];
    tern_ip6_t dst[TERN_IPV6_PMTU_CACHE + 2];
    for (unsigned k = 0; k <= TERN_IPV6_PMTU_CACHE + 1; k++) {
        dst[k] = PEER_GLOBAL;
        dst[k].b[15] = (uint8_t)(0x40 + k);
        memset(ptb, 0, sizeof ptb);
        ptb[0] = 2;
        be32_put(ptb + 4, 1400 - k);
        ptb[8] = 0x60;
        memcpy(ptb + 8 + 8, OUR_LL.b, 16);
        memcpy(ptb + 8 + 24, dst[k].b, 16);
        fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
        v6_poll(f, 1000); /* each one a second younger */
    }
    assert_int_equal(C(f)->icmp6_ptb_rx, TERN_IPV6_PMTU_CACHE + 2);
    /* The two oldest made room, one each time. */
    assert_int_equal(ipv6_path_mtu(&f->stack, &dst[0]), 1500);
    assert_int_equal(ipv6_path_mtu(&f->stack, &dst[1]), 1500);
    for (unsigned k = 2; k <= TERN_IPV6_PMTU_CACHE + 1; k++)
        assert_int_equal(ipv6_path_mtu(&f->stack, &dst[k]), 1400 - k);
    f->now += TERN_IPV6_PMTU_AGE_MS;
    v6_poll(f, 100);
    assert_int_equal(ipv6_path_mtu(&f->stack, &dst[2]), 1500);
}

/* RFC 8200 4.5: a datagram growing past 65535 bytes, and fragments that
 * contradict the length the last one fixed; RFC 7112: fragment zero
 * without the whole chain; our byte budget across two datagrams. */
static void test_fragment_checks(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t d[4200];
    uint8_t fr[FRAME_MAX];
    memset(d, 0x80, sizeof d); /* looks like an echo request, not an error */
    peer_known(f);
    /* Offset 65528 with 16 bytes: past 65535, Parameter Problem at the
     * fragment offset field (40 + 2). */
    fx_rx(f, fr, frag_frame(fr, 1, 65528, 0, 58, d, 16));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 1);
    assert_int_equal(cap_icmp_type(f, 0), 4);
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(be32_get(got + 54 + 4), 42);
    /* The last fragment says 64 bytes; another last one says 80; one with
     * more after it ends beyond 64. */
    fx_rx(f, fr, frag_frame(fr, 2, 48, 0, 58, d, 16));
    fx_rx(f, fr, frag_frame(fr, 2, 64, 0, 58, d, 16));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 2);
    fx_rx(f, fr, frag_frame(fr, 3, 48, 0, 58, d, 16));
    fx_rx(f, fr, frag_frame(fr, 3, 56, 1, 58, d, 16));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 3);
    /* A last fragment below what was already seen. */
    fx_rx(f, fr, frag_frame(fr, 4, 64, 1, 58, d, 16));
    fx_rx(f, fr, frag_frame(fr, 4, 16, 0, 58, d, 16));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 4);
    /* Fragment zero with a destination options header after the fragment
     * header: complete with the ICMPv6 header, incomplete when the options
     * header runs past the fragment or leaves under 8 bytes. */
    uint8_t z[64];
    memset(z, 0, sizeof z);
    z[0] = 58;
    z[2] = IPV6_OPT_PADN;
    z[3] = 4;
    (void)msg_echo(z + 8, 9, 9, 8);
    capnet_clear(&f->cn);
    v6_poll(f, 1000); /* a fresh error token */
    fx_rx(f, fr, frag_frame(fr, 5, 0, 1, 60, z, 24));
    assert_int_equal(C(f)->ipv6_reass_chain, 0);
    z[1] = 4; /* 40 bytes: past the 24 of the fragment */
    fx_rx(f, fr, frag_frame(fr, 6, 0, 1, 60, z, 24));
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    assert_int_equal(cap_icmp_type(f, 0), 4);
    got = capnet_frame(&f->cn, 0, &len);
    assert_int_equal(got[55], 3); /* RFC 8200 4.5: code 3 */
    v6_poll(f, 1000); /* a fresh error token */
    z[0] = 60; /* another options header, not in the fragment */
    z[1] = 0;
    fx_rx(f, fr, frag_frame(fr, 7, 0, 1, 60, z, 8));
    assert_int_equal(C(f)->ipv6_reass_chain, 2);
    /* Two datagrams sharing TERN_IP_REASS_MAX_BYTES: the second cannot
     * grow past what the first left. */
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u); /* the table empty first */
    assert_int_equal(f->stack.ipv4.reass_bytes, 0);
    size_t big = (TERN_IP_REASS_MAX_BYTES - 1448u) & ~(size_t)7u;
    fx_rx(f, fr, frag_frame(fr, 8, big, 1, 58, d, 1448));
    uint32_t tb = C(f)->ipv6_reass_too_big;
    assert_true(f->stack.ipv4.reass_bytes > TERN_IP_REASS_MAX_BYTES - 1448u);
    fx_rx(f, fr, frag_frame(fr, 9, 0, 1, 58, d, 1448));
    assert_int_equal(C(f)->ipv6_reass_too_big, tb + 1);
    assert_true(f->stack.ipv4.reass_bytes <= TERN_IP_REASS_MAX_BYTES);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(f->stack.ipv4.reass_bytes, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A short header at the end of a packet (fewer than 8 bytes left), and a
 * fragment header inside a reassembled datagram: both dropped. */
static void test_chain_leftovers(void **state)
{
    net_fixture_t *f = *state;
    uint8_t p[64], fr[FRAME_MAX];
    memset(p, 0, sizeof p);
    p[0] = 58;
    fx_expect_drop(f, fr, v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 4, -1), &C(f)->ipv6_drop_ext_len);
    /* The fragmentable part starts with another (non-atomic) fragment
     * header. */
    uint8_t q[64];
    memset(q, 0, sizeof q);
    q[0] = 58;
    be16_put(q + 2, 8u | 1u);
    size_t ml = msg_echo(q + 8, 1, 1, 8);
    fx_rx(f, fr, frag_frame(fr, 11, 0, 1, 44, q, 16));
    fx_rx(f, fr, frag_frame(fr, 11, 16, 0, 44, q + 16, 8 + ml - 16));
    assert_int_equal(C(f)->ipv6_reass_ok, 1);
    assert_int_equal(C(f)->ipv6_drop_fragment, 1);
    assert_int_equal(f->cn.count, 0);
    mem_assert_baseline(&f->stack, &f->base);
}

/* A datagram still in reassembly when the stack goes: freed with it. */
static void test_fragments_at_deinit(void **state)
{
    (void)state;
    net_fixture_t *f = v6_fixture(73);
    uint8_t d[16], fr[FRAME_MAX];
    memset(d, 0, sizeof d);
    fx_rx(f, fr, frag_frame(fr, 1, 0, 1, 58, d, 16));
    assert_int_equal(C(f)->ipv6_frag_rx, 1);
    assert_true(f->stack.ipv4.reass_bytes > 0);
    mem_snapshot(&f->stack, &f->base); /* the block stays to the end */
    net_fixture_free(f);               /* ledger empty after deinit */
}

/* Fragment zero's chain by next header: TCP needs 20 bytes, UDP 8; a
 * routing header and a second fragment header are walked; the same
 * identification from another source is another datagram. An overlapped
 * (dead) datagram times out without a Time Exceeded. */
static void test_fragment_zero_chains(void **state)
{
    net_fixture_t *f = *state;
    uint8_t d[32], fr[FRAME_MAX];
    peer_known(f);
    memset(d, 0, sizeof d);
    d[0] = 128;
    fx_rx(f, fr, frag_frame(fr, 1, 0, 1, 6, d, 8)); /* TCP: 8 of 20 bytes */
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    v6_poll(f, 1000);
    fx_rx(f, fr, frag_frame(fr, 2, 0, 1, 17, d, 8)); /* UDP: its 8 */
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    assert_int_equal(C(f)->ipv6_frag_rx, 1);
    /* Routing header (no segments left), then ICMPv6. */
    uint8_t r[24];
    memset(r, 0, sizeof r);
    r[0] = 58;
    r[2] = 4;
    r[8] = 128;
    fx_rx(f, fr, frag_frame(fr, 3, 0, 1, 43, r, 16));
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    assert_int_equal(C(f)->ipv6_frag_rx, 2);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    /* A fragment header inside fragment zero's chain. */
    memset(r, 0, sizeof r);
    r[0] = 58;
    r[8] = 128;
    fx_rx(f, fr, frag_frame(fr, 4, 0, 1, 44, r, 16));
    assert_int_equal(C(f)->ipv6_reass_chain, 1);
    /* Identification 4 again from another host: a second datagram. */
    static uint8_t p[64];
    p[0] = 58;
    p[1] = 0;
    be16_put(p + 2, 1u);
    be32_put(p + 4, 4);
    memcpy(p + 8, d, 16);
    fx_rx(f, fr, v6_frame(fr, FR_OUR_MAC, &OTHER_LL, &OUR_LL, 44, 64, p, 24, -1));
    unsigned used = 0;
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++)
        used += f->stack.ipv6.reass[i] != NULL;
    assert_int_equal(used, 2);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    /* RFC 5722: an overlap kills the datagram; its timeout says nothing. */
    capnet_clear(&f->cn);
    fx_rx(f, fr, frag_frame(fr, 5, 0, 1, 58, d, 16));
    fx_rx(f, fr, frag_frame(fr, 5, 8, 1, 58, d, 16));
    assert_int_equal(C(f)->ipv6_reass_overlap, 1);
    uint32_t to = C(f)->ipv6_reass_timeout;
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    assert_int_equal(C(f)->ipv6_reass_timeout, to + 1);
    assert_int_equal(cap_count_type(f, 3), 0);
    v6_poll(f, 4000); /* OTHER_LL's Time Exceeded waited for its address */
    mem_assert_baseline(&f->stack, &f->base);
    /* The path MTU with no destination, and on a stack without IPv6. */
    assert_int_equal(ipv6_path_mtu(&f->stack, NULL), 1500);
    net_fixture_t *g = net_fixture_new(74);
    assert_int_equal(ipv6_path_mtu(&g->stack, &PEER_LL), 1280);
    net_fixture_free(g);
}

/* RFC 4443 2.4 (e) behind extension headers: no error about an ICMPv6
 * error or a redirect, none to the unspecified source. */
static void test_no_error_about_errors_behind_headers(void **state)
{
    net_fixture_t *f = *state;
    uint8_t p[96], fr[FRAME_MAX];
    peer_known(f);
    for (unsigned k = 0; k < 2; k++) {
        memset(p, 0, sizeof p);
        p[0] = 58;
        p[2] = 0xDE; /* action 11: an error to a unicast destination */
        p[3] = 4;
        p[8] = k == 0 ? 137 : 1; /* a redirect, a destination unreachable */
        size_t n = v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 8 + 48, 8);
        v6_poll(f, 1000);
        fx_rx(f, fr, n);
    }
    assert_int_equal(C(f)->ipv6_drop_option, 2);
    assert_int_equal(C(f)->icmp6_err_suppressed, 2);
    /* A UDP datagram from :: to a closed port: nobody to tell. */
    uint8_t u[16];
    memset(u, 0, sizeof u);
    be16_put(u, 4000);
    be16_put(u + 2, 9);
    be16_put(u + 4, 16);
    v6_poll(f, 1000);
    fx_rx(f, fr, v6_frame2(fr, FR_OUR_MAC, &ANY6, &OUR_LL, 17, 64, u, 16, 0, 17));
    assert_int_equal(C(f)->udp_drop_no_port, 1);
    assert_int_equal(C(f)->icmp6_err_suppressed, 3);
    assert_int_equal(f->cn.count, 0);
}

/* Smaller fragment and error cases: an empty fragment with more to come;
 * fragment zero naming a hop-by-hop header or no next header; one
 * identification to two destinations; a path MTU estimate above a link
 * MTU lowered later; Parameter Problems about packets that end right
 * after their extension headers, or carry TERN_IPV6_EXT_HDR_MAX of them. */
static void test_fragment_and_error_odds(void **state)
{
    net_fixture_t *f = *state;
    uint8_t d[64], fr[FRAME_MAX];
    peer_known(f);
    memset(d, 0, sizeof d);
    d[0] = 128;
    fx_rx(f, fr, frag_frame(fr, 1, 0, 1, 58, d, 0));
    assert_int_equal(C(f)->ipv6_reass_bad_frag, 1);
    fx_rx(f, fr, frag_frame(fr, 2, 0, 1, 0, d, 8));  /* hop-by-hop next */
    fx_rx(f, fr, frag_frame(fr, 3, 0, 1, 59, d, 8)); /* no next header */
    assert_int_equal(C(f)->ipv6_reass_chain, 0);
    assert_int_equal(C(f)->ipv6_frag_rx, 2);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    fx_rx(f, fr, frag_to(fr, &OUR_LL, 4, 8, 1, 58, d, 8));
    fx_rx(f, fr, frag_to(fr, &ALL_NODES, 4, 8, 1, 58, d, 8));
    unsigned used = 0;
    for (unsigned i = 0; i < TERN_IP_REASS_MAX_DATAGRAMS; i++)
        used += f->stack.ipv6.reass[i] != NULL;
    assert_int_equal(used, 2);
    v6_poll(f, TERN_IP_REASS_TIMEOUT_MS + 100u);
    /* PTB says 1400; the RA then lowers the link to 1280: 1280 wins. */
    uint8_t ptb[8 + 48];
    memset(ptb, 0, sizeof ptb);
    ptb[0] = 2;
    be32_put(ptb + 4, 1400);
    ptb[8] = 0x60;
    memcpy(ptb + 8 + 8, OUR_LL.b, 16);
    memcpy(ptb + 8 + 24, PEER_LL.b, 16);
    fx_rx(f, fr, v6_icmp(fr, &OUR_LL, 64, ptb, sizeof ptb));
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1400);
    uint8_t m[64];
    size_t n = msg_ra_head(m, 64, 0, 0, 0);
    n = opt_mtu(m, n, 1280);
    rx_ra(f, m, n);
    assert_int_equal(ipv6_path_mtu(&f->stack, &PEER_LL), 1280);
    /* An option of action 11 in a header naming ICMPv6 with nothing after
     * it: the error goes (nothing in it is an error message). */
    uint8_t p[8 * (TERN_IPV6_EXT_HDR_MAX + 1)];
    memset(p, 0, sizeof p);
    p[0] = 58;
    p[2] = 0xDE;
    p[3] = 4;
    capnet_clear(&f->cn);
    v6_poll(f, 1000);
    fx_rx(f, fr, v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 8, -1));
    assert_int_equal(cap_count_type(f, 4), 1);
    /* TERN_IPV6_EXT_HDR_MAX headers, the option in the last: the walk for
     * "is it an error" stops at the bound; the error goes. */
    for (unsigned k = 0; k < TERN_IPV6_EXT_HDR_MAX; k++) {
        uint8_t *h = p + 8 * k;
        memset(h, 0, 8);
        h[0] = k + 1 == TERN_IPV6_EXT_HDR_MAX ? 58 : 60;
        h[2] = IPV6_OPT_PADN;
        h[3] = 4;
    }
    p[8 * (TERN_IPV6_EXT_HDR_MAX - 1) + 2] = 0xDE;
    size_t ml = msg_echo(p + 8 * TERN_IPV6_EXT_HDR_MAX, 1, 1, 0);
    v6_poll(f, 1000);
    fx_rx(f, fr, v6_frame(fr, FR_OUR_MAC, &PEER_LL, &OUR_LL, 60, 64, p, 8 * TERN_IPV6_EXT_HDR_MAX + ml,
                          (int)(8 * TERN_IPV6_EXT_HDR_MAX)));
    assert_int_equal(cap_count_type(f, 4), 2);
    mem_assert_baseline(&f->stack, &f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errors_and_replies_that_cannot_go, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_input_kinds, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_large_messages, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_pmtu_cache_full, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_fragment_checks, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_chain_leftovers, v6_setup, v6_teardown),
        cmocka_unit_test(test_fragments_at_deinit),
        cmocka_unit_test_setup_teardown(test_fragment_zero_chains, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_no_error_about_errors_behind_headers, v6_setup, v6_teardown),
        cmocka_unit_test_setup_teardown(test_fragment_and_error_odds, v6_setup, v6_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* TERN_TEST_IPV6_VARIANT */
