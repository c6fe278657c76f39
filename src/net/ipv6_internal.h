/* Internal interfaces of the IPv6 layer (TERN_IPV6=1): ipv6.c (input,
 * extension headers, output, addresses), icmpv6.c (RFC 4443) and nd.c
 * (Neighbor Discovery, SLAAC, DAD, MLDv2 reports). Same ownership rule as
 * net_internal.h: every *_input and *_output consumes its buffer. */
#ifndef TERN_NET_IPV6_INTERNAL_H
#define TERN_NET_IPV6_INTERNAL_H

#include <string.h>
#include "net/net_internal.h"

#if TERN_IPV6
#include "net/wire_icmpv6.h"
#include "net/wire_ipv6.h"

/* Room in front of an ICMPv6 message built from scratch. */
#define IPV6_HEADROOM (ETH_HDR_LEN + IPV6_HDR_LEN)

/* What IPv6 input learned about a delivered packet. nb->data is then the
 * upper-layer payload; hdr points at the fixed header, still in the buffer. */
typedef struct ipv6_rx {
    const uint8_t *hdr;
    tern_ipv6_if_t *ifs;
    tern_ip6_t src;
    tern_ip6_t dst;
    uint16_t hdr_len;   /* fixed header and extension headers */
    uint8_t proto;      /* the upper-layer next header */
    uint8_t hop_limit;
    uint8_t dst_mcast;  /* the destination is a multicast group */
    uint8_t link_mcast; /* arrived in a link-layer group frame */
    uint8_t reassembled; /* put together from fragments (RFC 6980: no ND) */
} ipv6_rx_t;

/* ---- address helpers (ipv6.c) ---- */
extern const tern_ip6_t ip6_any;            /* :: */
extern const tern_ip6_t ip6_all_nodes;      /* ff02::1 */
extern const tern_ip6_t ip6_all_routers;    /* ff02::2 */
extern const tern_ip6_t ip6_all_mldv2;      /* ff02::16 */

static inline int ip6_equal(const tern_ip6_t *a, const tern_ip6_t *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}
static inline int ip6_is_any(const tern_ip6_t *a)
{
    return ip6_equal(a, &ip6_any);
}
static inline int ip6_is_mcast(const tern_ip6_t *a)
{
    return a->b[0] == 0xFFu;
}
static inline int ip6_is_linklocal(const tern_ip6_t *a)
{
    return a->b[0] == 0xFEu && (a->b[1] & 0xC0u) == 0x80u;
}
static inline int ip6_is_loopback(const tern_ip6_t *a)
{
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return memcmp(a->b, lo, 16) == 0;
}
/* ff02::1:ffXX:XXXX for addr (RFC 4291 2.7.1). */
void ip6_solicited_node(const tern_ip6_t *addr, tern_ip6_t *out);
/* 33:33 and the low 32 bits of a group (RFC 2464 7). */
void ip6_mcast_mac(const tern_ip6_t *group, uint8_t mac[6]);
/* Do the first len bits of a and b agree? */
int ip6_prefix_match(const tern_ip6_t *a, const tern_ip6_t *b, unsigned len);

void ipv6_init(tern_stack_t *stack);
void ipv6_deinit(tern_stack_t *stack);
void ipv6_input(tern_stack_t *stack, tern_netif_t *nif, tern_netbuf_t *nb);
/* The IPv6 state of nif, or NULL when IPv6 is not enabled on it. */
tern_ipv6_if_t *ipv6_if_of(tern_stack_t *stack, const tern_netif_t *nif);
/* A SLAAC address (prefix length 64) on ifs, tentative with DAD started,
 * or NULL when the interface holds TERN_IPV6_ADDR_MAX addresses. */
tern_ip6_addr_t *ipv6_addr_add_slaac(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *addr);
/* The modified EUI-64 interface identifier of mac (RFC 4291 2.5.1). */
void ipv6_iid_eui64(const uint8_t mac[6], uint8_t iid[8]);
/* A stable opaque interface identifier (RFC 7217 5) for prefix on the
 * interface with this MAC, under key. */
void ipv6_iid_stable(const uint32_t key[4], const tern_ip6_t *prefix, const uint8_t mac[6], uint8_t iid[8]);
/* The identifier for prefix on ifs: EUI-64 or RFC 7217 (TERN_IPV6_STABLE_IID). */
void ipv6_iid(const tern_stack_t *stack, const tern_ipv6_if_t *ifs, const tern_ip6_t *prefix, uint8_t iid[8]);
/* The interface leaves the stack: its IPv6 state and neighbors go. */
void ipv6_netif_removed(tern_stack_t *stack, tern_netif_t *nif);
/* The link went up (DAD again for every address, RFC 4862 5.4; routers
 * solicited) or down (neighbors forgotten). */
