/* UDP over IPv6 and the sockets' address family, two stacks on the virtual
 * wire (the dual-stack variant: TERN_TEST_IPV6_VARIANT): an echo over the
 * link-local addresses at every size class to 1452 bytes (1453 refused),
 * IPv6 peers reported as such, a dual-stack socket taking IPv4 too and
 * reporting IPv4 peers as IPv4, TERN_SO_V6ONLY, port clashes between the
 * families, ICMPv6 port unreachable to a connected socket, and crafted
 * datagrams: zero checksum (mandatory over IPv6, RFC 8200 8.1) and a bad
 * one dropped and counted. Memory back at its baseline after each. */
#include <stdlib.h>
#include <string.h>
#include "net/ipv6_internal.h"
#include "tern/err.h"
#include "tern/stack.h"
#include "tern_test.h"
#include "frames.h"
#include "wire2.h"

#if !TERN_IPV6
#error "test_udp6 runs on the dual-stack variant (TERN_TEST_IPV6_VARIANT, tests/CMakeLists.txt)"
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

static int udp_bound(tern_stack_t *s, const tern_sockaddr_t *at, int v6only)
{
    int id = tern_socket(s, TERN_SOCK_DGRAM);
    assert_true(id > 0);
    if (v6only)
        assert_int_equal(tern_setsockopt(s, id, TERN_SO_V6ONLY, 1), TERN_OK);
    assert_int_equal(tern_bind(s, id, at), TERN_OK);
    return id;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7u + seed * 13u + 1u);
}

/* A -> B's echo socket over IPv6 at sizes 0..1452, byte-exact, the peers
 * reported with their IPv6 addresses; 1453 bytes refused. */
static void test_echo_link_local(void **state)
{
    (void)state;
    world_t *x = world_new(11);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    size_t base_a = tern_ledger_total_bytes(&a->ledger), base_b = tern_ledger_total_bytes(&b->ledger);
    tern_sockaddr_t any6 = v6(&ip6_any, 7);
    int sb = udp_bound(b, &any6, 0);
    int sa = tern_socket(a, TERN_SOCK_DGRAM);
    tern_sockaddr_t to = v6(&x->ll_b, 7);
    static const size_t sizes[] = {0, 1, 100, 1000, 1232, 1452};
    static uint8_t out[1500], in[1500];
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        fill(out, n, i);
        assert_int_equal(tern_sendto(a, sa, out, n, TERN_MSG_DONTWAIT, &to), (int)n);
        wire2_run(&x->w, 20);
        tern_sockaddr_t from;
        int r = tern_recvfrom(b, sb, in, sizeof in, TERN_MSG_DONTWAIT, &from);
        assert_int_equal(r, (int)n);
        assert_memory_equal(in, out, n);
        assert_int_equal(from.family, TERN_FAMILY_IP6);
        assert_memory_equal(from.addr6.b, x->ll_a.b, 16);
        assert_int_equal(tern_sendto(b, sb, in, n, TERN_MSG_DONTWAIT, &from), (int)n);
        wire2_run(&x->w, 20);
        tern_sockaddr_t back;
        r = tern_recvfrom(a, sa, in, sizeof in, TERN_MSG_DONTWAIT, &back);
        assert_int_equal(r, (int)n);
        assert_memory_equal(in, out, n);
        assert_int_equal(back.family, TERN_FAMILY_IP6);
        assert_memory_equal(back.addr6.b, x->ll_b.b, 16);
        assert_int_equal(back.port, 7);
    }
    /* The implicit bind took ::, so A's socket is IPv6 (and dual stack). */
    tern_sockaddr_t name;
    assert_int_equal(tern_getsockname(a, sa, &name), TERN_OK);
    assert_int_equal(name.family, TERN_FAMILY_IP6);
    assert_true(ip6_is_any(&name.addr6));
    assert_int_equal(tern_sendto(a, sa, out, 1453, TERN_MSG_DONTWAIT, &to), TERN_ERR_MSGSIZE);
    assert_int_equal(b->counters.udp6_rx, 6);
    assert_int_equal(a->counters.udp6_rx, 6);
    assert_int_equal(b->counters.udp_drop_checksum, 0);
    tern_close(a, sa);
    tern_close(b, sb);
    wire2_run(&x->w, 100);
    assert_int_equal(tern_ledger_total_bytes(&a->ledger), base_a);
    assert_int_equal(tern_ledger_total_bytes(&b->ledger), base_b);
    world_free(x);
}

