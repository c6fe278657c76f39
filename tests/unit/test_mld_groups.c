/* TERN_TEST_IPV6_VARIANT */
/* Sockets joining and leaving IPv6 multicast groups (tern_join_group,
 * RFC 3810), one stack against a scripted endpoint on the virtual wire:
 * the MLDv2 reports on the wire (the group's record, CHANGE_TO_EXCLUDE,
 * to ff02::16 with the robustness repeat; after a leave a CHANGE_TO_INCLUDE
 * record), the driver's filter hook (join and leave of 33:33:xx), UDP
 * delivery only to a socket that joined (another group, another port, a
 * socket that did not join: dropped), membership errors and the bound
 * TERN_IPV6_MCAST_GROUPS, and close dropping the memberships. Memory back
 * at its baseline. */
#include <stdlib.h>
#include <string.h>
#include "net/ipv6_internal.h"
#include "net/net_internal.h"
#include "tern/err.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/udp.h"
#include "tern_test.h"
#include "wire2.h"

#if !TERN_IPV6
#error "test_mld_groups runs on the dual-stack variant (TERN_TEST_IPV6_VARIANT, tests/CMakeLists.txt)"
#endif

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x6d};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x70};
/* ff02::db8:1 and ff02::db8:2; ff05::db8:1 (site scope) */
static const tern_ip6_t G1 = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 1}};
static const tern_ip6_t G2 = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 2}};
static const tern_ip6_t G5 = {{0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 1}};
static const tern_ip6_t PEER = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x70}};

#define MAX_REC 64u

typedef struct rec {
    uint8_t type;
    tern_ip6_t group;
} rec_t;

typedef struct world {
    tern_vwire_t wire;
    tern_test_port_t tp;
    tern_netif_t nif;
    tern_stack_t *s;
    rec_t recs[MAX_REC]; /* every record of every MLDv2 report seen */
    unsigned nrec;
    unsigned reports;
    unsigned bad_report; /* not to ff02::16, hop limit not 1, no router alert */
    uint8_t hook_mac[8][6];
    int hook_join[8];
    unsigned nhook;
} world_t;

static world_t *g_world; /* the filter hook has no context pointer */

static void hook(tern_netif_t *nif, const uint8_t mac[6], int join)
{
    (void)nif;
    world_t *x = g_world;
    if (x->nhook < 8u) {
        memcpy(x->hook_mac[x->nhook], mac, 6);
        x->hook_join[x->nhook] = join;
    }
    x->nhook++;
}