void ipv6_netif_link(tern_stack_t *stack, tern_netif_t *nif);
/* Our address entry on ifs for a (any state), or NULL. */
tern_ip6_addr_t *ipv6_addr_find(tern_ipv6_if_t *ifs, const tern_ip6_t *a);
/* Is a a usable (preferred or deprecated) address of ifs? */
int ipv6_is_our_addr(tern_ipv6_if_t *ifs, const tern_ip6_t *a);
/* The source address for dst on ifs (RFC 6724, simplified): the
 * link-local address for link-scope destinations, else a preferred global
 * one, else a deprecated one, else the link-local. 0 and *src, or -1. */
int ipv6_select_src(tern_ipv6_if_t *ifs, const tern_ip6_t *dst, tern_ip6_t *src);
/* Prepend the IPv6 header to nb (data = payload, IPV6_HEADROOM free) and
 * send it on ifs: to the group's MAC for a multicast dst, else through the
 * neighbor cache to dst (on-link) or a default router. */
int ipv6_output(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *src,
                const tern_ip6_t *dst, uint8_t next, uint8_t hop_limit);
/* The same with a hop-by-hop Router Alert option (MLD, RFC 3810 5). */
int ipv6_output_router_alert(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *src,
                             const tern_ip6_t *dst);
/* Routing for the upper layers: the interface to send to dst on and the
 * source address (src, or the one ipv6_select_src picks when src is ::)
 * into *src_out. NULL: no enabled interface holds src or has a source
 * address, or dst is ::, ::1 or ours. An off-link dst without a default
 * router still gets an interface (ipv6_output then says TERN_ERR_NOROUTE
 * and counts it). */
tern_ipv6_if_t *ipv6_route(tern_stack_t *stack, const tern_ip6_t *src, const tern_ip6_t *dst, tern_ip6_t *src_out);
/* Is a a usable address of any interface? */
int ipv6_is_ours(tern_stack_t *stack, const tern_ip6_t *a);
/* The running sum of the IPv6 pseudo-header (RFC 8200 8.1). */
uint32_t checksum_pseudo6(const tern_ip6_t *src, const tern_ip6_t *dst, uint8_t next, size_t len);
/* Lifetimes, DAD, router solicitations; ms to the next deadline. */
uint32_t ipv6_poll(tern_stack_t *stack, uint32_t now);

/* The extension header chain and delivery of the packet at p (total bytes
 * from its fixed header) that nb holds; nb NULL: a reassembled datagram
 * larger than one buffer, p in the reassembly block (ICMPv6 echo only).
 * Consumes nb. */
void ipv6_chain(tern_stack_t *stack, tern_netbuf_t *nb, uint8_t *p, size_t total, ipv6_rx_t *rx);

/* ---- ipv6_frag.c: reassembly, fragmentation, path MTU ---- */
void ipv6_frag_deinit(tern_stack_t *stack);
/* The path MTU to dst (RFC 8201): the link MTU of its interface, or less
 * once a Packet Too Big lowered it; never below 1280. For the transport
 * layers (TCP MSS = this - 60) and for echo replies. */
uint16_t ipv6_path_mtu(tern_stack_t *stack, const tern_ip6_t *dst);
/* A valid Packet Too Big said mtu for dst: lower the estimate, never below
 * 1280, never up (RFC 8201 4). 1 when it went down. */
int ipv6_pmtu_update(tern_stack_t *stack, const tern_ip6_t *dst, uint32_t mtu);
/* Send payload (len bytes, with its next header next) to dst as fragments
 * of one datagram sized to the path MTU (RFC 8200 4.5). */
int ipv6_output_fragments(tern_stack_t *stack, tern_ipv6_if_t *ifs, const uint8_t *payload, size_t len,
                          const tern_ip6_t *src, const tern_ip6_t *dst, uint8_t next, uint8_t hop_limit);
/* Reassembly and path MTU ages; ms to the next deadline or UINT32_MAX. */
uint32_t ipv6_frag_poll(tern_stack_t *stack, uint32_t now);
#if TERN_IP_REASSEMBLY
/* A fragment (its header at offset frag_off of nb->data); consumed. The
 * whole datagram goes on through ipv6_chain once complete. */
