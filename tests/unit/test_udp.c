/* TERN_TEST_STATIC_VARIANT */
/* UDP and the raw UDP API on hand-built frames: delivery and the info a
 * callback gets, every malformed input (truncated, length field both ways,
 * padding, checksum bad / zero / all-ones / offloaded), broadcasts with and
 * without the flag, port unreachable (its bytes, its rate limit, none for
 * broadcasts), demultiplexing order, binding rules, ephemeral ports (RFC
 * 6056: randomized, no collisions, exhaustion) and output byte for byte. */
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "net/net_internal.h"
#include "net/udp_internal.h"
#include "tern/err.h"

static int setup(void **state)
{
    return net_fixture_setup(state, 17);
}

static tern_counters_t *C(net_fixture_t *f)
{
    return &f->stack.counters;
}

/* A whole frame from FR_PEER to dst (broadcast MAC when dst is one). */
static size_t udp_frame(uint8_t *fr, tern_ip4_t src, tern_ip4_t dst, uint16_t sport, uint16_t dport,
                        const void *data, size_t len)
{
    uint8_t udp[FRAME_MAX];
    size_t un = frame_udp(udp, src, dst, sport, dport, data, len);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 17, .id = 0x4242};
    int bcast = dst == 0xFFFFFFFFu || dst == FR_SUBNET_BCAST;
    return frame_ip_eth2(fr, bcast ? FR_BCAST_MAC : FR_OUR_MAC, FR_PEER_MAC, &ip, udp, un);
}

/* ---- a recording receive callback ---------------------------------------- */

typedef struct rec {
    unsigned calls;
    tern_udp_pcb_t *pcb;
    tern_udp_rx_info_t info;
    uint8_t data[FRAME_MAX];
    size_t len;
    int keep;           /* keep the buffer instead of releasing it */
    tern_netbuf_t *kept;
    int unbind;         /* unbind the pcb from inside the callback */
    unsigned errors;    /* error callback calls, and the last err */
    int err;
} rec_t;

static void rec_recv(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, tern_netbuf_t *nb,
                     const tern_udp_rx_info_t *info)
{
    rec_t *r = ctx;
    r->calls++;
    r->pcb = pcb;
    r->info = *info;
    r->len = nb->len;
    memcpy(r->data, nb->data, nb->len);
    if (r->unbind)
        tern_udp_unbind(stack, pcb);
    if (r->keep && r->kept == NULL)
        r->kept = nb;
    else
        tern_netbuf_release(&stack->netbufs, nb);
}

static void bind_flags(net_fixture_t *f, tern_udp_pcb_t *pcb, rec_t *r, tern_ip4_t addr, uint16_t port,
                       uint16_t flags)
{
    memset(r, 0, sizeof *r);
    tern_udp_pcb_init(pcb, rec_recv, r);
    pcb->flags = flags;
    tern_sockaddr_t l = {.addr = addr, .port = port};
    assert_int_equal(tern_udp_bind(&f->stack, pcb, &l), TERN_OK);
}

static void bind_pcb(net_fixture_t *f, tern_udp_pcb_t *pcb, rec_t *r, tern_ip4_t addr, uint16_t port)
{
    bind_flags(f, pcb, r, addr, port, 0);
}

/* Most input tests: a recording pcb on port 5000 (any address), unbound
 * again before the fixture's baseline check. */
typedef struct bound {
    net_fixture_t *f;
    tern_udp_pcb_t pcb;
    rec_t r;
} bound_t;

static int setup_bound(void **state)
{
    bound_t *b = calloc(1, sizeof *b);
    assert_non_null(b);
    setup(state);
    b->f = *state;
    bind_pcb(b->f, &b->pcb, &b->r, 0, 5000);
    *state = b;
    return 0;
}

static int teardown_bound(void **state)
{
    bound_t *b = *state;
    tern_udp_unbind(&b->f->stack, &b->pcb);
    net_fixture_free(b->f);
    free(b);
    return 0;
}

/* ---- input ------------------------------------------------------------------ */

static void test_deliver_sizes(void **state)
{
    bound_t *b = *state;
    net_fixture_t *f = b->f;
    rec_t *r = &b->r;
    static uint8_t data[1472];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    static const size_t lens[] = {0, 1, 2, 3, 17, 18, 100, 1000, 1471, 1472};
    uint8_t fr[FRAME_MAX];
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        f->now += 7;
        size_t n = udp_frame(fr, FR_PEER_IP, FR_OUR_IP, (uint16_t)(40000 + k), 5000, data, lens[k]);
        fx_rx(f, fr, n);
        assert_int_equal(r->calls, k + 1);
        assert_ptr_equal(r->pcb, &b->pcb);
        assert_int_equal(r->len, lens[k]);
        assert_memory_equal(r->data, data, lens[k]);
        assert_int_equal(r->info.from.addr, FR_PEER_IP);
        assert_int_equal(r->info.from.port, 40000 + k);
        assert_int_equal(r->info.to, FR_OUR_IP);
        assert_ptr_equal(r->info.nif, &f->cn.nif);
        assert_int_equal(r->info.now, f->now);
        mem_assert_baseline(&f->stack, &f->base);
    }
    assert_int_equal(C(f)->udp_rx, 10);
    assert_int_equal(C(f)->udp_delivered, 10);
    assert_int_equal(C(f)->ipv4_delivered, 10);
    assert_int_equal(counters_drops(C(f)), 0);
    assert_int_equal(f->cn.count, 0);
}

