/* TCP over IPv6, two stacks on the virtual wire (the dual-stack variant:
 * TERN_TEST_IPV6_VARIANT): the handshake over the link-local addresses,
 * data both ways byte-exact, FIN and TIME-WAIT with IPv6 rows in the
 * netstat list, IPv6 peers from accept/getpeername, a RST (refused) from a
 * closed port, the SYN cookie path, a Packet Too Big lowering the MSS of a
 * live connection (never below 1280 - 60) while the transfer completes,
 * ICMPv6 errors that do not match a connection, and IPv4 and IPv6 on one
 * listening port (dual stack, TERN_SO_V6ONLY, port clashes). Memory back
 * at its baseline after each. */
#include <stdlib.h>
#include <string.h>
#include "net/ipv6_internal.h"
#include "net/tcp_internal.h"
#include "tern/err.h"
#include "tern/stack.h"
#include "tern/tcp.h"
#include "tern_test.h"
#include "frames.h"
#include "wire2.h"

#if !TERN_IPV6
#error "test_tcp6 runs on the dual-stack variant (TERN_TEST_IPV6_VARIANT, tests/CMakeLists.txt)"
#endif

typedef struct world {
    tern_test_port_t pa, pb;
    wire2_t w;
    tern_ip6_t ll_a, ll_b;
} world_t;

static void link_local(const uint8_t mac[6], tern_ip6_t *out)
{
    memset(out, 0, sizeof *out);
    out->b[0] = 0xFE;
    out->b[1] = 0x80;
    ipv6_iid_eui64(mac, out->b + 8);
}

static world_t *world_new(uint64_t seed)
{
    world_t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    tern_test_port_init(&x->pa, seed * 3u + 1u);
    tern_test_port_init(&x->pb, seed * 3u + 2u);
    wire2_init(&x->w, seed, NULL, &x->pa.port, &x->pb.port);
    assert_int_equal(tern_ipv6_enable(x->w.a, &x->w.nif_a, NULL), TERN_OK);
    assert_int_equal(tern_ipv6_enable(x->w.b, &x->w.nif_b, NULL), TERN_OK);
    wire2_run(&x->w, 3000); /* DAD done on both */
    wire2_set_timewait(&x->w, 500);
    link_local(W2_MAC_A, &x->ll_a);
    link_local(W2_MAC_B, &x->ll_b);
    assert_true(ipv6_is_ours(x->w.a, &x->ll_a));
    assert_true(ipv6_is_ours(x->w.b, &x->ll_b));
    return x;
}

static void world_free(world_t *x)
{
    wire2_deinit(&x->w);
    free(x);
}

static tern_sockaddr_t v6(const tern_ip6_t *a, uint16_t port)
{
    tern_sockaddr_t s;
    memset(&s, 0, sizeof s);
    s.family = TERN_FAMILY_IP6;
    s.addr6 = *a;
    s.port = port;
    return s;
}

static int tcp_listening(tern_stack_t *s, const tern_sockaddr_t *at, int v6only)
{
    int id = tern_socket(s, TERN_SOCK_STREAM);
    assert_true(id > 0);
    if (v6only)
        assert_int_equal(tern_setsockopt(s, id, TERN_SO_V6ONLY, 1), TERN_OK);
    assert_int_equal(tern_bind(s, id, at), TERN_OK);
    assert_int_equal(tern_listen(s, id, 4), TERN_OK);
    return id;
}

/* Connect from A to `to`, accept on B's listener ls: the two sockets. */
static void tcp_pair(world_t *x, int ls, const tern_sockaddr_t *to, int *sa, int *sb, tern_sockaddr_t *peer)
{
    *sa = tern_socket(x->w.a, TERN_SOCK_STREAM);
    assert_true(*sa > 0);
    assert_int_equal(tern_connect(x->w.a, *sa, to), TERN_ERR_INPROGRESS);
    wire2_run(&x->w, 50);
    *sb = tern_accept(x->w.b, ls, peer);
    assert_true(*sb > 0);
}

static uint8_t pat(size_t i, unsigned seed)
{
    return (uint8_t)((i * 31u) ^ (i >> 8) ^ seed);
}