void ipv6_reass_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *rx, size_t frag_off);
#endif

/* ---- icmpv6.c ---- */
void icmpv6_init(tern_stack_t *stack);
void icmpv6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip);
/* A reassembled ICMPv6 message beyond one buffer (msg, len bytes, in the
 * reassembly block): an echo request is answered in fragments. */
void icmpv6_input_large(tern_stack_t *stack, uint8_t *msg, size_t len, const ipv6_rx_t *ip);
/* Send an error about the received packet whose fixed header is ip->hdr and
 * whose bytes from the header on are pkt_len long, unless RFC 4443 2.4 (e)
 * forbids it or the rate limit says no. allow_mcast: the two exceptions
 * (Packet Too Big; Parameter Problem code 2 for an option of action 10). */
void icmpv6_send_error(tern_stack_t *stack, const ipv6_rx_t *ip, size_t pkt_len, uint8_t type, uint8_t code,
                       uint32_t pointer, int allow_mcast);
/* Fill the checksum of the ICMPv6 message at nb->data. */
void icmpv6_set_checksum(tern_netbuf_t *nb, const tern_ip6_t *src, const tern_ip6_t *dst);

/* ---- udp.c (UDP over IPv6) ---- */
/* A datagram from IPv6 (nb->data at the UDP header). Consumes nb. */
void udp6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip);
/* An ICMPv6 error (msg/len: the whole message, checksum verified) quoting
 * a UDP datagram we sent: the connected pcb is told (RFC 4443 2.4 (a)). */
void udp6_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len);

/* ---- tcp_in.c (TCP over IPv6) ---- */
/* A segment from IPv6 (nb->data at the TCP header). Consumes nb. */
void tcp6_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip);
/* An ICMPv6 error (msg/len: the whole message, checksum verified) quoting
 * one of our segments (RFC 4443 2.4 (a), RFC 5927; RFC 8201 for Packet Too
 * Big: the connection's MSS follows the lowered path MTU). */
void tcp6_icmp_error(tern_stack_t *stack, const uint8_t *msg, size_t len);

/* ---- nd.c ---- */
void nd_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip, uint8_t type);
void mld_input(tern_stack_t *stack, tern_netbuf_t *nb, const ipv6_rx_t *ip);
/* Send nb (data = IPv6 header) to the on-link nexthop through the cache:
 * at once when known, else queued while solicitations go out. */
int nd_output(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_netbuf_t *nb, const tern_ip6_t *nexthop);
/* Start DAD for the address entry (join its solicited-node group first). */
void nd_dad_start(tern_stack_t *stack, tern_ipv6_if_t *ifs, tern_ip6_addr_t *a);
/* Schedule MLDv2 reports for the current groups (RFC 3810 5.1: robustness 2). */
void mld_schedule(tern_stack_t *stack, tern_ipv6_if_t *ifs);
/* Socket group memberships (RFC 3810 4, 6.1): join / leave for owner (a
 * UDP pcb); the first join of a group and the last leave tell the driver's
 * filter hook and send MLDv2 reports on every IPv6 interface. join:
 * TERN_ERR_INVAL (not a group of link scope or wider), TERN_ERR_ADDRINUSE
 * (owner is a member already), TERN_ERR_NOMEM (TERN_IPV6_MCAST_GROUPS
 * memberships exist); leave: TERN_ERR_INVAL when owner is not a member. */
int mld_join(tern_stack_t *stack, const void *owner, const tern_ip6_t *group);
int mld_leave(tern_stack_t *stack, const void *owner, const tern_ip6_t *group);
/* Every membership of owner dropped (its pcb unbound). */
void mld_leave_all(tern_stack_t *stack, const void *owner);
/* Has owner joined group (NULL: has anybody)? */
int mld_is_member(const tern_stack_t *stack, const void *owner, const tern_ip6_t *group);
/* Drop every neighbor entry (and queued packet) of ifs, or all when NULL. */
void nd_flush(tern_stack_t *stack, tern_ipv6_if_t *ifs);
/* The default router to use for ifs, or NULL (RFC 4861 6.3.6). */
const tern_ip6_t *nd_default_router(tern_stack_t *stack, tern_ipv6_if_t *ifs);
/* Is dst on-link for ifs (link-local, an on-link prefix, or in the cache)? */
int nd_is_onlink(tern_stack_t *stack, tern_ipv6_if_t *ifs, const tern_ip6_t *dst);

#endif /* TERN_IPV6 */
#endif