static void test_malformed(void **state)
{
    bound_t *b = *state;
    net_fixture_t *f = b->f;
    rec_t *r = &b->r;
    uint8_t udp[FRAME_MAX], fr[FRAME_MAX];
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17};
    /* IP payloads of 0..7 bytes: no room for the header. */
    size_t un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1234, 5000, "payload!", 8);
    for (size_t cut = 0; cut < 8; cut++) {
        size_t n = frame_ip_eth(fr, &ip, udp, cut);
        fx_expect_drop(f, fr, n, &C(f)->udp_drop_truncated);
    }
    /* Length field below the header, and beyond the IP payload by 1 and by
     * a lot (the checksum is redone each time: only the length is wrong). */
    static const uint16_t bad_len[] = {0, 1, 7, 17, 0xFFFF};
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1234, 5000, "payload!", 8);
        be16_put(udp + 4, bad_len[i]);
        be16_put(udp + 6, 0); /* no checksum: the length check alone decides */
        size_t n = frame_ip_eth(fr, &ip, udp, un);
        fx_expect_drop(f, fr, n, &C(f)->udp_drop_len);
    }
    /* Bad checksum: every single-bit error in the data is caught. */
    un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1234, 5000, "payload!", 8);
    for (unsigned bit = 0; bit < 8 * 16; bit += 13) {
        uint8_t bad[64];
        memcpy(bad, udp, un);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (bit / 8 == 4 || bit / 8 == 5)
            continue; /* length bits: a length error, tested above */
        size_t n = frame_ip_eth(fr, &ip, bad, un);
        fx_expect_drop(f, fr, n, &C(f)->udp_drop_checksum);
    }
    /* The pseudo header counts: the same datagram from another source
     * address fails. */
    frame_ip_t other = ip;
    other.src = FR_OTHER_IP;
    size_t n = frame_ip_eth(fr, &other, udp, un);
    memcpy(fr + 6, FR_OTHER_MAC, 6);
    fx_expect_drop(f, fr, n, &C(f)->udp_drop_checksum);
    assert_int_equal(r->calls, 0);
    assert_int_equal(C(f)->udp_delivered, 0);
    assert_int_equal(C(f)->icmp_err_tx, 0);
}

static void test_checksum_zero_ones_offload(void **state)
{
    bound_t *b = *state;
    net_fixture_t *f = b->f;
    rec_t *r = &b->r;
    uint8_t udp[FRAME_MAX], fr[FRAME_MAX];
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17};
    /* Zero: the sender computed none (RFC 768). Accepted. */
    size_t un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1, 5000, "nocsum", 6);
    be16_put(udp + 6, 0);
    fx_rx(f, fr, frame_ip_eth(fr, &ip, udp, un));
    assert_int_equal(r->calls, 1);
    assert_memory_equal(r->data, "nocsum", 6);
    /* A datagram whose checksum computes to zero travels as 0xFFFF: find
     * two data bytes that make it so. */
    uint8_t d[2] = {0, 0};
    int found = 0;
    for (unsigned v = 0; v < 65536 && !found; v++) {
        d[0] = (uint8_t)(v >> 8);
        d[1] = (uint8_t)v;
        un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1, 5000, d, 2);
        found = udp[6] == 0xFF && udp[7] == 0xFF;
    }
    assert_true(found);
    fx_rx(f, fr, frame_ip_eth(fr, &ip, udp, un));
    assert_int_equal(r->calls, 2);
    assert_memory_equal(r->data, d, 2);
    /* RX checksum offload: the hardware verified it, nothing is dropped for
     * a checksum (here a wrong one). */
    un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 1, 5000, "hw", 2);
    udp[6] ^= 0x55;
    f->cn.nif.offload = TERN_OFFLOAD_RX_L4_CSUM;
    fx_rx(f, fr, frame_ip_eth(fr, &ip, udp, un));
    assert_int_equal(r->calls, 3);
    f->cn.nif.offload = 0;
    fx_expect_drop(f, fr, frame_ip_eth(fr, &ip, udp, un), &C(f)->udp_drop_checksum);
    assert_int_equal(r->calls, 3);
}

static void test_ip_padding_trimmed(void **state)
{
    bound_t *b = *state;
    net_fixture_t *f = b->f;
    rec_t *r = &b->r;
    uint8_t udp[FRAME_MAX], fr[FRAME_MAX];
    /* IP carries 30 bytes; the UDP length says 8 + 3. The rest is not data
     * (and not in the checksum). */
    size_t un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 9, 5000, "abc", 3);
    memset(udp + un, 0xEE, 30 - un);
    frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17};
    size_t n = frame_ip_eth(fr, &ip, udp, 30);
    fx_rx(f, fr, n);
    assert_int_equal(r->calls, 1);
    assert_int_equal(r->len, 3);
    assert_memory_equal(r->data, "abc", 3);
    /* Ethernet padding after a short IP packet too. */
    n = udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 9, 5000, "x", 1);
    memset(fr + n, 0, 60 - n);
    fx_rx(f, fr, 60);
    assert_int_equal(r->calls, 2);
    assert_int_equal(r->len, 1);
    assert_int_equal(counters_drops(C(f)), 0);
}

/* The port unreachable we expect for a datagram whose IP packet is ipb. */
static void check_port_unreach(net_fixture_t *f, unsigned idx, const uint8_t *ipb, size_t ipn)
{
    size_t len;
    const uint8_t *got = capnet_frame(&f->cn, idx, &len);
    size_t qlen = 20 + (ipn - 20 < 8 ? ipn - 20 : 8);
    uint8_t icmp[FRAME_MAX], want[FRAME_MAX];
    size_t in = frame_icmp(icmp, 3, 3, 0, ipb, qlen);
    frame_ip_t rip = {.src = FR_OUR_IP, .dst = FR_PEER_IP, .proto = 1, .frag = 0x4000,
                      .id = (uint16_t)(got[18] << 8 | got[19])};
    size_t wn = frame_ip_eth2(want, FR_PEER_MAC, FR_OUR_MAC, &rip, icmp, in);
    assert_int_equal(len, wn);
    assert_memory_equal(got, want, wn);
}