/* n bytes from (sa on s) to (sb on r), checked byte by byte. */
static void transfer(world_t *x, tern_stack_t *s, int sa, tern_stack_t *r, int sb, size_t n, unsigned seed)
{
    static uint8_t buf[8192];
    size_t sent = 0, got = 0;
    for (unsigned rounds = 0; got < n; rounds++) {
        assert_true(rounds < 100000u);
        while (sent < n) {
            size_t k = n - sent < sizeof buf ? n - sent : sizeof buf;
            for (size_t i = 0; i < k; i++)
                buf[i] = pat(sent + i, seed);
            int w = tern_send(s, sa, buf, k, TERN_MSG_DONTWAIT);
            if (w == TERN_ERR_WOULDBLOCK || w == 0)
                break;
            assert_true(w > 0);
            sent += (size_t)w;
        }
        wire2_run(&x->w, 2);
        for (;;) {
            int g = tern_recv(r, sb, buf, sizeof buf, TERN_MSG_DONTWAIT);
            if (g == TERN_ERR_WOULDBLOCK)
                break;
            assert_true(g > 0);
            for (int i = 0; i < g; i++)
                assert_int_equal(buf[i], pat(got + (size_t)i, seed));
            got += (size_t)g;
        }
    }
    assert_int_equal(got, n);
}

/* Handshake, 300 KB each way, FIN both ways and TIME-WAIT, over IPv6;
 * peers and names reported as IPv6; netstat rows carry the addresses. */
static void test_handshake_data_fin(void **state)
{
    (void)state;
    world_t *x = world_new(21);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    /* The shared pools (held until deinit) first: the baseline after them. */
    assert_int_equal(tcp_pools_ensure(a), TERN_OK);
    assert_int_equal(tcp_pools_ensure(b), TERN_OK);
    size_t base_a = tern_ledger_total_bytes(&a->ledger), base_b = tern_ledger_total_bytes(&b->ledger);
    tern_sockaddr_t any6 = v6(&ip6_any, 7000);
    int ls = tcp_listening(b, &any6, 0);
    tern_sockaddr_t to = v6(&x->ll_b, 7000), peer;
    int sa, sb;
    tcp_pair(x, ls, &to, &sa, &sb, &peer);
    assert_int_equal(peer.family, TERN_FAMILY_IP6);
    assert_memory_equal(peer.addr6.b, x->ll_a.b, 16);
    tern_sockaddr_t name;
    assert_int_equal(tern_getpeername(a, sa, &name), TERN_OK);
    assert_int_equal(name.family, TERN_FAMILY_IP6);
    assert_memory_equal(name.addr6.b, x->ll_b.b, 16);
    assert_int_equal(name.port, 7000);
    assert_int_equal(tern_getsockname(a, sa, &name), TERN_OK);
    assert_int_equal(name.family, TERN_FAMILY_IP6);
    assert_memory_equal(name.addr6.b, x->ll_a.b, 16);
    assert_int_equal(tern_getsockname(b, ls, &name), TERN_OK);
    assert_int_equal(name.family, TERN_FAMILY_IP6);
    assert_true(ip6_is_any(&name.addr6));
    /* MSS: the link's 1500 less 60 (RFC 8201), less the timestamps. */
    const tern_tcp_pcb_t *pa = NULL;
    for (const tern_tcp_pcb_t *p = a->tcp.pcbs; p != NULL; p = p->next)
        if (p->state == TERN_TCP_ESTABLISHED)
            pa = p;
    assert_non_null(pa);
    assert_true(pa->flags & TF_V6);
    assert_int_equal(pa->mss + ((pa->flags & TF_TS) ? TCP_TS_OPT_LEN : 0u), 1440);

    transfer(x, a, sa, b, sb, 300000, 1);
    transfer(x, b, sb, a, sa, 300000, 2);
    assert_int_equal(a->counters.tcp.drop_checksum + b->counters.tcp.drop_checksum, 0);
    assert_true(a->counters.tcp.rx > 100u);

    tern_tcp_info_t rows[8];
    size_t n = tern_tcp_list(b, rows, 8);
    int v6rows = 0;
    for (size_t i = 0; i < n && i < 8u; i++)
        if (rows[i].family == TERN_TCP_FAMILY_IP6 && rows[i].state == TERN_TCP_ESTABLISHED) {
            assert_memory_equal(rows[i].remote_addr6.b, x->ll_a.b, 16);
            v6rows++;
        }
    assert_int_equal(v6rows, 1);

    /* A closes first: FIN both ways, A in TIME-WAIT (an IPv6 row). */
    assert_int_equal(tern_close(a, sa), TERN_OK);
    wire2_run(&x->w, 20);
    uint8_t c;
    assert_int_equal(tern_recv(b, sb, &c, 1, TERN_MSG_DONTWAIT), 0); /* EOF */
    assert_int_equal(tern_close(b, sb), TERN_OK);
    wire2_run(&x->w, 20);
    n = tern_tcp_list(a, rows, 8);
    int tw = 0;
    for (size_t i = 0; i < n && i < 8u; i++)
        if (rows[i].state == TERN_TCP_TIME_WAIT) {
            assert_int_equal(rows[i].family, TERN_TCP_FAMILY_IP6);
            assert_memory_equal(rows[i].remote_addr6.b, x->ll_b.b, 16);
            tw++;
        }
    assert_int_equal(tw, 1);
    tern_close(b, ls);
    wire2_run(&x->w, 1000);
    assert_int_equal(a->tcp.tw_count, 0);
    assert_int_equal(tern_ledger_total_bytes(&a->ledger), base_a);
    assert_int_equal(tern_ledger_total_bytes(&b->ledger), base_b);
    world_free(x);
}