static void peer_rx(void *ctx, int side, const uint8_t *f, size_t len, uint32_t now)
{
    world_t *x = ctx;
    (void)side;
    (void)now;
    if (len < 14u + 40u + 8u + 8u || f[12] != 0x86 || f[13] != 0xDD)
        return;
    const uint8_t *ip = f + 14;
    if (ip[6] != 0u) /* MLD reports carry a hop-by-hop header (Router Alert) */
        return;
    const uint8_t *hbh = ip + 40;
    size_t hlen = ((size_t)hbh[1] + 1u) * 8u;
    if (hbh[0] != 58u || 14u + 40u + hlen + 8u > len)
        return;
    const uint8_t *icmp = hbh + hlen;
    if (icmp[0] != 143u)
        return;
    x->reports++;
    static const uint8_t all_mldv2[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
    if (memcmp(ip + 24, all_mldv2, 16) != 0 || ip[7] != 1u || hbh[2] != 5u)
        x->bad_report++;
    unsigned n = (unsigned)icmp[6] << 8 | icmp[7];
    const uint8_t *r = icmp + 8;
    for (unsigned k = 0; k < n && (size_t)(r + 20 - f) <= len; k++, r += 20) {
        if (x->nrec < MAX_REC) {
            x->recs[x->nrec].type = r[0];
            memcpy(x->recs[x->nrec].group.b, r + 4, 16);
            x->nrec++;
        }
    }
}

static unsigned records_of(const world_t *x, const tern_ip6_t *g, uint8_t type)
{
    unsigned n = 0;
    for (unsigned i = 0; i < x->nrec && i < MAX_REC; i++)
        if (x->recs[i].type == type && memcmp(&x->recs[i].group, g, 16) == 0)
            n++;
    return n;
}

static void run(world_t *x, uint32_t ms)
{
    tern_vwire_run(&x->wire, tern_vwire_now(&x->wire) + ms);
}

static world_t *world_new(uint64_t seed)
{
    world_t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    g_world = x;
    x->s = wire_client_new(&x->wire, seed, &x->tp, &x->nif, MAC, peer_rx, x);
    assert_int_equal(tern_ipv6_enable(x->s, &x->nif, hook), TERN_OK);
    run(x, 3000); /* DAD done: the link-local address is ours */
    x->nrec = x->reports = x->nhook = 0;
    return x;
}

static void world_free(world_t *x)
{
    wire_stack_free(x->s);
    g_world = NULL;
    free(x);
}

/* A UDP datagram from the peer's link-local address to dst:dport. */
static void send_udp6(world_t *x, const tern_ip6_t *dst, uint16_t dport, const char *text)
{
    uint8_t f[200];
    size_t plen = strlen(text);
    size_t ulen = 8u + plen;
    memset(f, 0, sizeof f);
    if (dst->b[0] == 0xFF) {
        f[0] = 0x33;
        f[1] = 0x33;
        memcpy(f + 2, dst->b + 12, 4);
    } else {
        memcpy(f, MAC, 6);
    }
    memcpy(f + 6, PEER_MAC, 6);
    f[12] = 0x86;
    f[13] = 0xDD;
    uint8_t *ip = f + 14;
    ip[0] = 0x60;
    ip[4] = (uint8_t)(ulen >> 8);
    ip[5] = (uint8_t)ulen;
    ip[6] = 17;
    ip[7] = 1;
    memcpy(ip + 8, PEER.b, 16);
    memcpy(ip + 24, dst->b, 16);
    uint8_t *u = ip + 40;
    u[0] = 0x9c; /* source port 40000 */
    u[1] = 0x40;
    u[2] = (uint8_t)(dport >> 8);
    u[3] = (uint8_t)dport;
    u[4] = (uint8_t)(ulen >> 8);
    u[5] = (uint8_t)ulen;
    memcpy(u + 8, text, plen);
    uint16_t c = checksum_finish(checksum_add(checksum_pseudo6(&PEER, dst, 17, ulen), u, ulen));
    if (c == 0u)
        c = 0xFFFFu;
    u[6] = (uint8_t)(c >> 8);
    u[7] = (uint8_t)c;
    assert_int_equal(tern_vwire_send(&x->wire, 1, f, 14u + 40u + ulen), TERN_OK);
    run(x, 20);
}

static int udp6_socket(tern_stack_t *s, uint16_t port)
{
    int id = tern_socket(s, TERN_SOCK_DGRAM);
    assert_true(id > 0);
    tern_sockaddr_t any = {.addr = 0, .port = port, .family = TERN_FAMILY_IP6};
    assert_int_equal(tern_bind(s, id, &any), TERN_OK);
    return id;
}

static int recv_text(tern_stack_t *s, int id, char *buf, size_t n)
{
    int r = tern_recvfrom(s, id, buf, n - 1u, TERN_MSG_DONTWAIT, NULL);
    if (r >= 0)
        buf[r] = '\0';
    return r;
}

/* Join: the hook hears the group's MAC, a report with its record goes out
 * twice (RFC 3810 6.1 robustness), datagrams to it reach the socket; leave:
 * a TO_IN record, the hook hears the leave, datagrams are dropped. */
static void test_join_report_deliver_leave(void **state)
{
    (void)state;
    world_t *x = world_new(1);
    tern_stack_t *s = x->s;
    size_t base = tern_ledger_total_bytes(&s->ledger);
    int a = udp6_socket(s, 5000);
    int other = udp6_socket(s, 5001);
    assert_int_equal(tern_join_group(s, a, &G1), TERN_OK);
    assert_int_equal(x->nhook, 1);
    static const uint8_t g1_mac[6] = {0x33, 0x33, 0x0d, 0xb8, 0, 1};
    assert_memory_equal(x->hook_mac[0], g1_mac, 6);
    assert_int_equal(x->hook_join[0], 1);
    run(x, 3000);
    assert_true(x->reports >= 2u);
    assert_int_equal(x->bad_report, 0);
    assert_int_equal(records_of(x, &G1, 4), 2); /* CHANGE_TO_EXCLUDE, twice */
    assert_true(s->counters.nd_mld_tx >= 2u);

    char buf[64];
    send_udp6(x, &G1, 5000, "to the group");
    assert_int_equal(recv_text(s, a, buf, sizeof buf), 12);
    assert_string_equal(buf, "to the group");
    /* Another group: not ours at the IPv6 layer. */
    uint32_t not_for_us = s->counters.ipv6_drop_not_for_us;
    send_udp6(x, &G2, 5000, "other group");
    assert_int_equal(s->counters.ipv6_drop_not_for_us, not_for_us + 1u);
    assert_int_equal(recv_text(s, a, buf, sizeof buf), TERN_ERR_WOULDBLOCK);
    /* Our group, but a port whose socket did not join: nobody, and no
     * ICMPv6 error about a packet to a group (RFC 4443 2.4 (e)). */
    uint32_t no_port = s->counters.udp_drop_no_port, err_tx = s->counters.icmp6_err_tx;
    send_udp6(x, &G1, 5001, "wrong port");
    assert_int_equal(s->counters.udp_drop_no_port, no_port + 1u);
    assert_int_equal(s->counters.icmp6_err_tx, err_tx);
    assert_int_equal(recv_text(s, other, buf, sizeof buf), TERN_ERR_WOULDBLOCK);

    /* Leave: a TO_IN record once, the hook told, datagrams dropped. */
    x->nrec = 0;
    assert_int_equal(tern_leave_group(s, a, &G1), TERN_OK);
    run(x, 10);
    assert_int_equal(records_of(x, &G1, 3), 1);
    assert_int_equal(x->nhook, 2);
    assert_int_equal(x->hook_join[1], 0);
    assert_memory_equal(x->hook_mac[1], g1_mac, 6);
    not_for_us = s->counters.ipv6_drop_not_for_us;
    send_udp6(x, &G1, 5000, "after leave");
    assert_int_equal(s->counters.ipv6_drop_not_for_us, not_for_us + 1u);
    assert_int_equal(recv_text(s, a, buf, sizeof buf), TERN_ERR_WOULDBLOCK);
    assert_int_equal(tern_leave_group(s, a, &G1), TERN_ERR_INVAL);
    tern_close(s, a);
    tern_close(s, other);
    run(x, 100);
    assert_int_equal(tern_ledger_total_bytes(&s->ledger), base);
    world_free(x);
}

/* Two sockets in one group: the group stays (no leave record, no hook)
 * until the last one leaves (closing it leaves). A datagram goes to the
 * member bound to its port. */
static void test_two_members(void **state)
{
    (void)state;
    world_t *x = world_new(2);
    tern_stack_t *s = x->s;
    int a = udp6_socket(s, 5000);
    int b = udp6_socket(s, 5002);
    assert_int_equal(tern_join_group(s, a, &G5), TERN_OK);
    assert_int_equal(tern_join_group(s, b, &G5), TERN_OK);
    assert_int_equal(x->nhook, 1); /* the MAC once */
    run(x, 3000);
    char buf[32];
    send_udp6(x, &G5, 5002, "b");
    assert_int_equal(recv_text(s, b, buf, sizeof buf), 1);
    assert_int_equal(recv_text(s, a, buf, sizeof buf), TERN_ERR_WOULDBLOCK);
    x->nrec = 0;
    assert_int_equal(tern_leave_group(s, a, &G5), TERN_OK);
    run(x, 10);
    assert_int_equal(records_of(x, &G5, 3), 0);
    assert_int_equal(x->nhook, 1);
    send_udp6(x, &G5, 5002, "b2");
    assert_int_equal(recv_text(s, b, buf, sizeof buf), 2);
    /* Closing the last member leaves: TO_IN, the hook, the slot free. */
    tern_close(s, b);
    run(x, 10);
    assert_int_equal(records_of(x, &G5, 3), 1);
    assert_int_equal(x->nhook, 2);
    assert_int_equal(x->hook_join[1], 0);
    assert_false(mld_is_member(s, NULL, &G5));
    tern_close(s, a);
    world_free(x);
}

/* Errors and the bound on memberships. */
static void test_errors_and_bound(void **state)
{
    (void)state;
    world_t *x = world_new(3);
    tern_stack_t *s = x->s;
    int a = udp6_socket(s, 5000);
    tern_ip6_t unicast = PEER;
    tern_ip6_t iface_local = G1;
    iface_local.b[1] = 0x01; /* ff01:: interface-local */
    assert_int_equal(tern_join_group(s, a, &unicast), TERN_ERR_INVAL);
    assert_int_equal(tern_join_group(s, a, &iface_local), TERN_ERR_INVAL);
    assert_int_equal(tern_join_group(s, a, &G1), TERN_OK);
    assert_int_equal(tern_join_group(s, a, &G1), TERN_ERR_ADDRINUSE);
    assert_int_equal(tern_leave_group(s, a, &G2), TERN_ERR_INVAL);
    /* An unbound UDP socket, an IPv4 one, a TCP one. */
    int u = tern_socket(s, TERN_SOCK_DGRAM);
    assert_int_equal(tern_join_group(s, u, &G1), TERN_ERR_STATE);
    tern_sockaddr_t v4 = {.addr = 0, .port = 5003};
    assert_int_equal(tern_bind(s, u, &v4), TERN_OK);
    assert_int_equal(tern_join_group(s, u, &G1), TERN_ERR_STATE);
    tern_close(s, u);
    int t = tern_socket(s, TERN_SOCK_STREAM);
    assert_int_equal(tern_join_group(s, t, &G1), TERN_ERR_NOTSUP);
    tern_close(s, t);
    assert_int_equal(tern_join_group(s, a, NULL), TERN_ERR_INVAL);
    /* Fill the table: TERN_IPV6_MCAST_GROUPS memberships in all. */
    tern_ip6_t g = G1;
    for (unsigned i = 1; i < TERN_IPV6_MCAST_GROUPS; i++) {
        g.b[15] = (uint8_t)(0x10u + i);
        assert_int_equal(tern_join_group(s, a, &g), TERN_OK);
    }
    g.b[15] = 0x7F;
    assert_int_equal(tern_join_group(s, a, &g), TERN_ERR_NOMEM);
    run(x, 3000);
    /* Reports name every joined group. */
    for (unsigned i = 1; i < TERN_IPV6_MCAST_GROUPS; i++) {
        g.b[15] = (uint8_t)(0x10u + i);
        assert_true(records_of(x, &g, 4) >= 1u);
    }
    /* Close frees them all. */
    tern_close(s, a);
    int b = udp6_socket(s, 5004);
    assert_int_equal(tern_join_group(s, b, &g), TERN_OK);
    tern_close(s, b);
    for (unsigned i = 0; i < TERN_IPV6_MCAST_GROUPS; i++)
        assert_null(s->ipv6.groups[i].owner);
    world_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_report_deliver_leave),
        cmocka_unit_test(test_two_members),
        cmocka_unit_test(test_errors_and_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