static void test_port_unreachable(void **state)
{
    net_fixture_t *f = *state;
    uint8_t udp[FRAME_MAX], ipb[FRAME_MAX], fr[FRAME_MAX];
    static const size_t lens[] = {0, 5, 40};
    for (size_t k = 0; k < 3; k++) {
        f->now += 1000; /* keep the rate limit out of it */
        size_t un = frame_udp(udp, FR_PEER_IP, FR_OUR_IP, 33000, 7, "0123456789012345678901234567890123456789",
                              lens[k]);
        frame_ip_t ip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 17, .id = (uint16_t)k};
        size_t ipn = frame_ipv4(ipb, &ip, udp, un);
        size_t n = frame_eth(fr, FR_OUR_MAC, FR_PEER_MAC, 0x0800, ipb, ipn);
        capnet_clear(&f->cn);
        fx_rx(f, fr, n);
        assert_int_equal(f->cn.count, 1);
        check_port_unreach(f, 0, ipb, ipn);
        mem_assert_baseline(&f->stack, &f->base);
    }
    assert_int_equal(C(f)->udp_drop_no_port, 3);
    assert_int_equal(C(f)->icmp_err_tx, 3);
    assert_int_equal(C(f)->ipv4_drop_proto, 0);
    /* A bound port on another number changes nothing; a pcb without a
     * callback does not receive either. */
    tern_udp_pcb_t pcb;
    tern_udp_pcb_init(&pcb, NULL, NULL);
    tern_sockaddr_t l = {.addr = 0, .port = 7};
    assert_int_equal(tern_udp_bind(&f->stack, &pcb, &l), TERN_OK);
    f->now += 1000;
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 1, 7, "z", 1));
    assert_int_equal(C(f)->udp_drop_no_port, 4);
    tern_udp_unbind(&f->stack, &pcb);
}

static void test_port_unreachable_rate_limit(void **state)
{
    net_fixture_t *f = *state;
    const unsigned rate = TERN_ICMP_ERROR_RATE;
    uint8_t fr[FRAME_MAX];
    size_t n = udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 33000, 9, "probe", 5);
    /* A port scan at one instant: one bucket's worth of answers. */
    for (unsigned i = 0; i < 3 * rate; i++)
        fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp_err_tx, rate);
    assert_int_equal(C(f)->icmp_err_rate_limited, 2 * rate);
    assert_int_equal(C(f)->udp_drop_no_port, 3 * rate);
    f->now += 1000 / rate;
    fx_rx(f, fr, n);
    fx_rx(f, fr, n);
    assert_int_equal(C(f)->icmp_err_tx, rate + 1);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_broadcast(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    static const tern_ip4_t dsts[] = {0xFFFFFFFFu, FR_SUBNET_BCAST};
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 67);
    for (size_t i = 0; i < 2; i++) {
        /* Without the flag: nobody takes it, and no ICMP error goes out
         * about a broadcast (RFC 1122 4.1.3.1, 3.2.2). */
        size_t n = udp_frame(fr, FR_PEER_IP, dsts[i], 68, 67, "bcast", 5);
        uint32_t suppressed = C(f)->icmp_err_suppressed;
        fx_expect_drop(f, fr, n, &C(f)->udp_drop_no_port);
        assert_int_equal(C(f)->icmp_err_suppressed, suppressed + 1);
        assert_int_equal(r.calls, 0);
    }
    pcb.flags |= TERN_UDP_F_BROADCAST;
    for (size_t i = 0; i < 2; i++) {
        size_t n = udp_frame(fr, FR_PEER_IP, dsts[i], 68, 67, "bcast", 5);
        fx_rx(f, fr, n);
        assert_int_equal(r.calls, i + 1);
        assert_int_equal(r.info.to, dsts[i]);
        assert_memory_equal(r.data, "bcast", 5);
    }
    /* Bound to our unicast address: no broadcasts even with the flag. */
    tern_udp_unbind(&f->stack, &pcb);
    bind_pcb(f, &pcb, &r, FR_OUR_IP, 67);
    pcb.flags |= TERN_UDP_F_BROADCAST;
    fx_expect_drop(f, fr, udp_frame(fr, FR_PEER_IP, 0xFFFFFFFFu, 68, 67, "b", 1), &C(f)->udp_drop_no_port);
    assert_int_equal(r.calls, 0);
    assert_int_equal(f->cn.count, 0);
    tern_udp_unbind(&f->stack, &pcb);
}