/* A SYN to a port nobody listens on: B resets it, A's connect says
 * refused. */
static void test_rst_closed_port(void **state)
{
    (void)state;
    world_t *x = world_new(22);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    int sa = tern_socket(a, TERN_SOCK_STREAM);
    tern_sockaddr_t to = v6(&x->ll_b, 9);
    assert_int_equal(tern_connect(a, sa, &to), TERN_ERR_INPROGRESS);
    wire2_run(&x->w, 50);
    assert_int_equal(b->counters.tcp.rst_tx, 1);
    assert_int_equal(b->counters.tcp.drop_no_pcb, 1);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(a, sa, TERN_SO_ERROR, &v), TERN_OK);
    assert_int_equal((int32_t)v, TERN_ERR_REFUSED);
    tern_close(a, sa);
    world_free(x);
}

/* Accept-all raw listener for the cookie test. */
static int accept_all(void *arg, tern_tcp_pcb_t *l, tern_tcp_pcb_t *pcb)
{
    (void)l;
    int *n = arg;
    (*n)++;
    (void)pcb;
    return TERN_OK;
}

static int connected_count;
static void on_connected(void *arg, tern_tcp_pcb_t *pcb)
{
    (void)arg;
    (void)pcb;
    connected_count++;
}

/* Backlog 1: the second SYN gets a cookie SYN-ACK (hashed over the IPv6
 * 4-tuple); its ACK recreates the connection. Both establish. */
static void test_syn_cookie(void **state)
{
    (void)state;
    world_t *x = world_new(23);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    static const tern_tcp_callbacks_t lcbs = {.accept = accept_all};
    static const tern_tcp_callbacks_t ccbs = {.connected = on_connected};
    int accepted = 0, err = 0;
    tern_tcp_pcb_t *l = tern_tcp_listen6(b, 7100, 1, 0, &lcbs, &accepted, &err);
    assert_non_null(l);
    connected_count = 0;
    tern_tcp_pcb_t *c1 = tern_tcp_connect6(a, &x->ll_b, 7100, &ccbs, NULL, &err);
    tern_tcp_pcb_t *c2 = tern_tcp_connect6(a, &x->ll_b, 7100, &ccbs, NULL, &err);
    assert_non_null(c1);
    assert_non_null(c2);
    wire2_run(&x->w, 100);
    assert_int_equal(connected_count, 2);
    assert_int_equal(accepted, 2);
    assert_true(b->counters.tcp.syncookies_sent >= 1u);
    assert_true(b->counters.tcp.syncookies_accepted >= 1u);
    assert_int_equal(tern_tcp_state(c1), TERN_TCP_ESTABLISHED);
    assert_int_equal(tern_tcp_state(c2), TERN_TCP_ESTABLISHED);
    /* A forged ACK over IPv6 (no cookie of ours) is reset. */
    tern_tcp_abort(c1);
    tern_tcp_abort(c2);
    for (tern_tcp_pcb_t *p = b->tcp.pcbs; p != NULL;) {
        tern_tcp_pcb_t *next = p->next;
        if (p != l)
            tern_tcp_abort(p);
        p = next;
    }
    tern_tcp_close(l);
    wire2_run(&x->w, 100);
    world_free(x);
}

/* An ICMPv6 message into stack s (from B's addresses), quoting a TCP
 * segment src -> dst with the given ports and sequence number. */