/* A socket bound to :: takes IPv4 too, and reports IPv4 peers as IPv4;
 * with TERN_SO_V6ONLY it does not (the IPv4 datagram finds no port). A
 * socket bound to an IPv4 address cannot send to IPv6. */
static void test_dual_stack_and_v6only(void **state)
{
    (void)state;
    world_t *x = world_new(12);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    tern_sockaddr_t any6 = v6(&ip6_any, 5000);
    int sb = udp_bound(b, &any6, 0);
    int sa = tern_socket(a, TERN_SOCK_DGRAM);
    tern_sockaddr_t to4 = {.addr = W2_IP_B, .port = 5000};
    uint8_t buf[16] = "dual";
    assert_int_equal(tern_sendto(a, sa, buf, 4, TERN_MSG_DONTWAIT, &to4), 4);
    wire2_run(&x->w, 20);
    tern_sockaddr_t from;
    assert_int_equal(tern_recvfrom(b, sb, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), 4);
    assert_int_equal(from.family, TERN_FAMILY_IP4);
    assert_int_equal(from.addr, W2_IP_A);
    /* The reply goes back over IPv4 from the dual-stack socket. */
    assert_int_equal(tern_sendto(b, sb, buf, 4, TERN_MSG_DONTWAIT, &from), 4);
    wire2_run(&x->w, 20);
    assert_int_equal(tern_recvfrom(a, sa, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), 4);
    assert_int_equal(from.family, TERN_FAMILY_IP4);
    /* A's socket took IPv4 any: it cannot send to IPv6. */
    tern_sockaddr_t to6 = v6(&x->ll_b, 5000);
    assert_int_equal(tern_sendto(a, sa, buf, 4, TERN_MSG_DONTWAIT, &to6), TERN_ERR_INVAL);
    tern_close(b, sb);

    /* V6ONLY: after bind it is too late. */
    sb = udp_bound(b, &any6, 1);
    assert_int_equal(tern_setsockopt(b, sb, TERN_SO_V6ONLY, 0), TERN_ERR_STATE);
    uint32_t v = 0;
    assert_int_equal(tern_getsockopt(b, sb, TERN_SO_V6ONLY, &v), TERN_OK);
    assert_int_equal(v, 1);
    uint32_t noport = b->counters.udp_drop_no_port;
    assert_int_equal(tern_sendto(a, sa, buf, 4, TERN_MSG_DONTWAIT, &to4), 4);
    wire2_run(&x->w, 20);
    assert_int_equal(b->counters.udp_drop_no_port, noport + 1);
    assert_int_equal(tern_recvfrom(b, sb, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), TERN_ERR_WOULDBLOCK);
    /* ... so an IPv4 socket may share the port with it. */
    tern_sockaddr_t any4 = {.addr = 0, .port = 5000};
    int s4 = udp_bound(b, &any4, 0);
    tern_close(b, s4);
    tern_close(b, sb);
    /* A dual-stack :: socket clashes with an IPv4 one on the same port,
     * an IPv6-only one does not. */
    sb = udp_bound(b, &any6, 0);
    s4 = tern_socket(b, TERN_SOCK_DGRAM);
    assert_int_equal(tern_bind(b, s4, &any4), TERN_ERR_ADDRINUSE);
    tern_sockaddr_t ll6 = v6(&x->ll_b, 5000);
    int s6 = tern_socket(b, TERN_SOCK_DGRAM);
    assert_int_equal(tern_bind(b, s6, &ll6), TERN_ERR_ADDRINUSE);
    /* Not our address: refused. */
    tern_sockaddr_t other = v6(&x->ll_a, 5001);
    assert_int_equal(tern_bind(b, s6, &other), TERN_ERR_INVAL);
    tern_close(b, s4);
    tern_close(b, s6);
    tern_close(b, sb);
    tern_close(a, sa);
    world_free(x);
}