static void test_demux_order(void **state)
{
    net_fixture_t *f = *state;
    uint8_t fr[FRAME_MAX];
    static capnet_t other_cn; /* an interface the datagrams do not arrive on */
    enum { WILD, NIF_OTHER, ADDR, CONN, CONN_OTHER, N };
    tern_udp_pcb_t pcb[N];
    rec_t rec[N];
    /* Bind order must not matter: least specific first, then last. */
    for (int order = 0; order < 2; order++) {
        for (int k = 0; k < N; k++) {
            int i = order == 0 ? k : N - 1 - k;
            memset(&rec[i], 0, sizeof rec[i]);
            tern_udp_pcb_init(&pcb[i], rec_recv, &rec[i]);
            pcb[i].flags = TERN_UDP_F_REUSEADDR;
            tern_sockaddr_t l = {.addr = i == ADDR ? FR_OUR_IP : 0, .port = 53};
            if (i == NIF_OTHER)
                pcb[i].nif = &other_cn.nif;
            if (i == CONN || i == CONN_OTHER) {
                /* Connected pcbs on the wildcard address: connected beats
                 * bound-to-address on its own. */
                pcb[i].remote.addr = FR_PEER_IP;
                pcb[i].remote.port = i == CONN ? 4000 : 4001;
            }
            assert_int_equal(tern_udp_bind(&f->stack, &pcb[i], &l), TERN_OK);
        }
        /* From the connected peer: the connected pcb. */
        fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 4000, 53, "c", 1));
        assert_int_equal(rec[CONN].calls, 1);
        /* From another port of the peer: the pcb bound to the address. */
        fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 4002, 53, "a", 1));
        assert_int_equal(rec[ADDR].calls, 1);
        tern_udp_unbind(&f->stack, &pcb[ADDR]);
        /* Then the wildcard. */
        fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 4002, 53, "w", 1));
        assert_int_equal(rec[WILD].calls, 1);
        /* The callback may unbind its own pcb. */
        rec[CONN].unbind = 1;
        fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 4000, 53, "c", 1));
        assert_int_equal(rec[CONN].calls, 2);
        fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 4000, 53, "c", 1));
        assert_int_equal(rec[WILD].calls, 2);
        /* The interface-bound pcb sees nothing from this interface. */
        assert_int_equal(rec[CONN_OTHER].calls, 0);
        assert_int_equal(rec[NIF_OTHER].calls, 0);
        for (int i = 0; i < N; i++)
            tern_udp_unbind(&f->stack, &pcb[i]);
        assert_null(f->stack.udp.pcbs);
    }
    /* An interface-bound pcb beats the wildcard on its own interface. */
    tern_udp_pcb_t w, n;
    rec_t rw, rn;
    bind_flags(f, &w, &rw, 0, 54, TERN_UDP_F_REUSEADDR);
    memset(&rn, 0, sizeof rn);
    tern_udp_pcb_init(&n, rec_recv, &rn);
    n.flags = TERN_UDP_F_REUSEADDR;
    n.nif = &f->cn.nif;
    tern_sockaddr_t l54 = {.addr = 0, .port = 54};
    assert_int_equal(tern_udp_bind(&f->stack, &n, &l54), TERN_OK);
    tern_udp_unbind(&f->stack, &w);
    assert_int_equal(tern_udp_bind(&f->stack, &w, &l54), TERN_OK); /* most recent: first in the list */
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 1, 54, "n", 1));
    assert_int_equal(rn.calls, 1);
    assert_int_equal(rw.calls, 0);
    tern_udp_unbind(&f->stack, &w);
    tern_udp_unbind(&f->stack, &n);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_callback_keeps_buffer(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 5000);
    r.keep = 1;
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 1, 5000, "mine", 4));
    assert_non_null(r.kept);
    assert_int_equal(r.kept->len, 4);
    assert_memory_equal(r.kept->data, "mine", 4);
    assert_int_equal(tern_netbuf_free_count(&f->stack.netbufs), f->base.netbufs_free - 1);
    /* Echo it back in the same buffer (zero copy): the headroom is there. */
    tern_sockaddr_t to = r.info.from;
    capnet_clear(&f->cn);
    assert_int_equal(tern_udp_sendto(&f->stack, &pcb, r.kept, &to), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    const uint8_t *got = capnet_frame(&f->cn, 0, NULL);
    assert_memory_equal(got + 42, "mine", 4);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

/* ---- binding and ephemeral ports ------------------------------------------- */

static void test_bind_rules(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t a, b, c;
    rec_t r;
    tern_udp_pcb_init(&a, rec_recv, &r);
    tern_udp_pcb_init(&b, rec_recv, &r);
    tern_udp_pcb_init(&c, rec_recv, &r);
    tern_sockaddr_t any80 = {.addr = 0, .port = 80}, our80 = {.addr = FR_OUR_IP, .port = 80}, not_ours = {.addr = FR_PEER_IP, .port = 81};
    assert_int_equal(tern_udp_bind(NULL, &a, &any80), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_bind(&f->stack, NULL, &any80), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_bind(&f->stack, &a, NULL), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_bind(&f->stack, &a, &not_ours), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_bind(&f->stack, &a, &any80), TERN_OK);
    assert_int_equal(tern_udp_bind(&f->stack, &a, &any80), TERN_ERR_INVAL); /* twice */
    assert_int_equal(tern_udp_bind(&f->stack, &b, &any80), TERN_ERR_ADDRINUSE);
    assert_int_equal(tern_udp_bind(&f->stack, &b, &our80), TERN_ERR_ADDRINUSE);
    /* REUSEADDR on both shares the port; on one only does not. */
    b.flags |= TERN_UDP_F_REUSEADDR;
    assert_int_equal(tern_udp_bind(&f->stack, &b, &our80), TERN_ERR_ADDRINUSE);
    tern_udp_unbind(&f->stack, &a);
    tern_udp_unbind(&f->stack, &a); /* no-op */
    a.flags |= TERN_UDP_F_REUSEADDR;
    assert_int_equal(tern_udp_bind(&f->stack, &a, &any80), TERN_OK);
    assert_int_equal(tern_udp_bind(&f->stack, &b, &our80), TERN_OK);
    tern_udp_unbind(&f->stack, &b);
    /* Different interfaces never clash. */
    static capnet_t other;
    c.nif = &other.nif;
    a.nif = &f->cn.nif;
    assert_int_equal(tern_udp_bind(&f->stack, &c, &any80), TERN_OK);
    tern_udp_unbind(&f->stack, &a);
    tern_udp_unbind(&f->stack, &c);
    tern_udp_unbind(NULL, &c);
    tern_udp_unbind(&f->stack, NULL);
    tern_udp_pcb_init(NULL, NULL, NULL);
    assert_null(f->stack.udp.pcbs);
}

static void test_ephemeral_randomized(void **state)
{
    net_fixture_t *f = *state;
    (void)f;
    /* The first ephemeral port of 64 stacks with different seeds: spread
     * over the range, not a counter. */
    uint16_t firsts[64];
    unsigned distinct = 0;
    uint16_t lo = 0xFFFF, hi = 0;
    for (unsigned s = 0; s < 64; s++) {
        net_fixture_t *g = net_fixture_new(1000 + s);
        tern_udp_pcb_t pcb;
        tern_udp_pcb_init(&pcb, rec_recv, NULL);
        tern_sockaddr_t l = {.addr = 0, .port = 0};
        assert_int_equal(tern_udp_bind(&g->stack, &pcb, &l), TERN_OK);
        firsts[s] = pcb.local.port;
        assert_true(pcb.local.port >= TERN_UDP_EPHEMERAL_FIRST);
        unsigned dup = 0;
        for (unsigned k = 0; k < s; k++)
            dup |= firsts[k] == firsts[s];
        distinct += !dup;
        lo = pcb.local.port < lo ? pcb.local.port : lo;
        hi = pcb.local.port > hi ? pcb.local.port : hi;
        tern_udp_unbind(&g->stack, &pcb);
        net_fixture_free(g);
    }
    assert_true(distinct >= 60);
    assert_true(lo < 49152 + 4096 && hi > 65535 - 4096);
    /* Many binds in one stack: all distinct, in range, and not sequential. */
    enum { N = 300 };
    static tern_udp_pcb_t pcbs[N];
    unsigned steps_of_one = 0;
    for (unsigned i = 0; i < N; i++) {
        tern_udp_pcb_init(&pcbs[i], rec_recv, NULL);
        tern_sockaddr_t l = {.addr = 0, .port = 0};
        assert_int_equal(tern_udp_bind(&f->stack, &pcbs[i], &l), TERN_OK);
        for (unsigned k = 0; k < i; k++)
            assert_int_not_equal(pcbs[k].local.port, pcbs[i].local.port);
        if (i > 0 && pcbs[i].local.port == pcbs[i - 1].local.port + 1)
            steps_of_one++;
    }
    assert_true(steps_of_one < 10);
    for (unsigned i = 0; i < N; i++)
        tern_udp_unbind(&f->stack, &pcbs[i]);
    assert_null(f->stack.udp.pcbs);
}

static void test_ephemeral_exhaustion(void **state)
{
    net_fixture_t *f = *state;
    const unsigned num = TERN_UDP_EPHEMERAL_LAST - TERN_UDP_EPHEMERAL_FIRST + 1;
    tern_udp_pcb_t *pcbs = calloc(num + 1, sizeof *pcbs);
    assert_non_null(pcbs);
    /* Every ephemeral port but two taken explicitly. */
    const uint16_t hole1 = 50000, hole2 = 65535;
    unsigned k = 0;
    for (unsigned p = TERN_UDP_EPHEMERAL_FIRST; p <= TERN_UDP_EPHEMERAL_LAST; p++) {
        if (p == hole1 || p == hole2)
            continue;
        tern_udp_pcb_init(&pcbs[k], rec_recv, NULL);
        tern_sockaddr_t l = {.addr = 0, .port = (uint16_t)p};
        assert_int_equal(tern_udp_bind(&f->stack, &pcbs[k], &l), TERN_OK);
        k++;
    }
    /* The search finds exactly the holes (wrapping past 65535), then none. */
    tern_udp_pcb_t e1, e2, e3;
    tern_udp_pcb_init(&e1, rec_recv, NULL);
    tern_udp_pcb_init(&e2, rec_recv, NULL);
    tern_udp_pcb_init(&e3, rec_recv, NULL);
    tern_sockaddr_t any = {.addr = 0, .port = 0};
    assert_int_equal(tern_udp_bind(&f->stack, &e1, &any), TERN_OK);
    assert_int_equal(tern_udp_bind(&f->stack, &e2, &any), TERN_OK);
    assert_true((e1.local.port == hole1 && e2.local.port == hole2) ||
                (e1.local.port == hole2 && e2.local.port == hole1));
    assert_int_equal(tern_udp_bind(&f->stack, &e3, &any), TERN_ERR_ADDRINUSE);
    assert_int_equal(e3.flags, 0);
    /* A send from an unbound pcb cannot bind either: a clean error. */
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, 3, 0);
    assert_non_null(nb);
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 9};
    assert_int_equal(tern_udp_sendto(&f->stack, &e3, nb, &to), TERN_ERR_ADDRINUSE);
    /* One freed: found again. */
    tern_udp_unbind(&f->stack, &e1);
    assert_int_equal(tern_udp_bind(&f->stack, &e3, &any), TERN_OK);
    assert_int_equal(e3.local.port, e1.local.port);
    tern_udp_unbind(&f->stack, &e2);
    tern_udp_unbind(&f->stack, &e3);
    for (unsigned i = 0; i < k; i++)
        tern_udp_unbind(&f->stack, &pcbs[i]);
    assert_null(f->stack.udp.pcbs);
    free(pcbs);
    mem_assert_baseline(&f->stack, &f->base);
}