static void inject_icmp6(world_t *x, tern_stack_t *s, tern_netif_t *nif, uint8_t type, uint8_t code, uint32_t rest,
                         const tern_ip6_t *qsrc, const tern_ip6_t *qdst, uint16_t sport, uint16_t dport, uint32_t seq)
{
    uint8_t fr[14 + 40 + 8 + 40 + 20];
    memcpy(fr, W2_MAC_A, 6);
    memcpy(fr + 6, W2_MAC_B, 6);
    fr[12] = 0x86;
    fr[13] = 0xDD;
    uint8_t *ip = fr + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    be16_put(ip + 4, 8 + 40 + 20);
    ip[6] = 58;
    ip[7] = 64;
    memcpy(ip + 8, x->ll_b.b, 16);
    memcpy(ip + 24, x->ll_a.b, 16);
    uint8_t *m = ip + 40;
    memset(m, 0, 8 + 40 + 20);
    m[0] = type;
    m[1] = code;
    be32_put(m + 4, rest);
    uint8_t *q = m + 8;
    q[0] = 0x60;
    be16_put(q + 4, 20 + 1440);
    q[6] = 6;
    q[7] = 64;
    memcpy(q + 8, qsrc->b, 16);
    memcpy(q + 24, qdst->b, 16);
    be16_put(q + 40, sport);
    be16_put(q + 42, dport);
    be32_put(q + 44, seq);
    uint32_t sum = checksum_pseudo6(&x->ll_b, &x->ll_a, 58, 8 + 40 + 20);
    sum = checksum_add(sum, m, 8 + 40 + 20);
    be16_put(m + 2, checksum_finish(sum));
    (void)tern_input_copy(s, nif, fr, sizeof fr, wire2_now(&x->w));
}

static tern_tcp_pcb_t *established_pcb(tern_stack_t *s)
{
    for (tern_tcp_pcb_t *p = s->tcp.pcbs; p != NULL; p = p->next)
        if (p->state == TERN_TCP_ESTABLISHED)
            return p;
    return NULL;
}

/* RFC 8201: a Packet Too Big for a segment in flight lowers the live
 * connection's MSS to the new path MTU less 60 (the floor 1280 - 60 when
 * it says less), what is in flight goes again in the smaller segments and
 * the transfer completes byte-exact. A PTB quoting a sequence number not
 * in flight, or another connection, changes nothing (RFC 5927). */