static void err_recorded(int *dst, int err)
{
    *dst = err;
}

/* A connected socket sending to a closed port: B answers with ICMPv6 port
 * unreachable (RFC 4443 3.1 code 4), A's socket gets TERN_ERR_REFUSED. */
static void test_port_unreachable(void **state)
{
    (void)state;
    world_t *x = world_new(13);
    tern_stack_t *a = x->w.a, *b = x->w.b;
    int sa = tern_socket(a, TERN_SOCK_DGRAM);
    tern_sockaddr_t to = v6(&x->ll_b, 9999);
    assert_int_equal(tern_connect(a, sa, &to), TERN_OK);
    tern_sockaddr_t peer;
    assert_int_equal(tern_getpeername(a, sa, &peer), TERN_OK);
    assert_int_equal(peer.family, TERN_FAMILY_IP6);
    assert_int_equal(tern_send(a, sa, "x", 1, TERN_MSG_DONTWAIT), 1);
    wire2_run(&x->w, 50);
    assert_int_equal(b->counters.udp_drop_no_port, 1);
    assert_int_equal(b->counters.icmp6_err_tx, 1);
    assert_int_equal(a->counters.udp_icmp_err_rx, 1);
    uint8_t buf[4];
    assert_int_equal(tern_recv(a, sa, buf, sizeof buf, TERN_MSG_DONTWAIT), TERN_ERR_REFUSED);
    (void)err_recorded;
    tern_close(a, sa);
    world_free(x);
}

/* Crafted datagrams into B: zero checksum and a bad one dropped and
 * counted; the same datagram with its checksum right is delivered. */
static void test_checksum_mandatory(void **state)
{
    (void)state;
    world_t *x = world_new(14);
    tern_stack_t *b = x->w.b;
    tern_sockaddr_t any6 = v6(&ip6_any, 7);
    int sb = udp_bound(b, &any6, 0);
    uint8_t fr[14 + 40 + 8 + 4];
    memcpy(fr, W2_MAC_B, 6);
    memcpy(fr + 6, W2_MAC_A, 6);
    fr[12] = 0x86;
    fr[13] = 0xDD;
    uint8_t *ip = fr + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    be16_put(ip + 4, 12);
    ip[6] = 17;
    ip[7] = 64;
    memcpy(ip + 8, x->ll_a.b, 16);
    memcpy(ip + 24, x->ll_b.b, 16);
    uint8_t *u = ip + 40;
    be16_put(u, 4000);
    be16_put(u + 2, 7);
    be16_put(u + 4, 12);
    u[6] = u[7] = 0;
    memcpy(u + 8, "abcd", 4);
    /* zero checksum */
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    assert_int_equal(b->counters.udp6_drop_no_checksum, 1);
    /* the right one, computed the textbook way over the pseudo-header */
    uint8_t ph[40 + 12];
    memcpy(ph, ip + 8, 32);
    be32_put(ph + 32, 12);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = 17;
    memcpy(ph + 40, u, 12);
    uint16_t sum = frame_checksum(ph, sizeof ph);
    be16_put(u + 6, (uint16_t)(sum ^ 0x0101u));
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    assert_int_equal(b->counters.udp_drop_checksum, 1);
    be16_put(u + 6, sum);
    (void)tern_input_copy(b, &x->w.nif_b, fr, sizeof fr, wire2_now(&x->w));
    uint8_t buf[8];
    tern_sockaddr_t from;
    assert_int_equal(tern_recvfrom(b, sb, buf, sizeof buf, TERN_MSG_DONTWAIT, &from), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(from.port, 4000);
    assert_int_equal(b->counters.udp6_rx, 3);
    tern_close(b, sb);
    world_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_link_local),
        cmocka_unit_test(test_dual_stack_and_v6only),
        cmocka_unit_test(test_port_unreachable),
        cmocka_unit_test(test_checksum_mandatory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* TERN_TEST_IPV6_VARIANT */