/* ---- output ----------------------------------------------------------------- */

static void check_sent(net_fixture_t *f, unsigned idx, const uint8_t *eth_dst, tern_ip4_t src, tern_ip4_t dst,
                       uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    size_t glen;
    const uint8_t *got = capnet_frame(&f->cn, idx, &glen);
    uint8_t udp[FRAME_MAX], want[FRAME_MAX];
    size_t un = frame_udp(udp, src, dst, sport, dport, data, len);
    frame_ip_t ip = {.src = src, .dst = dst, .proto = 17, .frag = 0x4000, .ttl = TERN_IP_DEFAULT_TTL,
                     .id = (uint16_t)(got[18] << 8 | got[19])};
    size_t wn = frame_ip_eth2(want, eth_dst, FR_OUR_MAC, &ip, udp, un);
    assert_int_equal(glen, wn);
    assert_memory_equal(got, want, wn);
}

static int send_bytes(net_fixture_t *f, tern_udp_pcb_t *pcb, const void *data, size_t len,
                      const tern_sockaddr_t *to)
{
    tern_netbuf_t *nb = tern_udp_netbuf_get(&f->stack, len, 0);
    assert_non_null(nb);
    assert_int_equal(nb->len, len);
    memcpy(nb->data, data, len);
    return tern_udp_sendto(&f->stack, pcb, nb, to);
}