static void test_ptb_lowers_mss(void **state)
{
    (void)state;
    world_t *x = world_new(24);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    tern_sockaddr_t any6 = v6(&ip6_any, 7200);
    int ls = tcp_listening(b, &any6, 0);
    tern_sockaddr_t to = v6(&x->ll_b, 7200), peer;
    int sa, sb;
    tcp_pair(x, ls, &to, &sa, &sb, &peer);
    tern_tcp_pcb_t *pa = established_pcb(a);
    assert_non_null(pa);
    unsigned ts = (pa->flags & TF_TS) ? TCP_TS_OPT_LEN : 0u;
    assert_int_equal(pa->mss, 1440 - ts);
    /* Data in flight, not yet acknowledged. */
    static uint8_t buf[20000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = pat(i, 9);
    int put = tern_send(a, sa, buf, sizeof buf, TERN_MSG_DONTWAIT);
    assert_true(put > 2000);
    size_t n = (size_t)put;
    assert_true(pa->snd_max != pa->snd_una);
    /* Not in flight: ignored. */
    inject_icmp6(x, a, &x->w.nif_a, ICMP6_PACKET_TOO_BIG, 0, 1400, &x->ll_a, &x->ll_b, pa->local_port, 7200,
                 pa->snd_una - 100000u);
    assert_int_equal(pa->mss, 1440 - ts);
    assert_int_equal(a->counters.tcp.icmp_no_match, 1);
    /* In flight: 1400 - 60. */
    inject_icmp6(x, a, &x->w.nif_a, ICMP6_PACKET_TOO_BIG, 0, 1400, &x->ll_a, &x->ll_b, pa->local_port, 7200,
                 pa->snd_una);
    assert_int_equal(pa->mss, 1340 - ts);
    assert_int_equal(a->counters.tcp.icmp_pmtu, 1);
    /* Below the IPv6 minimum: the floor, 1280 - 60. */
    inject_icmp6(x, a, &x->w.nif_a, ICMP6_PACKET_TOO_BIG, 0, 600, &x->ll_a, &x->ll_b, pa->local_port, 7200,
                 pa->snd_una);
    assert_int_equal(pa->mss, 1220 - ts);
    assert_int_equal(a->counters.tcp.icmp_pmtu, 2);
    assert_int_equal(ipv6_path_mtu(a, &x->ll_b), 1280);
    /* Destination unreachable (soft, established): remembered only. */
    inject_icmp6(x, a, &x->w.nif_a, ICMP6_DEST_UNREACH, ICMP6_UNREACH_ADDR, 0, &x->ll_a, &x->ll_b, pa->local_port,
                 7200, pa->snd_una);
    assert_int_equal(a->counters.tcp.icmp_soft, 1);
    assert_int_equal(tern_tcp_state(pa), TERN_TCP_ESTABLISHED);
    /* The transfer completes. */
    static uint8_t in[20000];
    size_t got = 0;
    for (unsigned r = 0; got < n && r < 2000u; r++) {
        wire2_run(&x->w, 2);
        int g = tern_recv(b, sb, in + got, n - got, TERN_MSG_DONTWAIT);
        if (g > 0)
            got += (size_t)g;
    }
    assert_int_equal(got, n);
    assert_memory_equal(in, buf, n);
    /* More data goes in segments of at most the new MSS. */
    transfer(x, a, sa, b, sb, 50000, 3);
    assert_int_equal(pa->mss, 1220 - ts);
    tern_close(a, sa);
    tern_close(b, sb);
    tern_close(b, ls);
    wire2_run(&x->w, 1000);
    world_free(x);
}

/* A port unreachable answering our SYN kills the open (hard error in
 * SYN-SENT, RFC 5927 as over IPv4). */
static void test_unreach_syn_sent(void **state)
{
    (void)state;
    world_t *x = world_new(25);
    tern_stack_t *a = x->w.a;
    int err = 0;
    static const tern_tcp_callbacks_t cbs = {0};
    tern_ip6_t far = x->ll_b;
    far.b[15] ^= 0x55; /* nobody answers for it */
    tern_tcp_pcb_t *c = tern_tcp_connect6(a, &far, 7300, &cbs, NULL, &err);
    assert_non_null(c);
    assert_int_equal(tern_tcp_state(c), TERN_TCP_SYN_SENT);
    inject_icmp6(x, a, &x->w.nif_a, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, &x->ll_a, &far, c->local_port, 7300,
                 c->snd_una);
    assert_int_equal(a->counters.tcp.icmp_hard, 1);
    wire2_run(&x->w, 10);
    world_free(x);
}

/* IPv4 and IPv6 on one listening port: a :: listener takes both (an IPv4
 * peer reported as IPv4); with TERN_SO_V6ONLY it takes IPv6 only and an
 * IPv4 listener may share the port; a dual-stack one clashes with it. */
static void test_v4_and_v6_same_port(void **state)
{
    (void)state;
    world_t *x = world_new(26);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    tern_sockaddr_t any6 = v6(&ip6_any, 8080);
    int ls = tcp_listening(b, &any6, 0);
    tern_sockaddr_t to6 = v6(&x->ll_b, 8080), to4 = {.addr = W2_IP_B, .port = 8080}, peer;
    int sa6, sb6, sa4, sb4;
    tcp_pair(x, ls, &to6, &sa6, &sb6, &peer);
    assert_int_equal(peer.family, TERN_FAMILY_IP6);
    tcp_pair(x, ls, &to4, &sa4, &sb4, &peer);
    assert_int_equal(peer.family, TERN_FAMILY_IP4);
    assert_int_equal(peer.addr, W2_IP_A);
    transfer(x, a, sa4, b, sb4, 20000, 4);
    transfer(x, a, sa6, b, sb6, 20000, 5);
    /* An IPv4 listener on the port now: taken. */
    tern_sockaddr_t any4 = {.addr = 0, .port = 8080};
    int l4 = tern_socket(b, TERN_SOCK_STREAM);
    assert_int_equal(tern_bind(b, l4, &any4), TERN_ERR_ADDRINUSE);
    tern_close(b, l4);
    tern_close(a, sa6);
    tern_close(a, sa4);
    tern_close(b, sb6);
    tern_close(b, sb4);
    tern_close(b, ls);
    wire2_run(&x->w, 1000);

    /* V6ONLY on 8081 and an IPv4 listener beside it. */
    tern_sockaddr_t p6 = v6(&ip6_any, 8081), p4 = {.addr = 0, .port = 8081};
    int l6 = tcp_listening(b, &p6, 1);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(b, l6, TERN_SO_V6ONLY, &v), TERN_OK);
    assert_int_equal(v, 1);
    l4 = tcp_listening(b, &p4, 0);
    tern_sockaddr_t t6 = v6(&x->ll_b, 8081), t4 = {.addr = W2_IP_B, .port = 8081};
    tcp_pair(x, l6, &t6, &sa6, &sb6, &peer);
    assert_int_equal(peer.family, TERN_FAMILY_IP6);
    tcp_pair(x, l4, &t4, &sa4, &sb4, &peer);
    assert_int_equal(peer.family, TERN_FAMILY_IP4);
    /* Each listener got its own family only. */
    assert_int_equal(tern_accept(b, l6, &peer), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_accept(b, l4, &peer), TERN_ERR_WOULDBLOCK);
    /* A dual-stack :: listener clashes with both. */
    int ld = tern_socket(b, TERN_SOCK_STREAM);
    assert_int_equal(tern_bind(b, ld, &p6), TERN_ERR_ADDRINUSE);
    tern_close(b, ld);
    /* Binding to an address that is not ours is refused. */
    tern_sockaddr_t other = v6(&x->ll_a, 8082);
    ld = tern_socket(b, TERN_SOCK_STREAM);
    assert_int_equal(tern_bind(b, ld, &other), TERN_ERR_INVAL);
    tern_close(b, ld);
    tern_close(a, sa6);
    tern_close(a, sa4);
    tern_close(b, sb6);
    tern_close(b, sb4);
    tern_close(b, l6);
    tern_close(b, l4);
    wire2_run(&x->w, 1000);
    world_free(x);
}