static void test_send(void **state)
{
    net_fixture_t *f = *state;
    static uint8_t data[1473];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 3 + 1);
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 6000);
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 7};
    static const size_t lens[] = {0, 1, 2, 33, 1471, 1472};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        capnet_clear(&f->cn);
        assert_int_equal(send_bytes(f, &pcb, data, lens[k], &to), TERN_OK);
        assert_int_equal(f->cn.count, 1);
        check_sent(f, 0, FR_PEER_MAC, FR_OUR_IP, FR_PEER_IP, 6000, 7, data, lens[k]);
        mem_assert_baseline(&f->stack, &f->base);
    }
    assert_int_equal(C(f)->udp_tx, 6);
    /* A checksum that computes to zero goes out as 0xFFFF (RFC 768). */
    uint8_t d[2];
    uint8_t udp[64];
    for (unsigned v = 0; v < 65536; v++) {
        d[0] = (uint8_t)(v >> 8);
        d[1] = (uint8_t)v;
        frame_udp(udp, FR_OUR_IP, FR_PEER_IP, 6000, 7, d, 2);
        if (udp[6] == 0xFF && udp[7] == 0xFF)
            break;
    }
    capnet_clear(&f->cn);
    assert_int_equal(send_bytes(f, &pcb, d, 2, &to), TERN_OK);
    const uint8_t *got = capnet_frame(&f->cn, 0, NULL);
    assert_int_equal(got[34 + 6], 0xFF);
    assert_int_equal(got[34 + 7], 0xFF);
    check_sent(f, 0, FR_PEER_MAC, FR_OUR_IP, FR_PEER_IP, 6000, 7, d, 2);
    /* TX offload: the field holds the pseudo-header sum for the hardware
     * to finish (netif.h): summing the datagram with it in place and
     * complementing gives the real checksum. */
    f->cn.nif.offload = TERN_OFFLOAD_TX_L4_CSUM;
    capnet_clear(&f->cn);
    assert_int_equal(send_bytes(f, &pcb, "hw", 2, &to), TERN_OK);
    got = capnet_frame(&f->cn, 0, NULL);
    uint8_t ph[12] = {192, 0, 2, 2, 192, 0, 2, 1, 0, 17, 0, 10};
    assert_int_equal((uint16_t)(got[34 + 6] << 8 | got[34 + 7]), (uint16_t)~frame_checksum(ph, sizeof ph));
    uint8_t whole[12 + 10];
    memcpy(whole, ph, 12);
    memcpy(whole + 12, got + 34, 10);
    uint16_t done = frame_checksum(got + 34, 10);
    whole[12 + 6] = (uint8_t)(done >> 8);
    whole[12 + 7] = (uint8_t)done;
    assert_int_equal(frame_checksum(whole, sizeof whole), 0);
    f->cn.nif.offload = 0;
    /* Off-link: through the gateway's MAC, addressed to the remote host. */
    tern_sockaddr_t remote = {.addr = FR_REMOTE_IP, .port = 53};
    capnet_clear(&f->cn);
    assert_int_equal(send_bytes(f, &pcb, "far", 3, &remote), TERN_OK);
    check_sent(f, 0, FR_PEER_MAC, FR_OUR_IP, FR_REMOTE_IP, 6000, 53, "far", 3);
    /* Connected: to NULL means the peer. */
    pcb.remote = to;
    capnet_clear(&f->cn);
    assert_int_equal(send_bytes(f, &pcb, "conn", 4, NULL), TERN_OK);
    check_sent(f, 0, FR_PEER_MAC, FR_OUR_IP, FR_PEER_IP, 6000, 7, "conn", 4);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_send_errors(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 6000);
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 7};
    tern_sockaddr_t port0 = {.addr = FR_PEER_IP, .port = 0}, addr0 = {.addr = 0, .port = 7};
    tern_sockaddr_t bcast = {.addr = 0xFFFFFFFFu, .port = 67}, sbcast = {.addr = FR_SUBNET_BCAST, .port = 67};
    tern_sockaddr_t loop = {.addr = TERN_IP4(127, 0, 0, 1), .port = 7}, ours = {.addr = FR_OUR_IP, .port = 7};
    uint32_t errs = C(f)->udp_tx_err;
    /* Every failure takes the buffer: the baseline holds after each. */
    assert_int_equal(send_bytes(f, &pcb, "x", 1, NULL), TERN_ERR_STATE);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &port0), TERN_ERR_INVAL);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &addr0), TERN_ERR_INVAL);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &bcast), TERN_ERR_INVAL);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &sbcast), TERN_ERR_INVAL);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &loop), TERN_ERR_NOROUTE);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &ours), TERN_ERR_NOROUTE);
    assert_int_equal(tern_udp_sendto(&f->stack, NULL, tern_udp_netbuf_get(&f->stack, 1, 0), &to), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_sendto(&f->stack, &pcb, NULL, &to), TERN_ERR_INVAL);
    assert_int_equal(tern_udp_sendto(NULL, &pcb, NULL, &to), TERN_ERR_INVAL);
    /* No headroom: a raw buffer with the payload at the frame start. */
    tern_netbuf_t *raw = tern_netbuf_get(&f->stack.netbufs, 10, 0);
    assert_int_equal(tern_udp_sendto(&f->stack, &pcb, raw, &to), TERN_ERR_INVAL);
    /* Larger than a buffer and the MTU allow. */
    assert_null(tern_udp_netbuf_get(&f->stack, TERN_UDP_MAX_PAYLOAD + 1, 0));
    assert_null(tern_udp_netbuf_get(NULL, 1, 0));
    f->cn.nif.mtu = 576;
    static const uint8_t zeros[600];
    assert_int_equal(send_bytes(f, &pcb, zeros, 576 - 28 + 1, &to), TERN_ERR_MSGSIZE);
    f->cn.nif.mtu = 1500;
    /* Link down. */
    tern_netif_set_link(&f->cn.nif, 0);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &to), TERN_ERR_LINKDOWN);
    tern_netif_set_link(&f->cn.nif, 1);
    capnet_clear(&f->cn);
    assert_int_equal(C(f)->udp_tx_err, errs + 12);
    assert_int_equal(C(f)->udp_tx, 0);
    /* Broadcasts with the flag: to the broadcast MAC. */
    pcb.flags |= TERN_UDP_F_BROADCAST;
    assert_int_equal(send_bytes(f, &pcb, "b", 1, &bcast), TERN_OK);
    assert_int_equal(send_bytes(f, &pcb, "s", 1, &sbcast), TERN_OK);
    check_sent(f, 0, FR_BCAST_MAC, FR_OUR_IP, 0xFFFFFFFFu, 6000, 67, "b", 1);
    check_sent(f, 1, FR_BCAST_MAC, FR_OUR_IP, FR_SUBNET_BCAST, 6000, 67, "s", 1);
    tern_udp_unbind(&f->stack, &pcb);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_send_implicit_bind(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t pcb;
    rec_t r;
    memset(&r, 0, sizeof r);
    tern_udp_pcb_init(&pcb, rec_recv, &r);
    tern_sockaddr_t to = {.addr = FR_PEER_IP, .port = 7};
    assert_int_equal(send_bytes(f, &pcb, "hi", 2, &to), TERN_OK);
    assert_true(pcb.local.port >= TERN_UDP_EPHEMERAL_FIRST);
    assert_ptr_equal(f->stack.udp.pcbs, &pcb);
    check_sent(f, 0, FR_PEER_MAC, FR_OUR_IP, FR_PEER_IP, pcb.local.port, 7, "hi", 2);
    /* The answer comes back to it. */
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, FR_OUR_IP, 7, pcb.local.port, "ho", 2));
    assert_int_equal(r.calls, 1);
    tern_udp_unbind(&f->stack, &pcb);
}

/* A DHCP client before it has an address: bound to the interface, source
 * 0.0.0.0, broadcast only. */
static void test_send_unaddressed_interface(void **state)
{
    net_fixture_t *f = *state;
    tern_netif_set_addr(&f->cn.nif, 0, 0, 0);
    capnet_clear(&f->cn);
    tern_udp_pcb_t pcb;
    rec_t r;
    memset(&r, 0, sizeof r);
    tern_udp_pcb_init(&pcb, rec_recv, &r);
    pcb.nif = &f->cn.nif;
    pcb.flags = TERN_UDP_F_BROADCAST;
    tern_sockaddr_t l = {.addr = 0, .port = 68};
    assert_int_equal(tern_udp_bind(&f->stack, &pcb, &l), TERN_OK);
    tern_sockaddr_t bcast = {.addr = 0xFFFFFFFFu, .port = 67}, uni = {.addr = FR_PEER_IP, .port = 67};
    assert_int_equal(send_bytes(f, &pcb, "discover", 8, &bcast), TERN_OK);
    assert_int_equal(f->cn.count, 1);
    check_sent(f, 0, FR_BCAST_MAC, 0, 0xFFFFFFFFu, 68, 67, "discover", 8);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &uni), TERN_ERR_NOROUTE);
    /* Without the interface binding there is no route at all. */
    tern_udp_pcb_t plain;
    tern_udp_pcb_init(&plain, rec_recv, &r);
    plain.flags = TERN_UDP_F_BROADCAST;
    assert_int_equal(send_bytes(f, &plain, "x", 1, &bcast), TERN_ERR_NOROUTE);
    /* The offer, broadcast to 255.255.255.255, reaches the pcb. */
    uint8_t fr[FRAME_MAX];
    fx_rx(f, fr, udp_frame(fr, FR_PEER_IP, 0xFFFFFFFFu, 67, 68, "offer", 5));
    assert_int_equal(r.calls, 1);
    assert_ptr_equal(r.info.nif, &f->cn.nif);
    /* Link down and too large are refused on this path too. */
    f->cn.nif.mtu = 100;
    static const uint8_t zeros[100];
    assert_int_equal(send_bytes(f, &pcb, zeros, 100 - 28 + 1, &bcast), TERN_ERR_MSGSIZE);
    f->cn.nif.mtu = 1500;
    tern_netif_set_link(&f->cn.nif, 0);
    assert_int_equal(send_bytes(f, &pcb, "x", 1, &bcast), TERN_ERR_LINKDOWN);
    tern_netif_set_link(&f->cn.nif, 1);
    /* With an address the same pcb sends from it. */
    tern_netif_set_addr(&f->cn.nif, FR_OUR_IP, FR_NETMASK, FR_PEER_IP);
    capnet_clear(&f->cn);
    assert_int_equal(send_bytes(f, &pcb, "request", 7, &bcast), TERN_OK);
    check_sent(f, 0, FR_BCAST_MAC, FR_OUR_IP, 0xFFFFFFFFu, 68, 67, "request", 7);
    tern_udp_unbind(&f->stack, &pcb);
    capnet_clear(&f->cn);
    mem_assert_baseline(&f->stack, &f->base);
}

static void test_no_buffers(void **state)
{
    net_fixture_t *f = *state;
    tern_netbuf_t *held[TERN_NETBUF_COUNT];
    unsigned k = 0;
    while (k < TERN_NETBUF_COUNT && (held[k] = tern_netbuf_get(&f->stack.netbufs, 64, 0)) != NULL)
        k++;
    assert_null(tern_udp_netbuf_get(&f->stack, 10, 0));
    while (k > 0)
        tern_netbuf_release(&f->stack.netbufs, held[--k]);
    mem_assert_baseline(&f->stack, &f->base);
}