/* A crafted segment with a bad IPv6 pseudo-header checksum is dropped and
 * counted; a segment to a multicast destination too. */
static void test_checksum_and_mcast(void **state)
{
    (void)state;
    world_t *x = world_new(27);
    tern_stack_t *b = x->w.b;
    uint8_t fr[14 + 40 + 20];
    memcpy(fr, W2_MAC_B, 6);
    memcpy(fr + 6, W2_MAC_A, 6);
    fr[12] = 0x86;
    fr[13] = 0xDD;
    uint8_t *ip = fr + 14;
    memset(ip, 0, 40 + 20);
    ip[0] = 0x60;
    be16_put(ip + 4, 20);
    ip[6] = 6;
    ip[7] = 64;
    memcpy(ip + 8, x->ll_a.b, 16);
    memcpy(ip + 24, x->ll_b.b, 16);
    uint8_t *t = ip + 40;
    be16_put(t, 4000);
    be16_put(t + 2, 9);
    be32_put(t + 4, 1000);
    t[12] = 5u << 4;
    t[13] = 0x02; /* SYN */
    be16_put(t + 14, 1000);
    uint32_t sum = checksum_add(checksum_pseudo6(&x->ll_a, &x->ll_b, 6, 20), t, 20);
    be16_put(t + 16, (uint16_t)(checksum_finish(sum) ^ 1u)); /* off by one bit */
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    assert_int_equal(b->counters.tcp.drop_checksum, 1);
    assert_int_equal(b->counters.tcp.rst_tx, 0);
    /* Right checksum: a RST for the closed port. */
    be16_put(t + 16, 0);
    be16_put(t + 16, checksum_finish(sum));
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    assert_int_equal(b->counters.tcp.rst_tx, 1);
    /* To all-nodes: TCP is unicast. */
    memcpy(ip + 24, ip6_all_nodes.b, 16);
    fr[0] = 0x33;
    fr[1] = 0x33;
    fr[2] = 0;
    fr[3] = 0;
    fr[4] = 0;
    fr[5] = 1;
    be16_put(t + 16, 0);
    sum = checksum_add(checksum_pseudo6(&x->ll_a, &ip6_all_nodes, 6, 20), t, 20);
    be16_put(t + 16, checksum_finish(sum));
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    assert_int_equal(b->counters.tcp.drop_bcast, 1);
    assert_int_equal(b->counters.tcp.rst_tx, 1);
    wire2_run(&x->w, 10);
    world_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_data_fin), cmocka_unit_test(test_rst_closed_port),
        cmocka_unit_test(test_syn_cookie),         cmocka_unit_test(test_ptb_lowers_mss),
        cmocka_unit_test(test_unreach_syn_sent),   cmocka_unit_test(test_v4_and_v6_same_port),
        cmocka_unit_test(test_checksum_and_mcast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