/* ---- ICMP errors about our datagrams ----------------------------------------- */

static void test_icmp_error_to_raw_pcb_ignored(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 6000);
    pcb.remote.addr = FR_PEER_IP;
    pcb.remote.port = 7;
    /* A connected raw pcb is found but has no socket to tell: counted, no
     * effect, nothing read past the message. */
    uint8_t udp[8], quote[64], icmp[128];
    frame_udp(udp, FR_OUR_IP, FR_PEER_IP, 6000, 7, NULL, 0);
    frame_ip_t qip = {.src = FR_OUR_IP, .dst = FR_PEER_IP, .proto = 17};
    size_t qn = frame_ipv4(quote, &qip, udp, 8);
    size_t in = frame_icmp(icmp, 3, 3, 0, quote, qn);
    udp_icmp_error(&f->stack, icmp, in);
    assert_int_equal(C(f)->udp_icmp_err_rx, 1);
    udp_icmp_error(&f->stack, icmp, in - 1); /* truncated quote */
    icmp[8 + 9] = 6;                          /* about TCP */
    udp_icmp_error(&f->stack, icmp, in);
    icmp[8 + 9] = 17;
    icmp[0] = 4; /* source quench */
    udp_icmp_error(&f->stack, icmp, in);
    assert_int_equal(C(f)->udp_icmp_err_rx, 1);
    tern_udp_unbind(&f->stack, &pcb);
}

static void rec_error(tern_stack_t *stack, void *ctx, tern_udp_pcb_t *pcb, int err)
{
    (void)stack;
    rec_t *r = ctx;
    r->errors++;
    r->err = err;
    r->pcb = pcb;
}

/* The error callback a raw pcb registers (the socket layer registers its
 * own): every ICMP type and code that means something reaches it with its
 * error; source quench, redirects, unconnected pcbs and other ports do not. */
static void test_icmp_error_callback(void **state)
{
    net_fixture_t *f = *state;
    tern_udp_pcb_t pcb;
    rec_t r;
    bind_pcb(f, &pcb, &r, 0, 6000);
    tern_udp_set_error_fn(&pcb, rec_error);
    uint8_t udp[8], quote[64], icmp[128];
    frame_udp(udp, FR_OUR_IP, FR_PEER_IP, 6000, 7, NULL, 0);
    frame_ip_t qip = {.src = FR_OUR_IP, .dst = FR_PEER_IP, .proto = 17};
    size_t qn = frame_ipv4(quote, &qip, udp, 8);
    size_t in = frame_icmp(icmp, 3, 3, 0, quote, qn);
    /* Not connected: cannot tell the datagram was its own. */
    udp_icmp_error(&f->stack, icmp, in);
    assert_int_equal(r.errors, 0);
    pcb.remote.addr = FR_PEER_IP;
    pcb.remote.port = 7;
    static const struct {
        uint8_t type, code;
        int err; /* 0: no callback */
    } cases[] = {
        {3, 0, TERN_ERR_UNREACH}, {3, 1, TERN_ERR_UNREACH},  {3, 2, TERN_ERR_REFUSED}, {3, 3, TERN_ERR_REFUSED},
        {3, 4, TERN_ERR_MSGSIZE}, {3, 13, TERN_ERR_UNREACH}, {11, 0, TERN_ERR_UNREACH}, {11, 1, TERN_ERR_UNREACH},
        {12, 0, TERN_ERR_UNREACH}, {4, 0, 0},                {5, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.errors = 0;
        r.err = 0;
        icmp[0] = cases[i].type;
        icmp[1] = cases[i].code;
        udp_icmp_error(&f->stack, icmp, in);
        assert_int_equal(r.errors, cases[i].err != 0 ? 1u : 0u);
        assert_int_equal(r.err, cases[i].err);
    }
    assert_ptr_equal(r.pcb, &pcb);
    /* About another local port: not this pcb's. */
    icmp[0] = 3;
    icmp[1] = 3;
    icmp[8 + 20 + 1] ^= 1;
    r.errors = 0;
    udp_icmp_error(&f->stack, icmp, in);
    assert_int_equal(r.errors, 0);
    icmp[8 + 20 + 1] ^= 1;
    /* Through the whole input path: an ICMP frame from the peer. */
    frame_ip_t eip = {.src = FR_PEER_IP, .dst = FR_OUR_IP, .proto = 1};
    uint8_t fr[FRAME_MAX], msg[128];
    size_t mn = frame_icmp(msg, 3, 4, 1400u, quote, qn);
    size_t fn = frame_ip_eth(fr, &eip, msg, mn);
    capnet_rx(&f->cn, fr, fn, f->now);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.err, TERN_ERR_MSGSIZE);
    /* Cleared: counted, nobody told. */
    tern_udp_set_error_fn(&pcb, NULL);
    uint32_t before = C(f)->udp_icmp_err_rx;
    udp_icmp_error(&f->stack, icmp, in);
    assert_int_equal(C(f)->udp_icmp_err_rx, before + 1u);
    assert_int_equal(r.errors, 1);
    tern_udp_unbind(&f->stack, &pcb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_icmp_error_callback, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_sizes, setup_bound, teardown_bound),
        cmocka_unit_test_setup_teardown(test_malformed, setup_bound, teardown_bound),
        cmocka_unit_test_setup_teardown(test_checksum_zero_ones_offload, setup_bound, teardown_bound),
        cmocka_unit_test_setup_teardown(test_ip_padding_trimmed, setup_bound, teardown_bound),
        cmocka_unit_test_setup_teardown(test_port_unreachable, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_port_unreachable_rate_limit, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_demux_order, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_callback_keeps_buffer, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bind_rules, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_randomized, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_exhaustion, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_send, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_send_errors, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_send_implicit_bind, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_send_unaddressed_interface, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_no_buffers, setup, net_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_error_to_raw_pcb_ignored, setup, net_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
